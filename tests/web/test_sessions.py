"""Sessions that really end (issue 19, item 2): a per-user session generation, part of
every session id, checked on every request. Logout ends every copy of the cookie;
a password change, disabling and a role change end all the user's sessions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
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


def test_a_cookie_copied_before_logout_stops_working(city_app: Flask) -> None:
    client = _signed_in(city_app)
    thief = _copy(city_app, client)
    other_device = _signed_in(city_app)
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert thief.get("/api/v1/heat").status_code == 401
    assert thief.get("/").status_code == 302  # pages send it to the login form
    assert other_device.get("/api/v1/heat").status_code == 401  # logout ends them all
    again = _signed_in(city_app)  # logging in again works
    assert again.get("/api/v1/heat").status_code == 200


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
