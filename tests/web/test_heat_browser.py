"""The heat maps in Chromium: shapes drawn, filters applied, legend, escaping, offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.helpers import TEST_PASSWORD, XSS, ensure_user, load_heat_city
from tests.web.browser import (
    PageWatch,
    abort_offorigin,
    browser_login,
    live_server,
    logged_in_page,
    screenshot,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("heat-browser")]
GRID = "329901001000001"  # its name holds markup, problem #1 an XSS description
WAIT_LOADED = (
    "(() => { const d = document.querySelector('.folium-map')?.dataset;"
    " return !!d && d.layersPending === '0' && d.heatLoading === '0'; })()"
)


@pytest.fixture(scope="module")
def heat_app(migrated_sqlite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One heat city per worker: the tests using it only look, click and filter."""
    from web import create_app

    folder = tmp_path_factory.mktemp("heat-city")
    engine = migrated_sqlite(folder / "heat.db")
    load_heat_city(engine, folder)
    url = engine.url.render_as_string(hide_password=False)
    yield create_app({"DATABASE_URL": url, "TESTING": True})
    engine.dispose()


def _open(browser: Any, base: str, path: str, app: Flask) -> tuple[Any, PageWatch]:
    viewport = {"width": 1280, "height": 860}
    page = logged_in_page(browser, base, app, ensure_user(app), TEST_PASSWORD, viewport=viewport)
    watch = PageWatch(page, base)
    page.goto(base + path)
    wait_until(page, WAIT_LOADED)
    return page, watch


def _counts(page: Any) -> dict[str, int]:
    return json.loads(page.eval_on_selector(".folium-map", "e => e.dataset.layerCounts"))


def _screen_xy(page: Any, lat: float, lon: float) -> tuple[float, float]:
    return page.evaluate(
        "([lat, lon]) => { const m = civicgridMap.map, p = m.latLngToContainerPoint([lat, lon]);"
        " const r = m.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }",
        [lat, lon],
    )


def _fill_of(page: Any, code: str) -> str:
    return page.evaluate(
        "code => { const c = civicgridMap.choropleth;"
        " return c.styleOf(c.entry.data.codes.indexOf(code)).fillColor; }",
        code,
    )


def _legend_classes(page: Any, breaks: list[float]) -> list[str]:
    """The count classes the legend shows for these breaks (the heat data otherwise as
    loaded); the legend is then redrawn from the real breaks."""
    return page.evaluate(
        "breaks => { const c = civicgridMap.choropleth, real = c.heat.data;"
        " c.updateLegend(Object.assign({}, real, {breaks: breaks}));"
        " const rows = [...document.querySelectorAll('[data-testid=heat-legend] .cg-legend-item')]"
        "   .map(e => e.textContent.trim());"
        " c.updateLegend(real); return rows.slice(1, 1 + breaks.length); }",
        breaks,
    )


def test_overview_heat_filters_legend_and_escaping(heat_app: Flask, browser) -> None:
    with live_server(heat_app) as base:
        page, watch = _open(browser, base, "/", heat_app)
        assert _counts(page)["heat"] == 8  # one shape per grid
        assert page.eval_on_selector(".folium-map", "e => e.dataset.heatShown") == "8"
        legend = page.get_by_test_id("heat-legend")
        assert legend.inner_text().startswith("未销号问题数 · 网格")
        assert _legend_classes(page, [3, 4, 6.5]) == ["1 – 3", "4", "5 – 6"]  # whole counts
        hot = _fill_of(page, GRID)  # two unresolved problems
        x, y = _screen_xy(page, 32.02, 120.8125)
        page.mouse.move(x - 5, y - 5)
        page.mouse.move(x, y, steps=4)
        tooltip = page.locator(".leaflet-tooltip", has_text=GRID)
        tooltip.wait_for()
        assert "<b>网格</b>1" in tooltip.inner_text()  # the name's markup shown as text
        page.mouse.click(x, y)
        link = page.locator(".leaflet-popup a", has_text="查看问题清单")
        assert link.get_attribute("href") == f"/grids/{GRID}"
        screenshot(page, "heat-overview")

        seq = page.eval_on_selector(".folium-map", "e => e.dataset.heatSeq")
        page.get_by_test_id("filter-category").select_option("illegal_ads")
        wait_until(
            page, f"(document.querySelector('.folium-map')?.dataset.heatSeq ?? '{seq}') !== '{seq}'"
        )
        wait_until(page, WAIT_LOADED)
        assert "category=illegal_ads" in page.url  # the view is in the URL
        assert _fill_of(page, GRID) != hot  # no unresolved illegal ads there
        page.get_by_test_id("filter-level").select_option("district")
        wait_until(
            page,
            "civicgridMap.choropleth.level === 'district'"
            " && document.querySelector('.folium-map')?.dataset.heatLoading === '0'",
        )
        assert page.eval_on_selector(".folium-map", "e => e.dataset.heatShown") == "2"
        assert "区" in page.get_by_test_id("heat-legend").inner_text()
        screenshot(page, "heat-overview-district-illegal-ads")

        page.get_by_test_id("filter-from").fill("2026-11-09")
        page.get_by_test_id("filter-to").fill("2026-11-01")
        page.get_by_test_id("filter-to").dispatch_event("change")
        notice = page.get_by_test_id("live-notice")
        notice.wait_for()
        assert "日期范围颠倒" in notice.inner_text()
        assert page.evaluate("window.__xss") is None
        assert watch.offorigin == []
        assert [e for e in watch.console_errors if "400" not in e] == []
        page.close()


def test_overview_in_english_keeps_the_view_in_the_url(heat_app: Flask, browser) -> None:
    with live_server(heat_app) as base:
        page, watch = _open(browser, base, "/?lang=en&metric=ontime&level=street", heat_app)
        assert _counts(page)["heat"] == 4
        assert page.get_by_test_id("heat-legend").inner_text().startswith("Share closed on time")
        page.locator(".leaflet-control-layers label", has_text="Problem point density").click()
        wait_until(page, "+document.querySelector('.folium-map')?.dataset.densityPoints > 0")
        screenshot(page, "heat-overview-en-ontime")
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()


def test_grid_page_markers_table_and_escaping(heat_app: Flask, browser) -> None:
    with live_server(heat_app) as base:
        page, watch = _open(browser, base, f"/grids/{GRID}", heat_app)
        counts = _counts(page)
        assert counts["heat"] == 1 and counts["problems"] == 2 and counts["points"] == 3
        rows = page.get_by_test_id("problem-table").locator("tbody tr")
        assert rows.count() == 2
        assert XSS in rows.first.inner_text()  # the description, as text
        x, y = _screen_xy(page, 32.01, 120.81)  # problem #1
        page.mouse.move(x - 20, y - 20)
        page.mouse.move(x, y, steps=5)
        page.locator(".leaflet-tooltip", has_text=XSS).wait_for()
        page.mouse.click(x, y)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert popup.locator("a").get_attribute("href") == "/problems/1"
        assert XSS in popup.inner_text()
        screenshot(page, "heat-grid-page")
        page.locator("th a", has_text="整改时限").click()
        wait_until(page, WAIT_LOADED)
        assert "sort=deadline" in page.url
        assert page.evaluate("window.__xss") is None
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()


def test_district_page_heat_density_and_filters(heat_app: Flask, browser) -> None:
    with live_server(heat_app) as base:
        page, watch = _open(browser, base, "/districts/329901", heat_app)
        counts = _counts(page)
        assert counts["heat"] == 4  # the district's grids
        # density: off by default over the choropleth; on, with its own legend
        assert counts["density"] == 0 and page.get_by_test_id("density-legend").count() == 0
        page.locator(".leaflet-control-layers label", has_text="问题点密度").click()
        wait_until(page, "+document.querySelector('.folium-map')?.dataset.densityPoints > 0")
        assert page.get_by_test_id("density-legend").is_visible()
        assert page.get_by_test_id("figures").inner_text().count("2") >= 1
        assert page.get_by_test_id("heat-legend").is_visible()
        screenshot(page, "heat-district-page")
        page.get_by_test_id("filter-status").select_option("all")
        page.wait_for_url("**status=all**")
        wait_until(page, WAIT_LOADED)
        assert page.get_by_test_id("problem-table").locator("tbody tr").count() == 4
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()


def test_gcj02_basemap_shifts_every_layer(sqlite_engine, tmp_path: Path, browser) -> None:
    from web import create_app

    load_heat_city(sqlite_engine, tmp_path)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": url, "TESTING": True, "BASEMAP": "amap"})
    with live_server(app) as base:
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        browser_login(page, base, ensure_user(app), TEST_PASSWORD)
        watch = PageWatch(page, base)
        tiles = abort_offorigin(page, base)
        page.goto(base + f"/grids/{GRID}")
        wait_until(page, WAIT_LOADED)
        corner = page.evaluate("civicgridMap.choropleth.entry.latlngs[0][0][0][0]")
        expected = page.evaluate("civicgridMap.wgsToGcj(120.80, 32.00)")
        assert corner == pytest.approx([expected[1], expected[0]], abs=1e-6)
        assert abs(corner[1] - 120.80) > 0.002  # a few hundred metres east
        marker = page.evaluate(
            "(() => { let ll; civicgridMap.groups.problems.eachLayer(g => g.eachLayer("
            "m => { if (m.feature.properties.id === 1) ll = m.getLatLng(); })); return ll; })()"
        )
        shifted = page.evaluate("civicgridMap.wgsToGcj(120.81, 32.01)")
        assert marker["lng"] == pytest.approx(shifted[0]) and marker["lat"] == pytest.approx(
            shifted[1]
        )
        assert tiles and all("autonavi.com" in t for t in tiles)  # only the basemap leaves
        assert {u for u in watch.offorigin if "autonavi.com" not in u} == set()
        page.close()


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_filters_changed_in_place_reach_exports_and_language_link(
    heat_app: Flask, browser, size: tuple[int, int]
) -> None:
    with live_server(heat_app) as base:
        viewport = {"width": size[0], "height": size[1]}
        page = logged_in_page(
            browser, base, heat_app, ensure_user(heat_app), TEST_PASSWORD, viewport=viewport
        )
        watch = PageWatch(page, base)
        page.goto(base + "/?kind=market")
        wait_until(page, WAIT_LOADED)
        phone = size[0] < 700
        if phone:
            page.get_by_test_id("filter-toggle").click()
        page.get_by_test_id("filter-category").select_option("illegal_ads")
        wait_until(page, "location.search.includes('category=illegal_ads')")
        csv = page.locator("a[data-cg-filtered-export]", has_text="CSV").get_attribute("href")
        assert csv.startswith("/export/problems.csv?") and "status=unresolved" in csv
        assert "category=illegal_ads" in csv and "kind=market" in csv
        screenshot(page, f"overview-filters-in-place-{'phone' if phone else 'desktop'}")
        if phone:
            page.get_by_test_id("menu").locator("summary").click()
        page.locator(".cg-lang a").click()
        page.wait_for_url("**lang=en**")
        assert "category=illegal_ads" in page.url and "kind=market" in page.url
        assert page.get_by_test_id("filter-category").input_value() == "illegal_ads"
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()
