"""Shared fixtures: backend-parametrised databases, the app, its client and CLI runner.

Storage tests take the ``engine`` fixture (or ``app``) and run on SQLite and, when
CIVICGRID_TEST_POSTGIS_URL is set, on PostGIS. Without that variable the PostGIS
cases are skipped with a reason; in CI (CI=true) a skipped PostGIS case is a failure.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.engine import Engine

from geo.storage.db import make_engine
from geo.storage.models import Base
from geo.summary.upgrade import upgrade

POSTGIS_ENV = "CIVICGRID_TEST_POSTGIS_URL"
BACKENDS = ["sqlite", "postgis"]


def _postgis_url(worker: str) -> str:
    url = os.environ.get(POSTGIS_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{POSTGIS_ENV} is not set: PostGIS tests must run in CI")
        pytest.skip(f"PostGIS not configured: set {POSTGIS_ENV} to run this case")
    if worker == "master":
        return url
    # Each xdist worker gets its own database so tests never see each other's rows.
    base = sa.make_url(url)
    name = f"{base.database}_{worker}"
    admin = _pg_admin(url)  # not the base database: a serial run may be recreating it
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first() is None:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _reset_postgis(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        Base.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


def _pg_admin(url: str) -> Engine:
    return sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _recreate_postgis(url: str, template: str | None = None) -> None:
    """Drop the database of ``url`` (closing any connection left open by a test's app)
    and create it again, as a copy of ``template`` when given."""
    name = sa.make_url(url).database
    admin = _pg_admin(url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
    admin.dispose()


# --- migrated templates (issue 14): `alembic upgrade head` runs once per worker --------
# Migrating an empty database takes about a second; every storage test wants one. Each
# worker migrates a template once per session (so it always reflects the current
# migrations) and every test gets a fresh copy of it: a file copy on SQLite, CREATE
# DATABASE ... TEMPLATE on PostGIS. The copy is the same migrated, empty database.


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "template.db"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    eng.dispose()
    # One self-contained file (no -wal beside it); make_engine turns WAL on again.
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA journal_mode=DELETE")
    raw.close()
    SQLITE_TEMPLATE[:] = [path]
    return path


SQLITE_TEMPLATE: list[Path] = []  # the worker's template, for tests/dbcache.py


@pytest.fixture(scope="session")
def _postgis_template(worker_id_session: str) -> str:
    url = _postgis_url(worker_id_session)
    base = sa.make_url(url)
    template = base.set(database=f"{base.database}_template")
    template_url = template.render_as_string(hide_password=False)
    _recreate_postgis(template_url)
    eng = make_engine(template_url)
    upgrade(eng)
    eng.dispose()
    assert template.database is not None
    return template.database


# On PostGIS even copying a template costs a second or more on a busy disk (CREATE
# DATABASE writes the whole copy to the WAL). So the worker's own database stays at the
# template's schema between tests and is emptied instead: every row deleted, the rows
# the migrations wrote put back, every sequence set back. Before that a fingerprint of
# the schema (tables, columns, defaults, indexes, constraints, triggers, functions) is
# compared with the template's; any difference (a test that migrated, downgraded or
# dropped something) means a fresh copy of the template instead.
_PG_SCHEMA_SQL = """
SELECT md5(coalesce(string_agg(x, ';' ORDER BY x), '')) FROM (
  SELECT concat_ws(':', c.relname, c.relkind::text, a.attname,
                   format_type(a.atttypid, a.atttypmod), a.attnotnull::text,
                   pg_get_expr(d.adbin, d.adrelid)) AS x
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
  WHERE n.nspname = 'public'
  UNION ALL
  SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL
  SELECT concat_ws(':', conrelid::regclass::text, conname::text, pg_get_constraintdef(oid))
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat_ws(':', tgrelid::regclass::text, tgname::text)
  FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT p.oid::regprocedure::text FROM pg_proc p
  WHERE p.pronamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat_ws(':', e.extname::text, e.extversion) FROM pg_extension e
) s
"""
# spatial_ref_sys: PostGIS's own table (thousands of rows no test writes).
_PG_TABLES_SQL = (
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
    "AND tablename <> 'spatial_ref_sys' ORDER BY tablename"
)


class _PostgisState:
    """What the worker's database looks like right after a copy of the template."""

    def __init__(self, conn: sa.Connection) -> None:
        self.schema: str = conn.exec_driver_sql(_PG_SCHEMA_SQL).scalar_one()
        self.tables: list[str] = list(conn.exec_driver_sql(_PG_TABLES_SQL).scalars())
        self.rows: dict[str, str] = {}
        for table in self.tables:
            rows = conn.exec_driver_sql(f'SELECT json_agg(t)::text FROM "{table}" t').scalar()
            if rows is not None:
                self.rows[table] = rows
        self.caches: dict[tuple[Any, ...], Any] = {}  # tests/dbcache.py's copies
        self.sequences: list[tuple[str, int | None]] = [
            (name, last)
            for name, last in conn.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            )
        ]

    def restore(self, conn: sa.Connection) -> None:
        conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")  # no FK order
        for table in self.tables:
            conn.exec_driver_sql(f'DELETE FROM "{table}"')
        for table, rows in self.rows.items():
            conn.execute(
                sa.text(
                    f'INSERT INTO "{table}" SELECT * FROM '
                    f'json_populate_recordset(NULL::"{table}", CAST(:rows AS json))'
                ),
                {"rows": rows},
            )
        for name, last in self.sequences:
            if last is None:
                conn.exec_driver_sql(f'ALTER SEQUENCE "{name}" RESTART')
            else:
                conn.exec_driver_sql(f"SELECT setval('\"{name}\"', {int(last)}, true)")


_POSTGIS_STATE: dict[str, _PostgisState] = {}  # url -> its state after the last copy


def _migrated_postgis(request: pytest.FixtureRequest, url: str) -> None:
    """Make the database of ``url`` a migrated, empty database (see above)."""
    # Close what an earlier test left connected, as DROP DATABASE ... WITH (FORCE) would.
    admin = _pg_admin(url)
    with admin.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": sa.make_url(url).database},
        )
    admin.dispose()
    state = _POSTGIS_STATE.pop(url, None)
    if state is not None:
        eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with eng.begin() as conn:
                if conn.exec_driver_sql(_PG_SCHEMA_SQL).scalar_one() == state.schema:
                    state.restore(conn)
                else:
                    state = None
        except sa.exc.DBAPIError:
            state = None
        finally:
            eng.dispose()
    if state is None:
        _recreate_postgis(url, template=request.getfixturevalue("_postgis_template"))
        eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with eng.connect() as conn:
            state = _PostgisState(conn)
        eng.dispose()
    _POSTGIS_STATE[url] = state


def _migrated_copy(request: pytest.FixtureRequest, url: str) -> Engine:
    if sa.make_url(url).get_backend_name() == "sqlite":
        database = sa.make_url(url).database
        assert database is not None
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), database)
    else:
        _migrated_postgis(request, url)
    return make_engine(url)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> str:
    """An empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'civicgrid.db'}"
    url = _postgis_url(worker_id)
    if "engine" not in request.fixturenames:  # ``engine`` replaces the database anyway
        _POSTGIS_STATE.pop(url, None)  # a test may migrate it: copy the template next time
        _reset_postgis(url)
    return url


@pytest.fixture
def engine(request: pytest.FixtureRequest, db_url: str) -> Iterator[Engine]:
    """A migrated, empty database on each backend (a copy of the worker's template)."""
    eng = _migrated_copy(request, db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database (for tests that are not about storage)."""
    eng = _migrated_copy(request, f"sqlite:///{tmp_path / 'only-sqlite.db'}")
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(_sqlite_template: Path) -> Any:
    """``migrated_sqlite(path)``: a copy of the migrated template at ``path``, as an engine.
    For module-scoped fixtures shared by tests that only read."""

    def _copy(path: Path) -> Engine:
        shutil.copyfile(_sqlite_template, path)
        return make_engine(f"sqlite:///{path}")

    return _copy


@pytest.fixture
def app(engine: Engine, tmp_path: Path) -> Flask:
    """The app on a migrated, empty database (each backend)."""
    from web import create_app

    return create_app(
        {"DATABASE_URL": engine.url.render_as_string(hide_password=False), "TESTING": True}
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def _worker_name(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "master"


@pytest.fixture
def worker_id(request: pytest.FixtureRequest) -> str:
    """The xdist worker name, or 'master' without xdist."""
    return _worker_name(request.config)


@pytest.fixture(scope="session")
def worker_id_session(request: pytest.FixtureRequest) -> str:
    """``worker_id`` for session-scoped fixtures."""
    return _worker_name(request.config)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright (skipped when not installed)."""
    from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, ChineseBrowser

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} missing: browser tests must run in CI")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield ChineseBrowser(chromium)
        chromium.close()


# --- logging in (issue 6): every page and API call needs a user or a token ------------


@pytest.fixture
def login(app: Flask) -> Any:
    """``login(client, role="city_officer", scope=None, username=None)``: create the user
    (scope from tests.helpers.ROLE_SCOPES unless given) and log ``client`` in."""
    from tests.helpers import ensure_user, login_client

    def _login(
        client: FlaskClient,
        role: str = "city_officer",
        scope: list[str] | None = None,
        username: str | None = None,
    ) -> FlaskClient:
        response = login_client(client, ensure_user(app, role, scope, username))
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login


@pytest.fixture
def client_as(app: Flask, login: Any) -> Any:
    """``client_as(role="city_officer", scope=None)``: a new test client logged in as role."""

    def _client_as(role: str = "city_officer", scope: list[str] | None = None) -> FlaskClient:
        return login(app.test_client(), role, scope)

    return _client_as


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests hash passwords with a cheap scrypt cost; production keeps werkzeug's default
    (tests/geo/test_users_tokens.py checks that)."""
    import functools

    from werkzeug.security import generate_password_hash

    import geo.access.users

    cheap = functools.partial(generate_password_hash, method="scrypt:1024:8:1")
    monkeypatch.setattr(geo.access.users, "generate_password_hash", cheap)


@pytest.fixture
def sqlite_app(sqlite_engine: Engine) -> Flask:
    """The app on a migrated SQLite database (live-server and browser tests: run once)."""
    from web import create_app

    url = sqlite_engine.url.render_as_string(hide_password=False)
    return create_app({"DATABASE_URL": url, "TESTING": True})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run on SQLite only: what Chromium checks does not depend on the
    backend, and test-client tests cover every route on PostGIS (saves `make test` time)."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_postgis = "postgis" in params.values()
        (dropped if on_postgis and item.get_closest_marker("browser") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
