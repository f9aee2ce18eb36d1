"""Rankings of areas or responsible units over a period, with red and black lists (红黑榜).

Built on geo/reports/stats.py (one aggregate statement for this period and the one before);
only one row per area or unit is sorted in Python. Order: closure rate, on-time
closure rate (high first), rework rate, overdue count, average days to rectify (low
first), code. Only areas or units with something due in the period are ranked; the
others are listed after them without a rank. The red list 红榜 is the top ``top`` of the ranked,
the black list 黑榜 the bottom ``top`` (never overlapping: with few ranked, both shrink).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy.orm as so

from geo.core.periods import Period
from geo.reports.stats import COUNT_COLUMNS, RATE_COLUMNS, rates_for_periods

DEFAULT_TOP = 3
_SORT = [
    ("closure_rate", False),
    ("on_time_rate", False),
    ("rework_rate", True),
    ("overdue", True),
    ("avg_rectify_days", True),
    ("code", True),
]


@dataclass
class Ranking:
    """A sorted ranking table and the periods it compares."""

    level: str
    period: Period
    previous: Period
    top: int
    rows: pd.DataFrame

    @property
    def ranked(self) -> pd.DataFrame:
        return self.rows[self.rows["rank"].notna()]

    @property
    def red(self) -> pd.DataFrame:
        """The red list: the best ``top`` ranked."""
        return self.rows[self.rows["list"] == "red"]

    @property
    def black(self) -> pd.DataFrame:
        """The black list: the worst ``top`` ranked, worst last."""
        return self.rows[self.rows["list"] == "black"]

    def records(self, rows: pd.DataFrame | None = None) -> list[dict[str, Any]]:
        """Rows as plain dicts (NaN → None, numpy → Python numbers), for JSON and templates."""
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
    top: int = DEFAULT_TOP,
    now: datetime | None = None,
) -> Ranking:
    """Rank every area of ``level`` (or unit) over ``period`` against the previous period.

    Columns: rank, id, code, name, the counts and rates of geo.reports.stats.rates,
    previous_rank, rank_change (positive = moved up), closure_rate_change (in rate
    points, this minus previous), list ('red', 'black' or None).
    """
    this_frame, before_frame = rates_for_periods(
        session, level, [period, period.previous()], tz, now, lean_after_first=True
    )
    current, before = _ranked(this_frame), _ranked(before_frame)
    rows = current.merge(
        before[["id", "rank", "closure_rate"]].rename(
            columns={"rank": "previous_rank", "closure_rate": "previous_closure_rate"}
        ),
        on="id",
        how="left",
    )
    rows["rank_change"] = rows["previous_rank"] - rows["rank"]
    rows["closure_rate_change"] = rows["closure_rate"] - rows["previous_closure_rate"]
    n = max(0, min(top, int(rows["rank"].notna().sum()) // 2))
    rows["list"] = None
    ranked = rows["rank"].notna()
    last = int(ranked.sum())
    rows.loc[ranked & (rows["rank"] <= n), "list"] = "red"
    rows.loc[ranked & (rows["rank"] > last - n), "list"] = "black"
    columns = ["rank", "id", "code", "name", *COUNT_COLUMNS, *RATE_COLUMNS]
    extra = ["previous_rank", "rank_change", "closure_rate_change", "list"]
    return Ranking(level, period, period.previous(), n, rows[columns + extra])


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort ranked rows (something due) first and number them 1…n; the rest unranked."""
    has_due = frame["due"] > 0
    keys = [k for k, _ in _SORT]
    order = [asc for _, asc in _SORT]
    ranked = frame[has_due].sort_values(keys, ascending=order, kind="mergesort")
    ranked = ranked.assign(rank=range(1, len(ranked) + 1))
    rest = frame[~has_due].sort_values("code").assign(rank=None)
    out = pd.concat([ranked, rest], ignore_index=True)
    out["rank"] = out["rank"].astype("Float64")
    return out


_INT_COLUMNS = frozenset({"rank", "previous_rank", "rank_change", "id", *COUNT_COLUMNS})


def _plain(value: Any, integer: bool) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if integer else round(value, 4)
    return value
