"""The aggregate SELECTs behind geo/reports/stats.py's rates: over the problems table, shaped for
each backend, or over ``rate_summary`` for finished periods (``summary_counts_query``).

Returns one row per area/unit id (column ``key``) with, for each (start, cutoff)
window ``i``, the columns ``found_i``, ``due_i``, ``closed_i``, ``closed_on_time_i``,
``reworked_i``, ``overdue_i``, ``extended_i`` and ``avg_rectify_days_i``; the
definitions are in geo/reports/stats.py. Times are naive UTC.

One pass, one filtered aggregate per figure, the condition's cheapest test first.
SQLite walks the covering index ``ix_problems_rates`` in grid order, so grouping by grid
needs no sort and reads no table row; PostgreSQL hashes over a parallel scan.
(Grouping by the window a problem is due in, to test its deadline once, was tried:
PostgreSQL cannot estimate that key's groups and then sorts every row.)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from geo.storage.db import is_postgres
from geo.storage.models import Problem, RateSummary
from geo.storage.statuses import VOIDED, due_sql, overdue_at_sql

Window = tuple[datetime, datetime]


def rate_counts_query(
    session: so.Session,
    level: str,
    windows: list[Window],
    lean_after_first: bool = False,
) -> sa.Select[Any]:
    """The aggregate SELECT: one row per area/unit id (``key``) with, for each
    (start, cutoff) window ``i``, the counts and average days as columns suffixed
    ``_i``. With ``lean_after_first`` the windows after the first give ``found`` 0 and
    ``avg_rectify_days`` NULL without computing them."""
    key = _key_column(level)
    if not is_postgres(session) and level != "grid":
        # An expression, so SQLite scans the covering index and sorts instead of walking
        # the index on the key and fetching every row through it (ten times slower).
        # Grid ids lead the covering index: grouping by them needs no sort at all.
        key = sa.cast(key + 0, sa.Integer)
    times = _Times(sqlite=not is_postgres(session))
    columns: list[Any] = [key.label("key")]
    for i, (start, cutoff) in enumerate(windows):
        lean = lean_after_first and i > 0
        columns += [c.label(f"{c.name}_{i}") for c in _flat_aggregates(times, start, cutoff, lean)]
    # No WHERE: nearly every stored problem counts in some window (the overdue backlog
    # reaches back to the oldest deadline), so one plain scan is cheapest; the NULL-key
    # group is dropped by the join to the areas or units.
    return sa.select(*columns).group_by(columns[0].element)


def _flat_aggregates(times: _Times, start: datetime, cutoff: datetime, lean: bool) -> list[Any]:
    # Cheapest test first: SQLite stops at the first false term of an AND.
    due = sa.and_(times.deadline < cutoff, times.deadline >= start, due_sql())
    closed = sa.and_(due, times.closed_at < cutoff)
    rectified = sa.and_(due, times.rectified_at < cutoff)
    found: Any = sa.literal(0)
    days: Any = sa.cast(sa.null(), sa.Float())
    if not lean:
        found = sa.func.count().filter(_found(times, start, cutoff))
        days = sa.func.avg(times.days).filter(rectified)
    return [
        found.label("found"),
        sa.func.count().filter(due).label("due"),
        sa.func.count().filter(closed).label("closed"),
        sa.func.count().filter(due, Problem.closed_at <= Problem.deadline).label("closed_on_time"),
        sa.func.count().filter(due, Problem.reopen_count > 0).label("reworked"),
        sa.func.count().filter(_overdue(times, cutoff)).label("overdue"),
        sa.func.count().filter(due, Problem.extension_count > 0).label("extended"),
        days.label("avg_rectify_days"),
    ]


def _found(times: _Times, start: datetime, cutoff: datetime) -> Any:
    return sa.and_(times.found_at < cutoff, times.found_at >= start, Problem.status != VOIDED)


def _overdue(times: _Times, cutoff: datetime) -> Any:
    return overdue_at_sql(cutoff, times.found_at, times.closed_at, times.deadline)


def _key_column(level: str) -> Any:
    return Problem.unit_id if level == "unit" else getattr(Problem, f"{level}_id")


class _Times:
    """The time columns as compared with period bounds, and the days to rectify.

    On SQLite a DATETIME column has NUMERIC affinity, so comparing it with a bound
    parameter first tries to convert the parameter to a number, on every row; the
    unary ``+`` drops the column's affinity and the stored text is compared as text
    (the same order and result: stored times and bounds are ISO strings)."""

    def __init__(self, sqlite: bool) -> None:
        bare = _without_affinity if sqlite else _as_is
        self.deadline = bare(Problem.deadline)
        self.found_at = bare(Problem.found_at)
        self.closed_at = bare(Problem.closed_at)
        self.rectified_at = bare(Problem.rectified_at)
        since = sa.func.coalesce(Problem.assigned_at, Problem.found_at)
        if sqlite:
            self.days: Any = sa.func.julianday(Problem.rectified_at) - sa.func.julianday(since)
        else:
            self.days = sa.func.date_part("epoch", Problem.rectified_at - since) / 86400.0


def _without_affinity(column: Any) -> Any:
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def _as_is(column: Any) -> Any:
    return column


def summary_counts_query(
    level: str, kind: str, starts: list[date], lean_after_first: bool = False
) -> sa.Select[Any]:
    """The same columns as ``rate_counts_query`` for finished periods of one ``kind``
    starting on the local dates ``starts``, read from ``rate_summary`` (geo/summary/rate_cubes.py):
    one row per owner and period, and the overdue deltas of every earlier period, summed.
    Averages are sums of days over counts, so they equal the per-problem mean."""
    columns: list[Any] = [RateSummary.owner_id.label("key")]
    for i, start in enumerate(starts):
        lean = lean_after_first and i > 0
        columns += [c.label(f"{c.name}_{i}") for c in _summary_sums(start, lean)]
    return (
        sa.select(*columns)
        .where(
            RateSummary.level == level,
            RateSummary.kind == kind,
            RateSummary.period_start <= max(starts),
        )
        .group_by(RateSummary.owner_id)
    )


def _summary_sums(start: date, lean: bool) -> list[Any]:
    this = RateSummary.period_start == start

    def total(column: Any) -> Any:
        return sa.func.sum(column).filter(this)

    found: Any = sa.literal(0)
    days: Any = sa.cast(sa.null(), sa.Float())
    if not lean:
        found = total(RateSummary.found)
        days = total(RateSummary.rectify_days) / sa.func.nullif(total(RateSummary.rectified), 0)
    return [
        found.label("found"),
        total(RateSummary.due).label("due"),
        total(RateSummary.closed).label("closed"),
        total(RateSummary.closed_on_time).label("closed_on_time"),
        total(RateSummary.reworked).label("reworked"),
        sa.func.sum(RateSummary.overdue_delta)
        .filter(RateSummary.period_start <= start)
        .label("overdue"),
        total(RateSummary.extended).label("extended"),
        days.label("avg_rectify_days"),
    ]
