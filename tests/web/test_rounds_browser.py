"""Browser: the round coverage page (map layer by latest result, unvisited points to plan
the route), a notice drafted and issued through its page, and an extension requested and
approved on the problem page."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.areas.units import unit_ids
from geo.storage.db import transaction
from geo.storage.models import Problem
from tests.helpers import TEST_PASSWORD, XSS, ensure_user
from tests.lifecycle_data import load_lifecycle_city, problem_id
from tests.rounds_data import load_round_city
from tests.web.browser import PageWatch, browser_login, live_server, screenshot, wait_for_layers

# The round's points sit in clusters (leaflet.markercluster): count and open them there.
COUNT_POINTS = """() => { let n = 0; ['visited', 'unvisited'].forEach(id => {
  const g = civicgridMap.groups[id]; if (!civicgridMap.map.hasLayer(g)) return;
  g.eachLayer(c => { n += c.getLayers().length; }); }); return n; }"""
OPEN_M1 = """() => new Promise(done => { let m; civicgridMap.groups.visited.eachLayer(c =>
  c.eachLayer(l => { if (l.feature.properties.code === 'M1') m = l; }));
  civicgridMap.map.setView(m.getLatLng ? m.getLatLng() : m.getBounds().getCenter(), 19,
  { animate: false });
  setTimeout(() => { m.openTooltip(); done(m.getTooltip().getElement().innerText); }, 300); })"""
ROUND_MAP = """() => { const g = civicgridMap.groups; const z = id =>
  +civicgridMap.map.getPane('cg-' + id).style.zIndex;
  return { clustered: ['visited', 'unvisited'].every(id =>
             g[id].getLayers()[0] instanceof L.MarkerClusterGroup),
           resultsOnTop: z('visited') > z('unvisited'),
           control: [...document.querySelectorAll('.leaflet-control-layers-overlays label')]
             .map(l => l.textContent.trim()),
           legend: [...document.querySelectorAll('.cg-legend-item')].map(i => i.innerText.trim()),
           overflow: document.documentElement.scrollWidth > innerWidth,
           layersOpen: !!document.querySelector('.leaflet-control-layers-expanded') }; }"""


def _engine(app: Flask):
    from web import database

    with app.app_context():
        return database.engine()


@pytest.fixture
def round_app(app: Flask, tmp_path: Path) -> Flask:
    engine = _engine(app)
    load_round_city(engine, tmp_path)
    with transaction(engine) as session:
        unit_ids(session, ["东门街道办事处"])
    return app


def _wait_map(page) -> dict:
    wait_for_layers(page)
    return json.loads(page.eval_on_selector(".folium-map", "e => e.dataset.layerCounts"))


@pytest.mark.browser
def test_coverage_page_and_a_notice(round_app: Flask, browser) -> None:
    with live_server(round_app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        browser_login(page, base, ensure_user(round_app), TEST_PASSWORD)
        watch = PageWatch(page, base)
        page.goto(f"{base}/rounds")
        page.click("[data-testid=rounds] a")
        assert _wait_map(page) == {"streets": 4, "visited": 3, "unvisited": 1}
        assert page.inner_text("[data-testid=kpi-not-visited]") == "1"
        assert page.inner_text("[data-testid=kpi-fail-rate]") == "33.3%"
        assert "南湖街道" in page.inner_text("[data-testid=by-area]")
        assert page.evaluate(COUNT_POINTS) == 4
        tooltip = page.evaluate(OPEN_M1)
        assert XSS in tooltip and "不合格" in tooltip  # the name shown as text
        screenshot(page, "round-coverage")
        page.get_by_label("已测评点位").uncheck()  # plan the route: only the unvisited
        assert page.evaluate(COUNT_POINTS) == 1
        screenshot(page, "round-coverage-unvisited")

        page.click("[data-testid=notice-link-329901001]")
        assert "草稿" in page.inner_text("[data-testid=notice-number]")
        assert XSS in page.inner_text("[data-testid=notice-point]")
        screenshot(page, "notice-draft")
        form = page.locator("[data-testid=issue-form]")
        form.locator("select[name=unit]").select_option("东门街道办事处")
        with page.expect_navigation():
            form.locator("button").click()
        assert page.inner_text("[data-testid=notice-number]") == "文明创建督查〔2026〕第1号"
        assert "已交办" in page.inner_text("[data-testid=notice-point]")
        screenshot(page, "notice-issued")
        pdf = page.request.get(f"{base}/notices/1.pdf")
        assert pdf.ok and pdf.body().startswith(b"%PDF")
        assert page.evaluate("window.__xss") is None
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_round_map_clusters_points_results_first(round_app: Flask, browser, size) -> None:
    with live_server(round_app) as base:
        page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        browser_login(page, base, ensure_user(round_app), TEST_PASSWORD)
        watch = PageWatch(page, base)
        page.goto(f"{base}/rounds/1")
        assert _wait_map(page) == {"streets": 4, "visited": 3, "unvisited": 1}
        state = page.evaluate(ROUND_MAP)
        assert state["clustered"] and state["resultsOnTop"] and not state["overflow"]
        assert state["layersOpen"] == (size[0] > 700)  # folded to its button on a phone
        assert state["control"][1:] == ["已测评点位", "未测评点位（待安排）"]
        assert state["legend"] == ["合格", "不合格", "严重不合格", "未测评"]
        icon = page.evaluate(
            "civicgridMap.groups.unvisited.getLayers()[0].options"
            ".iconCreateFunction({ getChildCount: () => 12 }).options"
        )  # a cluster: the layer's colour and the count
        assert icon["className"] == "cg-cluster cg-cluster-unvisited" and ">12<" in icon["html"]
        assert "#1565c0" in icon["html"]
        screenshot(page, f"round-map-clusters-{'phone' if size[0] < 700 else 'desktop'}")
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()


@pytest.mark.browser
def test_extension_requested_then_approved(app: Flask, browser, tmp_path: Path) -> None:
    engine = _engine(app)
    load_lifecycle_city(engine, tmp_path)
    with engine.begin() as conn:  # a deadline in the future, whenever the test runs
        conn.execute(sa.update(Problem).values(deadline=datetime(2030, 1, 1)))
    pid = problem_id(engine, "C1")
    with live_server(app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        browser_login(page, base, ensure_user(app), TEST_PASSWORD)
        watch = PageWatch(page, base)
        page.goto(f"{base}/problems/{pid}")
        page.click("[data-testid=more-request] summary")
        form = page.locator("[data-testid=form-request_extension]")
        form.locator("input[name=deadline]").fill("2030-01-10")
        form.locator("textarea[name=note]").fill("需协调物业，材料未到")
        with page.expect_navigation():
            form.locator("button").click()
        assert "延期申请" in page.inner_text("[data-testid=pending]")
        # A planner reads the same page but is offered no decision (the right is checked
        # again on the server: tests/web/test_rounds_web.py).
        planner = browser.new_page(viewport={"width": 1280, "height": 1000})
        browser_login(planner, base, ensure_user(app, "planner"), TEST_PASSWORD)
        planner.goto(f"{base}/problems/{pid}")
        assert "延期申请" in planner.inner_text("[data-testid=pending]")
        assert planner.locator("[data-testid=form-approve_extension]").count() == 0
        assert "仅可查看" in planner.inner_text("[data-testid=no-actions]")
        screenshot(planner, "problem-extension-planner")
        planner.close()
        decision = page.locator("[data-testid=form-approve_extension]")
        with page.expect_navigation():
            decision.locator("button").click()
        assert page.inner_text("[data-testid=extensions]") == "1"
        assert page.inner_text("[data-testid=deadline]").startswith("2030-01-10")
        assert "批准延期" in page.inner_text("[data-testid=timeline]")
        screenshot(page, "problem-extension-approved")
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()
