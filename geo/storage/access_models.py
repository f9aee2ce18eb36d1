"""Typed SQLAlchemy models of access control: users, API tokens, their area scopes, and
the audit log.

Conventions as in geo/storage/models.py (naive UTC times, the same ``Base``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.storage.models import Area, Base


class User(Base):
    """A person who logs in: one role, an optional set of areas it is limited to.

    ``password_hash`` is a werkzeug scrypt hash; usernames are stored lower-case.
    """

    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    disabled: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    session_generation: so.Mapped[int] = so.mapped_column(sa.Integer, default=0, server_default="0")
    """Part of every session id; one more ends all the user's sessions (password change,
    disabling, role change). Logout ends one session (``EndedSession``)."""

    areas: so.Mapped[list[Area]] = so.relationship(secondary="user_scopes", order_by=Area.code)


class UserScope(Base):
    """One area a user is limited to (any level); none means the whole city."""

    __tablename__ = "user_scopes"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"), primary_key=True)


class ApiToken(Base):
    """A bearer token for scripts: only its SHA-256 is stored; shown once at creation."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    prefix: so.Mapped[str] = so.mapped_column(sa.String(12))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    created_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime)
    expires_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)

    areas: so.Mapped[list[Area]] = so.relationship(secondary="token_scopes", order_by=Area.code)


class TokenScope(Base):
    """One area a token is limited to (any level); none means the whole city."""

    __tablename__ = "token_scopes"

    token_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("api_tokens.id"), primary_key=True)
    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"), primary_key=True)


class AuditEntry(Base):
    """Who did what, when, to what, from where (logins, token use, role changes, exports)."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_action_actor_at", "action", "actor", "at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(sa.DateTime, index=True)
    actor: so.Mapped[str] = so.mapped_column(sa.String(100))
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    target: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    detail: so.Mapped[str] = so.mapped_column(sa.Text, default="")


class InboxItem(Base):
    """One notice in a user's inbox (/inbox, the badge on /my): something happened to a
    problem in their scope (assigned, sent back, extension approved or refused) or is
    about to (deadline tomorrow, overdue). ``key`` names the occurrence so that it is
    stored once per user however often the inbox is refreshed (geo/reports/inbox.py);
    ``read_at`` is set when the user has seen it."""

    __tablename__ = "inbox_items"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_inbox_items_user_key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    problem_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("problems.id"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(30))
    key: so.Mapped[str] = so.mapped_column(sa.String(80))
    at: so.Mapped[datetime] = so.mapped_column(sa.DateTime)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    read_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)


class EndedSession(Base):
    """One session that was logged out: its id (``<user id>.<stamp>.<random>``, one per
    login) is refused from then on, every copy of its cookie included, while the user's
    other sessions go on. Only the id's SHA-256 is kept. Rows older than the session
    lifetime (plus a day) are deleted at the next logout: no copy of the cookie is valid
    by then (geo.access.users.logout)."""

    __tablename__ = "ended_sessions"

    key: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    ended_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime, index=True)


class AccessMeta(Base):
    """The one row of the access version: one more on every change of a user, a token or
    their scopes (geo.access.principals), so in-process principal caches know when to
    read again."""

    __tablename__ = "access_meta"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
