"""Accountability rates per area or responsible unit over a period, computed in SQL.

One aggregate statement per call; only one row per area or unit comes back to Python,
never the problems. Finished periods are read from ``rate_summary`` (counts per owner and
period, kept up to date with the problems: geo/summary/rate_cubes.py), others GROUP BY the
level's id column over the problems table (geo/summary/rate_sql.py); both give the same figures.

Definitions (digital city management practice, DOMAIN.md "Evaluation and ranking"),
for a period [start, end) of local calendar days and ``cutoff`` = min(end, now):

- due to close 应结案数: problems whose deadline falls in [start, cutoff), except held
  (挂账, approved) and voided (作废, false reports) ones, which are excluded from every
  figure below (open systems do so; DOMAIN.md) — ``geo.storage.statuses.due_sql()``;
- closed 结案数: due problems with closed_at < cutoff (closed by the end of the period);
- closure rate 结案率 = closed / due;
- closed on time 按期结案数: due problems with closed_at ≤ deadline;
- on-time closure rate 按期结案率 = closed on time / due;
- reworked 返工数: due problems reopened at least once (reopen_count > 0);
- rework rate 返工率 = reworked / due;
- extended 延期数: due problems whose deadline was extended at least once (an approved
  extension, ``extension_count`` > 0; "due" uses the extended deadline);
- extension rate 延期率 = extended / due;
- overdue 超期未整改数: problems found before cutoff whose deadline is before cutoff and
  that were not closed by then (closed_at is NULL or ≥ cutoff) — the backlog at the
  end of the period, whenever their deadline was;
- average days to rectify 平均整改天数: over due problems rectified before cutoff, the
  mean of (rectified_at − assigned_at) in days (found_at when never assigned);
- found 新发现: problems found in [start, cutoff) (voided reports not counted).

A rate is None when nothing was due. Rates are fractions (0–1). Times are naive UTC;
the period boundaries are local midnights converted to UTC (see geo/core/periods.py).
Finished periods read from ``rate_summary`` are the problems as they stood at the
period's end: a lifecycle event changes only the periods ending after it
(geo/summary/rate_cubes.py, History). Periods aggregated from the problems table (still
running, or in another time zone than the summary's) reflect the problems as stored now.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import InvalidParameterError
from geo.core.periods import Period
from geo.core.text import tr
from geo.storage.db import is_postgres
from geo.storage.models import Area, ResponsibleUnit
from geo.summary import counts as summary
from geo.summary.rate_sql import Window, rate_counts_query, summary_counts_query

RATE_LEVELS: tuple[str, ...] = ("district", "street", "community", "grid", "unit")
"""What rates can be grouped by: an area level, or the responsible unit."""

COUNT_COLUMNS = ("found", "due", "closed", "closed_on_time", "reworked", "overdue", "extended")
RATE_COLUMNS = (
    "closure_rate",
    "on_time_rate",
    "rework_rate",
    "extension_rate",
    "avg_rectify_days",
)


def check_rate_level(level: str) -> str:
    """Return ``level`` if rates can be grouped by it, else raise ``InvalidParameterError``."""
    if level not in RATE_LEVELS:
        raise InvalidParameterError(
            tr(
                f"未知的统计层级 '{level}'; 可选: {', '.join(RATE_LEVELS)}",
                f"unknown level '{level}'; one of: {', '.join(RATE_LEVELS)}",
            )
        )
    return level


def period_cutoff(
    period: Period, tz: str, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The period's start and cutoff = min(end, now), as naive UTC datetimes."""
    start, end = period.utc_bounds(tz)
    now = now or datetime.now(UTC).replace(tzinfo=None)
    return start, min(end, max(now, start))


def rates(
    session: so.Session,
    level: str,
    period: Period,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
    all_areas: bool = True,
) -> pd.DataFrame:
    """Counts and rates of every area of ``level`` (or every unit) over ``period``.

    Returns one row per area/unit (all of them when ``all_areas``, else only those
    with problems counted), columns: id, code, name, found, due, closed,
    closed_on_time, reworked, overdue, extended, avg_rectify_days, closure_rate,
    on_time_rate, rework_rate, extension_rate. See the module docstring for the
    definitions.
    """
    return rates_for_periods(session, level, [period], tz, now, all_areas)[0]


def rates_for_periods(
    session: so.Session,
    level: str,
    periods: list[Period],
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
    all_areas: bool = True,
    lean_after_first: bool = False,
) -> list[pd.DataFrame]:
    """``rates`` for several periods at once: one scan of the problems table, one frame
    per period (same rows, same order). With ``lean_after_first`` the periods after the
    first skip ``found`` (0) and ``avg_rectify_days`` (NaN), which rankings do not need
    for the period they compare with."""
    windows = [period_cutoff(p, tz, now) for p in periods]
    check_rate_level(level)
    if _summary_covers(session, periods, windows, tz):
        starts = [p.start for p in periods]
        query = summary_counts_query(level, periods[0].kind, starts, lean_after_first)
    else:
        _tune_for_aggregates(session)
        query = rate_counts_query(session, level, windows, lean_after_first)
    frame = _with_names(session, level, query.subquery(), all_areas, len(windows))
    return [add_rates(_window(frame, i)) for i in range(len(windows))]


def add_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Add closure_rate, on_time_rate, rework_rate and extension_rate (None where
    nothing was due)."""
    due = frame["due"].where(frame["due"] > 0)
    for name, part in (
        ("closure_rate", "closed"),
        ("on_time_rate", "closed_on_time"),
        ("rework_rate", "reworked"),
        ("extension_rate", "extended"),
    ):
        frame[name] = (frame[part] / due).astype("float64")
    frame["avg_rectify_days"] = frame["avg_rectify_days"].astype("float64")
    return frame


def _summary_covers(
    session: so.Session, periods: list[Period], windows: list[Window], tz: str
) -> bool:
    """Whether ``rate_summary`` answers these windows: finished periods of one kind whose
    bounds in ``tz`` are the summary's local midnights (its fixed UTC offset), and a
    summary that is not waiting for a rebuild. Otherwise the problems are aggregated."""
    meta = summary.read_meta(session)
    if meta.stale or len({p.kind for p in periods}) != 1:
        return False
    shift = timedelta(minutes=meta.day_offset_minutes)
    for period, (start, cutoff) in zip(periods, windows, strict=True):
        local_start = datetime.combine(period.start, time()) - shift
        local_end = datetime.combine(period.end, time()) - shift
        if (start, cutoff) != (local_start, local_end):
            return False  # still running, or another time zone than the summary's
    return True


def _tune_for_aggregates(session: so.Session) -> None:
    """PostgreSQL: no JIT compilation (it costs more than it saves on this one-off
    aggregate) and enough memory for the per-area hash table, for this transaction."""
    if is_postgres(session):
        session.execute(sa.text("SET LOCAL jit = off"))
        session.execute(sa.text("SET LOCAL work_mem = '64MB'"))


def _with_names(
    session: so.Session, level: str, counted: sa.Subquery, all_areas: bool, windows: int
) -> pd.DataFrame:
    """Join the counts to the areas (or units) for their codes and names."""
    if level == "unit":
        owner_id, code, name = ResponsibleUnit.id, ResponsibleUnit.name, ResponsibleUnit.name
        scope: list[Any] = []
    else:
        owner_id, code, name = Area.id, Area.code, Area.name
        scope = [Area.level == level]
    names = [f"{c}_{i}" for i in range(windows) for c in (*COUNT_COLUMNS, "avg_rectify_days")]
    values = [
        counted.c[n] if n.startswith("avg_") else sa.func.coalesce(counted.c[n], 0).label(n)
        for n in names
    ]
    stmt = (
        sa.select(owner_id.label("id"), code.label("code"), name.label("name"), *values)
        .select_from(owner_id.table)
        .join(counted, counted.c.key == owner_id, isouter=all_areas)
        .where(*scope)
        .order_by(code)
    )
    rows = [tuple(row) for row in session.execute(stmt)]  # plain tuples build frames fast
    return pd.DataFrame.from_records(rows, columns=["id", "code", "name", *names])


def _window(frame: pd.DataFrame, i: int) -> pd.DataFrame:
    out = frame[["id", "code", "name"]].copy()
    for column in COUNT_COLUMNS:
        out[column] = frame[f"{column}_{i}"].astype("int64")
    out["avg_rectify_days"] = frame[f"avg_rectify_days_{i}"]
    return out
