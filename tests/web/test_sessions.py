"""Sessions that really end (issue 19, item 2), checked on every request. Logout ends
the session it is called from, every copy of its cookie included, and no other (each
login has a session id of its own; ended ids are recorded in the database). A password
change, disabling and a role change end all the user's sessions (the per-user session
generation, part of every session id)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask
from flask.testing import FlaskClient

from geo.access.users import set_disabled, set_password, set_role, set_scope
from geo.storage.db import transaction
from tests.helpers import add_user, csrf_token, load_tiny_city_with_grids, login_client
from web import database

COOKIE = "session"


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    with app.app_context():
        load_tiny_city_with_grids(database.engine(), tmp_path)
        add_user(database.engine(), "alice", "city_officer")
        add_user(database.engine(), "dora", "district_officer")
    return app


def _signed_in(app: Flask, username: str = "alice") -> FlaskClient:
    client = app.test_client()
    assert login_client(client, username).status_code == 302
    assert client.get("/api/v1/heat").status_code == 200
    return client


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another client holding a copy of ``client``'s session cookie (a stolen cookie)."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    assert thief.get("/api/v1/heat").status_code == 200
    return thief


def _logout(client: FlaskClient) -> None:
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_logout_ends_that_session_and_every_copy_of_its_cookie(city_app: Flask) -> None:
    client = _signed_in(city_app)
    thief = _copy(city_app, client)
    other_device = _signed_in(city_app)  # the same user in another browser
    _logout(client)
    assert client.get("/api/v1/heat").status_code == 401
    assert thief.get("/api/v1/heat").status_code == 401
    page = thief.get("/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert other_device.get("/api/v1/heat").status_code == 200  # goes on
    assert other_device.get("/").status_code == 200
    again = _signed_in(city_app)  # logging in again works, and is a new session
    assert again.get_cookie(COOKIE).value != thief.get_cookie(COOKIE).value
    _logout(other_device)
    assert other_device.get("/api/v1/heat").status_code == 401
    assert again.get("/api/v1/heat").status_code == 200


def test_a_refused_cookie_is_not_sent_back_refreshed(city_app: Flask) -> None:
    """A refused session id never returns in a new cookie: every copy of a logged-out
    cookie expires with its own signature time, so ended ids need not be kept longer."""
    client = _signed_in(city_app)
    stolen = client.get_cookie(COOKIE).value
    thief = _copy(city_app, client)
    _logout(client)
    assert thief.get("/api/v1/heat").status_code == 401
    refreshed = thief.get_cookie(COOKIE)
    assert refreshed is None or refreshed.value != stolen
    with city_app.test_request_context():
        serializer = city_app.session_interface.get_signing_serializer(city_app)
        assert serializer is not None
        data = serializer.loads(refreshed.value) if refreshed is not None else {}
    assert "_user_id" not in data


def _statements(app: Flask, client: FlaskClient, path: str) -> list[str]:
    """The SQL statements one request of ``client`` sends."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    with app.app_context():
        engine = database.engine()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return seen


def test_a_logout_adds_no_query_to_the_other_sessions_requests(city_app: Flask) -> None:
    desk, phone = _signed_in(city_app), _signed_in(city_app)
    before = _statements(city_app, desk, "/api/v1/heat")
    _logout(phone)
    assert desk.get("/api/v1/heat").status_code == 200  # resolved again, once
    after = _statements(city_app, desk, "/api/v1/heat")
    assert len(after) == len(before) and any("access_meta" in s for s in after)
    assert not [s for s in before + after if "ended_sessions" in s or "FROM users" in s]


def _password(s: so.Session) -> None:
    set_password(s, "alice", "another-long-passphrase", "test")


def _disable(s: so.Session) -> None:
    set_disabled(s, "alice", True, "test")


def _role(s: so.Session) -> None:
    set_role(s, "alice", "planner", None, "test")


@pytest.mark.parametrize(
    "change", [_password, _disable, _role], ids=["password", "disable", "role"]
)
def test_changes_end_every_session_of_the_user(
    city_app: Flask, change: Callable[[so.Session], None]
) -> None:
    client = _signed_in(city_app)
    thief = _copy(city_app, client)
    with city_app.app_context(), transaction(database.engine()) as s:
        change(s)
    assert client.get("/api/v1/heat").status_code == 401
    assert thief.get("/api/v1/heat").status_code == 401


def test_a_scope_change_keeps_the_session_but_applies_at_once(city_app: Flask) -> None:
    client = _signed_in(city_app, "dora")
    assert "329901" in client.get("/api/v1/areas?level=district").get_data(as_text=True)
    with city_app.app_context(), transaction(database.engine()) as s:
        set_scope(s, "dora", ["district:329902"], "test")
    assert client.get("/api/v1/heat").status_code == 200
    codes = client.get("/api/v1/areas?level=district").get_data(as_text=True)
    assert "329902" in codes and "329901" not in codes
