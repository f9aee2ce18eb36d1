"""Scores that mean something (geo/reports/scores.py): an indicator deducts at most its
cap, counts are normalised per evaluated points, area kinds come from the code's
sequence — hand-computed on small frames."""

from __future__ import annotations

import pandas as pd

from geo.core.taxonomy import Scheme
from geo.core.taxonomy_file import default_taxonomy
from geo.reports.scores import _deductions, _kind

TAX = default_taxonomy()  # litter weighs 1.5 in civilized_city, illegal_ads 1.0


def _found(rows: list[tuple[int, str, int]]) -> pd.DataFrame:
    """(area_id, category, point_id): one failing location each."""
    return pd.DataFrame(
        [
            {
                "area_id": a,
                "category": c,
                "point_id": p,
                "x": None,
                "y": None,
                "street_id": None,
                "community_id": None,
                "n": 1,
            }
            for a, c, p in rows
        ]
    )


def _scheme(cap: float | None = None, per_points: float | None = None) -> Scheme:
    return Scheme("civilized_city", "测", "test", 100.0, cap, per_points)


def test_an_indicator_deducts_at_most_its_cap() -> None:
    found = _found([(1, "litter", p) for p in range(10)] + [(1, "illegal_ads", 99)])
    out = pd.DataFrame({"id": [1, 2], "points": [20, 20]})
    totals, details = _deductions(found, out, _scheme(cap=3), "civilized_city", TAX)
    # litter: 10 × 1.5 = 15 → capped at 3 × 1.5 = 4.5; illegal ads 1 × 1.0.
    assert totals.tolist() == [5.5, 0.0]
    litter = details[0][0]
    assert (litter["category"], litter["locations"], litter["deduction"]) == ("litter", 10, 4.5)
    assert litter["capped"] and not details[0][1]["capped"] and details[1] == []
    uncapped, _ = _deductions(found, out, _scheme(), "civilized_city", TAX)
    assert uncapped.tolist() == [16.0, 0.0]


def test_counts_are_normalised_per_evaluated_points() -> None:
    found = _found([(1, "litter", p) for p in range(4)] + [(2, "litter", p) for p in range(4)])
    out = pd.DataFrame({"id": [1, 2], "points": [200, 30]})
    totals, _ = _deductions(found, out, _scheme(per_points=50), "civilized_city", TAX)
    # Area 1: 4 × 50 / 200 = 1 location's worth → 1.5; area 2 (fewer than 50 points): 4 × 1.5.
    assert totals.tolist() == [1.5, 6.0]


def test_area_kinds_follow_the_code_sequence() -> None:
    assert _kind("street", "320602001") == "street" and _kind("street", "320602101") == "town"
    assert _kind("street", "320602201") == "town" and _kind("street", "320602400") == "street"
    assert _kind("community", "320602001005") == "community"
    assert _kind("community", "320602101201") == "village"
    assert _kind("street", "EAST") == "street"  # other codes are urban
