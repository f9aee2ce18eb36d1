"""OGC API – Features Part 3 at /ogcapi: queryables from the exports' fields, CQL2 filters
in text and JSON (each operator the conformance classes promise), bound parameters,
400s for bad filters, and filters that never reach past the caller's scope."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from geo.export.fields import FIELDS
from tests.exportdata import PROBLEMS, load_export_city
from tests.helpers import signed_in
from tests.web.test_ogcapi import get_json


@pytest.fixture
def city_app(app, tmp_path: Path):
    from web import database

    with app.app_context():
        load_export_city(database.engine(), tmp_path)
    return app


ITEMS = "/ogcapi/collections/problems/items"


def matched(client, cql: str, lang: str = "cql2-text", extra: str = "") -> list[str]:
    url = f"{ITEMS}?filter={quote(cql)}&filter-lang={lang}&limit=100{extra}"
    _, page = get_json(client, url)
    return sorted(f["properties"]["description"] for f in page["features"])


def descriptions(*indexes: int) -> list[str]:
    return sorted(PROBLEMS[i][3] for i in indexes)


def test_queryables_come_from_the_export_fields(city_app) -> None:
    client = signed_in(city_app)
    response, schema = get_json(client, "/ogcapi/collections/problems/queryables")
    assert response.mimetype == "application/schema+json"
    assert schema["$schema"].startswith("https://json-schema.org/") and schema["type"] == "object"
    props = schema["properties"]
    exported = {f.name for f in FIELDS["problems"]}
    assert set(props) - {"geometry"} <= exported
    assert {"status", "category", "found_at", "description"} <= set(props)
    assert props["found_at"] == {"title": "发现时间", "type": "string", "format": "date-time"}
    assert props["geometry"]["$ref"].endswith("/Point.json")
    _, coll = get_json(client, "/ogcapi/collections/problems")
    assert any(link["rel"].endswith("/queryables") for link in coll["links"])
    _, conformance = get_json(client, "/ogcapi/conformance")
    assert any(c.endswith("ogcapi-features-3/1.0/conf/filter") for c in conformance["conformsTo"])


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ("status = 'found'", (0, 4, 5)),
        ("status <> 'found'", (1, 2, 3)),
        ("reopen_count >= 0 AND category = 'litter'", (0, 5)),
        ("category = 'litter' OR status = 'closed'", (0, 3, 5)),
        ("NOT (status = 'found')", (1, 2, 3)),
        ("description LIKE '%车%'", (2,)),
        ("category IN ('illegal_ads', 'unsafe_charging')", (1, 4)),
        (
            "found_at BETWEEN TIMESTAMP('2024-05-02T00:00:00Z') "
            "AND TIMESTAMP('2024-05-31T00:00:00Z')",
            (1, 2, 3),
        ),
        ("found_at > TIMESTAMP('2024-05-31T00:00:00Z')", (4, 5)),
        ("T_INTERSECTS(found_at, INTERVAL('2024-06-01T00:00:00Z', '..'))", (4, 5)),
        ("S_INTERSECTS(geometry, BBOX(120.9, 32.0, 121.0, 32.04))", (2, 3, 4)),
        (
            "S_INTERSECTS(geometry, POLYGON((120.9 32.0, 121.0 32.0, 120.9 32.02, 120.9 32.0)))",
            (2,),
        ),
        ("assigned_at IS NULL AND status = 'found'", (0, 4, 5)),
    ],
)
def test_cql2_text_operators(city_app, cql, expected) -> None:
    assert matched(signed_in(city_app), cql) == descriptions(*expected)


def test_cql2_json_is_the_same_filter(city_app) -> None:
    tree = {
        "op": "and",
        "args": [
            {"op": "in", "args": [{"property": "category"}, ["litter", "illegal_ads"]]},
            {
                "op": "s_intersects",
                "args": [{"property": "geometry"}, {"bbox": [120.8, 32.0, 120.9, 32.05]}],
            },
        ],
    }
    assert matched(signed_in(city_app), json.dumps(tree), "cql2-json") == descriptions(0, 1)


def test_draft_name_cql_text_is_cql2_text(city_app) -> None:
    # GDAL 3.6 sends `ogrinfo -where` as filter-lang=cql-text once the API offers it
    client = signed_in(city_app)
    _, api = get_json(client, "/ogcapi/api")
    offered = api["components"]["parameters"]["filter-lang"]["schema"]["enum"]
    assert offered == ["cql2-text", "cql2-json", "cql-text"]
    cql = "(status = 'found') OR (category = 'illegal_ads')"
    assert matched(client, cql, "cql-text") == matched(client, cql) == descriptions(0, 1, 4, 5)


def test_filter_geometry_in_a_lat_lon_crs(city_app) -> None:
    cql = "S_INTERSECTS(geometry, BBOX(32.0, 120.9, 32.04, 121.0))"
    extra = "&filter-crs=http://www.opengis.net/def/crs/EPSG/0/4490"
    assert matched(signed_in(city_app), cql, extra=extra) == descriptions(2, 3, 4)


def test_filter_values_are_bound_parameters(city_app) -> None:
    # an injection attempt is only a string that matches nothing
    assert matched(signed_in(city_app), "status = 'found'' OR 1=1 --'") == []


def test_filters_stay_inside_the_callers_scope(city_app) -> None:
    grid = signed_in(city_app, "district_officer", ["329902101"])
    everything = "status <> 'nothing' OR status = 'found'"
    _, scoped_page = get_json(grid, f"{ITEMS}?limit=100")
    seen = sorted(f["properties"]["description"] for f in scoped_page["features"])
    assert matched(grid, everything) == seen
    assert len(seen) < len(PROBLEMS)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ("filter=status%20%3D", "does not parse"),
        ("filter=colour%20%3D%20'red'", "queryable"),
        ("filter=status%20%3D%20'found'&filter-lang=ecql", "filter-lang"),
        ("filter=found_at%20%3E%20'soon'", "RFC 3339"),
        ("filter=S_INTERSECTS(geometry,%20POLYGON((0%200,1%201,0%200)))", "geometry"),
        ("filter=%7B%22op%22%3A%22%3D%22%7D&filter-lang=cql2-json", "parse"),
        ("filter=status%20%3D%20'found'&filter-crs=EPSG:3857", "filter-crs"),
        # literals of the wrong type: PostgreSQL would refuse integer = varchar (a 500)
        ("filter=id%20%3D%20'abc'", "'id' takes a number value"),
        ("filter=status%20%3E%205", "'status' takes a text value"),
        ("filter=outside%20%3D%20'x'", "'outside' takes a boolean value"),
        ("filter=reopen_count%20IN%20(1,%20'two')", "'reopen_count' takes a number value"),
        ("filter=reopen_count%20LIKE%20'1%25'", "LIKE takes a text property"),
        ("filter='found'%20%3D%20status", "the first operand must be a property"),
        # Temporal Functions is not claimed: T_INTERSECTS only
        ("filter=T_BEFORE(found_at,%20TIMESTAMP('2024-06-01T00:00:00Z'))", "unsupported"),
    ],
)
def test_bad_filters_are_400_naming_the_problem(city_app, args, needle) -> None:
    response = signed_in(city_app).get(f"{ITEMS}?{args}", headers={"Accept-Language": "en"})
    assert response.status_code == 400, response.get_data(as_text=True)
    body = json.loads(response.get_data(as_text=True))
    assert body["code"] == "InvalidParameterValue" and needle in body["description"]


def test_filters_on_points_and_areas(city_app) -> None:
    client = signed_in(city_app)
    _, points = get_json(
        client, "/ogcapi/collections/points/items?filter=" + quote("code IN ('P1','M1')")
    )
    assert sorted(f["id"] for f in points["features"]) == ["M1", "P1"]
    # the line point P2 meets this box near one end, far from its representative point
    near_end = "120.905,32.005,120.915,32.013"
    for args in (
        f"bbox={near_end}",
        "filter=" + quote(f"S_INTERSECTS(geometry, BBOX({near_end}))"),
    ):
        _, lines = get_json(client, f"/ogcapi/collections/points/items?{args}")
        assert [f["id"] for f in lines["features"]] == ["P2"], args
    bbox = quote("S_INTERSECTS(geometry, BBOX(120.80, 32.0, 120.85, 32.05))")
    _, streets = get_json(client, f"/ogcapi/collections/streets/items?filter={bbox}")
    assert 1 <= streets["numberMatched"] < 4


OGC = "tests/web/test_ogcapi.py::"
CLAIMED = {
    "ogcapi-features-1/1.0/conf/core": OGC + "test_items_paging_with_next_links",
    "ogcapi-features-1/1.0/conf/geojson": OGC + "test_landing_conformance_and_openapi",
    "ogcapi-features-1/1.0/conf/html": OGC + "test_html_pages_are_chinese_by_default",
    "ogcapi-features-1/1.0/conf/oas30": "tests/web/test_ogcapi_fuzz.py::"
    "test_schemathesis_finds_no_mismatch_in_the_ogc_api",
    "ogcapi-features-2/1.0/conf/crs": OGC + "test_part2_crs_swaps_to_lat_lon_and_says_so",
    "ogcapi-features-3/1.0/conf/queryables": "test_queryables_come_from_the_export_fields",
    "ogcapi-features-3/1.0/conf/queryables-query-parameters": OGC
    + "test_items_filters_bbox_and_datetime",
    "ogcapi-features-3/1.0/conf/filter": "test_cql2_text_operators",
    "ogcapi-features-3/1.0/conf/features-filter": "test_filters_stay_inside_the_callers_scope",
    "cql2/1.0/conf/cql2-text": "test_cql2_text_operators",
    "cql2/1.0/conf/cql2-json": "test_cql2_json_is_the_same_filter",
    "cql2/1.0/conf/basic-cql2": "test_cql2_text_operators",
    "cql2/1.0/conf/advanced-comparison-operators": "test_cql2_text_operators",
    "cql2/1.0/conf/basic-spatial-functions": "test_filter_geometry_in_a_lat_lon_crs",
}
"""Each conformance class claimed and the test that holds the server to it."""


def test_every_claimed_conformance_class_has_its_test(city_app) -> None:
    import importlib

    _, doc = get_json(signed_in(city_app), "/ogcapi/conformance")
    claimed = {uri.removeprefix("http://www.opengis.net/spec/") for uri in doc["conformsTo"]}
    assert claimed == set(CLAIMED)  # nothing claimed without a test, nothing tested unclaimed
    for where in CLAIMED.values():
        module, _, name = where.rpartition("::")
        path = module.removesuffix(".py").replace("/", ".") if module else __name__
        assert callable(getattr(importlib.import_module(path), name)), where


def test_sqlite_spatial_filter_binds_one_parameter_for_its_ids(sqlite_engine, tmp_path) -> None:
    # SQLite caps bound parameters (250,000 on Debian): the ids S_INTERSECTS finds go in as
    # one JSON array, so a filter over a big city's problems is not refused
    import sqlite3

    import sqlalchemy as sa
    import sqlalchemy.orm as so

    from geo.protocols.ogc_crs import CRS84, OFFERED
    from geo.protocols.ogc_filter import filter_conditions, parse_filter
    from geo.storage.models import Problem

    load_export_city(sqlite_engine, tmp_path)
    tree = parse_filter("S_INTERSECTS(geometry, BBOX(120.0, 31.0, 122.0, 33.0))", None)
    with sqlite_engine.connect() as conn:
        # the candidates' box takes 4 parameters; the 6 ids found would take 6
        conn.connection.dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 4)
        [cond] = filter_conditions(so.Session(bind=conn), "problems", tree, OFFERED[CRS84])
        count = conn.execute(sa.select(sa.func.count()).select_from(Problem).where(cond))
        assert count.scalar() == len(PROBLEMS)
