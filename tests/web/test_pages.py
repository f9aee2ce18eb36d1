"""The overview page and the GeoJSON endpoints behind it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from tests.helpers import TEST_PASSWORD, XSS, load_tiny_city_with_points
from tests.web.browser import PageWatch, browser_login, live_server, screenshot, wait_for_layers


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        load_tiny_city_with_points(database.engine(), tmp_path)
    return app


def test_index_uses_only_local_assets(city_app: Flask, client_as) -> None:
    html = client_as("city_officer").get("/").get_data(as_text=True)
    assert "/vendor/leaflet/leaflet.js" in html
    assert "cdn" not in html.lower() and "https://" not in html
    assert "网格" in html and "点位" in html  # Chinese by default


def test_index_in_english(city_app: Flask, client_as) -> None:
    html = client_as("city_officer").get("/?lang=en").get_data(as_text=True)
    assert "Grids" in html and "Inspection points" in html


def test_empty_database_explains_how_to_start(client, login) -> None:
    html = login(client, "admin").get("/").get_data(as_text=True)
    assert "civicgrid demo" in html


def test_areas_geojson(city_app: Flask, client_as) -> None:
    response = client_as("city_officer").get("/api/v1/areas?level=street")
    assert response.mimetype == "application/geo+json"
    data = json.loads(response.data)
    assert len(data["features"]) == 4
    props = {f["properties"]["code"]: f["properties"] for f in data["features"]}
    assert props["329902101"]["parent_code"] == "329902"  # found by containment
    ring = data["features"][0]["geometry"]["coordinates"][0][0]
    assert all(len(str(c).split(".")[-1]) <= 6 for c in ring[0])


def test_unknown_level_is_a_400_with_a_json_error(city_app: Flask, client_as) -> None:
    response = client_as("planner").get("/api/v1/areas?level=planet")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert "planet" in error["message"] and error["code"] == "InvalidParameterError"


def test_points_geojson_has_kind_labels_and_colours(city_app: Flask, client_as) -> None:
    data = client_as("city_officer").get("/api/v1/points").get_json(force=True)
    kinds = {f["properties"]["kind"]: f["properties"] for f in data["features"]}
    assert (
        kinds["market"]["kind_label"] == "农贸市场/集贸市场"
        or "市场" in kinds["market"]["kind_label"]
    )
    assert kinds["school_surroundings"]["color"].startswith("#")
    assert data["features"][0]["properties"]["name"].endswith(XSS)  # stored as given


def test_vendor_route_serves_only_allowed_packages(city_app: Flask) -> None:
    client = city_app.test_client()
    assert client.get("/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/vendor/left-pad/index.js").status_code == 404
    assert client.get("/vendor/leaflet/../package.json").status_code == 404


@pytest.mark.browser
def test_overview_map_in_chromium(city_app: Flask, browser, client_as) -> None:
    client_as("city_officer")  # creates the user test-city-officer
    with live_server(city_app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        watch = PageWatch(page, base)
        browser_login(page, base, "test-city-officer", TEST_PASSWORD)
        page.goto(base + "/")
        wait_for_layers(page)
        counts = json.loads(page.eval_on_selector(".folium-map", "e => e.dataset.layerCounts"))
        assert counts == {"heat": 0, "districts": 2, "density": 0, "points": 3}
        # Points are off at city scale: switch them on in the layer control.
        page.locator(".leaflet-control-layers label", has_text="点位").click()
        assert page.locator(".leaflet-cg-points-pane canvas").count() == 1  # drawn on canvas
        assert page.locator(".cg-legend", has_text="点位类型").is_visible()
        # Open the market's tooltip through Leaflet (mouse hover over a canvas is throttled
        # and flaky on a loaded machine); its content is what a hover would show.
        page.evaluate(
            "civicgridMap.groups.points.eachLayer(g => (g.eachLayer ? g.eachLayer(l =>"
            " l.feature && l.feature.properties.code === 'P1' && l.openTooltip()) : null))"
        )
        tooltip = page.locator(".leaflet-tooltip", has_text="云溪农贸市场")
        tooltip.wait_for()
        assert XSS in tooltip.inner_text()  # shown as text, not markup
        screenshot(page, "overview-tiny")
        assert page.evaluate("window.__xss") is None
        assert watch.offorigin == []
        assert watch.console_errors == []
        page.close()
