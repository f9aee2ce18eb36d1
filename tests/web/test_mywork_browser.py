"""Browser (issue 17): the phone app at 390×844 with touch — no page wider than the
screen, a report made offline is queued, survives a reload and is created exactly once
back online, and the service worker controls the page from the second load."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.helpers import TEST_PASSWORD, ensure_user
from tests.lifecycle_data import problem_id
from tests.web.browser import (
    PageWatch,
    abort_offorigin,
    browser_login,
    live_server,
    logged_in_page,
    screenshot,
    wait_until,
)
from tests.web.phone import GRID, HERE, PHONE, app_engine, load_phone_city, mobile_reports

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def city_app(sqlite_app: Flask, tmp_path: Path) -> Flask:
    return load_phone_city(sqlite_app, tmp_path)


def _mobile_reports(app: Flask) -> int:
    return len(mobile_reports(app))


@pytest.mark.browser
def test_phone_pages_fit_the_screen(city_app: Flask, browser) -> None:
    user = ensure_user(city_app, "grid_manager", [GRID])
    pid = problem_id(app_engine(city_app), "C1")
    with live_server(city_app) as base:
        page = logged_in_page(browser, base, city_app, user, TEST_PASSWORD, **PHONE)
        watch = PageWatch(page, base)
        for path, name in [
            ("/my", "phone-my"),
            ("/report", "phone-report"),
            (f"/problems/{pid}", "phone-problem"),
            ("/", "phone-overview"),
            ("/rankings", "phone-rankings"),
        ]:
            page.goto(base + path)
            page.wait_for_load_state("load")
            assert page.evaluate(NO_OVERFLOW), f"{path} is wider than the phone"
            screenshot(page, name)
        page.goto(base + "/")
        _one_line_export_button(page, "导出")
        page.goto(base + "/?lang=en")
        _one_line_export_button(page, "Export")
        page.goto(base + "/?lang=zh")
        page.click("[data-testid=menu] summary")
        links = page.locator(".cg-menu-list a")
        assert links.count() >= 5
        assert links.first.bounding_box()["height"] >= 44  # tap targets
        screenshot(page, "phone-menu")
        page.click("[data-testid=menu] summary")  # closes it again
        assert page.locator("form.cg-filters").is_hidden()  # folded behind a button
        page.click("[data-testid=filter-toggle]")
        assert page.locator("form.cg-filters").is_visible()
        assert page.evaluate(NO_OVERFLOW)
        assert not watch.console_errors and not watch.offorigin
        page.context.close()


def _one_line_export_button(page, label: str) -> None:
    """The header's export button reads ``label`` alone, on one line."""
    summary = page.locator("[data-testid=exports] summary")
    assert summary.inner_text().strip() == label
    lines = summary.evaluate(
        "s => { const r = document.createRange(); r.selectNodeContents(s);"
        " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
    )
    assert lines == 1, f"the export button wraps to {lines} lines"


@pytest.mark.browser
def test_a_report_made_offline_is_sent_once_when_back_online(city_app: Flask, browser) -> None:
    user = ensure_user(city_app, "grid_manager", [GRID])
    with live_server(city_app) as base:
        page = logged_in_page(
            browser, base, city_app, user, TEST_PASSWORD,
            geolocation=HERE, permissions=["geolocation"], **PHONE,
        )  # fmt: skip
        page.goto(base + "/report")
        wait_until(page, "navigator.serviceWorker.controller !== null || !!window.__cgReload")
        page.reload()
        assert page.evaluate("navigator.serviceWorker.controller !== null")  # second load
        wait_until(page, "document.querySelector('[name=lon]').value !== ''")

        page.context.set_offline(True)
        page.select_option("[data-testid=category]", "litter")
        page.fill("[data-testid=description]", "离线上报的垃圾堆")
        page.click("[data-testid=submit]")
        wait_until(page, "document.querySelector('[data-testid=queue-count]') !== null")
        assert page.inner_text("[data-testid=queue-count]") == "1"
        page.reload()  # offline: the page comes from the service worker's cache
        wait_until(page, "document.querySelector('[data-testid=queue-count]') !== null")
        assert page.inner_text("[data-testid=queue-count]") == "1"
        page.locator("[data-testid=queue-status]").scroll_into_view_if_needed()
        screenshot(page, "phone-report-queued")
        assert _mobile_reports(city_app) == 0

        page.context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        wait_until(page, "document.querySelector('[data-testid=queue-sent]') !== null")
        assert page.locator("[data-testid=queue-count]").count() == 0
        page.evaluate("window.cgQueue.flush()")  # a second flush finds nothing to send
        assert _mobile_reports(city_app) == 1
        page.locator("[data-testid=queue-status]").scroll_into_view_if_needed()
        screenshot(page, "phone-report-sent")
        page.context.close()


def _count_report_post(request, sent: list[str]) -> None:
    if request.method == "POST" and "/api/v1/reports" in request.url:
        sent.append(request.url)


def _queue_reason(page) -> str:
    wait_until(page, "document.querySelector('[data-testid=queue-reason]') !== null")
    return page.inner_text("[data-testid=queue-reason]")


@pytest.mark.browser
def test_a_report_outside_my_grids_stays_queued_with_the_reason(city_app: Flask, browser) -> None:
    user = ensure_user(city_app, "grid_manager", [GRID])
    elsewhere = {"latitude": 32.011, "longitude": 120.92, "accuracy": 20}  # the other district
    with live_server(city_app) as base:
        page = logged_in_page(
            browser, base, city_app, user, TEST_PASSWORD,
            geolocation=elsewhere, permissions=["geolocation"], **PHONE,
        )  # fmt: skip
        sent: list[str] = []
        page.on("request", lambda r: _count_report_post(r, sent))
        page.goto(base + "/report")
        wait_until(page, "!document.querySelector('[data-testid=location-warning]').hidden")
        assert "网格" in page.inner_text("[data-testid=location-warning]")
        page.click("[data-testid=submit]")
        assert "管辖范围" in _queue_reason(page)  # the server's reason, kept
        assert page.inner_text("[data-testid=queue-count]") == "1"
        assert _mobile_reports(city_app) == 0
        assert len(sent) == 1
        # refused, so not sent again: neither by another flush nor by the next page
        page.evaluate("window.cgQueue.flush()")
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.reload()
        wait_until(page, "document.querySelector('[data-testid=queue-reason]') !== null")
        page.evaluate("window.cgQueue.flush()")
        assert len(sent) == 1, sent
        assert "管辖范围" in _queue_reason(page) and "不会再发送" in _queue_reason(page)
        assert "1 条上报未被接受" in page.inner_text("[data-testid=queue-status]")
        page.locator("[data-testid=queue-status]").scroll_into_view_if_needed()
        screenshot(page, "phone-report-refused")
        page.click("[data-testid=queue-discard]")
        wait_until(page, "document.querySelector('[data-testid=queue-count]') === null")
        page.context.close()


@pytest.mark.browser
def test_a_queue_replayed_after_the_session_expired_asks_to_log_in(
    city_app: Flask, browser
) -> None:
    user = ensure_user(city_app, "grid_manager", [GRID])
    with live_server(city_app) as base:
        page = logged_in_page(
            browser, base, city_app, user, TEST_PASSWORD,
            geolocation=HERE, permissions=["geolocation"], **PHONE,
        )  # fmt: skip
        page.goto(base + "/report")
        wait_until(page, "document.querySelector('[name=lon]').value !== ''")
        page.context.set_offline(True)
        page.click("[data-testid=submit]")
        wait_until(page, "document.querySelector('[data-testid=queue-count]') !== null")
        page.context.clear_cookies()  # the session ends while the phone is offline
        page.context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        assert "登录" in _queue_reason(page)
        assert page.inner_text("[data-testid=queue-count]") == "1"
        assert _mobile_reports(city_app) == 0

        browser_login(page, base, user, TEST_PASSWORD)  # any page sends the queue then
        page.goto(base + "/report")
        wait_until(page, "window.cgQueue.all().then(items => items.length === 0)")
        assert _mobile_reports(city_app) == 1
        page.context.close()


MARKER_SHIFT = """() => { const h = document.getElementById('cg-my-map'); const out = [];
  h.cgMap.eachLayer(l => { if (l.feature && l.feature.geometry.type === 'Point') {
    const [lon, lat] = l.feature.geometry.coordinates, g = civicgridMap.wgsToGcj(lon, lat);
    out.push([l.getLatLng().lng - g[0], l.getLatLng().lat - g[1], l.getLatLng().lng - lon]); } });
  return out; }"""


@pytest.mark.browser
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_my_and_report_maps_use_the_configured_basemap_shifted_for_gcj02(
    city_app: Flask, browser, size: str
) -> None:
    city_app.config["BASEMAP"] = "amap"  # GCJ-02 tiles: every layer shifts onto them
    user = ensure_user(city_app, "grid_manager", [GRID])
    options = PHONE if size == "phone" else {"viewport": {"width": 1440, "height": 900}}
    with live_server(city_app) as base:
        page = logged_in_page(browser, base, city_app, user, TEST_PASSWORD, **options)
        tiles = abort_offorigin(page, base)
        page.goto(base + "/my")
        wait_until(page, "document.getElementById('cg-my-map').dataset.ready === '1'")
        assert page.evaluate("document.getElementById('cg-my-map').dataset.gcj02") == "1"
        shifts = page.evaluate(MARKER_SHIFT)
        assert shifts and all(
            abs(dx) < 1e-9 and abs(dy) < 1e-9 and abs(raw) > 1e-4 for dx, dy, raw in shifts
        )
        assert tiles and all("autonavi.com" in t for t in tiles)  # the configured AMap tiles
        screenshot(page, f"gcj02-my-{size}")
        page.goto(base + "/report")
        wait_until(page, "!!document.getElementById('cg-report-map').cgMap")
        tapped = page.evaluate(  # a tap on the map at its centre (as Leaflet reports one)
            "() => { const m = document.getElementById('cg-report-map').cgMap, c = m.getCenter();"
            " m.fire('click', { latlng: c }); return [c.lng, c.lat]; }"
        )
        wait_until(page, "document.querySelector('[name=lat]').value !== ''")
        # the picked place is stored in WGS-84: shifted onto the tiles it is where the user
        # tapped, and it differs from the tapped map coordinates by the shift
        lon, lat = page.evaluate(
            "() => { const f = document.querySelector('[name=lat]').form;"
            " return civicgridMap.wgsToGcj(+f.lon.value, +f.lat.value); }"
        )
        stored = page.evaluate("() => +document.querySelector('[name=lon]').value")
        gap = [abs(lon - tapped[0]), abs(lat - tapped[1]), abs(stored - tapped[0])]
        assert gap[0] < 2e-5 and gap[1] < 2e-5 and gap[2] > 1e-4
        screenshot(page, f"gcj02-report-{size}")
        page.context.close()
