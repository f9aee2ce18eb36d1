"""The problem statuses and the counting concepts built on them, defined once.

DOMAIN.md's counting rules, as status sets (tuples in lifecycle order, so SQL and
output stay deterministic), one SQLAlchemy condition builder and one numpy predicate
each; every map, list, rate, bulletin, export and protocol uses these:

- unresolved 未销号: neither closed nor voided (held ones included) — ``UNRESOLVED``;
- not due 不计应结案: held and voided problems are left out of due-to-close and of the
  rates' overdue — ``NOT_DUE`` (and ``DUE``, its complement);
- overdue 超期: unresolved, not held, past its deadline — ``OVERDUE`` (the problem page,
  notices, the rates and the bulletin, which add their own time rules);
- ``MAP_OVERDUE``: what the heat maps, the summary cubes, the status filters, the
  problem API and the exports count as overdue: unresolved (held included) past its
  deadline. It is kept apart so that their published and stored figures stay as they
  were; DOMAIN.md's rule would leave the held ones out (``OVERDUE``).

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

MAP_OVERDUE: tuple[str, ...] = UNRESOLVED
"""Statuses the heat maps, summary cubes, status filters, problem API and exports count
as overdue once past the deadline: every unresolved one, held included (their figures
as published; see the module docstring)."""


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


def map_overdue_sql(as_of: datetime, indexed: bool = False) -> sa.ColumnElement[bool]:
    """SQL condition: unresolved (held included) with a deadline before ``as_of``
    (naive UTC) — the maps' and exports' overdue (``MAP_OVERDUE``)."""
    return sa.and_(unresolved_sql(indexed), Problem.deadline < as_of)


def is_unresolved(status: np.ndarray) -> np.ndarray:
    """Boolean array: which of the status codes are unresolved."""
    return ~np.isin(status, RESOLVED)


def is_due(status: np.ndarray) -> np.ndarray:
    """Boolean array: which of the status codes count toward due-to-close."""
    return ~np.isin(status, NOT_DUE)


def is_overdue(status: str, deadline: datetime | None, now: datetime) -> bool:
    """One problem: overdue (``OVERDUE``: unresolved, not held) at ``now`` (naive UTC)."""
    return status in OVERDUE and deadline is not None and deadline < now


def is_map_overdue(status: str, deadline: datetime | None, now: datetime) -> bool:
    """One problem: overdue as the maps count it (``MAP_OVERDUE``) at ``now``."""
    return status in MAP_OVERDUE and deadline is not None and deadline < now


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
    bulletin's overdue (``OVERDUE`` statuses as they stood, held and voided left out)."""
    return sa.and_(deadline < cutoff, open_at_sql(cutoff, found_at, closed_at))
