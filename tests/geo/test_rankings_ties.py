"""Competition ranks, whole tie groups at list ends, red floor and black ceiling
(geo/reports/rankings.py rank_rows and mark_lists) on hand-made rate rows."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from geo.reports.list_rules import ListRule
from geo.reports.rankings import mark_lists, rank_rows
from geo.reports.stats import add_rates


def _frame(rows: list[tuple[str, int, int, int]]) -> pd.DataFrame:
    """(code, due, closed, closed_on_time); no rework, overdue or days."""
    frame = pd.DataFrame(
        [
            {
                "id": i + 1,
                "code": code,
                "name": code,
                "found": 0,
                "due": due,
                "closed": closed,
                "closed_on_time": on_time,
                "reworked": 0,
                "overdue": 0,
                "extended": 0,
                "avg_rectify_days": float("nan"),
            }
            for i, (code, due, closed, on_time) in enumerate(rows)
        ]
    )
    return add_rates(frame)


LOOSE = ListRule(size=3, red_min_on_time=Fraction(0), black_max_closure=Fraction(1, 1) + 1)


def _lists(rows: pd.DataFrame) -> tuple[list[str], list[str]]:
    red = rows.loc[rows["list"] == "red", "code"].tolist()
    black = rows.loc[rows["list"] == "black", "code"].tolist()
    return red, black


def test_ties_share_a_rank_and_the_next_rank_skips() -> None:
    rows = rank_rows(
        _frame([("a", 4, 4, 4), ("b", 4, 3, 3), ("c", 8, 6, 6), ("d", 4, 1, 1), ("e", 0, 0, 0)])
    )
    assert rows["code"].tolist() == ["a", "b", "c", "d", "e"]
    # b and c: 3/4 and 6/8 are the same rates: same rank, and d is 4th, not 3rd.
    assert rows["rank"].tolist()[:4] == [1, 2, 2, 4]
    assert rows["tie"].tolist()[:4] == [1, 2, 2, 1]
    assert pd.isna(rows["rank"].iloc[4])  # nothing due: not ranked


def test_a_tie_group_straddling_the_red_end_is_left_out_whole() -> None:
    # Six ranked → n = 3; b, c, d tie at rank 2 (positions 2–4) straddle place 3.
    rows = rank_rows(
        _frame(
            [
                ("a", 2, 2, 2),
                ("b", 2, 1, 1),
                ("c", 2, 1, 1),
                ("d", 2, 1, 1),
                ("e", 4, 1, 1),
                ("f", 4, 0, 0),
            ]
        )
    )
    n, notes = mark_lists(rows, 3, LOOSE)
    red, black = _lists(rows)
    assert n == 3 and red == ["a"]
    # Black: positions 4–6 → d's group starts at 2, so only e and f.
    assert black == ["e", "f"]
    assert any("3 tied at rank 2" in note.en and "red" in note.en for note in notes)
    assert any("black" in note.en for note in notes)


def test_five_identical_areas_are_all_in_or_all_out() -> None:
    rows = rank_rows(_frame([(c, 2, 1, 1) for c in "abcde"] + [("f", 2, 2, 2)]))
    n, _ = mark_lists(rows, 3, LOOSE)
    red, black = _lists(rows)
    assert n == 3 and red == ["f"] and black == []  # the five tied at rank 2 fill places 2–6


def test_a_tie_group_fitting_the_list_goes_in_whole() -> None:
    rows = rank_rows(
        _frame(
            [
                ("a", 2, 2, 2),
                ("b", 2, 2, 2),
                ("c", 2, 1, 1),
                ("d", 2, 1, 1),
                ("e", 3, 1, 1),
                ("f", 3, 0, 0),
                ("g", 3, 0, 0),
            ]
        )
    )
    mark_lists(rows, 3, LOOSE)
    red, black = _lists(rows)
    assert red == ["a", "b"]  # c–d tie at positions 3–4 straddle place 3: left out
    assert black == ["e", "f", "g"]  # 7 ranked: places 5–7


def test_the_red_floor_and_black_ceiling() -> None:
    # Four districts; the best closes 1 of 8 (12.5 %): never on the red list.
    rows = rank_rows(_frame([("a", 8, 1, 1), ("b", 8, 0, 0), ("c", 8, 0, 0), ("d", 10, 0, 0)]))
    rule = ListRule(size=2, red_min_on_time=Fraction(9, 10), black_max_closure=Fraction(4, 5))
    _, notes = mark_lists(rows, 2, rule)
    red, black = _lists(rows)
    assert red == [] and "12.5" not in str(notes)
    assert any("below 90%" in note.en and "a" in note.en for note in notes)
    assert black == []  # b–d tie at rank 2 (places 2–4) straddle the black end: out
    # A perfect area is never blacklisted even at the bottom of the ranking.
    good = rank_rows(_frame([("a", 2, 2, 2), ("b", 2, 2, 1)]))
    mark_lists(good, 2, rule)
    assert _lists(good) == (["a"], [])


def test_on_time_floor_is_exact() -> None:
    # 9 of 10 on time is exactly the 90 % floor: on the list.
    rows = rank_rows(_frame([("a", 10, 10, 9), ("b", 10, 0, 0)]))
    mark_lists(rows, 1, ListRule(1, Fraction(9, 10), Fraction(4, 5)))
    assert _lists(rows) == (["a"], ["b"])
