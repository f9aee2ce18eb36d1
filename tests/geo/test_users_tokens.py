"""Users and tokens in geo/: hashing, roles, scopes, authentication, rate limit, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from geo.access import audit as auditlog
from geo.access.tokens import (
    authenticate_token,
    create_token,
    list_tokens,
    revoke_token,
    token_state,
)
from geo.access.users import (
    LoginPolicy,
    authenticate,
    create_user,
    list_users,
    load_session_user,
    new_session_id,
    session_stamp,
    set_disabled,
    set_password,
    set_role,
    set_scope,
)
from geo.core.errors import (
    AlreadyExistsError,
    AuthenticationError,
    InvalidParameterError,
    NotFoundError,
    RateLimitedError,
)
from geo.storage.access_models import ApiToken, AuditEntry, User
from geo.storage.db import transaction
from tests.helpers import load_tiny_city_with_grids, raises_msg, table_counts

PASSWORD = "a-good-password"


@pytest.fixture
def city(engine, tmp_path):
    load_tiny_city_with_grids(engine, tmp_path)
    return engine


def _audit(engine, action: str) -> list[AuditEntry]:
    with transaction(engine, write=False) as s:
        return auditlog.entries(s, action)


def test_create_user_hashes_password_and_audits(city) -> None:
    with transaction(city) as s:
        user = create_user(s, " Alice ", PASSWORD, "district_officer", "爱丽丝", ["329901"])
        assert user.username == "alice"
        assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    with transaction(city) as s:
        [listed] = list_users(s)
        assert [a.code for a in listed.areas] == ["329901"]
    [entry] = _audit(city, "user_created")
    assert entry.target == "alice" and "district:329901" in entry.detail


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"username": "a"}, InvalidParameterError, "invalid username"),
        ({"username": "../etc"}, InvalidParameterError, "invalid username"),
        ({"username": "x' OR 1=1 --"}, InvalidParameterError, "invalid username"),
        ({"password": "short"}, InvalidParameterError, "at least 12"),
        ({"password": "bob-user-secret"}, InvalidParameterError, "contain the username"),
        ({"role": "mayor"}, InvalidParameterError, "unknown role"),
        ({"role": "grid_manager"}, InvalidParameterError, "cannot be scoped to district"),
        ({"codes": ["999"]}, InvalidParameterError, "unknown area code '999'"),
        ({"codes": []}, InvalidParameterError, "needs at least one area"),
    ],
)
def test_bad_users_are_refused_and_nothing_written(city, kwargs, error, fragment) -> None:
    before = table_counts(city)
    args = {"username": "bob-user", "password": PASSWORD, "role": "district_officer"}
    args.update({k: v for k, v in kwargs.items() if k != "codes"})
    codes = kwargs.get("codes", ["329901"])
    with raises_msg(error, fragment), transaction(city) as s:
        create_user(s, args["username"], args["password"], args["role"], "", codes)
    assert table_counts(city) == before


def test_duplicate_user(city) -> None:
    with transaction(city) as s:
        create_user(s, "carol", PASSWORD, "admin")
    with pytest.raises(AlreadyExistsError), transaction(city) as s:
        create_user(s, "CAROL", PASSWORD, "admin")


def test_scope_role_password_changes_are_audited(city) -> None:
    with transaction(city) as s:
        create_user(s, "dave", PASSWORD, "grid_manager", "", ["329901001000001"])
    with transaction(city) as s:
        set_scope(s, "dave", ["329901001000001", "grid:329901001000002"], "cli:root")
    with transaction(city) as s:
        set_role(s, "dave", "district_officer", ["329902"], "cli:root")
    with raises_msg(InvalidParameterError, "whole city only"), transaction(city) as s:
        set_role(s, "dave", "admin", None, "cli:root")  # keeps the district: refused
    with transaction(city) as s:
        set_role(s, "dave", "admin", [], "cli:root")
        stamp = session_stamp(s.scalar(sa.select(User).where(User.username == "dave")))
        set_password(s, "dave", "another-long-password", "cli:root")
        user = s.scalar(sa.select(User).where(User.username == "dave"))
        assert user.role == "admin" and user.areas == []
        assert session_stamp(user) != stamp
    assert [e.actor for e in _audit(city, "scope_changed")] == ["cli:root"]
    assert len(_audit(city, "role_changed")) == 2
    assert len(_audit(city, "password_changed")) == 1
    with pytest.raises(NotFoundError), transaction(city) as s:
        set_scope(s, "nobody", [], "cli")


def _login(engine, username, password, ip="10.0.0.1", policy=None):
    error = None
    with transaction(engine) as s:
        try:
            return authenticate(s, username, password, ip, policy)
        except (AuthenticationError, RateLimitedError) as exc:
            error = exc
    raise error


def test_authenticate(city) -> None:
    with transaction(city) as s:
        create_user(s, "erin", PASSWORD, "grid_manager", "", ["329901001000001"])
    principal = _login(city, "Erin", PASSWORD)
    assert principal.role == "grid_manager" and len(principal.scope.grids) == 1
    with raises_msg(AuthenticationError, "wrong username or password"):
        _login(city, "erin", "wrong-password")
    with raises_msg(AuthenticationError, "wrong username or password"):
        _login(city, "nobody", PASSWORD)  # same message: no user enumeration
    with transaction(city) as s:
        set_disabled(s, "erin", True, "cli")
    with raises_msg(AuthenticationError, "disabled"):
        _login(city, "erin", PASSWORD)
    assert [e.action for e in _audit(city, None)][:4] == [
        "login_failed",
        "user_disabled",
        "login_failed",
        "login_failed",
    ]


def test_session_ids_end_with_disable_and_password_change(city) -> None:
    with transaction(city) as s:
        user = create_user(s, "fay", PASSWORD, "planner")
        sid = new_session_id(user)
        assert new_session_id(user) != sid  # one per login
    with transaction(city) as s:
        assert load_session_user(s, sid).name == "fay"
        assert load_session_user(s, "x.y") is None
        assert load_session_user(s, f"{user.id}.forged.x") is None
        old_style = sid.rpartition(".")[0]  # <id>.<stamp>, issued before migration 0017
        assert load_session_user(s, old_style) is None
        assert load_session_user(s, f"{sid}.more") is None
        set_password(s, "fay", "new-password-1", "cli")
    with transaction(city) as s:
        assert load_session_user(s, sid) is None


def test_login_rate_limit_per_username_and_address(city) -> None:
    with transaction(city) as s:
        create_user(s, "gus", PASSWORD, "planner")
    policy = LoginPolicy(attempts=3, window=timedelta(minutes=15))
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            _login(city, "gus", "nope-nope", policy=policy)
    with raises_msg(RateLimitedError, "15 minutes"):
        _login(city, "gus", PASSWORD, policy=policy)  # even the right password now
    assert _login(city, "gus", PASSWORD, ip="10.0.0.2", policy=policy).name == "gus"
    assert len(_audit(city, "login_blocked")) == 1
    # The window passes: move the failures 16 minutes into the past.
    with transaction(city) as s:
        past = auditlog.utcnow() - timedelta(minutes=16)
        s.execute(sa.update(AuditEntry).values(at=past))
    assert _login(city, "gus", PASSWORD, policy=policy).name == "gus"


def test_tokens(city) -> None:
    with transaction(city) as s:
        token, secret = create_token(s, "nightly", "city_officer", [], None, "cli:root")
        assert secret.startswith("cg_") and len(secret) > 40
        assert token.token_hash != secret and secret not in token.token_hash
        assert token.prefix == secret[:8]
    with transaction(city) as s:
        principal = authenticate_token(s, secret, "10.0.0.9", "GET /api/v1/problems")
        assert principal.role == "city_officer" and principal.scope.whole_city
    with transaction(city) as s:
        [stored] = list_tokens(s)
        assert stored.last_used_at is not None and token_state(stored) == "active"
        revoke_token(s, "nightly", "cli:root")
    with raises_msg(AuthenticationError, "revoked"), transaction(city) as s:
        authenticate_token(s, secret)
    with raises_msg(AuthenticationError, "invalid token"), transaction(city) as s:
        authenticate_token(s, secret[:-1] + "x")
    assert [e.action for e in _audit(city, None)][:3] == [
        "token_revoked",
        "token_use",
        "token_created",
    ]


def test_expired_token(city) -> None:
    with transaction(city) as s:
        _, secret = create_token(s, "old", "planner", [], auditlog.utcnow() + timedelta(hours=1))
        s.execute(sa.update(ApiToken).values(expires_at=auditlog.utcnow() - timedelta(seconds=1)))
    with raises_msg(AuthenticationError, "expired"), transaction(city) as s:
        authenticate_token(s, secret)


@pytest.mark.parametrize(
    ("name", "role", "codes", "expires", "fragment"),
    [
        ("bad name!", "planner", [], None, "invalid token name"),
        ("t", "admin", [], None, "a token's role is one of"),
        ("t", "grid_manager", [], None, "needs at least one area"),
        ("t", "planner", ["329901001000001"], None, "cannot be scoped to grid"),
        ("t", "planner", [], "past", "in the past"),
    ],
)
def test_bad_tokens_are_refused(city, name, role, codes, expires, fragment) -> None:
    before = table_counts(city)
    when = auditlog.utcnow() - timedelta(days=1) if expires else None
    with raises_msg(InvalidParameterError, fragment), transaction(city) as s:
        create_token(s, name, role, codes, when)
    assert table_counts(city) == before


def test_production_hashing_cost_is_werkzeugs_strong_default() -> None:
    import geo.access.users

    # The tests use a cheaper cost (conftest); the module's own dummy hash shows the real one.
    assert geo.access.users._DUMMY_HASH.startswith("scrypt:32768:8:1$")
