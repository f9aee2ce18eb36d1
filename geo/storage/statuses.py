"""The problem statuses and the counting concepts built on them, defined once.

DOMAIN.md's counting rules, as status sets (tuples in lifecycle order, so SQL and
output stay deterministic), one SQLAlchemy condition builder and one numpy predicate
each; every map, list, rate, bulletin, export and protocol uses these:

- unresolved 未销号: neither closed nor voided (held ones included) — ``UNRESOLVED``;
- not due 不计应结案: held and voided problems are left out of due-to-close and of the
  rates' overdue — ``NOT_DUE`` (and ``DUE``, its complement);
- overdue 超期: unresolved, not held, past its deadline and not rectified by it (a problem
  rectified in time and awaiting verification 待核查 is not overdue) — ``OVERDUE`` with
  ``overdue_sql`` / ``overdue_mask`` / ``is_overdue``; maps, summary cubes, status
  filters, the problem API, exports, notices, rates and bulletin all count this one way
  (``MAP_OVERDUE`` and ``map_overdue_sql`` are the same rule under the names those
  callers use; migration 0013 marks the summary stale so stored cubes are recounted);
- awaiting verification 待核查: rectified, not yet closed — ``AWAITING``.

The README's "Counting rules" table lists each figure with its rule and label.

Why here, in geo/storage: the condition builders need ``Problem.status``, and no
package below storage (geo/core) needs the concepts. The numpy predicates live next to
them so that the SQL and the pandas side cannot drift apart (tests/geo/test_statuses.py
checks both against the sets on every status).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from geo.storage.models import Problem

STATUSES: tuple[str, ...] = ("found", "assigned", "rectified", "closed")
"""Problem statuses along the main path."""

CLOSED = "closed"
HELD = "held"
VOIDED = "voided"

SIDE_STATUSES: tuple[str, ...] = (HELD, VOIDED)
"""Statuses off the main path: held 挂账 (approved, cannot be fixed now) and voided 作废
(a false report)."""

ALL_STATUSES: tuple[str, ...] = (*STATUSES, *SIDE_STATUSES)

RESOLVED: tuple[str, ...] = (CLOSED, VOIDED)
"""Not unresolved: closed (销号), and voided (a false report is no problem at all)."""

UNRESOLVED: tuple[str, ...] = tuple(s for s in ALL_STATUSES if s not in RESOLVED)
"""Unresolved 未销号: neither closed nor voided; held problems are unresolved too."""

NOT_DUE: tuple[str, ...] = (HELD, VOIDED)
"""Left out of due-to-close (and so of the rates and their overdue): held and voided."""

DUE: tuple[str, ...] = tuple(s for s in ALL_STATUSES if s not in NOT_DUE)
"""Statuses that count toward due-to-close (closed ones included)."""

OVERDUE: tuple[str, ...] = tuple(s for s in UNRESOLVED if s not in NOT_DUE)
"""Statuses that can be overdue (DOMAIN.md): unresolved and not held."""

MAP_OVERDUE: tuple[str, ...] = OVERDUE
"""The statuses the maps count as overdue: the same as ``OVERDUE`` (one rule; held
problems are not overdue anywhere)."""

AWAITING: tuple[str, ...] = ("rectified",)
"""Awaiting verification 待核查: rectified, not yet closed."""


def unresolved_sql(indexed: bool = False) -> sa.ColumnElement[bool]:
    """SQL condition: the problem is unresolved. ``indexed`` writes it as ``status IN
    (UNRESOLVED)`` so the (status, deadline) index can serve it; otherwise as ``status
    NOT IN (RESOLVED)`` (the same rows: every stored status is one of ``ALL_STATUSES``)."""
    if indexed:
        return Problem.status.in_(UNRESOLVED)
    return Problem.status.not_in(RESOLVED)


def due_sql() -> sa.ColumnElement[bool]:
    """SQL condition: the problem counts toward due-to-close (not held, not voided)."""
    return Problem.status.not_in(NOT_DUE)


def overdue_sql(as_of: datetime, indexed: bool = False) -> sa.ColumnElement[bool]:
    """SQL condition: overdue 超期 at ``as_of`` (naive UTC) — unresolved, not held, deadline
    before ``as_of``, not rectified by the deadline. ``indexed`` is accepted for the
    callers that ask for the (status, deadline) index: ``status IN`` always uses it."""
    return sa.and_(
        Problem.status.in_(OVERDUE), Problem.deadline < as_of, not_rectified_in_time_sql()
    )


map_overdue_sql = overdue_sql
"""The maps' name for ``overdue_sql`` (one rule)."""


def not_rectified_in_time_sql(
    rectified_at: Any = Problem.rectified_at, deadline: Any = Problem.deadline
) -> sa.ColumnElement[bool]:
    """SQL condition: not rectified by the deadline (never rectified, or rectified late).
    The column arguments let a caller pass the same columns wrapped."""
    return sa.or_(Problem.rectified_at.is_(None), rectified_at > deadline)


def is_unresolved(status: np.ndarray) -> np.ndarray:
    """Boolean array: which of the status codes are unresolved."""
    return ~np.isin(status, RESOLVED)


def is_due(status: np.ndarray) -> np.ndarray:
    """Boolean array: which of the status codes count toward due-to-close."""
    return ~np.isin(status, NOT_DUE)


def overdue_mask(
    status: np.ndarray, deadline: np.ndarray, rectified_at: np.ndarray, as_of: Any
) -> np.ndarray:
    """Boolean array: which problems are overdue at ``as_of`` (``overdue_sql`` in numpy;
    times datetime64 naive UTC, NaT when missing; or float seconds, NaN when missing)."""
    with np.errstate(invalid="ignore"):
        missing = (
            np.isnat(rectified_at) if rectified_at.dtype.kind == "M" else np.isnan(rectified_at)
        )
        late = deadline < as_of
        in_time = ~missing & (rectified_at <= deadline)
    return np.isin(status, OVERDUE) & late & ~in_time


def is_overdue(
    status: str, deadline: datetime | None, now: datetime, rectified_at: datetime | None = None
) -> bool:
    """One problem: overdue (``overdue_sql``) at ``now`` (naive UTC)."""
    if status not in OVERDUE or deadline is None or deadline >= now:
        return False
    return rectified_at is None or rectified_at > deadline


is_map_overdue = is_overdue
"""The maps' name for ``is_overdue`` (one rule)."""


def open_at_sql(
    cutoff: datetime,
    found_at: Any = Problem.found_at,
    closed_at: Any = Problem.closed_at,
) -> sa.ColumnElement[bool]:
    """SQL condition: waiting for rectification at ``cutoff`` (naive UTC), from the
    history — found before it, not closed before it, and due (held and voided ones
    are not waiting): the bulletin's "unresolved at the period's end". The column
    arguments let a caller pass the same columns wrapped (geo/summary/rate_sql.py)."""
    return sa.and_(
        found_at < cutoff,
        sa.or_(Problem.closed_at.is_(None), closed_at >= cutoff),
        due_sql(),
    )


def overdue_at_sql(
    cutoff: datetime,
    found_at: Any = Problem.found_at,
    closed_at: Any = Problem.closed_at,
    deadline: Any = Problem.deadline,
) -> sa.ColumnElement[bool]:
    """SQL condition: overdue at ``cutoff`` (naive UTC), from the history — open at
    ``cutoff`` (``open_at_sql``) with a deadline before it: the rates' and the
    bulletin's overdue (``OVERDUE`` statuses as they stood, held and voided left out, and
    not rectified by the deadline)."""
    return sa.and_(
        deadline < cutoff,
        open_at_sql(cutoff, found_at, closed_at),
        not_rectified_in_time_sql(deadline=deadline),
    )
