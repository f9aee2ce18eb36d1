"""The OGC API with the clients planners and integrators use, against a live server:
Debian's GDAL (``OAPIF:``; ogrinfo with ``-where`` pushed to the server, ogr2ogr writing a
Shapefile per geometry type) and OWSLib with ``crs=`` and ``filter=``."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyogrio
import pytest
from flask import Flask

from tests.exportdata import load_export_city
from tests.helpers import add_token
from tests.web.browser import live_server

pytestmark = pytest.mark.slow  # real clients over HTTP

CRS_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"


@pytest.fixture
def served(app: Flask, tmp_path: Path):
    from web import database

    with app.app_context():
        engine = database.engine()
    load_export_city(engine, tmp_path)
    token = add_token(engine, "gis-client", "planner", [])
    with live_server(app) as base:
        yield base, token


def _gdal(tool: str, *args: str, token: dict[str, str], log: bool = False) -> str:
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: {token['Authorization']}"}
    if log:
        env["CPL_DEBUG"] = "ON"  # the URLs GDAL fetches go to stderr
    done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ERROR" not in done.stderr, done.stderr[-2000:]
    return done.stdout + done.stderr


@pytest.mark.parametrize(
    ("where", "cql", "count"),
    [
        ("status = 'found' AND category = 'litter'",
         "(status = 'found') AND (category = 'litter')", 2),
        # an OR cannot be said with property query parameters: GDAL would fetch every
        # feature and filter itself if the server did not take the CQL
        ("status = 'found' OR status = 'assigned'",
         "(status = 'found') OR (status = 'assigned')", 4),
    ],
)  # fmt: skip
def test_ogrinfo_pushes_where_to_the_server_as_cql2(served, where, cql, count) -> None:
    base, token = served
    out = _gdal(
        "ogrinfo", "-ro", f"OAPIF:{base}/ogcapi", "problems", "-where", where,
        token=token, log=True,
    )  # fmt: skip
    fetched = re.findall(r"Fetch\((\S+/collections/problems/items\?\S*)\)$", out, re.M)
    pushed = [parse_qs(urlsplit(url).query) for url in fetched]
    assert {"filter": [cql], "filter-lang": ["cql-text"], "limit": ["10"]} in pushed, fetched
    assert "evaluated on client side" not in out
    assert out.count("OGRFeature(problems)") == count


def test_ogr2ogr_writes_a_shapefile_per_geometry_type(served, tmp_path) -> None:
    base, token = served
    for layer, geometry in (
        ("points_point", "Point"),
        ("points_linestring", "LineString"),
        ("points_polygon", "Polygon"),
    ):
        target = tmp_path / f"{layer}.shp"
        _gdal("ogr2ogr", "-f", "ESRI Shapefile", str(target), f"OAPIF:{base}/ogcapi", layer,
              token=token)  # fmt: skip
        info = pyogrio.read_info(target)
        assert info["features"] == 1 and geometry in info["geometry_type"], info
    mixed = subprocess.run(
        ["ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogcapi", "points"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: {token['Authorization']}"},
    )  # fmt: skip
    assert "Feature Count: 3" in mixed.stdout  # the mixed collection is still there


def test_owslib_reads_with_crs_and_a_cql2_filter(served) -> None:
    from owslib.ogcapi.features import Features

    base, token = served
    api = Features(f"{base}/ogcapi", headers=token)
    assert "problems" in [c["id"] for c in api.collections()["collections"]]
    assert any(c.endswith("/conf/crs") for c in api.conformance()["conformsTo"])
    found = api.collection_items(
        "problems", filter="status = 'found' AND category = 'litter'", limit=50
    )
    assert found["numberMatched"] == 2
    swapped = api.collection_items("problems", crs=CRS_4490, filter="category = 'litter'")
    plain = api.collection_items("problems", filter="category = 'litter'")
    for a, b in zip(swapped["features"], plain["features"], strict=True):
        assert a["geometry"]["coordinates"] == b["geometry"]["coordinates"][::-1]
    queryables = api.collection_queryables("problems")
    assert "status" in queryables["properties"]
