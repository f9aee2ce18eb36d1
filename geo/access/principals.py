"""Resolved principals kept in process memory, valid while the access version holds.

Resolving who a request acts as (a token's or a session user's row, its scope areas,
their levels) takes several queries; on a cached read (the heat API) that was half of
the request. Each worker therefore keeps what it resolved, keyed by the token hash or
the session id, together with the ``access_stamp`` it was read under: the access version
(``access_meta.version``, one more on every change of a user, a token or their scopes
and on every logout, added in the change's own transaction by the flush hook below)
and ``areas_version`` (scopes are resolved against the area tree). A request reads that
stamp (one query of two one-row tables) and uses the kept principal only when it is
unchanged, so a revoke, a disabled user, a password, role or scope change, a logout
holds in every worker from the next request on. Expiry is a time, checked on every use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy import event
from sqlalchemy.engine import Engine

from geo.storage.access_models import (
    AccessMeta,
    ApiToken,
    EndedSession,
    TokenScope,
    User,
    UserScope,
)
from geo.storage.models import SummaryMeta

Stamp = tuple[int, int]
V = TypeVar("V")

_IGNORED = frozenset({"last_used_at", "last_login_at"})
"""Bookkeeping columns: changing them changes no principal (and must not empty caches)."""

_WATCHED = (User, ApiToken, UserScope, TokenScope, EndedSession)


_STAMP = sa.select(
    sa.select(AccessMeta.version).where(AccessMeta.id == 1).scalar_subquery(),
    sa.select(SummaryMeta.areas_version).limit(1).scalar_subquery(),
)


def access_stamp(session: so.Session) -> Stamp | None:
    """(access version, areas version) as stored now, in ``session``'s transaction; None
    when either row is missing (then nothing may be cached)."""
    return _stamp(session.connection().execute(_STAMP).one())  # Core: no ORM overhead


def read_access_stamp(engine: Engine) -> Stamp | None:
    """``access_stamp`` on a connection of its own (a fraction of a session's cost)."""
    with engine.connect() as connection:
        return _stamp(connection.execute(_STAMP).one())


def _stamp(row: Any) -> Stamp | None:
    if row[0] is None or row[1] is None:
        return None
    return int(row[0]), int(row[1])


def bump_access_version(session: so.Session) -> None:
    """Add one to the access version in ``session``'s transaction."""
    connection = session.connection()
    done = connection.execute(
        sa.update(AccessMeta).where(AccessMeta.id == 1).values(version=AccessMeta.version + 1)
    )
    if not done.rowcount:
        connection.execute(sa.insert(AccessMeta).values(id=1, version=1))


class PrincipalCache(Generic[V]):
    """At most ``size`` values by key, each valid only under the stamp it was put with."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[Stamp, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, stamp: Stamp | None) -> V | None:
        """The value kept for ``key`` under ``stamp``, else None (a stale one is dropped)."""
        if stamp is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] != stamp:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, stamp: Stamp | None, value: V) -> None:
        if stamp is None:
            return
        with self._lock:
            self._entries[key] = (stamp, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _changes_access(obj: Any) -> bool:
    state = sa.inspect(obj)
    if state.deleted or state.transient or state.pending:
        return True
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in _IGNORED)


@event.listens_for(so.Session, "before_flush")
def _bump_on_access_change(session: so.Session, _context: Any, _instances: Any) -> None:
    """Every flush that adds, changes or deletes a user, a token or a scope row, or records
    an ended session (a logout), bumps the access version in the same transaction (so it
    commits or rolls back with it)."""
    touched = [*session.new, *session.deleted]
    touched += [o for o in session.dirty if isinstance(o, _WATCHED) and _changes_access(o)]
    if any(isinstance(o, _WATCHED) for o in touched):
        bump_access_version(session)
