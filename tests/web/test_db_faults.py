"""The database busy, full or down (issue 22): 503 with Retry-After in each API's shape,
a friendly page, nothing written; /healthz and /readyz."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from flask import Flask

from geo.storage.db import make_engine, session_factory
from geo.storage.faults import is_fault, unavailable
from tests.helpers import (
    add_token,
    add_user,
    load_tiny_city_with_points,
    login_client,
    table_counts,
)
from web import create_app, database

DEAD_URL = "postgresql+psycopg://postgres@127.0.0.1:1/civicgrid"
SURVEY = "id,lon,lat,category,found_at\nS1,120.82,32.01,litter,2024-06-01 10:00\n"


@pytest.fixture
def city(sqlite_app: Flask, tmp_path: Path):
    with sqlite_app.app_context():
        engine = database.engine()
    load_tiny_city_with_points(engine, tmp_path)
    add_user(engine, "alice", "city_officer")
    return sqlite_app, engine, add_token(engine, "nightly", "city_officer")


def _go_down(app: Flask) -> None:
    """The database stops answering (an engine pointed at a closed port)."""
    dead = make_engine(DEAD_URL)
    app.extensions["civicgrid"].update(engine=dead, sessions=session_factory(dead))


def _service_unavailable(response) -> str:
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert int(response.headers["Retry-After"]) > 0
    return response.get_data(as_text=True)


def test_database_down_is_503_everywhere(city) -> None:
    app, _, token = city
    client = app.test_client()
    assert login_client(client, "alice").status_code == 302
    _go_down(app)
    page = _service_unavailable(client.get("/"))  # the session's user cannot be loaded
    assert "数据库暂时不可用，请稍后重试" in page and "暂时不可用" in page
    assert "<html" in page.lower()
    response = client.get("/api/v1/problems", headers=token)
    _service_unavailable(response)
    assert response.get_json()["error"]["message"] == "数据库暂时不可用，请稍后重试"
    error = client.get("/api/v1/problems?lang=en", headers=token).get_json()["error"]
    assert error == {
        "code": "ServiceUnavailable",
        "message": "the database is temporarily unavailable, please try again shortly",
    }
    assert "Temporarily unavailable" in _service_unavailable(client.get("/?lang=en"))
    ogc = client.get("/ogcapi/collections?lang=en", headers=token)
    assert _service_unavailable(ogc) and ogc.get_json()["code"] == "ServiceUnavailable"
    o311 = client.get("/open311/v2/services.json", headers=token)
    assert _service_unavailable(o311) and o311.get_json()[0]["code"] == 503
    xml = client.get("/open311/v2/services.xml", headers=token)
    assert "<errors>" in _service_unavailable(xml)


def test_write_refused_by_a_held_lock_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    config = {"DATABASE_URL": f"sqlite:///{path}", "TESTING": True, "WRITE_WAIT_SECONDS": 1}
    app = create_app(config)
    with app.app_context():
        engine = database.engine()
    from geo.summary.upgrade import upgrade

    upgrade(engine)
    load_tiny_city_with_points(engine, tmp_path)
    token = add_token(engine, "nightly", "city_officer")
    before = table_counts(engine)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        data = {"file": (io.BytesIO(SURVEY.encode()), "s.csv")}
        response = app.test_client().post("/api/v1/surveys?lang=en", data=data, headers=token)
        body = _service_unavailable(response)
        error = response.get_json()["error"]
        assert error["code"] == "ServiceUnavailable", body
        assert error["message"].startswith("the database is busy")
        assert "retry with the same version" in error["message"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert table_counts(engine) == before


def test_healthz_and_readyz(city) -> None:
    app, engine, _ = city
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["ready"] is True
    _go_down(app)
    assert client.get("/healthz").status_code == 200
    down = client.get("/readyz")
    _service_unavailable(down)
    assert down.get_json()["ready"] is False and down.get_json()["database"] == "unavailable"
    assert "127.0.0.1" not in down.get_data(as_text=True)
    app.extensions["civicgrid"].update(engine=engine, sessions=session_factory(engine))
    assert client.get("/readyz").status_code == 200  # recovers without a restart


def test_readyz_outdated_schema(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "TESTING": True})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["database"] == "outdated"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("database is locked", "busy"),
        ("database or disk is full", "full"),
        ("disk I/O error", "full"),
        ("unable to open database file", "access"),
        ("attempt to write a readonly database", "access"),
        ("connection refused", "down"),
        ("server closed the connection unexpectedly", "down"),
    ],
)
def test_faults_are_classified(message: str, kind: str) -> None:
    exc = sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))
    assert is_fault(exc) and unavailable(exc).kind == kind
    assert unavailable(exc).detail == f"OperationalError: {message}"
    assert unavailable(exc).http_status == 503


def test_bugs_are_not_faults() -> None:
    integrity = sa_exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE failed"))
    assert not is_fault(integrity)
    assert is_fault(sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"))
    assert unavailable(sa_exc.TimeoutError("QueuePool limit")).kind == "busy"
    assert sa.text  # keep the import honest


def test_exhausted_pool_is_503(sqlite_engine) -> None:
    url = sqlite_engine.url.render_as_string(hide_password=False)
    app = create_app(
        {"DATABASE_URL": url, "TESTING": True, "DB_POOL_SIZE": 1, "DB_POOL_TIMEOUT": 1}
    )
    with app.app_context():
        engine = database.engine()
    token = add_token(engine, "nightly", "city_officer")
    held = [engine.connect(), engine.connect()]  # the pool (1) and its overflow (1)
    try:
        response = app.test_client().get("/api/v1/problems?lang=en", headers=token)
        _service_unavailable(response)
        assert response.get_json()["error"]["message"].startswith("the database is busy")
    finally:
        for conn in held:
            conn.close()
    assert app.test_client().get("/api/v1/problems", headers=token).status_code == 200
