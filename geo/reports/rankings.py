"""Rankings of areas or responsible units over a period, with red and black lists (红黑榜).

Built on geo/reports/stats.py (one aggregate statement per period); only one row per area
or unit is sorted in Python. Order: closure rate, on-time closure rate (high first),
rework rate, overdue count, average days to rectify (low first). Areas equal on every
key share a rank (competition ranking: 1, 2, 2, 4) and are listed by code. Only areas or
units with something due in the period are ranked; the others are "not ranked".

The lists (data/rankings.toml, geo/reports/list_rules.py): with N ranked, each list holds
at most n = min(size, N ÷ 2) places, so they never overlap. A tie group is never split by
a list's end — it goes in whole or not at all, and ``notes`` says which group was left
out. The red list also needs an on-time closure rate ≥ the level's floor, the black list
a closure rate < its ceiling. Rank change compares with the previous period's published
ranks when given (geo/reports/publications.py), else with that period ranked by the same
keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy.orm as so

from geo.core.periods import Period
from geo.core.text import Text, tr
from geo.reports.list_rules import ListRule, default_list_rules
from geo.reports.stats import COUNT_COLUMNS, RATE_COLUMNS, rates_for_periods

DEFAULT_TOP = 3
_SORT = [
    ("closure_rate", False),
    ("on_time_rate", False),
    ("rework_rate", True),
    ("overdue", True),
    ("avg_rectify_days", True),
]
_DAYS_DIGITS = 6
"""Average days are sums of float days: equal histories compare equal at this precision."""


@dataclass
class Ranking:
    """A sorted ranking table, the periods it compares and why lists end where they do."""

    level: str
    period: Period
    previous: Period
    top: int
    rows: pd.DataFrame
    notes: list[Text] = field(default_factory=list)
    rule: ListRule = field(default_factory=ListRule)

    @property
    def ranked(self) -> pd.DataFrame:
        return self.rows[self.rows["rank"].notna()]

    @property
    def red(self) -> pd.DataFrame:
        """The red list: the best ranked, whole tie groups, meeting the floor."""
        return self.rows[self.rows["list"] == "red"]

    @property
    def black(self) -> pd.DataFrame:
        """The black list: the worst ranked, whole tie groups, under the ceiling."""
        return self.rows[self.rows["list"] == "black"]

    def records(self, rows: pd.DataFrame | None = None) -> list[dict[str, Any]]:
        """Rows as plain dicts (NaN → None, numpy → Python numbers), for JSON and templates.
        Rates stay exact fractions' float values: rounding happens once, at display."""
        frame = self.rows if rows is None else rows
        return [
            {k: _plain(v, k in _INT_COLUMNS) for k, v in row.items()}
            for row in frame.to_dict(orient="records")
        ]


def rankings(
    session: so.Session,
    level: str,
    period: Period,
    tz: str = "Asia/Shanghai",
    top: int | None = None,
    now: datetime | None = None,
    previous_ranks: dict[int, int] | None = None,
) -> Ranking:
    """Rank every area of ``level`` (or unit) over ``period`` against the previous period.

    ``top`` overrides the level's list size; ``previous_ranks`` (area id → rank) are the
    published ranks of the previous period, when there are any. Columns: rank, id, code,
    name, the counts and rates of geo.reports.stats.rates, tie (areas sharing the rank),
    previous_rank, previous_closed, previous_due, rank_change (positive = moved up),
    closure_rate_change (fraction, this minus previous), list ('red', 'black' or None).
    """
    this_frame, before_frame = rates_for_periods(
        session, level, [period, period.previous()], tz, now
    )
    current = rank_rows(this_frame)
    before = rank_rows(before_frame)[["id", "rank", "closed", "due", "closure_rate"]]
    before = before.rename(columns=lambda c: c if c == "id" else f"previous_{c}")
    rows = current.merge(before, on="id", how="left")
    if previous_ranks is not None:
        rows["previous_rank"] = rows["id"].map(previous_ranks).astype("Float64")
    rows["rank_change"] = rows["previous_rank"] - rows["rank"]
    rows["closure_rate_change"] = rows["closure_rate"] - rows["previous_closure_rate"]
    rule = default_list_rules().rule(level)
    size = rule.size if top is None else top
    n, notes = mark_lists(rows, size, rule)
    columns = ["rank", "id", "code", "name", *COUNT_COLUMNS, *RATE_COLUMNS, "tie"]
    extra = ["previous_rank", "previous_closed", "previous_due", "rank_change"]
    extra += ["closure_rate_change", "list"]
    return Ranking(level, period, period.previous(), n, rows[columns + extra], notes, rule)


def rank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort the rows with something due by the ranking keys and give them competition
    ranks (equal keys, equal rank; the next rank skips); the rest follow, unranked.
    Adds ``rank`` (Float64, NA when not ranked) and ``tie`` (how many share the rank)."""
    has_due = frame["due"] > 0
    keyed = frame.assign(_days=frame["avg_rectify_days"].round(_DAYS_DIGITS))
    keys = [("_days" if k == "avg_rectify_days" else k) for k, _ in _SORT]
    order = [asc for _, asc in _SORT]
    ranked = keyed[has_due].sort_values([*keys, "code"], ascending=[*order, True], kind="mergesort")
    group = ranked[keys].fillna(-1.0).ne(ranked[keys].fillna(-1.0).shift()).any(axis=1).cumsum()
    position = pd.Series(range(1, len(ranked) + 1), index=ranked.index)
    ranked = ranked.assign(
        rank=position.groupby(group).transform("min"),
        tie=position.groupby(group).transform("size"),
    )
    rest = frame[~has_due].sort_values("code").assign(rank=None, tie=None)
    out = pd.concat([ranked.drop(columns="_days"), rest], ignore_index=True)
    out["rank"] = out["rank"].astype("Float64")
    out["tie"] = out["tie"].astype("Float64")
    return out


def mark_lists(rows: pd.DataFrame, size: int, rule: ListRule) -> tuple[int, list[Text]]:
    """Set ``rows["list"]`` to 'red' / 'black' per the rule (see the module docstring).
    Returns the list size n used and the notes on tie groups and thresholds."""
    ranked = rows["rank"].notna()
    count = int(ranked.sum())
    n = max(0, min(size, count // 2))
    rows["list"] = None
    rank = rows["rank"].astype("float64")
    last = rank + rows["tie"].astype("float64") - 1  # the group's last position
    in_red = ranked & (last <= n)
    in_black = ranked & (rank > count - n)
    floor = rows["closed_on_time"] * rule.red_min_on_time.denominator >= (
        rows["due"] * rule.red_min_on_time.numerator
    )
    ceiling = rows["closed"] * rule.black_max_closure.denominator < (
        rows["due"] * rule.black_max_closure.numerator
    )
    rows.loc[in_red & floor, "list"] = "red"
    rows.loc[in_black & ceiling, "list"] = "black"
    notes = _notes(rows, ranked & (rank <= n) & (last > n), "red")
    notes += _notes(rows, ranked & (rank <= count - n) & (last > count - n), "black")
    notes += _threshold_notes(rows, in_red & ~floor, in_black & ~ceiling, rule)
    return n, notes


def _notes(rows: pd.DataFrame, straddling: pd.Series, which: str) -> list[Text]:
    if not straddling.any():
        return []
    first = rows[straddling].iloc[0]
    names = "、".join(rows.loc[straddling, "name"].astype(str))
    k, r = int(first["tie"]), int(first["rank"])
    if which == "red":
        return [
            tr(
                f"{k} 个并列第 {r} 名（{names}）跨过红榜名额，整组不上红榜",
                f"{k} tied at rank {r} ({names}) straddle the red list's end: "
                "the whole group is left off",
            )
        ]
    return [
        tr(
            f"{k} 个并列第 {r} 名（{names}）跨过黑榜名额，整组不上黑榜",
            f"{k} tied at rank {r} ({names}) straddle the black list's end: "
            "the whole group is left off",
        )
    ]


def _threshold_notes(
    rows: pd.DataFrame, below_floor: pd.Series, above_ceiling: pd.Series, rule: ListRule
) -> list[Text]:
    notes = []
    floor, ceiling = float(rule.red_min_on_time * 100), float(rule.black_max_closure * 100)
    if below_floor.any():
        names = "、".join(rows.loc[below_floor, "name"].astype(str))
        notes.append(
            tr(
                f"按期结案率未达 {floor:g}% 的不上红榜: {names}",
                f"not on the red list, on-time closure below {floor:g}%: {names}",
            )
        )
    if above_ceiling.any():
        names = "、".join(rows.loc[above_ceiling, "name"].astype(str))
        notes.append(
            tr(
                f"结案率达到 {ceiling:g}% 的不上黑榜: {names}",
                f"not on the black list, closure rate {ceiling:g}% or more: {names}",
            )
        )
    return notes


_INT_COLUMNS = frozenset(
    {"rank", "previous_rank", "rank_change", "id", "tie", "previous_closed", "previous_due"}
    | set(COUNT_COLUMNS)
)


def _plain(value: Any, integer: bool) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if integer else value
    return value
