"""Shared fixtures: backend-parametrised databases, the app, its client and CLI runner.

Storage tests take the ``engine`` fixture (or ``app``) and run on SQLite and, when
CIVICGRID_TEST_POSTGIS_URL is set, on PostGIS. Without that variable the PostGIS
cases are skipped with a reason; in CI (CI=true) a skipped PostGIS case is a failure.
"""

from __future__ import annotations

import os
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
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
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


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> str:
    """An empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'civicgrid.db'}"
    url = _postgis_url(worker_id)
    _reset_postgis(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated, empty database on each backend."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database (for tests that are not about storage)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'only-sqlite.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


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


@pytest.fixture
def worker_id(request: pytest.FixtureRequest) -> str:
    """The xdist worker name, or 'master' without xdist."""
    workerinput = getattr(request.config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "master"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright (skipped when not installed)."""
    from tests.web.browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} missing: browser tests must run in CI")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield _ChineseBrowser(chromium)
        chromium.close()


class _ChineseBrowser:
    """The browser of a Chinese-speaking user: pages send ``Accept-Language: zh-CN``
    (the app answers in the browser's language; headless Chromium would say en-US)."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def new_page(self, **options: Any) -> Any:
        return self._browser.new_page(**{"locale": "zh-CN", **options})

    def new_context(self, **options: Any) -> Any:
        return self._browser.new_context(**{"locale": "zh-CN", **options})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


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
