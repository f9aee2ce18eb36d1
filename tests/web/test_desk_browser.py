"""The supervisor's desk in Chromium (issue 18): search at desktop and phone size."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from geo.ingest.pipeline import ingest_file
from tests.helpers import TEST_PASSWORD, ensure_user, load_heat_city, write_csv
from tests.web.browser import PageWatch, live_server, logged_in_page, screenshot, wait_for_layers
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
        assert page.locator(".cg-legend").inner_text().count("%") == 6
        rows = page.get_by_test_id("rebound-table").locator("tbody tr")
        assert rows.count() == 3  # R1 → R2, #1 and #2 (30 days to the minute) in one grid
        screenshot(page, f"desk-hotspots-{size}")
        page.get_by_test_id("rebound-table").scroll_into_view_if_needed()
        screenshot(page, f"desk-hotspots-table-{size}")
        assert watch.console_errors == [] and watch.offorigin == []
        page.context.close()
