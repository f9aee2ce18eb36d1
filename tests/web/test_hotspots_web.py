"""/hotspots and its two GeoJSON layers: tables, scope, bad arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from geo.ingest.pipeline import ingest_file
from tests.helpers import load_heat_city, signed_in, table_counts, write_csv

# Litter closed in the grid of heat city's #1 (litter, found 2026-11-01): R2 17 days after
# the closure and #1 29 days after it come back.
REBOUNDS = (
    "id,lon,lat,category,found_at,status,closed_at\n"
    "R1,120.811,32.011,litter,2026-10-01T09:00:00+08:00,closed,2026-10-03T09:00:00+08:00\n"
    "R2,120.812,32.012,litter,2026-10-20T09:00:00+08:00,found,\n"
)


@pytest.fixture
def heat_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        load_heat_city(database.engine(), tmp_path)
        ingest_file(database.engine(), write_csv(tmp_path / "rebounds.csv", REBOUNDS))
    return app


def test_page_shows_the_method_and_the_rebounds(heat_app: Flask) -> None:
    client = signed_in(heat_app)
    html = client.get("/hotspots?days=30").get_data(as_text=True)
    assert "Getis-Ord Gi*" in html and 'data-testid="rebound-table"' in html
    assert 'href="/problems/9"' in html and 'href="/problems/10"' in html  # R1, R2
    assert 'href="/problems/1"' in html and ">17.0<" in html
    none = client.get("/hotspots?days=5").get_data(as_text=True)
    assert 'data-testid="rebound-none"' in none and "5 天内" in none


def test_a_long_rebound_table_is_cut_and_says_where_the_rest_is(
    heat_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from web.pages import hotspots

    client = signed_in(heat_app)
    full = client.get("/hotspots?days=30").get_data(as_text=True)
    assert 'data-testid="rebound-cut"' not in full and 'data-testid="rebound-more"' not in full
    monkeypatch.setattr(hotspots, "PLACE_PAIRS", 1)  # the one grid has 3 pairs
    html = client.get("/hotspots?days=30").get_data(as_text=True)
    assert "共 1 处、3 次反弹" in html and "每处最近 1 次" in html
    assert "另有 2 次更早的反弹" in html and 'rowspan="2"' in html
    table = html[html.index('data-testid="rebound-table"') : html.index("</table>")]
    assert 'href="/problems/2"' in table  # the newest pair (R1 → #2, found 2026-11-02) stays
    assert 'href="/problems/10"' not in table  # the older ones (R1 → R2, → #1) are cut
    assert 'href="/problems/1"' not in table
    assert 'href="/api/v1/rebounds?status=all&amp;days=30&amp;by=grid"' in html


def test_layers_are_geojson_and_scoped(heat_app: Flask) -> None:
    city = signed_in(heat_app)
    rebounds = json.loads(city.get("/api/v1/rebounds?days=30").get_data(as_text=True))
    assert rebounds["features"] and rebounds["features"][0]["properties"]["color"]
    spots = city.get("/api/v1/hotspots")
    assert spots.status_code == 200 and spots.mimetype == "application/geo+json"
    other = signed_in(heat_app, "grid_manager", ["grid:329902101000002"], "gm-north")
    scoped = json.loads(other.get("/api/v1/rebounds?days=30").get_data(as_text=True))
    assert scoped["features"] == []
    page = other.get("/hotspots").get_data(as_text=True)
    assert 'data-testid="hotspot-reason"' in page  # one grid: nothing to test


@pytest.mark.parametrize(
    ("query", "message"),
    [("days=0", "days"), ("days=abc", "days"), ("by=street", "by"), ("category=nope", "nope")],
)
def test_bad_arguments_are_a_400_and_write_nothing(
    heat_app: Flask, query: str, message: str
) -> None:
    from web import database

    client = signed_in(heat_app)
    with heat_app.app_context():
        engine = database.engine()
    before = table_counts(engine)
    page = client.get(f"/hotspots?{query}")
    api = client.get(f"/api/v1/rebounds?{query}")
    assert page.status_code == 400 and message in page.get_data(as_text=True)
    assert api.status_code == 400 and message in api.get_json()["error"]["message"]
    assert table_counts(engine) == before
