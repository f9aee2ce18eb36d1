"""The demo city: `civicgrid demo` builds it, and the overview map shows all of it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.access.scope import Scope
from geo.demo.reuse import demo_fingerprint, stamp_path
from geo.reports import queries
from geo.storage.db import make_engine, session_factory
from tests.web.browser import (
    PageWatch,
    browser_login,
    live_server,
    logged_in_page,
    screenshot,
    wait_for_layers,
)
from web import create_app

# Building the demo city is the slowest fixture of the suite: once per run, on one worker.
pytestmark = pytest.mark.xdist_group("demo-city")
DEMO_OUTPUT: dict[str, str] = {}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    builder = create_app({"DATABASE_URL": url, "TESTING": True})
    args = ["demo", "--no-serve", "--database-url", url]
    result = builder.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "grid: 1502 个区域" in result.output  # a Chinese terminal
    DEMO_OUTPUT["text"] = result.output
    yield create_app({"DATABASE_URL": url, "TESTING": True, "DEMO_OUTPUT": result.output})


def demo_password(username: str) -> str:
    """The password `civicgrid demo` printed for ``username``."""
    for line in DEMO_OUTPUT["text"].splitlines():
        parts = line.split()
        if parts and parts[0] == username:
            return parts[1]
    raise AssertionError(f"{username} not in the demo output")


@pytest.mark.slow  # builds the whole demo city once
def test_demo_database_has_the_whole_city(demo_app: Flask) -> None:
    engine = make_engine(demo_app.config["DATABASE_URL"])
    with session_factory(engine)() as session:
        counts = queries.counts(session, scope=Scope.city())
    assert counts["district"] == 4 and counts["street"] == 16
    assert counts["grid"] == 1502 and counts["points"] == 809
    assert counts["problems"] == 20000 + 272  # the problems file + those of the demo round
    assert "round: 2026年第四季度实地测评, 579 次测评" in demo_app.config["DEMO_OUTPUT"]


@pytest.mark.slow  # builds the whole demo city once
def test_demo_problems_have_a_recorded_history(demo_app: Flask) -> None:
    """Every demo problem's events run from its report to its stored status, in time order,
    and every path of the lifecycle occurs (geo/demo/history.py)."""
    import pandas as pd

    engine = make_engine(demo_app.config["DATABASE_URL"])
    with engine.connect() as conn:
        events = pd.read_sql(
            "SELECT problem_id, at, action, from_status, to_status FROM problem_events "
            "ORDER BY problem_id, at, id",
            conn,
        )
        problems = pd.read_sql("SELECT id, status FROM problems WHERE source = 'demo'", conn)
    events = events[events["problem_id"].isin(problems["id"])]
    first = events.groupby("problem_id").head(1)
    assert (first["action"] == "report").all() and len(first) == len(problems) == 20000
    last = events.groupby("problem_id").tail(1).set_index("problem_id")["to_status"]
    assert (problems.set_index("id")["status"] == last).all()
    previous = events.groupby("problem_id")["to_status"].shift()
    assert ((previous == events["from_status"]) | previous.isna()).all()  # an unbroken chain
    actions = set(events["action"])
    assert {"assign", "rectify", "close", "reopen", "approve_extension", "send_back"} <= actions
    assert {"approve_hold", "void"} <= actions and set(problems["status"]) >= {"held", "voided"}
    assert "history: " in demo_app.config["DEMO_OUTPUT"]


def test_demo_missing_files_is_a_clear_error(tmp_path: Path) -> None:
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}",
            "DEMO_DIR": str(tmp_path),
            "TESTING": True,
        }
    )
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 2
    assert "缺少示例数据" in result.output and "grids.geojson" in result.output
    result = app.test_cli_runner().invoke(
        args=["demo", "--no-serve"], env={"LC_ALL": "en_US.UTF-8"}
    )
    assert result.exit_code == 2
    assert "missing demo files" in result.output and "grids.geojson" in result.output


@pytest.mark.browser
@pytest.mark.slow  # builds the whole demo city once
def test_demo_overview_in_chromium(demo_app: Flask, browser) -> None:
    with live_server(demo_app) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        watch = PageWatch(page, base)
        browser_login(page, base, "demo-city", demo_password("demo-city"), remember=demo_app)
        page.goto(base + "/")
        wait_for_layers(page)
        counts = json.loads(page.eval_on_selector(".folium-map", "e => e.dataset.layerCounts"))
        assert counts == {"heat": 1502, "districts": 4, "density": 0, "points": 809}
        assert "网格 1502" in page.inner_text("[data-testid=stats]")
        screenshot(page, "overview-demo")
        assert watch.offorigin == []
        assert watch.console_errors == []
        page.close()


@pytest.mark.browser
@pytest.mark.slow  # builds the whole demo city once
def test_demo_round_coverage_in_chromium(demo_app: Flask, browser) -> None:
    with live_server(demo_app) as base:
        page = logged_in_page(
            browser, base, demo_app, "demo-city", demo_password("demo-city"),
            viewport={"width": 1400, "height": 1100},
        )  # fmt: skip
        watch = PageWatch(page, base)
        page.goto(base + "/rounds/1")
        wait_for_layers(page)
        counts = json.loads(page.eval_on_selector(".folium-map", "e => e.dataset.layerCounts"))
        assert counts == {"streets": 16, "visited": 579, "unvisited": 230}
        assert page.inner_text("[data-testid=kpi-not-visited]") == "230"
        screenshot(page, "round-coverage-demo")
        page.locator("[data-testid=by-area] a.cg-notice-link").first.click()
        assert "草稿" in page.inner_text("[data-testid=notice-number]")
        screenshot(page, "notice-draft-demo")
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()


@pytest.mark.slow  # builds the whole demo city once
def test_demo_prints_one_account_per_role(demo_app: Flask) -> None:
    from tests.helpers import login_client

    text = DEMO_OUTPUT["text"]
    assert "示例账号（密码只显示这一次）:" in text
    for username, role in [
        ("demo-admin", "admin"),
        ("demo-city", "city_officer"),
        ("demo-district", "district_officer"),
        ("demo-grid", "grid_manager"),
        ("demo-planner", "planner"),
    ]:
        line = next(line for line in text.splitlines() if line.split()[:1] == [username])
        assert role in line
    client = demo_app.test_client()
    assert login_client(client, "demo-grid", demo_password("demo-grid")).status_code == 302
    grids = client.get("/api/v1/areas?level=grid").get_json(force=True)["features"]
    districts = client.get("/api/v1/areas?level=district").get_json(force=True)["features"]
    assert len(grids) == 2 and districts == []
    problems = client.get("/api/v1/problems?limit=1").get_json()["total"]
    assert 0 < problems < 20000  # the two busiest grids of the first district
    other = demo_app.test_client()
    assert login_client(other, "demo-district", demo_password("demo-district")).status_code == 302
    assert len(other.get("/api/v1/areas?level=district").get_json(force=True)["features"]) == 1


@pytest.mark.slow  # builds the whole demo city once
def test_demo_scores_spread_and_pages_open_on_the_last_complete_period(demo_app: Flask) -> None:
    """Issue 16 item 7 on the demo: the quarter's scores spread (no 0.0, no 100 for every
    area), and /rankings and /scores open on the last complete week and quarter."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from tests.helpers import login_client

    client = demo_app.test_client()
    assert login_client(client, "demo-city", demo_password("demo-city")).status_code == 302
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    year, week, _ = (today - timedelta(days=7)).isocalendar()  # in the last complete week
    ranking = client.get("/api/v1/rankings?level=street").get_json()
    assert ranking["period"] == f"{year}-W{week:02d}" and ranking["published_at"]
    quarter = (today.month - 1) // 3  # the current one's index 0–3: the one before it
    last = f"{today.year}-Q{quarter}" if quarter else f"{today.year - 1}-Q4"
    assert client.get("/api/v1/scores").get_json()["period"] == last
    # 2026-Q3 per street (全国文明城市测评): 61.8 (紫泾街道) to 83.3 (白埭镇), median 78.2.
    rows = client.get("/api/v1/scores?level=street&period=2026-Q3").get_json()["rows"]
    scores = sorted(float(r["civilized_city"]) for r in rows)
    assert len(scores) == 16 and (round(scores[0], 1), round(scores[-1], 1)) == (61.8, 83.3)
    districts = client.get("/api/v1/scores?level=district&period=2026-Q3").get_json()["rows"]
    assert all(70 <= r["civilized_city"] <= 80 for r in districts)
    # The rural scheme scores the five towns only, not the eleven city streets.
    assert sum(r["rural_environment"] is not None for r in rows) == 5


def test_demo_publishes_the_periods_just_closed(demo_app: Flask) -> None:
    """The demo publishes what the daily timer would (`civicgrid publish`), so its bulletin
    archive opens with the last complete week's bulletin, as HTML and PDF."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from tests.helpers import login_client

    assert "已发布刚结束的周、月、季度: 新发布 20 项" in DEMO_OUTPUT["text"]
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    year, week, _ = (today - timedelta(days=7)).isocalendar()
    client = demo_app.test_client()
    assert login_client(client, "demo-city", demo_password("demo-city")).status_code == 302
    archive = client.get("/bulletins").get_data(as_text=True)
    assert f"{year}-W{week:02d}" in archive
    link = next(p for p in archive.split('"') if p.startswith("/bulletins/") and p[11:].isdigit())
    assert client.get(link).status_code == 200
    pdf = client.get(link + ".pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return None


@pytest.mark.slow  # builds the whole demo city once (then each run reuses a copy)
@pytest.mark.parametrize(
    ("command", "stop"),
    [
        (["-m", "web"], signal.SIGINT),
        (["-m", "flask", "--app", "web"], signal.SIGINT),
        (["-m", "web"], signal.SIGTERM),
    ],
)
def test_demo_command_serves_until_ctrl_c(
    demo_app: Flask, tmp_path: Path, command: list[str], stop: signal.Signals
) -> None:
    """`civicgrid demo` (and `flask --app web demo`) really serves: /login answers, the
    accounts and the URL are printed, the database built before is reused, Ctrl-C stops it."""
    built = Path(sa.make_url(demo_app.config["DATABASE_URL"]).database or "")
    for name in (built.name, built.name + ".stamp"):  # a copy: passwords get renewed
        shutil.copy(built.parent / name, tmp_path / name)
    port = _free_port()
    args = [
        *command,
        "demo",
        "--port",
        str(port),
        "--database-url",
        f"sqlite:///{tmp_path / built.name}",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        status = None
        while status is None and time.monotonic() < deadline and proc.poll() is None:
            status = _get(f"http://127.0.0.1:{port}/login")
            time.sleep(0.3)
        assert status == 200, proc.communicate(timeout=5)[0] if proc.poll() is not None else ""
        proc.send_signal(stop)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    assert "沿用已构建的示例数据库" in output
    assert "demo-admin" in output and f"http://127.0.0.1:{port}/" in output
    assert "Ignoring a call to 'app.run()'" not in output
    assert "已停止" in output


def test_demo_fingerprint_follows_the_files(tmp_path: Path) -> None:
    (tmp_path / "a.geojson").write_text("{}")
    taxonomy = tmp_path / "taxonomy.toml"
    taxonomy.write_text("x = 1\n")
    before = demo_fingerprint(tmp_path, [taxonomy])
    assert demo_fingerprint(tmp_path, [taxonomy]) == before
    taxonomy.write_text("x = 2\n")
    assert demo_fingerprint(tmp_path, [taxonomy]) != before
    assert stamp_path(f"sqlite:///{tmp_path / 'demo.db'}") == tmp_path / "demo.db.stamp"
    assert stamp_path("postgresql+psycopg://u@h/db") is None
