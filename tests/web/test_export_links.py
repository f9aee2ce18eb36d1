"""The overview page's export menu: links to every download and the standard APIs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from tests.exportdata import load_export_city
from tests.helpers import TEST_PASSWORD, ensure_user, signed_in
from tests.web.browser import PageWatch, browser_login, live_server, screenshot, wait_for_layers


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        load_export_city(database.engine(), tmp_path)
    return app


def test_every_link_of_the_menu_works(city_app) -> None:
    client = signed_in(city_app)
    html = client.get("/").get_data(as_text=True)
    assert "<summary>导出</summary>" in html  # one language per request
    start = html.index('data-testid="exports"')
    links = [part.split('"')[0] for part in html[start:].split('href="')[1:]]
    links = [
        link.replace("&amp;", "&")
        for link in links
        if link.startswith(("/export", "/ogcapi", "/open311"))
    ]
    assert len(links) == 13
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        response.close()
    assert "Export" in client.get("/?lang=en").get_data(as_text=True)


@pytest.mark.browser
def test_export_menu_in_chromium(city_app, browser, tmp_path) -> None:
    with live_server(city_app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
        browser_login(page, base, ensure_user(city_app), TEST_PASSWORD)
        watch = PageWatch(page, base)
        page.goto(base + "/")
        wait_for_layers(page)
        page.locator("[data-testid=exports] summary").click()
        menu = page.locator(".cg-exports-menu")
        menu.wait_for()
        assert "OGC API" in menu.inner_text() and "GeoPackage" in menu.inner_text()
        screenshot(page, "overview-export-menu")
        with page.expect_download() as info:
            menu.get_by_text("GeoJSON").first.click()
        download = info.value
        assert download.suggested_filename.startswith("problems-")
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        # the map's filters: unresolved by default (issue 18: exports keep the filters)
        assert len(json.loads(path.read_text(encoding="utf-8"))["features"]) == 5
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()


def test_language_link_keeps_the_query_string(city_app) -> None:
    client = signed_in(city_app)
    html = client.get("/?category=litter&status=all&lang=zh").get_data(as_text=True)
    assert 'href="/?category=litter&amp;status=all&amp;lang=en" data-lang="en"' in html
    html = client.get("/?category=litter&lang=en").get_data(as_text=True)
    assert 'href="/?category=litter&amp;lang=zh" data-lang="zh"' in html
