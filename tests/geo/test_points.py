"""Tests for geo.areas.points.load_points on both backends: kinds, buffers, assignment, upsert."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so
from pyproj import Transformer
from shapely.geometry import LineString, Point, box

from geo.areas.points import PointLoadOptions, load_points
from geo.core.errors import PointLoadError
from geo.storage.models import InspectionPoint, ResponsibleUnit
from tests.helpers import (
    area_ids,
    box_feature,
    line_feature,
    load_tiny_city,
    point_feature,
    table_counts,
    write_geojson,
)

_to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)


def utm(geom):
    """A lon/lat geometry in UTM zone 51N metres (independent of geo.core.crs)."""
    return shapely.transform(
        geom, lambda xy: np.column_stack(_to_utm.transform(xy[:, 0], xy[:, 1]))
    )


SCHOOL = (120.96, 32.02)  # in street 329902101 (北岭镇)

FEATURES = [
    box_feature(120.81, 32.01, 120.82, 32.02, code="M1", name="东门农贸市场", kind="market"),
    line_feature(
        [(120.89, 32.02), (120.93, 32.02)], code="A1", name="枫桥巷", kind="back_alley"
    ),  # crosses the district edge at 120.90; its midpoint (120.91) is in 329902001
    point_feature(*SCHOOL, code="S1", name="北岭小学", kind="school_surroundings"),
    point_feature(120.86, 32.03, code="H1", name="西门宾馆", kind="hotel", unit="西门街道办"),
]


def _points(engine) -> dict[str, InspectionPoint]:
    with so.Session(engine) as session:
        return {
            p.code: p
            for p in session.scalars(
                sa.select(InspectionPoint).options(so.joinedload(InspectionPoint.unit))
            )
        }


def test_load_points_of_several_kinds_and_geometries(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    report = load_points(engine, write_geojson(tmp_path / "p.geojson", FEATURES))
    assert (report.features, report.inserted, report.updated, report.outside) == (4, 4, 0, 0)
    assert report.by_kind == {"back_alley": 1, "hotel": 1, "market": 1, "school_surroundings": 1}
    stored = _points(engine)
    assert {c: p.kind for c, p in stored.items()} == {
        "M1": "market",
        "A1": "back_alley",
        "S1": "school_surroundings",
        "H1": "hotel",
    }
    assert stored["M1"].geom.geom_type == "Polygon"
    assert stored["M1"].geom.equals(box(120.81, 32.01, 120.82, 32.02))
    assert stored["A1"].geom.geom_type == "LineString"
    assert stored["H1"].geom.equals(Point(120.86, 32.03))
    assert stored["H1"].name == "西门宾馆"


def test_points_assigned_by_representative_point(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    load_points(engine, write_geojson(tmp_path / "p.geojson", FEATURES))
    districts = area_ids(engine, "district")
    streets = area_ids(engine, "street")
    stored = _points(engine)
    expected = {
        "M1": ("329901", "329901001"),
        "A1": ("329902", "329902001"),  # by its midpoint, not its first vertex
        "S1": ("329902", "329902101"),
        "H1": ("329901", "329901002"),
    }
    for code, (district, street) in expected.items():
        point = stored[code]
        assert (point.district_id, point.street_id) == (districts[district], streets[street]), code
        assert point.community_id is None and point.grid_id is None
        assert point.outside is False
    assert (stored["A1"].lon, stored["A1"].lat) == pytest.approx((120.91, 32.02))
    assert box(120.81, 32.01, 120.82, 32.02).contains(Point(stored["M1"].lon, stored["M1"].lat))
    assert (stored["S1"].lon, stored["S1"].lat) == pytest.approx(SCHOOL)


def test_school_surroundings_is_a_200_m_buffer_with_the_school_kept(engine, tmp_path):
    load_points(engine, write_geojson(tmp_path / "p.geojson", FEATURES))
    school = _points(engine)["S1"]
    assert school.geom.geom_type == "Polygon"
    zone = utm(school.geom)
    assert zone.area == pytest.approx(math.pi * 200**2, rel=0.02)
    # Metres, not degrees: every vertex of the zone is 200 m from the school.
    centre = utm(Point(SCHOOL))
    distances = [Point(xy).distance(centre) for xy in zone.exterior.coords]
    assert min(distances) == pytest.approx(200, abs=1.0)
    assert max(distances) == pytest.approx(200, abs=1.0)
    assert school.source_geom is not None
    assert school.source_geom.equals(Point(SCHOOL))
    # Kinds without a buffer keep no different source geometry.
    market = _points(engine)["M1"]
    assert market.geom.equals(market.source_geom)


def test_school_buffer_override(engine, tmp_path):
    path = write_geojson(tmp_path / "p.geojson", FEATURES)
    load_points(engine, path, PointLoadOptions(school_buffer_m=100))
    stored = _points(engine)
    assert utm(stored["S1"].geom).area == pytest.approx(math.pi * 100**2, rel=0.02)
    # The override concerns buffered kinds only.
    assert stored["H1"].geom.geom_type == "Point"
    assert stored["A1"].geom.equals(LineString([(120.89, 32.02), (120.93, 32.02)]))


def test_school_given_as_a_line_is_buffered_around_the_line(engine, tmp_path):
    fence = [(120.96, 32.02), (120.962, 32.02)]
    features = [line_feature(fence, code="S2", name="学校围墙", kind="school_surroundings")]
    load_points(engine, write_geojson(tmp_path / "p.geojson", features))
    school = _points(engine)["S2"]
    length = utm(LineString(fence)).length
    assert utm(school.geom).area == pytest.approx(math.pi * 200**2 + 2 * 200 * length, rel=0.02)
    assert school.source_geom.equals(LineString(fence))
    assert (school.lon, school.lat) == pytest.approx((120.961, 32.02))


def test_kind_given_as_zh_label_accepted(engine, tmp_path):
    features = [
        point_feature(*SCHOOL, code="S1", name="北岭小学", kind="学校周边"),
        point_feature(120.86, 32.03, code="H1", name="宾馆", kind=" Hotel "),
    ]
    report = load_points(engine, write_geojson(tmp_path / "p.geojson", features))
    assert report.by_kind == {"hotel": 1, "school_surroundings": 1}
    stored = _points(engine)
    assert stored["S1"].kind == "school_surroundings"
    assert stored["S1"].geom.geom_type == "Polygon"  # the zh label still gets the buffer
    assert stored["H1"].kind == "hotel"


def test_unknown_kind_rejected_with_value_and_feature_number(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    load_points(engine, write_geojson(tmp_path / "p.geojson", FEATURES[:1]))
    before = table_counts(engine)
    features = [
        point_feature(120.86, 32.03, code="H9", name="宾馆", kind="hotel", unit="新单位"),
        point_feature(120.87, 32.03, code="X9", name="?", kind="菜场摊点"),
    ]
    with pytest.raises(PointLoadError) as excinfo:
        load_points(engine, write_geojson(tmp_path / "bad.geojson", features))
    message = excinfo.value.message("en")
    assert "feature 2" in message
    assert "菜场摊点" in message
    assert "unknown point kind" in message
    assert table_counts(engine) == before


@pytest.mark.parametrize(
    ("features", "fragments"),
    [
        (
            [point_feature(120.86, 32.03, code=None, name="a", kind="hotel")],
            ["feature 1", "missing code"],
        ),
        (
            [
                point_feature(120.86, 32.03, code="H1", name="a", kind="hotel"),
                point_feature(120.87, 32.03, code="H1", name="b", kind="hotel"),
            ],
            ["feature 2 (H1)", "duplicate code"],
        ),
    ],
    ids=["missing-code", "duplicate-code"],
)
def test_bad_features_rejected_and_nothing_written(engine, tmp_path, features, fragments):
    before = table_counts(engine)
    with pytest.raises(PointLoadError) as excinfo:
        load_points(engine, write_geojson(tmp_path / "bad.geojson", features))
    for fragment in fragments:
        assert fragment in excinfo.value.message("en")
    assert table_counts(engine) == before


def test_upsert_by_code(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    load_points(engine, write_geojson(tmp_path / "p.geojson", FEATURES))
    ids = {c: p.id for c, p in _points(engine).items()}
    counts = table_counts(engine)
    moved = [
        FEATURES[0],
        FEATURES[1],
        FEATURES[2],
        point_feature(
            120.97, 32.01, code="H1", name="西门宾馆(新)", kind="hotel", unit="西门街道办"
        ),
    ]
    report = load_points(engine, write_geojson(tmp_path / "p2.geojson", moved))
    assert (report.inserted, report.updated) == (0, 4)
    assert table_counts(engine) == counts
    stored = _points(engine)
    assert {c: p.id for c, p in stored.items()} == ids
    hotel = stored["H1"]
    assert hotel.name == "西门宾馆(新)"
    assert hotel.geom.equals(Point(120.97, 32.01))
    assert hotel.street_id == area_ids(engine, "street")["329902101"]  # re-assigned


def test_responsible_unit_created_once(engine, tmp_path):
    features = [
        point_feature(120.86, 32.03, code="H1", name="a", kind="hotel", unit="城管局"),
        point_feature(120.87, 32.03, code="H2", name="b", kind="hotel", unit=" 城管局 "),
        point_feature(120.88, 32.03, code="H3", name="c", kind="hotel", unit="交警大队"),
        point_feature(120.89, 32.03, code="H4", name="d", kind="hotel"),
    ]
    path = write_geojson(tmp_path / "p.geojson", features)
    load_points(engine, path)
    load_points(engine, path)
    with so.Session(engine) as session:
        units = dict(session.execute(sa.select(ResponsibleUnit.name, ResponsibleUnit.id)).all())
    assert set(units) == {"城管局", "交警大队"}
    stored = _points(engine)
    assert stored["H1"].unit_id == stored["H2"].unit_id == units["城管局"]
    assert stored["H3"].unit_id == units["交警大队"]
    assert stored["H4"].unit_id is None


def test_point_outside_every_area_kept_and_flagged(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    features = [point_feature(122.5, 31.0, code="Z1", name="远处", kind="hotel")]
    report = load_points(engine, write_geojson(tmp_path / "p.geojson", features))
    assert report.outside == 1
    point = _points(engine)["Z1"]
    assert point.outside is True
    assert point.district_id is None and point.street_id is None
