"""API tokens for scripts: created with a role and a scope, shown once, stored hashed.

A token is ``cg_`` + 43 URL-safe random characters (256 bits). Only its SHA-256 is
stored (enough for a secret this strong; lookups stay one indexed equality), with an
8-character prefix so that people can tell tokens apart in lists and logs.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.engine import Engine

from geo.access import audit as auditlog
from geo.access.principals import PrincipalCache, read_access_stamp
from geo.access.scope import TOKEN_ROLES, Principal, resolve_scope
from geo.access.users import scope_areas
from geo.core.errors import (
    AlreadyExistsError,
    AuthenticationError,
    InvalidParameterError,
    NotFoundError,
)
from geo.core.text import tr
from geo.storage.access_models import ApiToken
from geo.storage.db import quick_transaction, transaction
from geo.storage.faults import FAULTS, driver_line, is_fault

TOKEN_PREFIX = "cg_"
NAME_RE = re.compile(r"^[\w.@-]{1,64}$")
_BAD_TOKEN = tr("令牌无效", "invalid token")
USE_RECORD_INTERVAL = timedelta(minutes=5)
"""A token's use is recorded (last use, audit ``token_use``) at most this often."""
USE_RETRY_INTERVAL = timedelta(seconds=30)
"""After a use could not be recorded (a writer held the lock), the next try waits this
long: during a long ingest only one request per interval pays the short lock wait."""
log = logging.getLogger(__name__)


def hash_token(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    session: so.Session,
    name: str,
    role: str,
    area_codes: Sequence[str] = (),
    expires_at: datetime | None = None,
    actor: str = "cli",
) -> tuple[ApiToken, str]:
    """A new token called ``name``; returns the record and the secret (shown once).

    ``expires_at`` is naive UTC; None means it never expires (revoke it when done).
    """
    if not NAME_RE.match(name):
        raise InvalidParameterError(
            tr(
                f"令牌名称无效 '{name[:70]}'",
                f"invalid token name '{name[:70]}' (1-64 letters, digits, _.@-)",
            )
        )
    if role not in TOKEN_ROLES:
        raise InvalidParameterError(
            tr(
                f"令牌角色只能是: {', '.join(TOKEN_ROLES)}",
                f"a token's role is one of: {', '.join(TOKEN_ROLES)}",
            )
        )
    if expires_at is not None and expires_at <= auditlog.utcnow():
        raise InvalidParameterError(tr("过期时间已过", "the expiry is in the past"))
    areas = scope_areas(session, role, area_codes)
    if session.scalar(sa.select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise AlreadyExistsError(
            tr(f"令牌名称已存在 '{name}'", f"a token called '{name}' exists already")
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[:8],
        token_hash=hash_token(secret),
        role=role,
        created_by=actor[:100],
        created_at=auditlog.utcnow(),
        expires_at=expires_at,
        areas=areas,
    )
    session.add(token)
    session.flush()
    scope = [f"{a.level}:{a.code}" for a in areas]
    detail = {"role": role, "scope": scope, "expires_at": expires_at and expires_at.isoformat()}
    auditlog.audit(session, actor, "token_created", name, detail)
    return token, secret


def list_tokens(session: so.Session) -> list[ApiToken]:
    """All tokens (active, expired and revoked) by name, scope areas loaded."""
    return list(
        session.scalars(
            sa.select(ApiToken).options(so.selectinload(ApiToken.areas)).order_by(ApiToken.name)
        )
    )


def revoke_token(session: so.Session, name: str, actor: str) -> ApiToken:
    """Revoke the token called ``name`` (it stops working at once; kept for the record)."""
    token = session.scalar(sa.select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise NotFoundError(tr(f"没有这个令牌 '{name[:70]}'", f"no token called '{name[:70]}'"))
    if token.revoked_at is None:
        token.revoked_at = auditlog.utcnow()
        auditlog.audit(session, actor, "token_revoked", name)
    return token


def token_state(token: ApiToken, now: datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked``."""
    now = now or auditlog.utcnow()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def authenticate_token(
    session: so.Session, secret: str, ip: str | None = None, target: str = ""
) -> Principal:
    """The principal of an active token; records its use (at most once per
    ``USE_RECORD_INTERVAL``) or the refusal in the audit log, in ``session``.

    Raises ``AuthenticationError`` for an unknown, expired or revoked token. The caller
    commits even when this raises, so that refusals are kept. Web requests use
    ``authenticate_request`` instead, which never writes in the request's transaction.
    """
    token, state = find_token(session, secret)
    actor = f"token:{token.name}" if token is not None else "token:?"
    if token is None or state != "active":
        auditlog.audit(session, actor, "token_rejected", target, {"reason": state}, ip)
        raise token_error(state)
    if use_due(token):
        token.last_used_at = auditlog.utcnow()
        auditlog.audit(session, actor, "token_use", target, ip=ip)
    return token_principal(session, token)


@dataclass
class _Known:
    """What a worker keeps of an active token (``geo.access.principals``)."""

    principal: Principal
    token_id: int
    expires_at: datetime | None
    last_used_at: datetime | None
    next_try: datetime | None = None


_KNOWN: PrincipalCache[_Known] = PrincipalCache()


def authenticate_request(
    engine: Engine, secret: str, ip: str | None = None, target: str = ""
) -> Principal:
    """``authenticate_token`` for a web request: the token is looked up in a read
    transaction, and its use (at most once per ``USE_RECORD_INTERVAL`` per worker) or
    refusal is recorded afterwards in a short transaction of its own that gives up at once
    when a writer (an ingest) holds the lock, so a read never waits for a write and never
    fails because of the bookkeeping. An active token's principal is kept in memory while
    the access stamp holds (one cheap read per request instead of the token, its scope
    and their areas)."""
    key = hash_token(secret) if secret.startswith(TOKEN_PREFIX) and len(secret) < 200 else ""
    now = auditlog.utcnow()
    # The stamp is read before the token: a change committed in between makes the kept
    # principal stale at once (never kept under a newer stamp than what it was read at).
    stamp = read_access_stamp(engine) if key else None
    known = _KNOWN.get(key, stamp)
    if known is not None and known.expires_at is not None and known.expires_at <= now:
        known = None  # expired since: looked up again, so the refusal is recorded
    token, state = None, "active"
    if known is None:
        with transaction(engine, write=False) as session:
            token, state = find_token(session, secret)
            if token is not None and state == "active":
                principal = token_principal(session, token)
                known = _Known(principal, token.id, token.expires_at, token.last_used_at)
                _KNOWN.put(key, stamp, known)
    if known is None:
        actor = f"token:{token.name}" if token is not None else "token:?"
        _record(engine, None, actor, "token_rejected", target, {"reason": state}, ip)
        raise token_error(state)
    actor = f"token:{known.principal.name}"
    due = known.last_used_at is None or now - known.last_used_at >= USE_RECORD_INTERVAL
    if due and (known.next_try is None or now >= known.next_try):
        if _record(engine, known.token_id, actor, "token_use", target, None, ip):
            known.last_used_at = now  # this worker records the next use an interval later
        else:
            known.next_try = now + USE_RETRY_INTERVAL
    return known.principal


def find_token(session: so.Session, secret: str) -> tuple[ApiToken | None, str]:
    """The token of ``secret`` (scope areas loaded) and its state: ``active``,
    ``expired``, ``revoked``, or ``unknown`` (then no token)."""
    token = None
    if secret.startswith(TOKEN_PREFIX) and len(secret) < 200:
        token = session.scalar(
            sa.select(ApiToken)
            .options(so.selectinload(ApiToken.areas))
            .where(ApiToken.token_hash == hash_token(secret))
        )
    return token, "unknown" if token is None else token_state(token)


def token_error(state: str) -> AuthenticationError:
    """The refusal of a token in ``state`` (unknown, expired, revoked)."""
    if state == "unknown":
        return AuthenticationError(_BAD_TOKEN)
    return AuthenticationError(
        tr(f"令牌已{'吊销' if state == 'revoked' else '过期'}", f"token {state}")
    )


def token_principal(session: so.Session, token: ApiToken) -> Principal:
    """Who a token acts as: its name, role and resolved scope."""
    return Principal(
        kind="token",
        name=token.name,
        role=token.role,
        scope=resolve_scope(session, [a.id for a in token.areas]),
        id=token.id,
        display_name=token.name,
    )


def use_due(token: ApiToken, now: datetime | None = None) -> bool:
    """Whether the token's use should be recorded now (never, or not in the last
    ``USE_RECORD_INTERVAL``): the last-use time is accurate to that interval."""
    now = now or auditlog.utcnow()
    return token.last_used_at is None or now - token.last_used_at >= USE_RECORD_INTERVAL


def _record(
    engine: Engine,
    token_id: int | None,
    actor: str,
    action: str,
    target: str,
    detail: dict[str, str] | None,
    ip: str | None,
) -> bool:
    try:
        with quick_transaction(engine) as session:
            if token_id is not None and action == "token_use":
                session.execute(
                    sa.update(ApiToken)
                    .where(ApiToken.id == token_id)
                    .values(last_used_at=auditlog.utcnow())
                )
            auditlog.audit(session, actor, action, target, detail, ip)
        return True
    except FAULTS as exc:
        if not is_fault(exc):
            raise
        log.warning("%s of %s not recorded (%s)", action, actor, driver_line(exc))
        return False
