"""The heat map API: JSON shapes and figures, 400s with clear messages, gzip and ETags."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from flask import Flask

from tests.helpers import load_heat_city, signed_in, table_counts, write_csv


@pytest.fixture
def heat_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        load_heat_city(database.engine(), tmp_path)
    return app


def test_grid_heat_keyed_by_code(heat_app: Flask) -> None:
    data = signed_in(heat_app).get("/api/v1/heat?level=grid").get_json()
    assert len(data["codes"]) == 8
    figures = dict(
        zip(data["codes"], zip(data["unresolved"], data["overdue"], strict=True), strict=True)
    )
    assert figures["329901001000001"] == (2, 1)  # problems 1 (overdue) and 2 (due 2099)
    assert data["totals"]["unresolved"] == 5  # the one outside the city is in no area
    assert data["breaks"] and data["source"] == "summary:total"
    assert "value" not in data  # counts are the values


def test_filters_change_the_figures(heat_app: Flask) -> None:
    client = signed_in(heat_app)
    litter = client.get("/api/v1/heat?level=district&category=litter&status=all").get_json()
    overdue = client.get("/api/v1/heat?level=district&status=overdue").get_json()
    ontime = client.get("/api/v1/heat?level=district&metric=ontime").get_json()
    litter_all = [u + c for u, c in zip(litter["unresolved"], litter["closed"], strict=True)]
    assert dict(zip(litter["codes"], litter_all, strict=True)) == {"329901": 2, "329902": 2}
    assert dict(zip(overdue["codes"], overdue["overdue"], strict=True)) == {
        "329901": 1,
        "329902": 2,
    }
    assert "count" not in overdue  # the count a status asks for is not repeated
    assert litter["filters"] == {"level": "district", "category": "litter", "status": "all"}
    assert len(ontime["value"]) == 2 and ontime["metric"] == "ontime"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("level=grid&category=nope", "unknown category 'nope'"),
        ("from=2026-02-30", "malformed date"),
        ("from=2026-11-05&to=2026-11-01", "reversed date range"),
        ("district=999999", "unknown district"),
        ("level=moon", "bad level"),
        ("within=grid:nope", "unknown area"),
        ("level=district&within=grid:329901001000001", "coarser"),
    ],
)
def test_bad_filters_are_400_with_a_message(heat_app: Flask, query: str, message: str) -> None:
    response = signed_in(heat_app).get(f"/api/v1/heat?{query}", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert message in error["message"] and error["code"] == "FilterError"


@pytest.mark.parametrize(
    "query",
    ["bbox=1e308,0,1,1&zoom=12", "bbox=0,0,1&zoom=12", "bbox=120,30,121,31&zoom=99", "zoom=x"],
)
def test_bad_density_arguments_are_400(heat_app: Flask, query: str) -> None:
    response = signed_in(heat_app).get(f"/api/v1/heat/points?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_density_is_binned(heat_app: Flask) -> None:
    data = (
        signed_in(heat_app).get("/api/v1/heat/points?bbox=120.8,32.0,121.0,32.04&zoom=5").get_json()
    )
    assert data["problems"] == 5 and len(data["points"]) == 1
    lat, lon, weight = data["points"][0]
    assert 32.0 <= lat <= 33 and 120.8 <= lon <= 121.5 and weight == 5


def test_problem_markers_need_an_area(heat_app: Flask) -> None:
    client = signed_in(heat_app)
    assert client.get("/api/v1/heat/problems").status_code == 400
    data = client.get("/api/v1/heat/problems?within=street:329901001&lang=en").get_json()
    assert data["total"] == 2
    assert {f["properties"]["category"] for f in data["features"]} == {
        "Exposed litter / poor sanitation"
    }


def test_shapes_are_compact_gzipped_and_immutable_when_versioned(heat_app: Flask) -> None:
    client = signed_in(heat_app)
    plain = client.get("/api/v1/shapes?level=grid")
    assert plain.headers["Cache-Control"] == "private, no-cache"  # depends on the caller
    data = json.loads(plain.data)
    assert data["format"] == "cg-rings-1" and len(data["shapes"]) == 8
    from geo.summary import counts as summary
    from web import database

    with heat_app.app_context():
        version = summary.read_meta(database.session()).areas_version
    packed = client.get(
        f"/api/v1/shapes?level=grid&v={version}", headers={"Accept-Encoding": "gzip"}
    )
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "immutable" in packed.headers["Cache-Control"]
    assert json.loads(gzip.decompress(packed.data)) == data


def test_etag_revalidates_and_changes_with_the_data(heat_app: Flask, tmp_path: Path) -> None:
    client = signed_in(heat_app)
    first = client.get("/api/v1/heat?level=district")
    etag = first.headers["ETag"]
    again = client.get("/api/v1/heat?level=district", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    from geo.ingest.pipeline import ingest_file
    from web import database

    with heat_app.app_context():
        csv = "id,lon,lat,category,found_at\n99,120.81,32.01,litter,2026-11-20T09:00:00+08:00\n"
        ingest_file(database.engine(), write_csv(tmp_path / "more.csv", csv))
    after = client.get("/api/v1/heat?level=district", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    counts = dict(zip(after.get_json()["codes"], after.get_json()["unresolved"], strict=True))
    assert counts["329901"] == 3


def test_api_errors_write_nothing(heat_app: Flask) -> None:
    from web import database

    client = signed_in(heat_app)  # logging in writes the audit log: before counting
    with heat_app.app_context():
        before = table_counts(database.engine())
    assert client.get("/api/v1/heat?category=nope").status_code == 400
    with heat_app.app_context():
        assert table_counts(database.engine()) == before


def test_pages_and_scripts_are_gzipped(heat_app: Flask) -> None:
    client = signed_in(heat_app)
    for url in ("/", "/vendor/leaflet/leaflet.js", "/static/civicgrid-heat.js"):
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
        assert len(gzip.decompress(response.data)) > len(response.data)
