"""Principals kept in worker memory (geo.access.principals): a cached token or session
costs one read of the access stamp, and every change written by anyone else (another
worker, the CLI: here a second engine, with no in-process signal) holds on the next
request: revoke, expiry, scope, role, disabling, area tree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.access import audit as auditlog
from geo.access import tokens as tokens_module
from geo.access import users as users_module
from geo.access.principals import access_stamp
from geo.access.tokens import authenticate_request, create_token, revoke_token
from geo.access.users import create_user, load_session_user, logout, new_session_id, set_scope
from geo.core.errors import AuthenticationError
from geo.storage.access_models import ApiToken, EndedSession, User
from geo.storage.db import make_engine, transaction
from geo.storage.models import Area
from tests.helpers import load_tiny_city_with_grids

PASSWORD = "a-good-password"


@pytest.fixture
def city(engine, tmp_path):
    load_tiny_city_with_grids(engine, tmp_path)
    tokens_module._KNOWN.clear()
    users_module._SESSIONS.clear()
    return engine


@pytest.fixture
def elsewhere(city) -> Iterator[Engine]:
    """Another process's engine on the same database (its own connections)."""
    other = make_engine(city.url.render_as_string(hide_password=False))
    yield other
    other.dispose()


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def _token(engine: Engine, **kwargs) -> str:
    with transaction(engine) as s:
        _, secret = create_token(s, "bot", "district_officer", ["329901"], **kwargs)
    return secret


def _reads(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_cached_token_costs_one_read_and_writes_nothing(city) -> None:
    secret = _token(city)
    first = authenticate_request(city, secret)  # looked up; its first use recorded
    with _statements(city) as seen:
        again = authenticate_request(city, secret)
    assert again == first
    assert len(_reads(seen)) == 1 and "access_meta" in _reads(seen)[0]
    assert not [s for s in seen if "api_tokens" in s or "audit_log" in s]


def test_token_revoked_elsewhere_is_refused_at_once(city, elsewhere) -> None:
    secret = _token(city)
    authenticate_request(city, secret)
    with transaction(elsewhere) as s:
        revoke_token(s, "bot", "cli")
    assert len(tokens_module._KNOWN) == 1  # nothing told this worker: the stamp does
    with pytest.raises(AuthenticationError, match="吊销"):
        authenticate_request(city, secret)
    with transaction(city, write=False) as s:
        assert auditlog.entries(s, "token_rejected")


def test_token_expiry_holds_for_a_cached_token(city, monkeypatch) -> None:
    secret = _token(city, expires_at=auditlog.utcnow() + timedelta(minutes=1))
    authenticate_request(city, secret)
    later = auditlog.utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(auditlog, "utcnow", lambda: later)
    with pytest.raises(AuthenticationError, match="过期"):
        authenticate_request(city, secret)


def test_token_scope_and_role_changed_elsewhere(city, elsewhere) -> None:
    secret = _token(city)
    before = authenticate_request(city, secret)
    with transaction(elsewhere) as s:
        token = s.scalar(sa.select(ApiToken))
        grid = s.scalar(sa.select(Area).where(Area.level == "grid").order_by(Area.id))
        token.areas = [grid]
        token.role = "grid_manager"
    after = authenticate_request(city, secret)
    assert after.role == "grid_manager" and after.scope != before.scope
    assert after.scope.grids == {grid.id}


def test_area_tree_change_resolves_scope_again(city, elsewhere) -> None:
    secret = _token(city)
    before = access_stamp_of(city)
    authenticate_request(city, secret)
    with transaction(elsewhere) as s:
        s.execute(sa.text("UPDATE summary_meta SET areas_version = areas_version + 1"))
    assert access_stamp_of(city) != before
    with _statements(city) as seen:
        authenticate_request(city, secret)
    assert any("api_tokens" in s for s in seen)  # looked up again


def test_bookkeeping_does_not_empty_caches(city) -> None:
    secret = _token(city)
    authenticate_request(city, secret)
    before = access_stamp_of(city)
    with transaction(city) as s:
        token = s.scalar(sa.select(ApiToken))
        token.last_used_at = auditlog.utcnow()
    assert access_stamp_of(city) == before
    with transaction(city) as s:
        s.scalar(sa.select(ApiToken)).expires_at = auditlog.utcnow() + timedelta(days=9)
    assert access_stamp_of(city) != before


def access_stamp_of(engine: Engine):
    with transaction(engine, write=False) as s:
        return access_stamp(s)


def _session_id(engine: Engine) -> str:
    with transaction(engine) as s:
        user = create_user(s, "alice", PASSWORD, "district_officer", "", ["329901"])
        return new_session_id(user)


def test_session_user_cached_then_follows_changes_made_elsewhere(city, elsewhere) -> None:
    session_id = _session_id(city)
    with transaction(city, write=False) as s:
        first = load_session_user(s, session_id)
    with _statements(city) as seen, transaction(city, write=False) as s:
        assert load_session_user(s, session_id) == first
    assert len(_reads(seen)) == 1
    with transaction(elsewhere) as s:
        set_scope(s, "alice", ["329902"], "cli")
    with transaction(city, write=False) as s:
        moved = load_session_user(s, session_id)
    assert moved is not None and moved.scope != first.scope
    with transaction(elsewhere) as s:
        s.scalar(sa.select(User)).disabled = True
    with transaction(city, write=False) as s:
        assert load_session_user(s, session_id) is None


def test_change_rolled_back_keeps_the_version(city) -> None:
    before = access_stamp_of(city)
    with pytest.raises(RuntimeError), transaction(city) as s:
        create_user(s, "bob", PASSWORD, "city_officer")
        s.flush()
        raise RuntimeError("abort")
    assert access_stamp_of(city) == before


LIFETIME = timedelta(hours=12)


def _second_session(engine: Engine) -> str:
    with transaction(engine, write=False) as s:
        return new_session_id(s.scalar(sa.select(User).where(User.username == "alice")))


def _load(engine: Engine, session_id: str):
    with transaction(engine, write=False) as s:
        return load_session_user(s, session_id)


def test_logout_elsewhere_ends_that_session_only(city, elsewhere) -> None:
    phone = _session_id(city)
    desk = _second_session(city)
    assert _load(city, phone) is not None and _load(city, desk) is not None  # both cached
    user_id = _load(city, desk).id
    with transaction(elsewhere) as s:  # another worker logs the phone out
        logout(s, user_id, phone, "user:alice", None, LIFETIME)
    assert _load(city, phone) is None  # its cached principal is not trusted any more
    assert _load(city, desk) is not None
    with _statements(city) as seen:  # nothing changed since: one read again
        assert _load(city, desk) is not None
    assert len(_reads(seen)) == 1 and "access_meta" in _reads(seen)[0]
    assert not [s for s in seen if "ended_sessions" in s]
    with transaction(elsewhere) as s:  # logging out twice is harmless
        logout(s, user_id, phone, "user:alice", None, LIFETIME)
    with transaction(city, write=False) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(EndedSession)) == 1
        assert len(auditlog.entries(s, "logout")) == 2


def test_ended_sessions_are_kept_for_the_cookie_lifetime_only(city, monkeypatch) -> None:
    first = _session_id(city)
    user_id = _load(city, first).id
    with transaction(city) as s:
        logout(s, user_id, first, "user:alice", None, LIFETIME)
    start = auditlog.utcnow()
    second = _second_session(city)
    monkeypatch.setattr(auditlog, "utcnow", lambda: start + timedelta(hours=30))
    with transaction(city) as s:
        logout(s, user_id, second, "user:alice", None, LIFETIME)
    with transaction(city, write=False) as s:
        kept = list(s.scalars(sa.select(EndedSession.ended_at)))
    assert len(kept) == 2  # 30 h is within 12 h + the one-day margin: kept
    third = _second_session(city)
    monkeypatch.setattr(auditlog, "utcnow", lambda: start + timedelta(hours=37))
    with transaction(city) as s:
        logout(s, user_id, third, "user:alice", None, LIFETIME)
    with transaction(city, write=False) as s:
        kept = list(s.scalars(sa.select(EndedSession.ended_at)))
    assert len(kept) == 2 and min(kept) >= start + timedelta(hours=30)  # the first went
    assert _load(city, second) is None and _load(city, third) is None


def test_two_logouts_of_one_session_at_once_both_succeed(city, monkeypatch) -> None:
    """The second of two simultaneous logouts does not see the first one's row before
    inserting (here: its look-up is made blind); its insert conflicts, and it carries on."""
    phone = _session_id(city)
    user_id = _load(city, phone).id
    with transaction(city) as s:
        logout(s, user_id, phone, "user:alice", None, LIFETIME)
    plain_get = sa.orm.Session.get

    def blind(self, entity, ident, **kw):  # type: ignore[no-untyped-def]
        return None if entity is EndedSession else plain_get(self, entity, ident, **kw)

    monkeypatch.setattr(sa.orm.Session, "get", blind)
    with transaction(city) as s:
        logout(s, user_id, phone, "user:alice", None, LIFETIME)
    monkeypatch.undo()
    with transaction(city, write=False) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(EndedSession)) == 1
        assert len(auditlog.entries(s, "logout")) == 2
    assert _load(city, phone) is None
