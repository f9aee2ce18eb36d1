"""The in-app inbox: notices about problems in a user's scope, stored per user with
read/unread (table ``inbox_items``, migration 0014).

``new_notices`` finds (and ``store`` adds) what is new since the last time, each
occurrence once (its ``key``): problems assigned (交办), sent back (回退), extensions
approved or refused — by someone else, within the last ``LOOKBACK_DAYS`` days — and
problems whose deadline falls on the local day after today or that are overdue
(DOMAIN.md's rule: unresolved, not held, past the deadline, not rectified). Times are
naive UTC; the local day is in ``tz``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, scoped
from geo.core.text import Text, tr
from geo.storage.access_models import InboxItem
from geo.storage.models import Problem, ProblemEvent

KINDS: dict[str, Text] = {
    "assign": tr("辖区问题已交办", "Problem assigned"),
    "send_back": tr("问题被回退", "Problem sent back"),
    "approve_extension": tr("延期已批准", "Extension approved"),
    "refuse_extension": tr("延期被驳回", "Extension refused"),
    "due_tomorrow": tr("明天到期", "Due tomorrow"),
    "overdue": tr("已超期", "Overdue"),
}
"""Every kind of notice and its label."""
EVENT_KINDS = ("assign", "send_back", "approve_extension", "refuse_extension")
LOOKBACK_DAYS = 14
MAX_NEW = 200
"""Most notices one refresh adds (the oldest events first would never be read anyway)."""


def new_notices(
    session: so.Session, user_id: int, actor: str, scope: Scope, now: datetime, tz: str
) -> list[dict[str, Any]]:
    """The notices ``user_id`` (acting as ``actor``, seeing ``scope``) has not got yet at
    ``now`` (naive UTC), at most ``MAX_NEW``; reads only (``store`` writes them)."""
    candidates = [
        *_event_notices(session, actor, scope, now),
        *_deadline_notices(session, scope, now, tz),
    ]
    if not candidates:
        return []
    keys = [c["key"] for c in candidates]
    have = set(
        session.scalars(
            sa.select(InboxItem.key).where(InboxItem.user_id == user_id, InboxItem.key.in_(keys))
        )
    )
    return [c for c in candidates if c["key"] not in have][:MAX_NEW]


def store(session: so.Session, user_id: int, notices: list[dict[str, Any]]) -> int:
    """Add ``notices`` (from ``new_notices``) to ``user_id``'s inbox in the caller's
    transaction, skipping any a concurrent request stored meanwhile; return how many."""
    if not notices:
        return 0
    have = set(
        session.scalars(
            sa.select(InboxItem.key).where(
                InboxItem.user_id == user_id, InboxItem.key.in_([n["key"] for n in notices])
            )
        )
    )
    fresh = [n for n in notices if n["key"] not in have]
    session.add_all(InboxItem(user_id=user_id, **n) for n in fresh)
    session.flush()
    return len(fresh)


def unread_count(session: so.Session, user_id: int) -> int:
    """How many of ``user_id``'s notices are unread."""
    stmt = sa.select(sa.func.count()).where(
        InboxItem.user_id == user_id, InboxItem.read_at.is_(None)
    )
    return int(session.scalar(stmt) or 0)


def notices(session: so.Session, user_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """``user_id``'s latest notices, unread first, newest first: ``id``, ``problem_id``,
    ``kind``, ``at`` and ``read_at`` (naive UTC) of each."""
    stmt = (
        sa.select(
            InboxItem.id, InboxItem.problem_id, InboxItem.kind, InboxItem.at, InboxItem.read_at
        )
        .where(InboxItem.user_id == user_id)
        .order_by(InboxItem.read_at.is_not(None), InboxItem.at.desc(), InboxItem.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in session.execute(stmt)]


def mark_read(session: so.Session, user_id: int, ids: Iterable[int] | None, now: datetime) -> int:
    """Mark ``user_id``'s notices ``ids`` (None: all) read at ``now``; return how many
    changed. Other users' notices are never touched."""
    where = [InboxItem.user_id == user_id, InboxItem.read_at.is_(None)]
    if ids is not None:
        where.append(InboxItem.id.in_(sorted(set(ids))))
    result = session.execute(sa.update(InboxItem).where(*where).values(read_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def _event_notices(
    session: so.Session, actor: str, scope: Scope, now: datetime
) -> list[dict[str, Any]]:
    stmt = scoped(
        sa.select(ProblemEvent.id, ProblemEvent.problem_id, ProblemEvent.action, ProblemEvent.at)
        .join(Problem, Problem.id == ProblemEvent.problem_id)
        .where(
            ProblemEvent.action.in_(EVENT_KINDS),
            ProblemEvent.at >= now - timedelta(days=LOOKBACK_DAYS),
            ProblemEvent.actor != actor,  # one's own actions are no news
        )
        .order_by(ProblemEvent.at.desc())
        .limit(MAX_NEW),
        scope,
        Problem,
    )
    return [
        {"problem_id": pid, "kind": action, "key": f"event:{eid}", "at": at, "note": ""}
        for eid, pid, action, at in session.execute(stmt)
    ]


def _deadline_notices(
    session: so.Session, scope: Scope, now: datetime, tz: str
) -> list[dict[str, Any]]:
    start, end = _local_tomorrow(now, tz)
    open_ = Problem.status.in_(("found", "assigned"))
    rows = session.execute(
        scoped(
            sa.select(Problem.id, Problem.deadline)
            .where(open_, Problem.deadline < end, Problem.deadline.is_not(None))
            .order_by(Problem.deadline.desc())
            .limit(MAX_NEW),
            scope,
            Problem,
        )
    ).all()
    out: list[dict[str, Any]] = []
    for pid, deadline in rows:
        if deadline < now:
            kind = "overdue"
        elif deadline >= start:
            kind = "due_tomorrow"
        else:
            continue  # due later today: on the work list, no notice
        key = f"{kind}:{pid}:{deadline:%Y%m%d%H%M}"  # a new deadline may be missed again
        out.append({"problem_id": pid, "kind": kind, "key": key, "at": now, "note": ""})
    return out


def _local_tomorrow(now: datetime, tz: str) -> tuple[datetime, datetime]:
    """The local day after ``now``'s, as naive UTC [start, end)."""
    zone = ZoneInfo(tz)
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    start = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    end = start + timedelta(days=1)
    utc = ZoneInfo("UTC")
    return (
        start.astimezone(utc).replace(tzinfo=None),
        end.astimezone(utc).replace(tzinfo=None),
    )
