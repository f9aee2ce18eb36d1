"""Users: create, list, disable, change role/scope/password, and authenticate.

Passwords are hashed with werkzeug's scrypt; usernames are lower-case. Every change is
written to the audit log in the caller's transaction. Scope areas are given as area
codes (``329901``) or, when a code exists at several levels, ``level:code``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from werkzeug.security import check_password_hash, generate_password_hash

from geo.access import audit as auditlog
from geo.access.passwords import check_password
from geo.access.principals import PrincipalCache, access_stamp
from geo.access.scope import ROLES, Principal, check_scope_levels, resolve_scope
from geo.core.errors import (
    AlreadyExistsError,
    AuthenticationError,
    InvalidParameterError,
    NotFoundError,
    RateLimitedError,
)
from geo.core.params import record_id
from geo.core.text import tr
from geo.storage.access_models import EndedSession, User
from geo.storage.models import LEVELS, Area

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.@-]{1,63}$")
_BAD_LOGIN = tr("用户名或密码错误", "wrong username or password")
# Checked when the username is unknown, so that both paths cost one scrypt verification.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))


def normalise_username(username: str) -> str:
    """Lower-case, trimmed ``username``; refuse characters outside [a-z0-9_.@-]."""
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise InvalidParameterError(
            tr(
                f"用户名无效 '{username[:70]}': 须为 2–64 个字符：字母、数字和 _.@-",
                f"invalid username '{username[:70]}': 2-64 characters: letters, digits and _.@-",
            )
        )
    return name


def areas_for_codes(session: so.Session, codes: Iterable[str]) -> list[Area]:
    """The areas named by ``codes`` (``code`` or ``level:code``); unknown codes are refused."""
    found: list[Area] = []
    for given in codes:
        level, _, code = given.strip().rpartition(":")
        stmt = sa.select(Area).where(Area.code == code)
        if level:
            if level not in LEVELS:
                raise InvalidParameterError(
                    tr(f"未知的区域层级 '{given}'", f"unknown level in '{given}'")
                )
            stmt = stmt.where(Area.level == level)
        matches = list(session.scalars(stmt))
        if not matches:
            raise InvalidParameterError(
                tr(f"未知的区域编码 '{given}'", f"unknown area code '{given}'")
            )
        if len(matches) > 1:
            levels = ", ".join(f"{a.level}:{a.code}" for a in matches)
            raise InvalidParameterError(
                tr(
                    f"区域编码 '{given}' 不唯一，请写成: {levels}",
                    f"ambiguous area code, write one of: {levels}",
                )
            )
        found.append(matches[0])
    return list({a.id: a for a in found}.values())


def scope_areas(session: so.Session, role: str, codes: Sequence[str]) -> list[Area]:
    """The areas for ``codes``, checked against what ``role`` may be limited to."""
    areas = areas_for_codes(session, codes)
    check_scope_levels(role, [a.level for a in areas])
    return areas


def create_user(
    session: so.Session,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    area_codes: Sequence[str] = (),
    actor: str = "cli",
) -> User:
    """Add a user with ``role`` limited to ``area_codes`` (none = whole city)."""
    name = normalise_username(username)
    check_password(password, name)
    areas = scope_areas(session, role, area_codes)
    if session.scalar(sa.select(User.id).where(User.username == name)) is not None:
        raise AlreadyExistsError(tr(f"用户已存在 '{name}'", f"user '{name}' exists already"))
    user = User(
        username=name,
        display_name=display_name.strip()[:100],
        password_hash=generate_password_hash(password),
        role=role,
        disabled=False,
        created_at=auditlog.utcnow(),
        areas=areas,
    )
    session.add(user)
    session.flush()
    auditlog.audit(session, actor, "user_created", name, {"role": role, "scope": _codes(areas)})
    return user


def get_user(session: so.Session, username: str) -> User:
    """The user called ``username``; ``NotFoundError`` when there is none."""
    user = session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFoundError(tr(f"没有这个用户 '{username[:70]}'", f"no user '{username[:70]}'"))
    return user


def list_users(session: so.Session) -> list[User]:
    """All users by username, with their scope areas loaded."""
    return list(
        session.scalars(
            sa.select(User).options(so.selectinload(User.areas)).order_by(User.username)
        )
    )


def set_disabled(session: so.Session, username: str, disabled: bool, actor: str) -> User:
    """Disable (or enable again) a user; a disabled user's sessions stop working at once."""
    user = get_user(session, username)
    user.disabled = disabled
    end_sessions(user)
    auditlog.audit(session, actor, "user_disabled" if disabled else "user_enabled", user.username)
    return user


def set_scope(session: so.Session, username: str, area_codes: Sequence[str], actor: str) -> User:
    """Replace a user's scope areas (none = whole city, for city-wide roles only)."""
    user = get_user(session, username)
    areas = scope_areas(session, user.role, area_codes)
    before = _codes(user.areas)
    user.areas = areas
    auditlog.audit(
        session, actor, "scope_changed", user.username, {"from": before, "to": _codes(areas)}
    )
    return user


def set_role(
    session: so.Session,
    username: str,
    role: str,
    area_codes: Sequence[str] | None,
    actor: str,
) -> User:
    """Change a user's role, and its scope when ``area_codes`` is given (else kept)."""
    user = get_user(session, username)
    if role not in ROLES:
        raise InvalidParameterError(
            tr(f"未知的角色 '{role}'", f"unknown role '{role}'; one of {ROLES}")
        )
    areas = user.areas if area_codes is None else areas_for_codes(session, area_codes)
    check_scope_levels(role, [a.level for a in areas])
    detail = {"from": user.role, "to": role, "scope": _codes(areas)}
    user.role, user.areas = role, list(areas)
    end_sessions(user)
    auditlog.audit(session, actor, "role_changed", user.username, detail)
    return user


def set_password(session: so.Session, username: str, password: str, actor: str) -> User:
    """Set a new password; the user's existing sessions stop working."""
    user = get_user(session, username)
    check_password(password, user.username)
    user.password_hash = generate_password_hash(password)
    end_sessions(user)
    auditlog.audit(session, actor, "password_changed", user.username)
    return user


@dataclass(frozen=True)
class LoginPolicy:
    """At most ``attempts`` failed logins per username and address, and at most
    ``address_attempts`` per address whatever the usernames, within ``window``."""

    attempts: int = 5
    window: timedelta = timedelta(minutes=15)
    address_attempts: int = 20


def authenticate(
    session: so.Session,
    username: str,
    password: str,
    ip: str | None,
    policy: LoginPolicy | None = None,
) -> Principal:
    """Check a login; return the user's ``Principal``.

    Raises ``RateLimitedError`` after too many failures, ``AuthenticationError`` for a
    wrong password, an unknown or a disabled user. Successes and failures are audited
    in ``session``: the caller commits even when this raises.
    """
    policy = policy or LoginPolicy()
    name = username.strip().lower()[:64]
    if _throttled(session, name, ip, policy):
        auditlog.audit(session, name, auditlog.LOGIN_BLOCKED, name, ip=ip)
        minutes = int(policy.window.total_seconds() // 60)
        raise RateLimitedError(
            tr(
                f"登录失败次数过多，请 {minutes} 分钟后再试",
                f"too many failed logins, try again in {minutes} minutes",
            )
        )
    user = session.scalar(sa.select(User).where(User.username == name))
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok:
        reason = "unknown user" if user is None else "wrong password"
        auditlog.audit(session, name, auditlog.LOGIN_FAILED, name, {"reason": reason}, ip)
        raise AuthenticationError(_BAD_LOGIN)
    if user.disabled:
        auditlog.audit(session, name, auditlog.LOGIN_FAILED, name, {"reason": "disabled"}, ip)
        raise AuthenticationError(tr("账号已停用", "this account is disabled"))
    user.last_login_at = auditlog.utcnow()
    auditlog.audit(session, name, auditlog.LOGIN_OK, name, {"role": user.role}, ip)
    return principal_for(session, user)


def _throttled(session: so.Session, name: str, ip: str | None, policy: LoginPolicy) -> bool:
    """Too many failures for this username from this address, or from this address."""
    if auditlog.recent_failures(session, name, ip, policy.window) >= policy.attempts:
        return True
    return auditlog.address_failures(session, ip, policy.window) >= policy.address_attempts


def principal_for(session: so.Session, user: User) -> Principal:
    """The request principal of ``user`` (role and resolved scope, read fresh)."""
    return Principal(
        kind="user",
        name=user.username,
        role=user.role,
        scope=resolve_scope(session, [a.id for a in user.areas]),
        id=user.id,
        display_name=user.display_name or user.username,
    )


def session_stamp(user: User) -> str:
    """Changes whenever the password or the session generation does: part of every
    session id, so that all of the user's sessions end at once."""
    material = f"{user.password_hash}|{user.session_generation or 0}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def new_session_id(user: User) -> str:
    """The id of a new session of ``user`` (one per login): ``<user id>.<stamp>.<random>``.
    The random part names this session alone (``logout`` ends it); the stamp ends them all."""
    return f"{user.id}.{session_stamp(user)}.{secrets.token_urlsafe(18)}"


def end_sessions(user: User) -> None:
    """End every session of ``user``: the ids issued so far no longer match its stamp.

    Called on password change, disabling and role change; the caller commits.
    """
    user.session_generation = (user.session_generation or 0) + 1


ENDED_MARGIN = timedelta(days=1)
"""Ended-session rows are kept this long beyond the session lifetime."""


def logout(
    session: so.Session,
    user_id: int,
    session_id: str,
    actor: str,
    ip: str | None,
    lifetime: timedelta,
) -> None:
    """Log out the session ``session_id`` of user ``user_id``: that session ends, every
    copy of its cookie included, while the user's other sessions go on; audited.

    Rows of sessions ended more than ``lifetime`` (the cookie's) plus ``ENDED_MARGIN``
    ago are deleted: every copy of such a cookie has expired (a refused session id is
    never sent back in a refreshed cookie), so the table does not grow without end.
    """
    user = session.get(User, user_id)
    if user is None:
        return
    now = auditlog.utcnow()
    session.execute(
        sa.delete(EndedSession).where(EndedSession.ended_at < now - lifetime - ENDED_MARGIN)
    )
    key = _ended_key(session_id)
    if session.get(EndedSession, key) is None:
        try:
            with session.begin_nested():  # two logouts of one session at the same time
                session.add(EndedSession(key=key, user_id=user.id, ended_at=now))
        except sa.exc.IntegrityError:
            pass  # the other one recorded it
    auditlog.audit(session, actor, "logout", user.username, ip=ip)


def _ended_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def load_session_user(session: so.Session, session_id: str) -> Principal | None:
    """The principal for a session id ``<user id>.<stamp>.<random>``, or None when the
    user is gone, disabled, changed password or role since, or this session was logged
    out. A valid id's principal is kept in memory while the access stamp holds (a logout
    changes it too, geo.access.principals), so a request costs one read of that stamp."""
    version = access_stamp(session)
    known = _SESSIONS.get(session_id, version)
    if known is not None:
        return known
    parts = session_id.split(".")
    if len(parts) != 3 or not parts[2]:
        return None  # ids without a random part (issued before migration 0017) included
    number = record_id(parts[0])
    if number is None:
        return None
    user = session.get(User, number)
    if user is None or user.disabled or not secrets.compare_digest(parts[1], session_stamp(user)):
        return None
    if session.get(EndedSession, _ended_key(session_id)) is not None:
        return None
    principal = principal_for(session, user)
    _SESSIONS.put(session_id, version, principal)
    return principal


_SESSIONS: PrincipalCache[Principal] = PrincipalCache()
"""Principals of valid session ids, while the access stamp holds (geo.access.principals)."""


def _codes(areas: Iterable[Area]) -> list[str]:
    return [f"{a.level}:{a.code}" for a in areas]


def actor_names(session: so.Session, actors: Iterable[str]) -> dict[str, str]:
    """How people read each recorded actor (``kind:name``, geo/access/scope.py
    ``Principal.actor``): a user's display name, else the name without its kind, so
    that pages never show ``user:demo-grid``."""
    actors = sorted(set(actors))
    usernames = [a.split(":", 1)[1] for a in actors if a.startswith("user:")]
    found = (
        dict(
            session.execute(
                sa.select(User.username, User.display_name).where(User.username.in_(usernames))
            ).all()
        )
        if usernames
        else {}
    )
    names = {}
    for actor in actors:
        kind, _, name = actor.partition(":")
        plain = name if name else kind
        names[actor] = (found.get(name) or plain) if kind == "user" else plain
    return names
