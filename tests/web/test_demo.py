"""The demo city: `civicgrid demo` builds it, and the overview map shows all of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from geo import queries
from geo.db import make_engine, session_factory
from tests.web.browser import PageWatch, live_server, screenshot
from web import create_app


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    builder = create_app({"DATABASE_URL": url, "TESTING": True})
    result = builder.test_cli_runner().invoke(args=["demo", "--no-serve", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "grid: 1502" in result.output
    yield create_app({"DATABASE_URL": url, "TESTING": True, "DEMO_OUTPUT": result.output})


def test_demo_database_has_the_whole_city(demo_app: Flask) -> None:
    engine = make_engine(demo_app.config["DATABASE_URL"])
    with session_factory(engine)() as session:
        counts = queries.counts(session)
    assert counts["district"] == 4 and counts["street"] == 16
    assert counts["grid"] == 1502 and counts["points"] == 809
    assert counts["problems"] == 20000 + 272  # the problems file + those of the demo round
    assert "round: 2026年第四季度实地测评, 579 次测评" in demo_app.config["DEMO_OUTPUT"]


def test_demo_missing_files_is_a_clear_error(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}", "DEMO_DIR": str(tmp_path)})
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 2
    assert "missing demo files" in result.output and "grids.geojson" in result.output


@pytest.mark.browser
def test_demo_overview_in_chromium(demo_app: Flask, browser) -> None:
    with live_server(demo_app) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        watch = PageWatch(page, base)
        page.goto(base + "/")
        page.wait_for_function(
            "document.querySelector('.folium-map')?.dataset.layersPending === '0'"
        )
        counts = json.loads(page.eval_on_selector(".folium-map", "e => e.dataset.layerCounts"))
        assert counts == {"heat": 1502, "districts": 4, "density": 0, "points": 809}
        assert "网格 1502" in page.inner_text("[data-testid=stats]")
        screenshot(page, "overview-demo")
        assert watch.offorigin == []
        assert watch.console_errors == []
        page.close()


@pytest.mark.browser
def test_demo_round_coverage_in_chromium(demo_app: Flask, browser) -> None:
    with live_server(demo_app) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        watch = PageWatch(page, base)
        page.goto(base + "/rounds/1")
        page.wait_for_function(
            "document.querySelector('.folium-map')?.dataset.layersPending === '0'"
        )
        counts = json.loads(page.eval_on_selector(".folium-map", "e => e.dataset.layerCounts"))
        assert counts == {"streets": 16, "visited": 579, "unvisited": 230}
        assert page.inner_text("[data-testid=kpi-not-visited]") == "230"
        screenshot(page, "round-coverage-demo")
        page.locator("[data-testid=by-area] a.cg-notice-link").first.click()
        assert "草稿" in page.inner_text("[data-testid=notice-number]")
        screenshot(page, "notice-draft-demo")
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()
