"""The audit log: logins, token use, user/role/scope changes, uploads and exports.

``audit`` adds one entry in the caller's transaction, so the entry and the change it
records commit (or roll back) together. Times are naive UTC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.storage.access_models import AuditEntry

LOGIN_OK = "login"
LOGIN_FAILED = "login_failed"
LOGIN_BLOCKED = "login_blocked"


def audit(
    session: so.Session,
    actor: str,
    action: str,
    target: str = "",
    detail: Mapping[str, Any] | str | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Record that ``actor`` did ``action`` to ``target`` (with ``detail``, from ``ip``).

    ``detail`` is stored as JSON text when it is a mapping. Long values are cut to the
    column sizes rather than refused: an audit entry must never make an action fail.
    """
    text = detail if isinstance(detail, str) else json.dumps(detail or {}, ensure_ascii=False)
    entry = AuditEntry(
        at=utcnow(),
        actor=actor[:100],
        action=action[:40],
        target=target[:200],
        ip=(ip or None) and ip[:64],
        detail=text,
    )
    session.add(entry)
    return entry


def recent_failures(session: so.Session, username: str, ip: str | None, window: timedelta) -> int:
    """Failed logins for ``username`` from ``ip`` within ``window`` since its last success."""
    since = utcnow() - window
    same_ip = AuditEntry.ip == ip if ip else AuditEntry.ip.is_(None)
    last_ok = session.scalar(
        sa.select(sa.func.max(AuditEntry.at)).where(
            AuditEntry.action == LOGIN_OK, AuditEntry.actor == username[:100], same_ip
        )
    )
    if last_ok is not None and last_ok > since:
        since = last_ok
    return (
        session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(
                AuditEntry.action == LOGIN_FAILED,
                AuditEntry.actor == username[:100],
                same_ip,
                AuditEntry.at > since,
            )
        )
        or 0
    )


def address_failures(session: so.Session, ip: str | None, window: timedelta) -> int:
    """Failed logins from ``ip`` within ``window``, whatever the username (successes do
    not reset it: one valid account must not let an address guess others)."""
    same_ip = AuditEntry.ip == ip if ip else AuditEntry.ip.is_(None)
    return (
        session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(
                AuditEntry.action == LOGIN_FAILED, same_ip, AuditEntry.at > utcnow() - window
            )
        )
        or 0
    )


def entries(session: so.Session, action: str | None = None, limit: int = 100) -> list[AuditEntry]:
    """The newest entries, optionally of one action (newest first)."""
    stmt = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list(session.scalars(stmt.limit(limit)))


def utcnow() -> datetime:
    """Now as a naive UTC datetime (how times are stored)."""
    return datetime.now(UTC).replace(tzinfo=None)
