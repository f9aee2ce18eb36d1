"""Reads never wait for writers (issue 22): with a write transaction held open on SQLite
(an ingest), token GETs and logged-in page GETs are answered within a second; the token's
last use is recorded at most once per interval, outside the request, or skipped."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.access import audit, tokens
from geo.access.audit import entries, utcnow
from geo.storage.access_models import ApiToken
from geo.storage.db import transaction
from geo.storage.models import Problem
from tests.helpers import add_token, add_user, load_tiny_city_with_points, login_client
from web import database


@contextmanager
def _write_lock(engine: sa.Engine) -> Iterator[Callable[[], None]]:
    """Hold SQLite's write lock (as an ingest does) until the block ends or ``release()``."""
    holder = sqlite3.connect(engine.url.database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Lock()

    def release() -> None:
        if released.acquire(blocking=False):
            holder.execute("ROLLBACK")

    try:
        yield release
    finally:
        release()
        holder.close()


def _city(app: Flask, tmp_path: Path):
    with app.app_context():
        engine = database.engine()
    load_tiny_city_with_points(engine, tmp_path)
    add_user(engine, "alice", "city_officer")
    return engine, add_token(engine, "nightly", "city_officer")


def _timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    response = call()
    return time.perf_counter() - start, response


def _uses(engine: sa.Engine) -> int:
    with transaction(engine, write=False) as s:
        return len(entries(s, "token_use"))


def test_reads_are_served_while_a_writer_holds_the_lock(
    sqlite_app: Flask, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, token = _city(sqlite_app, tmp_path)
    page_client = sqlite_app.test_client()
    assert login_client(page_client, "alice").status_code == 302
    api = sqlite_app.test_client()
    # Compile the pages' templates first (a first showing costs that much on a loaded
    # machine); an old week's ranking, so the default week is still published under the lock.
    for path in ("/", "/rankings?period=2020-W01"):
        assert page_client.get(path).status_code == 200
    reads = ("/api/v1/areas?level=district", "/ogcapi/collections")  # first use warmed too
    for path in reads:  # by the session, so the token's first use is still to come
        assert page_client.get(path).status_code == 200
    with _write_lock(engine):
        for path in ("/api/v1/problems", *reads):
            seconds, response = _timed(lambda p=path: api.get(p, headers=token))
            assert response.status_code == 200, (path, response.get_data(as_text=True)[:200])
            assert seconds < 1.0, (path, seconds)
        for path in ("/", "/rankings", "/api/v1/problems"):
            seconds, response = _timed(lambda p=path: page_client.get(p))
            assert response.status_code == 200 and seconds < 1.0, (path, seconds)
        bad = api.get("/api/v1/problems", headers={"Authorization": "Bearer cg_nope"})
        assert bad.status_code == 401  # refused at once; its audit entry is skipped
    assert _uses(engine) == 0  # the use could not be recorded under the lock: skipped
    assert api.get("/api/v1/problems", headers=token).status_code == 200
    assert _uses(engine) == 0  # not tried again at once: one try per retry interval
    later = utcnow() + tokens.USE_RETRY_INTERVAL + timedelta(seconds=1)
    monkeypatch.setattr(audit, "utcnow", lambda: later)
    assert api.get("/api/v1/problems", headers=token).status_code == 200
    assert _uses(engine) == 1  # recorded by the first request after the interval


def test_token_use_is_recorded_at_most_once_per_interval(
    sqlite_app: Flask, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, token = _city(sqlite_app, tmp_path)
    api = sqlite_app.test_client()
    for _ in range(3):
        assert api.get("/api/v1/problems", headers=token).status_code == 200
    assert _uses(engine) == 1
    later = utcnow() + timedelta(minutes=6)  # the worker remembers the last use in memory
    monkeypatch.setattr(audit, "utcnow", lambda: later)
    assert api.get("/api/v1/problems", headers=token).status_code == 200
    assert _uses(engine) == 2
    with transaction(engine, write=False) as s:
        used = s.scalar(sa.select(ApiToken.last_used_at))
    assert used == later


def test_a_web_write_waits_for_the_lock_then_goes_through(tmp_path: Path) -> None:
    """Writers wait up to CIVICGRID_WRITE_WAIT_SECONDS for an ingest's lock (issue 22):
    released within the wait, the write is stored, not refused with a 503."""
    from web import create_app

    url = f"sqlite:///{tmp_path / 'wait.db'}"
    app = create_app({"DATABASE_URL": url, "TESTING": True, "WRITE_WAIT_SECONDS": 20})
    with app.app_context():
        engine = database.engine()
    from geo.summary.upgrade import upgrade

    upgrade(engine)
    engine, token = _city(app, tmp_path)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 20_000
    body = {"lon": 120.82, "lat": 32.01, "category": "litter", "found_at": "2024-05-01"}
    with _write_lock(engine) as release:
        threading.Timer(1.0, release).start()
        seconds, response = _timed(
            lambda: app.test_client().post("/api/v1/problems", json=body, headers=token)
        )
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    assert seconds >= 0.9  # it did wait for the lock
    with transaction(engine, write=False) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Problem)) == 1
