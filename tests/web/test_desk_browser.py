"""The supervisor's desk in Chromium (issue 18): search at desktop and phone size."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from geo.ingest.pipeline import ingest_file
from tests.helpers import TEST_PASSWORD, ensure_user, load_heat_city, write_csv
from tests.web.browser import (
    PageWatch,
    live_server,
    logged_in_page,
    screenshot,
    wait_for_layers,
    wait_until,
)
from tests.web.test_hotspots_web import REBOUNDS

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("desk-browser")]
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def desk_app(migrated_sqlite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One heat city per worker: these tests only look and search."""
    from web import create_app

    folder = tmp_path_factory.mktemp("desk-city")
    engine = migrated_sqlite(folder / "desk.db")
    load_heat_city(engine, folder)
    ingest_file(engine, write_csv(folder / "rebounds.csv", REBOUNDS))
    url = engine.url.render_as_string(hide_password=False)
    yield create_app({"DATABASE_URL": url, "TESTING": True})
    engine.dispose()


def _page(browser: Any, base: str, app: Flask, role: str, size: str) -> tuple[Any, PageWatch]:
    user = ensure_user(app, role)
    page = logged_in_page(browser, base, app, user, TEST_PASSWORD, viewport=SIZES[size])
    return page, PageWatch(page, base)


def _search(page: Any, base: str, text: str) -> None:
    page.goto(base + "/search")
    page.get_by_test_id("search-input").fill(text)
    page.get_by_test_id("search-input").press("Enter")
    page.wait_for_load_state()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_search_as_city_officer_and_grid_manager(desk_app: Flask, browser, size: str) -> None:
    with live_server(desk_app) as base:
        page, watch = _page(browser, base, desk_app, "city_officer", size)
        _search(page, base, "5")  # a problem number opens the problem
        assert page.url.endswith("/problems/5")
        _search(page, base, "临江")  # a point by name, in the other district
        assert "临江实验小学" in page.get_by_test_id("group-points").inner_text()
        _search(page, base, "网格")
        assert page.get_by_test_id("group-areas").locator("li").count() == 8
        screenshot(page, f"desk-search-city-{size}")
        wide = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert wide, "the results page scrolls sideways"
        assert watch.console_errors == [] and watch.offorigin == []
        page.context.close()

        page, watch = _page(browser, base, desk_app, "grid_manager", size)
        _search(page, base, "网格")  # only the two grids of 东门街道
        grids = page.get_by_test_id("group-areas").locator("li")
        assert grids.count() == 2 and "329901001000002" in grids.nth(1).inner_text()
        _search(page, base, "临江")
        assert page.get_by_test_id("search-none").is_visible()
        _search(page, base, "#1")  # problem 1 lies in their grid 329901001000001: it opens
        assert page.url.endswith("/problems/1")
        _search(page, base, "6")  # problem 6 lies outside the grid manager's grids
        assert "/problems/" not in page.url
        page.get_by_test_id("search-input").fill("农贸")
        page.get_by_test_id("search-input").press("Enter")
        page.wait_for_load_state()
        page.get_by_test_id("group-points").locator("a").first.click()
        page.wait_for_url("**/grids/329901001000001")
        screenshot(page, f"desk-search-grid-manager-{size}")
        assert watch.console_errors == [] and watch.offorigin == []
        page.context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_hotspots_page_draws_its_layers_and_tables(desk_app: Flask, browser, size: str) -> None:
    with live_server(desk_app) as base:
        page, watch = _page(browser, base, desk_app, "city_officer", size)
        page.goto(base + "/hotspots?days=30")
        wait_for_layers(page)
        counts = page.eval_on_selector(".folium-map", "e => JSON.parse(e.dataset.layerCounts)")
        assert counts["rebounds"] == 1 and counts["hotspots"] >= 0 and counts["districts"] == 2
        assert page.locator(".cg-legend").text_content().count("%") == 6  # folded on phones
        rows = page.get_by_test_id("rebound-table").locator("tbody tr")
        assert rows.count() == 3  # R1 → R2, #1 and #2 (30 days to the minute) in one grid
        screenshot(page, f"desk-hotspots-{size}")
        page.get_by_test_id("rebound-table").scroll_into_view_if_needed()
        screenshot(page, f"desk-hotspots-table-{size}")
        assert watch.console_errors == [] and watch.offorigin == []
        page.context.close()


# --- the offline vector basemap --------------------------------------------------------

NO_OVERLAP = """z => {
  const index = civicgridMap.basemap.names.labelers.getIndex(z);
  const boxes = index.tree.all();
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.indexedLabel === b.indexedLabel) continue;
      if (a.minX < b.maxX && b.minX < a.maxX && a.minY < b.maxY && b.minY < a.maxY) return false;
    }
  return boxes.length > 0;
}"""


@pytest.fixture(scope="module")
def basemap_app(desk_app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The desk city's database with a PMTiles basemap made from its own geography."""
    from geo.demo.basemap import build_basemap
    from tests.helpers import DISTRICTS, GRIDS, POINTS, STREETS, write_geojson
    from web import create_app

    folder = tmp_path_factory.mktemp("desk-basemap")
    for name, features in (
        ("districts", DISTRICTS),
        ("streets", STREETS),
        ("grids", GRIDS),
        ("points", POINTS),
    ):
        write_geojson(folder / f"{name}.geojson", features)
    path = build_basemap(folder, folder / "city.pmtiles").path
    url = desk_app.config["DATABASE_URL"]
    yield create_app(
        {"DATABASE_URL": url, "TESTING": True, "BASEMAP": "pmtiles", "PMTILES_PATH": str(path)}
    )


def _zoom_to(page: Any, lat: float, lon: float, zoom: int) -> None:
    page.evaluate(f"civicgridMap.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    wait_until(page, f"(civicgridMap.basemapLabels[{zoom}] || null) !== null")
    page.wait_for_timeout(400)  # the labeler finishes the tiles in view


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_basemap_tiles_come_from_this_origin_with_labels_at_three_zooms(
    basemap_app: Flask, browser, size: str
) -> None:
    with live_server(basemap_app) as base:
        page, watch = _page(browser, base, basemap_app, "city_officer", size)
        ranges: list[int] = []
        page.on(
            "response", lambda r: ranges.append(r.status) if "/basemap.pmtiles" in r.url else None
        )
        page.goto(base + "/")
        wait_until(page, "document.querySelector('.folium-map')?.dataset.basemap === 'ready'")
        wait_until(
            page,
            "document.querySelectorAll('.leaflet-tile-pane canvas.leaflet-tile-loaded').length > 0",
        )
        _zoom_to(page, 32.02, 120.90, 12)
        labels = page.evaluate("civicgridMap.basemapLabels")
        assert {"云溪区", "枫桥区"} <= set(labels["12"])  # districts at city scale
        assert page.evaluate(f"({NO_OVERLAP})(12)")
        screenshot(page, f"desk-basemap-z12-{size}")
        _zoom_to(page, 32.02, 120.85, 14)
        streets = {
            n
            for n, kind in page.evaluate("civicgridMap.basemapLabels")["14"].items()
            if kind == "street"
        }
        assert streets & {"东门街道", "西门街道"}
        assert page.evaluate(f"({NO_OVERLAP})(14)")
        _zoom_to(page, 32.02, 120.8125, 16)
        grids = {
            n
            for n, kind in page.evaluate("civicgridMap.basemapLabels")["16"].items()
            if kind == "grid"
        }
        assert grids, "no grid names when zoomed in"
        assert page.evaluate(f"({NO_OVERLAP})(16)")
        screenshot(page, f"desk-basemap-z16-{size}")
        assert ranges and set(ranges) == {206}  # the header, directories and tiles: ranges
        assert watch.offorigin == [] and watch.console_errors == []
        page.context.close()


# --- the dashboard --------------------------------------------------------------------


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_dashboard_draws_its_charts_with_the_rankings_figures(
    desk_app: Flask, browser, size: str
) -> None:
    with live_server(desk_app) as base:
        page, watch = _page(browser, base, desk_app, "city_officer", size)
        page.goto(base + "/dashboard?period=2026-11")
        wait_until(page, "document.body.dataset.chartsDrawn === '7'")
        drawn = page.evaluate(
            "[...document.querySelectorAll('.cg-chart')].map(e => !!echarts.getInstanceByDom(e)"
            " && e.querySelector('canvas') !== null)"
        )
        assert drawn == [True] * 7
        backlog = page.evaluate(
            "echarts.getInstanceByDom(document.getElementById('cg-chart-backlog')).getOption()"
        )
        assert [s["name"] for s in backlog["series"]] == ["未销号（期末）", "超期未整改（期末）"]
        page.get_by_test_id("chart-backlog").locator("summary").click()
        assert page.get_by_test_id("table-backlog").is_visible()
        chart = page.evaluate(
            "echarts.getInstanceByDom(document.getElementById('cg-chart-districts')).getOption()"
        )
        ranking = page.evaluate(
            "fetch('/api/v1/rankings?level=district&period=2026-11').then(r => r.json())"
        )
        rates = {r["name"]: r["closure_rate"] for r in ranking["rows"]}
        shown = dict(zip(chart["xAxis"][0]["data"], chart["series"][0]["data"], strict=True))
        assert shown == rates  # exact: rounded once, only in the texts shown
        # The tooltip shows the rankings' text of the rate (one rounding, from the counts).
        first = chart["xAxis"][0]["data"][0]
        texts = {r["name"]: r["display"]["closure_rate"] for r in ranking["rows"]}
        tip = page.evaluate(
            "(() => { const e = document.getElementById('cg-chart-districts');"
            " echarts.getInstanceByDom(e).dispatchAction("
            "{type: 'showTip', seriesIndex: 0, dataIndex: 0}); return e.innerText; })()"
        )
        assert first in tip and texts[first] in tip
        names = page.evaluate(
            "echarts.getInstanceByDom(document.getElementById('cg-chart-categories'))"
            ".getModel().getComponent('xAxis').axis.getViewLabels().length"
        )
        assert names == 9  # the top 8 categories and the rest: every bar named
        page.get_by_test_id("chart-districts").locator("summary").click()
        assert page.get_by_test_id("table-districts").is_visible()
        screenshot(page, f"desk-dashboard-{size}")
        wide = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert wide, "the dashboard scrolls sideways"
        assert watch.console_errors == [] and watch.offorigin == []
        page.context.close()
