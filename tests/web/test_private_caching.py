"""What depends on the caller is never for a shared cache (issue 19, item 5): responses
behind a login or token are ``private`` (or ``no-store``) and vary by Authorization and
Cookie; OGC collection extents are those of the caller's scope, not of the whole city."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from geo.storage.db import session_factory
from geo.summary.counts import read_meta
from tests.helpers import add_token, load_scoped_city, signed_in
from web import database

ROUTES = [
    "/api/v1/heat",
    "/api/v1/shapes?level=district",
    "/api/v1/areas?level=street",
    "/ogcapi/collections",
    "/ogcapi/collections/problems",
    "/ogcapi/collections/problems/items?limit=2",
    "/open311/v2/requests.json",
]


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    with app.app_context():
        load_scoped_city(database.engine(), tmp_path)
    return app


def _engine(app: Flask) -> Any:
    with app.app_context():
        return database.engine()


def assert_private(response: Any) -> None:
    control = response.headers.get("Cache-Control", "")
    directives = {d.strip() for d in control.split(",")}
    assert "public" not in directives, (response.request.path, control)
    assert directives & {"private", "no-store"}, (response.request.path, control)
    assert {"Authorization", "Cookie"} <= set(response.vary), (response.request.path, response.vary)


@pytest.mark.parametrize("path", ROUTES)
def test_logged_in_responses_are_private(city_app: Flask, path: str) -> None:
    response = signed_in(city_app, "district_officer").get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert_private(response)


@pytest.mark.parametrize("path", ROUTES)
def test_token_responses_are_private(city_app: Flask, path: str) -> None:
    headers = add_token(_engine(city_app), "gis", "district_officer")
    response = city_app.test_client().get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert_private(response)


def test_immutable_shapes_stay_in_the_browser_only(city_app: Flask) -> None:
    """Versioned outlines: a year in the caller's own cache, none in a shared one."""
    with session_factory(_engine(city_app))() as session:
        version = read_meta(session).areas_version
    client = signed_in(city_app, "district_officer")
    response = client.get(f"/api/v1/shapes?level=district&v={version}")
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert_private(response)
    again = client.get(
        f"/api/v1/shapes?level=district&v={version}",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304
    assert_private(again)


def test_static_files_stay_public(city_app: Flask) -> None:
    response = city_app.test_client().get("/static/civicgrid-map.js")
    if response.status_code == 404:
        pytest.skip("no static/civicgrid-map.js")
    assert "private" not in response.headers.get("Cache-Control", "")


def _extent(client: Any) -> dict[str, Any]:
    response = client.get("/ogcapi/collections/problems")
    assert response.status_code == 200
    return response.get_json()["extent"]


def test_collection_extents_are_within_the_callers_scope(city_app: Flask) -> None:
    city = _extent(signed_in(city_app, "city_officer"))
    district = _extent(signed_in(city_app, "district_officer"))
    (cx0, cy0, cx1, cy1), (dx0, dy0, dx1, dy1) = (
        city["spatial"]["bbox"][0],
        district["spatial"]["bbox"][0],
    )
    assert cx0 <= dx0 and cy0 <= dy0 and dx1 <= cx1 and dy1 <= cy1
    assert (dx0, dy0, dx1, dy1) != (cx0, cy0, cx1, cy1)
    (first, last), (d_first, d_last) = (
        city["temporal"]["interval"][0],
        district["temporal"]["interval"][0],
    )
    assert first <= d_first <= d_last <= last
    city_streets = _bbox(signed_in(city_app, "city_officer"), "streets")
    district_streets = _bbox(signed_in(city_app, "district_officer"), "streets")
    assert district_streets != city_streets
    assert city_streets[0] <= district_streets[0] and district_streets[2] <= city_streets[2]


def _bbox(client: Any, collection: str) -> list[float]:
    response = client.get(f"/ogcapi/collections/{collection}")
    assert response.status_code == 200
    bbox: list[float] = response.get_json()["extent"]["spatial"]["bbox"][0]
    return bbox


@pytest.mark.parametrize("collection", ["problems", "points", "grids", "districts"])
def test_collection_extents_have_six_decimals_and_hold_every_area(
    city_app: Flask, collection: str
) -> None:
    import sqlalchemy as sa

    from geo.storage.models import Area

    x0, y0, x1, y1 = _bbox(signed_in(city_app, "city_officer"), collection)
    for value in (x0, y0, x1, y1):
        assert len(repr(value).split(".")[1]) <= 6, (collection, value)  # no float noise
    with city_app.app_context(), database.engine().connect() as conn:
        query = sa.select(Area.min_lon, Area.min_lat, Area.max_lon, Area.max_lat)
        if collection not in ("problems", "points"):
            query = query.where(Area.level == collection.removesuffix("s"))
        for a0, b0, a1, b1 in conn.execute(query):
            assert x0 <= a0 + 1e-9 and y0 <= b0 + 1e-9 and a1 - 1e-9 <= x1 and b1 - 1e-9 <= y1
