"""OGC API – Features at /ogcapi: documents, items, bad input, and GDAL's OAPIF driver."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from flask import Flask

from tests.exportdata import PROBLEMS, load_export_city
from tests.helpers import TEST_PASSWORD, XSS, add_token, ensure_user, signed_in
from tests.web.browser import PageWatch, browser_login, live_server, screenshot, wait_for_layers


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        load_export_city(database.engine(), tmp_path)
    return app


def get_json(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response, json.loads(response.get_data(as_text=True))


def test_landing_conformance_and_openapi(city_app) -> None:
    client = signed_in(city_app)
    _, landing = get_json(client, "/ogcapi")
    rels = {link["rel"]: link for link in landing["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    _, conformance = get_json(client, "/ogcapi/conformance")
    assert any(c.endswith("/conf/core") for c in conformance["conformsTo"])
    assert any(c.endswith("/conf/geojson") for c in conformance["conformsTo"])
    response, api = get_json(client, "/ogcapi/api")
    assert response.mimetype == "application/vnd.oai.openapi+json"
    assert api["openapi"].startswith("3.0")
    limit = api["components"]["parameters"]["limit"]["schema"]
    assert limit["maximum"] == 10000 and limit["default"] == 100
    params = api["paths"]["/collections/problems/items"]["get"]["parameters"]
    status = next(p for p in params if p.get("name") == "status")
    assert {"overdue", "held", "voided"} <= set(status["schema"]["enum"])
    responses = api["paths"]["/collections/problems/items"]["get"]["responses"]
    page = responses["200"]["content"]["application/geo+json"]["schema"]
    assert page["properties"]["type"]["enum"] == ["FeatureCollection"]
    assert api["components"]["responses"][responses["400"]["$ref"].rsplit("/", 1)[1]]


def test_collections_have_extents_and_item_links(city_app) -> None:
    _, doc = get_json(signed_in(city_app), "/ogcapi/collections")
    ids = [c["id"] for c in doc["collections"]]
    assert ids == [
        *("problems", "points", "points_point", "points_linestring", "points_polygon"),
        *("grids", "communities", "streets", "districts"),
    ]
    problems = doc["collections"][0]
    assert problems["title"] == "问题"
    assert problems["extent"]["spatial"]["bbox"][0] == pytest.approx([120.8, 32.0, 121.0, 32.04])
    assert problems["extent"]["temporal"]["interval"][0][0].startswith("2024-05-01T01:00:00")
    assert any(link["rel"] == "items" for link in problems["links"])


def test_items_paging_with_next_links(city_app) -> None:
    client = signed_in(city_app)
    response, page = get_json(client, "/ogcapi/collections/problems/items?limit=4")
    assert response.mimetype == "application/geo+json"
    assert page["numberMatched"] == 6 and page["numberReturned"] == 4
    next_link = next(link["href"] for link in page["links"] if link["rel"] == "next")
    _, second = get_json(client, next_link.replace("http://localhost", ""))
    assert second["numberReturned"] == 2
    assert not [link for link in second["links"] if link["rel"] == "next"]
    descriptions = [f["properties"]["description"] for f in page["features"] + second["features"]]
    assert descriptions == [p[3] for p in PROBLEMS]


def test_items_filters_bbox_and_datetime(city_app) -> None:
    client = signed_in(city_app)
    base = "/ogcapi/collections/problems/items"
    _, doc = get_json(client, f"{base}?status=unresolved&category=litter,illegal_ads")
    assert doc["numberMatched"] == 3
    _, doc = get_json(client, f"{base}?bbox=120.85,32.0,120.95,32.04")
    assert doc["numberMatched"] == 2
    _, doc = get_json(client, f"{base}?datetime=2024-05-02/2024-05-10")
    assert doc["numberMatched"] == 3
    _, doc = get_json(client, f"{base}?datetime=../2024-05-01T10:00:00%2B08:00")
    assert doc["numberMatched"] == 1
    _, doc = get_json(client, "/ogcapi/collections/points/items?bbox=120.815,32.015,120.816,32.016")
    assert doc["numberMatched"] == 0  # inside the market's courtyard hole
    _, doc = get_json(client, "/ogcapi/collections/points/items?bbox=120.811,32.011,120.812,32.012")
    assert [f["id"] for f in doc["features"]] == ["M1"]
    _, doc = get_json(client, "/ogcapi/collections/streets/items?bbox=120.84,32.01,120.86,32.02")
    assert sorted(f["id"] for f in doc["features"]) == ["329901001", "329901002"]


def test_limit_above_the_maximum_is_clamped(city_app) -> None:
    _, doc = get_json(signed_in(city_app), "/ogcapi/collections/problems/items?limit=50000")
    assert doc["numberReturned"] == 6
    self_link = next(link["href"] for link in doc["links"] if link["rel"] == "self")
    assert "limit=50000" in self_link  # the request as made; the server used 10000


def test_single_items(city_app) -> None:
    client = signed_in(city_app)
    _, feature = get_json(client, "/ogcapi/collections/points/items/P1")
    assert feature["type"] == "Feature" and feature["properties"]["name"].endswith(XSS)
    assert any(link["rel"] == "collection" for link in feature["links"])
    _, district = get_json(client, "/ogcapi/collections/districts/items/329902")
    assert district["properties"]["name"] == "枫桥区"
    _, problem = get_json(client, "/ogcapi/collections/problems/items/1")
    assert problem["id"] == 1


@pytest.mark.parametrize(
    ("url", "status", "code", "needle"),
    [
        ("/ogcapi/collections/rivers", 404, "NotFound", "grids"),
        ("/ogcapi/collections/rivers/items", 404, "NotFound", "rivers"),
        ("/ogcapi/collections/points/items/NOPE", 404, "NotFound", "NOPE"),
        ("/ogcapi/collections/problems/items/abc", 404, "NotFound", "abc"),
        ("/ogcapi/collections/problems/items?bbox=120,32,121", 400, "InvalidParameterValue", "4"),
        (
            "/ogcapi/collections/problems/items?bbox=120,32,121,95",
            400,
            "InvalidParameterValue",
            "90",
        ),
        (
            "/ogcapi/collections/problems/items?bbox=121,32,120,33",
            400,
            "InvalidParameterValue",
            "minimum",
        ),
        (
            "/ogcapi/collections/problems/items?datetime=2024-06-01/2024-05-01",
            400,
            "InvalidParameterValue",
            "after",
        ),
        (
            "/ogcapi/collections/problems/items?datetime=soon",
            400,
            "InvalidParameterValue",
            "RFC 3339",
        ),
        ("/ogcapi/collections/problems/items?datetime=../..", 400, "InvalidParameterValue", "both"),
        ("/ogcapi/collections/problems/items?limit=0", 400, "InvalidParameterValue", "limit"),
        ("/ogcapi/collections/problems/items?offset=-1", 400, "InvalidParameterValue", "offset"),
        (
            "/ogcapi/collections/problems/items?colour=red",
            400,
            "InvalidParameterValue",
            "bbox, bbox-crs, crs, limit",
        ),
        (
            "/ogcapi/collections/grids/items?datetime=soon",
            400,
            "InvalidParameterValue",
            "RFC 3339",
        ),
        (
            "/ogcapi/collections/problems/items?status=open",
            400,
            "InvalidParameterValue",
            "unresolved",
        ),
        (
            "/ogcapi/collections/problems/items?bbox-crs=EPSG:3857&bbox=1,2,3,4",
            400,
            "InvalidParameterValue",
            "CRS84",
        ),
        ("/ogcapi/collections/problems/items?f=xml", 400, "InvalidParameterValue", "json, html"),
        ("/ogcapi/collections/problems/items/1?limit=3", 400, "InvalidParameterValue", "f, lang"),
    ],
)
def test_bad_requests_answer_in_ogc_exception_format(city_app, url, status, code, needle) -> None:
    response = signed_in(city_app).get(url, headers={"Accept-Language": "en"})
    assert response.status_code == status
    body = json.loads(response.get_data(as_text=True))
    assert body["code"] == code and needle in body["description"]


def test_datetime_is_accepted_on_every_collection(city_app) -> None:
    client = signed_in(city_app)
    for coll in ("points", "streets", "districts"):
        _, all_items = get_json(client, f"/ogcapi/collections/{coll}/items")
        _, timed = get_json(client, f"/ogcapi/collections/{coll}/items?datetime=2024-05-01/..")
        assert timed["numberMatched"] == all_items["numberMatched"] > 0  # nothing to filter


def test_html_pages_are_chinese_by_default(city_app) -> None:
    client = signed_in(city_app)
    html = client.get("/ogcapi", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "要素集合" in html and "QGIS" in html
    html = client.get("/ogcapi/collections?f=html").get_data(as_text=True)
    assert "问题" in html and "网格" in html
    html = client.get("/ogcapi/collections/problems/items?f=html&limit=2").get_data(as_text=True)
    assert "共 6 个，显示第 1–2 个" in html and "下一页" in html
    html = client.get("/ogcapi/collections/points/items/P1?f=html&lang=en").get_data(as_text=True)
    assert "Inspection points" in html and "&lt;img" in html and XSS not in html
    html = client.get("/ogcapi/api?f=html").get_data(as_text=True)
    assert "/collections/problems/items" in html
    error = client.get("/ogcapi/collections/rivers?f=html")
    assert error.status_code == 404 and "rivers" in error.get_data(as_text=True)


def _ogrinfo(*args: str, token: dict[str, str] | None = None) -> str:
    env = {**os.environ}
    if token:  # how QGIS / GDAL users pass a civicgrid token
        env["GDAL_HTTP_HEADERS"] = f"Authorization: {token['Authorization']}"
    done = subprocess.run(
        ["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gdal_reads_the_service(city_app, engine) -> None:
    """Debian's GDAL (OAPIF driver) lists the layers, counts features, filters by bbox,
    with a token, and sees only the token's scope."""
    city = add_token(engine, "qgis-city", "planner", [])
    district = add_token(engine, "qgis-district", "district_officer", ["district:329901"])
    with live_server(city_app) as base:
        refused = subprocess.run(
            ["ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogcapi"], capture_output=True, text=True
        )
        assert refused.returncode != 0 and "401" in refused.stderr
        scoped = _ogrinfo(f"OAPIF:{base}/ogcapi", "districts", token=district)
        assert "云溪区" in scoped and "枫桥区" not in scoped
        listing = _ogrinfo("-so", "-al", f"OAPIF:{base}/ogcapi", token=city)
        counts = dict(re.findall(r"Layer name: (\w+)\n(?:.*\n)*?Feature Count: (\d+)", listing))
        assert counts == {
            "problems": "6", "points": "3", "grids": "0", "points_point": "1",
            "points_linestring": "1", "points_polygon": "1",
            "communities": "0", "streets": "4", "districts": "2",
        }  # fmt: skip
        spat = _ogrinfo(
            "-so",
            f"OAPIF:{base}/ogcapi",
            "problems",
            *("-spat", "120.85", "32.0", "120.95", "32.04"),
            token=city,
        )
        assert "Feature Count: 2" in spat
        features = _ogrinfo(f"OAPIF:{base}/ogcapi", "districts", token=city)
        assert "枫桥区" in features and "云溪区" in features


@pytest.mark.browser
def test_items_page_in_chromium(city_app, browser) -> None:
    with live_server(city_app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        browser_login(page, base, ensure_user(city_app), TEST_PASSWORD)
        watch = PageWatch(page, base)
        page.goto(base + "/ogcapi/collections/points/items?f=html")
        wait_for_layers(page)
        counts = json.loads(page.eval_on_selector(".folium-map", "e => e.dataset.layerCounts"))
        assert counts == {"points": 3}
        assert XSS in page.locator("[data-testid=items]").inner_text()
        screenshot(page, "ogcapi-items-points")
        page.goto(base + "/ogcapi/collections/problems/items?f=html")
        wait_for_layers(page)
        screenshot(page, "ogcapi-items-problems")
        page.goto(base + "/ogcapi/collections?f=html")
        screenshot(page, "ogcapi-collections")
        for path, name in (
            ("/ogcapi", "landing"),
            ("/ogcapi/conformance", "conformance"),
            ("/ogcapi/api", "api"),
            ("/ogcapi/collections/problems", "collection"),
        ):
            page.goto(base + path)  # a browser asks for HTML and gets it
            assert page.locator("[data-testid=ogcapi]").count() == 1
            screenshot(page, f"ogcapi-{name}")
        page.goto(base + "/ogcapi/collections/points/items/M1?f=html")
        wait_for_layers(page)
        screenshot(page, "ogcapi-item")
        assert page.locator(".cg-error").count() == 0  # every layer loaded
        assert "否" in page.locator("[data-testid=properties]").inner_text()
        assert page.evaluate("window.__xss") is None
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()


CRS_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
CRS_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
CRS_84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def test_part2_crs_swaps_to_lat_lon_and_says_so(city_app) -> None:
    """/req/crs: crs= answers in the CRS asked for, Content-Crs names it, collections list
    the CRSs offered, and bbox-crs reads the bbox in that CRS's axis order."""
    client = signed_in(city_app)
    _, coll = get_json(client, "/ogcapi/collections/problems")
    assert coll["crs"] == [CRS_84, CRS_4326, CRS_4490] and coll["storageCrs"] == CRS_84
    base = "/ogcapi/collections/problems/items"
    plain, default = get_json(client, base)
    assert plain.headers["Content-Crs"] == f"<{CRS_84}>"
    for uri in (CRS_4326, CRS_4490, "EPSG:4490"):
        response, swapped = get_json(client, f"{base}?crs={uri}")
        assert response.headers["Content-Crs"].startswith("<http://www.opengis.net/def/crs/EPSG")
        lon, lat = default["features"][0]["geometry"]["coordinates"]
        assert swapped["features"][0]["geometry"]["coordinates"] == [lat, lon]
    _, by_lon_lat = get_json(client, f"{base}?bbox=120.81,32.0,120.83,32.02")
    _, by_lat_lon = get_json(client, f"{base}?bbox=32.0,120.81,32.02,120.83&bbox-crs={CRS_4326}")
    assert by_lat_lon["numberMatched"] == by_lon_lat["numberMatched"] >= 1
    area = get_json(client, f"/ogcapi/collections/streets/items?crs={CRS_4490}")[1]
    ring = area["features"][0]["geometry"]["coordinates"][0][0]
    assert ring[0][0] > 30 and ring[0][1] > 100  # lat first
    one, item = get_json(client, f"/ogcapi/collections/points/items/P1?crs={CRS_4326}")
    assert one.headers["Content-Crs"] == f"<{CRS_4326}>"
    assert item["geometry"]["coordinates"][0] < 90


@pytest.mark.parametrize(
    "args", ["crs=EPSG:3857", "bbox-crs=EPSG:3857&bbox=1,2,3,4", "bbox=120,32,121,33&bbox-crs=x"]
)
def test_unknown_crs_is_a_400_listing_the_offered_ones(city_app, args) -> None:
    response = signed_in(city_app).get(f"/ogcapi/collections/problems/items?{args}")
    assert response.status_code == 400
    assert CRS_4490 in json.loads(response.get_data(as_text=True))["description"]


def test_properties_and_skip_geometry(city_app) -> None:
    client = signed_in(city_app)
    base = "/ogcapi/collections/problems/items"
    _, page = get_json(client, f"{base}?properties=status,category&skipGeometry=true")
    first = page["features"][0]
    assert first["geometry"] is None and list(first["properties"]) == ["status", "category"]
    _, whole = get_json(client, f"{base}?skipGeometry=false")
    assert whole["features"][0]["geometry"]["type"] == "Point"
    for args, needle in (("properties=colour", "colour"), ("skipGeometry=maybe", "true or false")):
        response = client.get(f"{base}?{args}", headers={"Accept-Language": "en"})
        assert response.status_code == 400
        assert needle in json.loads(response.get_data(as_text=True))["description"]


def test_sortby_orders_pages_within_the_filter(city_app) -> None:
    client = signed_in(city_app)
    base = "/ogcapi/collections/problems/items"
    _, page = get_json(client, f"{base}?sortby=-found_at&limit=3")
    found = [f["properties"]["found_at"] for f in page["features"]]
    assert found == sorted(found, reverse=True) and page["numberMatched"] == 6
    _, second = get_json(client, f"{base}?sortby=-found_at&limit=3&offset=3")
    assert max(f["properties"]["found_at"] for f in second["features"]) <= found[-1]
    _, by_category = get_json(client, f"{base}?sortby=category,%2Bid&status=found")
    cats = [f["properties"]["category"] for f in by_category["features"]]
    assert cats == sorted(cats) and len(cats) == 3
    _, points = get_json(client, "/ogcapi/collections/points/items?sortby=-code")
    assert [f["id"] for f in points["features"]] == ["P2", "P1", "M1"]
    bad = client.get(f"{base}?sortby=colour", headers={"Accept-Language": "en"})
    assert bad.status_code == 400 and "sortable" in bad.get_data(as_text=True)


@pytest.mark.browser
@pytest.mark.parametrize(("size", "width", "height"), [("desktop", 1440, 900), ("phone", 390, 844)])
def test_typed_collections_in_chromium(city_app, browser, size, width, height) -> None:
    """The collections page lists the per-geometry-type point collections, and a typed
    collection's items page shows only its geometry type, on a desktop and a phone."""
    with live_server(city_app) as base:
        page = browser.new_page(viewport={"width": width, "height": height})
        browser_login(page, base, ensure_user(city_app), TEST_PASSWORD)
        watch = PageWatch(page, base)
        page.goto(base + "/ogcapi/collections?f=html")
        text = page.locator("[data-testid=ogcapi]").inner_text()
        assert "点位（线）" in text and "点位（面）" in text
        screenshot(page, f"ogcapi-collections-{size}")
        page.goto(base + "/ogcapi/collections/points_linestring/items?f=html")
        wait_for_layers(page)
        counts = json.loads(page.eval_on_selector(".folium-map", "e => e.dataset.layerCounts"))
        assert counts == {"points_linestring": 1}
        screenshot(page, f"ogcapi-items-lines-{size}")
        assert page.locator(".cg-error").count() == 0
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()
