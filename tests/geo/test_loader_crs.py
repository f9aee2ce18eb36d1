"""Every vector loader takes every coordinate system (wgs84, cgcs2000, gcj02, bd09,
EPSG:n) through the one conversion of geo.core.crs.to_wgs84: DataV/Aliyun district
boundaries in GCJ-02 land on their WGS-84 truth within a metre."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point, mapping

from geo.areas.loading import AreaLoadOptions, load_areas
from geo.areas.points import PointLoadOptions, load_points
from geo.core.crs import shift_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from geo.core.errors import AreaLoadError, InvalidParameterError, PointLoadError
from geo.core.text import en
from geo.storage.models import Area, InspectionPoint
from tests.helpers import DISTRICTS, load_tiny_city, table_counts, write_geojson

GEOD = Geod(ellps="WGS84")


def _truth_ring(n: int = 240) -> np.ndarray:
    """An irregular district outline near Nantong (~12 km across), WGS-84 lon/lat."""
    angles = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    radius = 0.055 + 0.012 * np.sin(5 * angles) + 0.006 * np.cos(11 * angles)
    lon = 120.86 + radius * np.cos(angles) * 1.18
    lat = 32.01 + radius * np.sin(angles)
    ring = np.column_stack([lon, lat])
    return np.vstack([ring, ring[:1]])


def _datav_file(path: Path, ring: np.ndarray) -> Path:
    """A district file shaped like DataV/Aliyun's ``320602.json`` (GCJ-02, MultiPolygon)."""
    feature = {
        "type": "Feature",
        "properties": {
            "adcode": 320602,
            "name": "崇川区",
            "center": [120.86, 32.01],
            "centroid": [120.86, 32.01],
            "childrenNum": 14,
            "level": "district",
            "parent": {"adcode": 320600},
            "subFeatureIndex": 0,
            "acroutes": [100000, 320000, 320600],
        },
        "geometry": {"type": "MultiPolygon", "coordinates": [[ring.tolist()]]},
    }
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8"
    )
    return path


def _max_distance_m(a: np.ndarray, b: np.ndarray) -> float:
    _, _, dist = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    return float(np.max(dist))


def _stored_ring(engine) -> np.ndarray:
    with engine.connect() as conn:
        geom = conn.execute(sa.select(Area.geom).where(Area.code == "320602")).scalar_one()
    return np.asarray(geom.geoms[0].exterior.coords)


@pytest.mark.parametrize(
    ("crs", "forward"),
    [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09), ("GCJ-02", wgs84_to_gcj02)],
)
def test_datav_district_in_gcj02_lands_on_wgs84_truth(engine, tmp_path, crs, forward):
    truth = _truth_ring()
    shifted = np.column_stack(forward(truth[:, 0], truth[:, 1]))
    assert _max_distance_m(truth, shifted) > 300  # the offset is real
    path = _datav_file(tmp_path / "320602.json", shifted)
    options = AreaLoadOptions(level="district", code_field="adcode", crs=crs)
    report = load_areas(engine, path, options)
    assert report.inserted == 1
    stored = _stored_ring(engine)
    assert stored.shape == truth.shape  # vertex by vertex, nothing simplified
    assert _max_distance_m(truth, stored) < 1.0


def test_without_crs_the_gcj02_file_stays_offset(engine, tmp_path):
    truth = _truth_ring()
    shifted = np.column_stack(wgs84_to_gcj02(truth[:, 0], truth[:, 1]))
    load_areas(
        engine, _datav_file(tmp_path / "d.json", shifted), AreaLoadOptions("district", "adcode")
    )
    assert _max_distance_m(truth, _stored_ring(engine)) > 300


def test_points_and_lines_in_gcj02(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    gate = np.array([[120.83, 32.02]])
    alley = np.array([[120.81, 32.01], [120.815, 32.012], [120.82, 32.011]])
    features = []
    for code, kind, coords in (("P1", "school_surroundings", gate), ("P2", "back_alley", alley)):
        gcj = np.column_stack(wgs84_to_gcj02(coords[:, 0], coords[:, 1]))
        geom = Point(gcj[0]) if len(gcj) == 1 else LineString(gcj)
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": code, "kind": kind},
                "geometry": mapping(geom),
            }
        )
    path = write_geojson(tmp_path / "points.geojson", features)
    report = load_points(engine, path, PointLoadOptions(crs="gcj02"))
    assert report.inserted == 2 and report.outside == 0
    with engine.connect() as conn:
        query = sa.select(InspectionPoint.code, InspectionPoint.source_geom)
        rows = {code: geom for code, geom in conn.execute(query)}
    assert _max_distance_m(gate, np.asarray(rows["P1"].coords)) < 1.0
    assert _max_distance_m(alley, np.asarray(rows["P2"].coords)) < 1.0


def test_a_shift_that_breaks_a_polygon_is_repaired():
    # Two lobes touching at a vertex pair a hair apart: after the shift the tiny gap may
    # close into a self-intersection; whatever happens, the result is a valid polygon.
    poly = shapely.Polygon(
        [
            (120.8, 32.0),
            (120.81, 32.0),
            (120.805, 32.005),
            (120.8050000001, 32.005),
            (120.81, 32.01),
            (120.8, 32.01),
            (120.805, 32.0050000001),
        ]
    )
    out = shift_to_wgs84(gpd.GeoSeries([poly], crs=4326), "gcj02")
    assert out.is_valid.all() and out.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def _utm_ring() -> np.ndarray:
    ring = _truth_ring(12)
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)
    return np.column_stack(to_utm.transform(ring[:, 0], ring[:, 1]))


def test_projected_file_without_crs_is_refused_and_nothing_written(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    before = table_counts(engine)
    path = _datav_file(tmp_path / "utm.json", _utm_ring())
    with pytest.raises(InvalidParameterError) as excinfo:
        load_areas(engine, path, AreaLoadOptions(level="district", code_field="adcode"))
    message = excinfo.value.message("en")
    assert "coordinates are not longitude/latitude" in message and "--crs" in message
    assert "坐标不是经纬度" in str(excinfo.value)
    assert table_counts(engine) == before
    # With the CRS given, the same file loads.
    options = AreaLoadOptions(level="district", code_field="adcode", crs="EPSG:32651")
    assert load_areas(engine, path, options).inserted == 1


def test_unknown_crs_name_is_refused(engine, tmp_path):
    before = table_counts(engine)
    path = _datav_file(tmp_path / "d.json", _truth_ring(12))
    with pytest.raises((InvalidParameterError, AreaLoadError), match="'gcj03'"):
        load_areas(engine, path, AreaLoadOptions("district", "adcode", crs="gcj03"))
    assert table_counts(engine) == before


# --- detection: never convert silently, but say so ---------------------------------------


def gcj_street_file(tmp_path: Path) -> Path:
    """Streets of the tiny city (its district boundary at lon 120.90), written in GCJ-02."""
    features = []
    for i, (x0, x1) in enumerate([(120.80, 120.85), (120.85, 120.90)], start=1):
        ring = np.array([(x0, 32.00), (x1, 32.00), (x1, 32.04), (x0, 32.04), (x0, 32.00)])
        dense = np.vstack(
            [np.linspace(a, b, 20, endpoint=False) for a, b in itertools.pairwise(ring)]
        )
        dense = np.vstack([dense, dense[:1]])
        gcj = np.column_stack(wgs84_to_gcj02(dense[:, 0], dense[:, 1]))
        features.append(
            {
                "type": "Feature",
                "properties": {"code": f"32990100{i}", "name": f"街道{i}", "parent_code": "329901"},
                "geometry": {"type": "Polygon", "coordinates": [gcj.tolist()]},
            }
        )
    return write_geojson(tmp_path / "streets_gcj.geojson", features)


def _districts_only(engine, tmp_path) -> None:
    load_areas(
        engine, write_geojson(tmp_path / "d.geojson", DISTRICTS), AreaLoadOptions("district")
    )


@pytest.mark.parametrize("declared", [None, "bd09"])
def test_gcj02_boundaries_read_otherwise_are_noticed(engine, tmp_path, declared):
    _districts_only(engine, tmp_path)
    path = gcj_street_file(tmp_path)
    report = load_areas(engine, path, AreaLoadOptions("street", crs=declared))
    assert report.crs_hint is not None
    assert "look like GCJ-02 (AMap/Tencent)" in en(report.crs_hint)
    assert "re-run with --crs gcj02" in en(report.crs_hint)


@pytest.mark.parametrize("declared", [None, "bd09"])
def test_strict_refuses_a_boundary_file_in_the_wrong_crs(engine, tmp_path, declared):
    _districts_only(engine, tmp_path)
    before = table_counts(engine)
    path = gcj_street_file(tmp_path)
    with pytest.raises(AreaLoadError) as info:
        load_areas(engine, path, AreaLoadOptions("street", crs=declared, strict=True))
    message = str(info.value)
    assert "坐标疑似 GCJ-02" in message and "--crs gcj02" in message
    assert "outside the areas already loaded" in info.value.message("en")
    assert table_counts(engine) == before
    # read right, it fits and nothing is said
    report = load_areas(engine, path, AreaLoadOptions("street", crs="gcj02", strict=True))
    assert report.inserted == 2 and report.crs_hint is None


def _gcj_points_file(tmp_path: Path) -> Path:
    """Ten inspection points of the tiny city, four ~100 m inside its south edge, in GCJ-02
    (which is ~230 m further south there)."""
    truth = [(120.81 + 0.018 * i, 32.0009 if i % 2 else 32.02) for i in range(8)]
    truth += [(120.85, 32.03), (120.95, 32.035)]
    features = []
    for i, (lon, lat) in enumerate(truth):
        x, y = wgs84_to_gcj02(lon, lat)
        features.append(
            {
                "type": "Feature",
                "properties": {"code": f"Q{i}", "name": f"点位{i}", "kind": "market"},
                "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
            }
        )
    return write_geojson(tmp_path / "points_gcj.geojson", features)


def test_gcj02_points_read_as_wgs84_are_noticed_and_refused_with_strict(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    path = _gcj_points_file(tmp_path)
    before = table_counts(engine)
    with pytest.raises(PointLoadError, match="请用 --crs gcj02 重新运行"):
        load_points(engine, path, PointLoadOptions(strict=True))
    assert table_counts(engine) == before
    report = load_points(engine, path, PointLoadOptions())
    assert report.crs_hint is not None and "40.0% of its features" in en(report.crs_hint)
    right = load_points(engine, path, PointLoadOptions(crs="gcj02", strict=True))
    assert right.crs_hint is None and right.outside == 0
