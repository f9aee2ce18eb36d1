"""The aggregate SELECT behind geo/stats.py's rates, shaped for each backend.

Both shapes return one row per area/unit id (column ``key``) with, for each
(start, cutoff) window ``i``, the columns ``found_i``, ``due_i``, ``closed_i``,
``closed_on_time_i``, ``reworked_i``, ``overdue_i``, ``extended_i`` and
``avg_rectify_days_i``; the definitions are in geo/stats.py. Times are naive UTC.

- Flat (SQLite, and any backend when windows overlap): one pass, one filtered
  aggregate per figure. SQLite walks the covering index ``ix_problems_rates`` in
  grid order, so grouping by grid needs no sort and no table row is read.
- Grouped by due window (PostgreSQL): the window a problem is due in is computed once
  per row as part of the hash key, so the figures of due problems need no repeated
  deadline test; a small outer aggregate folds the (key, window) rows into one row
  per key. Disjoint windows only (a problem is due in at most one of them).
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from geo.db import is_postgres
from geo.models import Problem

NOT_DUE_STATUSES: tuple[str, ...] = ("held", "voided")
"""Statuses excluded from due-to-close and overdue (and voided from found)."""

Window = tuple[datetime, datetime]


def counted() -> Any:
    """SQL condition: the problem counts toward due-to-close and overdue (not held, not
    voided)."""
    return Problem.status.not_in(NOT_DUE_STATUSES)


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
    if is_postgres(session) and _disjoint(windows):
        return _grouped_by_due_window(session, level, windows, lean_after_first)
    return _flat(session, level, windows, lean_after_first)


def _flat(
    session: so.Session, level: str, windows: list[Window], lean_after_first: bool
) -> sa.Select[Any]:
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
    due = sa.and_(times.deadline < cutoff, times.deadline >= start, counted())
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


def _grouped_by_due_window(
    session: so.Session, level: str, windows: list[Window], lean_after_first: bool
) -> sa.Select[Any]:
    times = _Times(sqlite=not is_postgres(session))
    key = _key_column(level)
    whens = [
        (sa.and_(times.deadline >= s, times.deadline < c), i) for i, (s, c) in enumerate(windows)
    ]
    due_in = sa.case((sa.not_(counted()), sa.null()), *whens)
    inner = sa.select(key.label("key"), due_in.label("due_in"), *_per_window(times, windows))
    per = inner.group_by(key, due_in).subquery()
    columns: list[Any] = [per.c.key]
    for i in range(len(windows)):
        lean = lean_after_first and i > 0
        columns += _folded(per, i, lean)
    return sa.select(*columns).group_by(per.c.key)


def _per_window(times: _Times, windows: list[Window]) -> list[Any]:
    """Inner aggregates per (key, due window): those of due problems once, and those
    that depend on the window's cutoff or not on being due (found, overdue) per window."""
    columns: list[Any] = [
        sa.func.count().label("due"),
        sa.func.count().filter(Problem.closed_at <= Problem.deadline).label("closed_on_time"),
        sa.func.count().filter(Problem.reopen_count > 0).label("reworked"),
        sa.func.count().filter(Problem.extension_count > 0).label("extended"),
    ]
    for i, (start, cutoff) in enumerate(windows):
        columns += [
            sa.func.count().filter(times.closed_at < cutoff).label(f"closed_{i}"),
            sa.func.avg(times.days).filter(times.rectified_at < cutoff).label(f"days_{i}"),
            sa.func.count().filter(_found(times, start, cutoff)).label(f"found_{i}"),
            sa.func.count().filter(_overdue(times, cutoff)).label(f"overdue_{i}"),
        ]
    return columns


def _folded(per: sa.Subquery, i: int, lean: bool) -> list[Any]:
    """Window ``i``'s figures from the (key, due window) rows of one key."""
    mine = per.c.due_in == i

    def due_only(column: Any) -> Any:
        return sa.func.coalesce(_total(sa.func.sum(column).filter(mine)), 0)

    found = sa.literal(0) if lean else _total(sa.func.sum(per.c[f"found_{i}"]))
    days = sa.cast(sa.null(), sa.Float()) if lean else sa.func.max(per.c[f"days_{i}"]).filter(mine)
    return [
        found.label(f"found_{i}"),
        due_only(per.c.due).label(f"due_{i}"),
        due_only(per.c[f"closed_{i}"]).label(f"closed_{i}"),
        due_only(per.c.closed_on_time).label(f"closed_on_time_{i}"),
        due_only(per.c.reworked).label(f"reworked_{i}"),
        _total(sa.func.sum(per.c[f"overdue_{i}"])).label(f"overdue_{i}"),
        due_only(per.c.extended).label(f"extended_{i}"),
        days.label(f"avg_rectify_days_{i}"),
    ]


def _total(summed: Any) -> Any:
    return sa.cast(summed, sa.BigInteger)  # PostgreSQL sums counts as numeric


def _found(times: _Times, start: datetime, cutoff: datetime) -> Any:
    return sa.and_(times.found_at < cutoff, times.found_at >= start, Problem.status != "voided")


def _overdue(times: _Times, cutoff: datetime) -> Any:
    return sa.and_(
        times.deadline < cutoff,
        times.found_at < cutoff,
        sa.or_(Problem.closed_at.is_(None), times.closed_at >= cutoff),
        counted(),
    )


def _disjoint(windows: list[Window]) -> bool:
    ordered = sorted(windows)
    return all(a[1] <= b[0] for a, b in itertools.pairwise(ordered))


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
