"""Reads from a read replica, writes and one's own next reads on the primary (issue 21).

Runs against a real streaming replica: CIVICGRID_TEST_REPLICA_URL names a second
PostgreSQL cluster replicating the server of CIVICGRID_TEST_POSTGIS_URL (`.ci/replica.sh`
makes one on port 5433). Replica lag is made certain by pausing replay on the replica: a
user's page after their own change must show it (read on the primary), while another
user's page still shows the replica's older state (so reads really go to the replica).
Skipped without a replica; in CI (CI=true) a skip is a failure.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.core.errors import ConfigError
from geo.storage.db import make_engine, replica_caught_up, write_position
from tests.helpers import signed_in
from tests.lifecycle_data import load_lifecycle_city, problem_id
from web import create_app
from web.database import LSN_COOKIE

REPLICA_ENV = "CIVICGRID_TEST_REPLICA_URL"
# Replay is paused and resumed for the whole standby cluster, which every worker shares:
# one worker's teardown resuming it would let another's paused replica catch up.
pytestmark = pytest.mark.xdist_group("read-replica")


def _urls(worker_id: str) -> tuple[str, str]:
    primary = os.environ.get("CIVICGRID_TEST_POSTGIS_URL")
    replica = os.environ.get(REPLICA_ENV)
    if not (primary and replica):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{REPLICA_ENV} is not set: the replica test must run in CI")
        pytest.skip(f"no read replica: run .ci/replica.sh and set {REPLICA_ENV}")
    name = f"{sa.make_url(primary).database}_replica_{worker_id}"
    return (
        sa.make_url(primary).set(database=name).render_as_string(hide_password=False),
        sa.make_url(replica).set(database=name).render_as_string(hide_password=False),
    )


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _wait_for(replica: sa.Engine, primary: sa.Engine, seconds: float = 30) -> None:
    lsn = write_position(primary)
    deadline = time.monotonic() + seconds
    while not replica_caught_up(replica, lsn):
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.1)


@pytest.fixture
def replicated_app(
    worker_id: str, tmp_path: Path, _postgis_template: str
) -> Iterator[tuple[Flask, sa.Engine]]:
    primary_url, replica_url = _urls(worker_id)
    name = sa.make_url(primary_url).database
    with _admin(primary_url).connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{_postgis_template}"')
    primary = make_engine(primary_url)
    load_lifecycle_city(primary, tmp_path)
    with _admin(replica_url).connect() as conn:
        if not conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar_one():
            pytest.fail(f"{REPLICA_ENV} is not a standby server")
    replica = make_engine(replica_url)
    app = create_app(
        {"DATABASE_URL": primary_url, "READ_DATABASE_URL": replica_url, "TESTING": True}
    )
    _wait_for(replica, primary, seconds=60)
    try:
        yield app, replica
    finally:
        with replica.connect() as conn:
            conn.exec_driver_sql("SELECT pg_wal_replay_resume()")
        app.extensions["civicgrid"]["engine"].dispose()
        app.extensions["civicgrid"]["reader"].dispose()
        replica.dispose()
        primary.dispose()
        with _admin(primary_url).connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pause_replay(replica: sa.Engine, primary: sa.Engine, seconds: float = 30) -> None:
    """Pause replay for certain: a pause request is only honoured at the next WAL record
    (one more record may still be applied), so emit records until the state is 'paused'."""
    with replica.connect() as conn:
        conn.exec_driver_sql("SELECT pg_wal_replay_pause()")
    deadline = time.monotonic() + seconds
    while True:
        with replica.connect() as conn:
            state = conn.exec_driver_sql("SELECT pg_get_wal_replay_pause_state()").scalar_one()
        if state == "paused":
            return
        assert time.monotonic() < deadline, f"replay did not pause ({state})"
        with primary.begin() as conn:  # a committed transaction id: a flushed record
            conn.exec_driver_sql("SELECT pg_current_xact_id()")
        time.sleep(0.05)


def _assigned(html: str) -> bool:
    """The page offers the steps of an assigned problem (rectify), not of a found one."""
    return 'data-testid="form-rectify"' in html and 'data-testid="form-assign"' not in html


def _csrf(client, url: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(url).text)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.mark.postgis
def test_own_change_is_read_from_the_primary_while_the_replica_lags(replicated_app) -> None:
    app, replica = replicated_app
    alice = signed_in(app, username="alice")
    bob = signed_in(app, username="bob")
    primary = app.extensions["civicgrid"]["engine"]
    pid = problem_id(primary, "A1")
    url = f"/problems/{pid}"
    token = _csrf(alice, url)
    _wait_for(replica, primary)  # both logins are on the replica: only lag from here on
    _pause_replay(replica, primary)

    form = {"unit": "东门街道办事处", "version": "1", "csrf_token": token}
    response = alice.post(f"{url}/assign", data=form)
    assert response.status_code == 302, response.text
    assert LSN_COOKIE in response.headers.get("Set-Cookie", "")

    assert _assigned(alice.get(url).text)  # her own change: never the old state
    assert not _assigned(bob.get(url).text)  # the paused replica: proof reads go there

    with replica.connect() as conn:
        conn.exec_driver_sql("SELECT pg_wal_replay_resume()")
    _wait_for(replica, primary)
    assert _assigned(bob.get(url).text)
    assert _assigned(alice.get(url).text)  # caught up: her reads may use the replica again


@pytest.mark.postgis
def test_commands_use_the_primary(replicated_app) -> None:
    """Outside a request (commands, scripts) a session is always on the primary."""
    app, _ = replicated_app
    from web import database

    with app.app_context():
        assert database.session().get_bind() is app.extensions["civicgrid"]["engine"]
    runner = app.test_cli_runner()
    add = ["users", "add", "dave", "--role", "planner", "--generate-password"]
    assert runner.invoke(args=add).exit_code == 0
    listed = runner.invoke(args=["users", "list"])
    assert listed.exit_code == 0 and "dave" in listed.output, listed.output


@pytest.mark.postgis
def test_a_malformed_position_cookie_is_ignored(replicated_app) -> None:
    app, _ = replicated_app
    client = signed_in(app, username="carol")
    for value in ("garbage", "1/2/3", "G/0", "0/" + "F" * 9, ""):
        client.set_cookie(LSN_COOKIE, value)
        assert client.get("/api/v1/areas?level=district").status_code == 200, value


def test_a_replica_needs_postgresql(tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'a.db'}"
    with pytest.raises(ConfigError, match="PostgreSQL"):
        create_app({"DATABASE_URL": sqlite_url, "READ_DATABASE_URL": sqlite_url, "TESTING": True})
