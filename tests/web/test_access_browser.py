"""In Chromium: the login page, a grid manager's map showing only their grids, XSS as text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.access.users import create_user
from geo.storage.db import transaction
from geo.storage.models import Area
from tests.helpers import TEST_PASSWORD, XSS, load_scoped_city
from tests.web.browser import (
    PageWatch,
    browser_login,
    live_server,
    screenshot,
    wait_for_layers,
    wait_until,
)
from tests.web.test_heat_browser import _screen_xy
from web import database

pytestmark = pytest.mark.browser


@pytest.fixture
def scoped_app(sqlite_app: Flask, tmp_path: Path) -> Flask:
    app = sqlite_app  # browser checks run once; storage is covered on both backends elsewhere
    with app.app_context():
        engine = database.engine()
    load_scoped_city(engine, tmp_path)
    with transaction(engine) as s:
        # An area name with a payload: tooltips must show it as text.
        s.execute(sa.update(Area).where(Area.code == "329901001000002").values(name=f"北格{XSS}"))
        grids = ["grid:329901001000001", "grid:329901001000002"]
        create_user(s, "wangfang", TEST_PASSWORD, "grid_manager", f"王芳{XSS}", grids)
    return app


def test_login_page(scoped_app: Flask, browser) -> None:
    with live_server(scoped_app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        watch = PageWatch(page, base)
        page.goto(base + "/")
        assert page.url.startswith(base + "/login")
        assert page.locator("h2").inner_text() == "登录"
        screenshot(page, "login-zh")
        page.fill("#username", XSS)
        page.fill("#password", "wrong-password")
        page.click("button[type=submit]")
        error = page.locator("[data-testid=login-error]")
        assert "用户名或密码错误" in error.inner_text()
        assert page.input_value("#username") == XSS  # kept as text in the form
        assert page.evaluate("window.__xss") is None
        screenshot(page, "login-error")
        page.goto(base + "/login?lang=en")
        assert page.locator("h2").inner_text() == "Log in"
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()


def test_grid_manager_sees_only_their_grids(scoped_app: Flask, browser) -> None:
    with live_server(scoped_app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        watch = PageWatch(page, base)
        browser_login(page, base, "wangfang", TEST_PASSWORD)
        assert page.url == base + "/my"  # a grid manager's day starts at "my work"
        page.goto(base + "/")
        wait_for_layers(page)
        wait_until(page, "document.querySelector('.folium-map')?.dataset.heatLoading === '0'")
        counts = json.loads(page.eval_on_selector(".folium-map", "e => e.dataset.layerCounts"))
        assert counts["heat"] == 2 and counts["districts"] == 0  # their grids, no district
        assert page.eval_on_selector(".folium-map", "e => e.dataset.heatShown") == "2"
        stats = page.inner_text("[data-testid=stats]")
        assert "网格 2" in stats and "问题 1" in stats and "区 0" in stats and "点位 1" in stats
        user = page.inner_text("[data-testid=user]")
        assert XSS in user and "网格员" in user  # the display name shown as text
        heat = page.evaluate("fetch('/api/v1/heat?level=grid').then(r => r.json())")
        assert heat["codes"] == ["329901001000001", "329901001000002"]
        html = page.content()
        for hidden in ("枫桥", "西门", "南湖", "北岭", "329902"):
            assert hidden not in html
        # Hover the second grid: its tooltip shows the name (with a payload) as text.
        x, y = _screen_xy(page, 32.02, 120.8375)
        page.mouse.move(x - 5, y - 5)
        page.mouse.move(x, y, steps=4)
        tooltip = page.locator(".leaflet-tooltip", has_text="北格")
        tooltip.wait_for()
        assert XSS in tooltip.inner_text()
        screenshot(page, "grid-manager-map")
        assert page.evaluate("window.__xss") is None
        assert watch.offorigin == []
        assert watch.console_errors == []  # includes CSP violations
        page.click("text=退出")
        page.wait_for_url(lambda url: "/login" in url)
        page.close()
