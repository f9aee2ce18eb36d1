"""Every GeoJSON producer writes coordinates with at most the documented 6 decimals
(README "Exports"; geo.core.geojson.DEFAULT_PRECISION). GEOS writes 17 significant
digits, so a coordinate rounded to 32.019679 used to come out as 32.019678999999996 in
point and area exports (issue 19, item 7)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
import shapely
import sqlalchemy as sa

from geo.access.scope import Scope
from geo.core.geojson import DEFAULT_PRECISION, feature_collection, geojson_texts
from geo.core.taxonomy_file import default_taxonomy
from geo.export.request import ExportRequest
from geo.export.stream import stream_export
from geo.lifecycle.problems import problem_area_geojson, problem_geojson
from geo.reports import queries
from geo.storage.db import session_factory, transaction
from geo.storage.models import Area, InspectionPoint, Problem
from tests.exportdata import load_export_city

TAX = default_taxonomy()
# Moves every vertex so that 32.01 becomes 32.0196789999 (rounded: 32.019679).
JITTER = 0.0096789999


def decimals(text: str) -> int:
    """The most decimals of any coordinate as written in the GeoJSON ``text`` (the text:
    32.019678999999996 parses back to the same float as 32.019679)."""
    arrays = re.findall(r'"coordinates":\s*(\[[-+\d.eE,\s\[\]]*\])', text)
    assert arrays, text[:200]
    numbers = [n for a in arrays for n in re.findall(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", a)]
    return max(-min(int(Decimal(n).as_tuple().exponent), 0) for n in numbers)


def test_rounded_coordinates_are_written_shortest() -> None:
    polygon = shapely.Polygon([(118.7812345678, 32.0196789999), (118.79, 32.02), (118.78, 32.03)])
    point = shapely.Point(118.7812345678, 32.0196789999)
    texts = geojson_texts([polygon, point, None])
    assert "32.019678999999996" not in texts[0] and "32.019679" in texts[0]
    assert json.loads(texts[1])["coordinates"] == [118.781235, 32.019679]
    assert texts[2] is None
    collection = feature_collection([polygon, point], [{}, {}])
    assert decimals(collection) == DEFAULT_PRECISION


@pytest.fixture
def jittered(engine, tmp_path):
    """The export city with every area, point and problem vertex off the 6-decimal grid."""
    ids = load_export_city(engine, tmp_path)
    with transaction(engine) as session:
        for model in (Area, InspectionPoint, Problem):
            for row in session.scalars(sa.select(model)):
                row.geom = shapely.transform(row.geom, lambda xy: xy + JITTER)
    return engine, ids


@pytest.mark.parametrize("target", ["points", "areas"])
@pytest.mark.parametrize("fmt", ["geojson", "geojsonseq"])
def test_exports_have_six_decimals(jittered, target, fmt) -> None:
    engine, _ = jittered
    with session_factory(engine)() as session:
        data = b"".join(stream_export(session, ExportRequest(target, fmt), TAX)).decode()
    features = [f for f in data.split("\x1e") if f.strip()] if fmt == "geojsonseq" else [data]
    assert max(decimals(f) for f in features) <= DEFAULT_PRECISION


def test_map_layers_and_problem_maps_have_six_decimals(jittered) -> None:
    engine, ids = jittered
    with session_factory(engine)() as session:
        texts = [
            queries.areas_geojson(session, "street", scope=Scope.city()),
            queries.points_geojson(session, TAX, scope=Scope.city()),
            problem_geojson(session, ids[0], TAX),
            problem_area_geojson(session, ids[0]),
        ]
    for text in texts:
        assert json.loads(text)["features"]
        assert decimals(text) <= DEFAULT_PRECISION


def test_extent_boxes_are_rounded_outward_without_float_noise() -> None:
    from geo.core.geojson import outward_bbox

    noisy = [120.8, 31.999999999999996, 121.00000000000001, 32.04]
    assert outward_bbox(noisy) == [120.8, 32.0, 121.0, 32.04]
    assert outward_bbox([120.8000004, 32.0000006, 120.8500001, 32.0399999]) == [
        120.8,
        32.0,
        120.850001,
        32.04,
    ]
    assert outward_bbox([-0.0000015, -10.5, 0.0000015, 10.5]) == [-0.000002, -10.5, 0.000002, 10.5]
