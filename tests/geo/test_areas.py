"""Tests for geo.areas.loading.load_areas on both backends: hierarchy, measures, quality, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so
from pyproj import Geod, Transformer
from shapely.geometry import Polygon, box

from geo.areas.loading import AreaLoadOptions, load_areas
from geo.ingest.pipeline import ingest_file
from geo.storage.models import Area, Problem
from tests.helpers import (
    DISTRICTS,
    STREETS,
    area_ids,
    box_feature,
    load_tiny_city,
    polygon_feature,
    table_counts,
    write_csv,
    write_geojson,
)

UTM51 = "EPSG:32651"  # the UTM zone of the tiny city (lon 120.8–121.0)
_to_utm = Transformer.from_crs("EPSG:4326", UTM51, always_xy=True)


def utm_area(geom) -> float:
    """Area in m² of a lon/lat geometry, measured in UTM zone 51N."""
    return shapely.transform(
        geom, lambda xy: np.column_stack(_to_utm.transform(xy[:, 0], xy[:, 1]))
    ).area


def _areas(engine, level: str) -> dict[str, Area]:
    with so.Session(engine) as session:
        return {a.code: a for a in session.scalars(sa.select(Area).where(Area.level == level))}


def _load(engine, tmp_path: Path, name: str, features, level: str, **options) -> object:
    path = write_geojson(tmp_path / name, features)
    return load_areas(engine, path, AreaLoadOptions(level=level, **options))


# --- hierarchy -----------------------------------------------------------------------


def test_districts_then_streets_parent_by_code_and_by_containment(engine, tmp_path):
    d = _load(engine, tmp_path, "d.geojson", DISTRICTS, "district")
    assert (d.features, d.inserted, d.updated, d.unchanged) == (2, 2, 0, 0)
    assert d.parents_by_containment == 0
    s = _load(engine, tmp_path, "s.geojson", STREETS, "street")
    assert (s.features, s.inserted) == (4, 4)
    # Two streets name their parent code, two are placed by containment.
    assert s.parents_by_containment == 2
    districts = area_ids(engine, "district")
    streets = _areas(engine, "street")
    expected_parent = {
        "329901001": "329901",
        "329901002": "329901",
        "329902001": "329902",
        "329902101": "329902",
    }
    for code, parent in expected_parent.items():
        assert streets[code].parent_id == districts[parent], code
        assert streets[code].district_id == districts[parent], code
        assert streets[code].street_id == streets[code].id
        assert streets[code].community_id is None
    assert streets["329902101"].name == "北岭镇"
    assert all(a.parent_id is None for a in _areas(engine, "district").values())


def test_area_m2_matches_utm_and_geodesic_to_0_1_percent(engine, tmp_path):
    _load(engine, tmp_path, "d.geojson", DISTRICTS, "district")
    stored = _areas(engine, "district")["329901"]
    lonlat = box(120.80, 32.00, 120.90, 32.04)
    expected_utm = utm_area(lonlat)
    geodesic, _ = Geod(ellps="WGS84").geometry_area_perimeter(lonlat)
    assert expected_utm == pytest.approx(abs(geodesic), rel=1e-3)  # sanity of the reference
    assert stored.area_m2 == pytest.approx(expected_utm, rel=1e-3)
    assert stored.area_m2 == pytest.approx(abs(geodesic), rel=1e-3)
    # About 9.45 km × 4.44 km: a value in degrees² would be 0.004.
    assert 4.0e7 < stored.area_m2 < 4.4e7
    assert (stored.min_lon, stored.min_lat, stored.max_lon, stored.max_lat) == pytest.approx(
        (120.80, 32.00, 120.90, 32.04)
    )
    assert stored.geom.geom_type == "MultiPolygon"
    assert stored.geom.equals(lonlat)


def test_grid_level_gets_district_and_street_ancestry(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    grids = [
        box_feature(120.80, 32.00, 120.85, 32.02, code="329901001001001", name="网格一"),
        box_feature(120.95, 32.02, 121.00, 32.04, code="329902101001001", name="网格二"),
    ]
    report = _load(engine, tmp_path, "g.geojson", grids, "grid")
    # No community level is loaded: the parent is the street that contains each grid.
    assert report.parents_by_containment == 2
    districts = area_ids(engine, "district")
    streets = area_ids(engine, "street")
    stored = _areas(engine, "grid")
    one, two = stored["329901001001001"], stored["329902101001001"]
    assert (one.parent_id, one.district_id, one.street_id, one.community_id) == (
        streets["329901001"],
        districts["329901"],
        streets["329901001"],
        None,
    )
    assert (two.parent_id, two.district_id, two.street_id) == (
        streets["329902101"],
        districts["329902"],
        streets["329902101"],
    )


def test_reload_same_file_changes_nothing(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    before_ids = {**area_ids(engine, "district"), **area_ids(engine, "street")}
    before = table_counts(engine)
    again = _load(engine, tmp_path, "s2.geojson", STREETS, "street")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert again.reassigned_problems == again.reassigned_points == 0
    again_d = _load(engine, tmp_path, "d2.geojson", DISTRICTS, "district")
    assert (again_d.inserted, again_d.updated, again_d.unchanged) == (0, 0, 2)
    assert table_counts(engine) == before
    assert {**area_ids(engine, "district"), **area_ids(engine, "street")} == before_ids
    # The streets' parents survived the district reload.
    streets = _areas(engine, "street")
    assert streets["329902001"].district_id == before_ids["329902"]


def test_reload_with_changed_geometry_reassigns_problems(engine, tmp_path):
    _load(engine, tmp_path, "d.geojson", DISTRICTS, "district")
    csv = write_csv(
        tmp_path / "problems.csv",
        "id,lon,lat,category,found_at\n"
        "P1,121.02,32.02,litter,2024-05-01 09:00\n"  # east of every district
        "P2,120.85,32.02,litter,2024-05-01 09:00\n",  # in 329901, untouched by the change
    )
    ingest_file(engine, csv)
    ids = area_ids(engine, "district")
    with so.Session(engine) as session:
        p1 = session.scalar(sa.select(Problem).where(Problem.external_id == "P1"))
        assert p1.outside and p1.district_id is None
    # 329902 grows east to 121.05 and now covers P1.
    changed = [
        DISTRICTS[0],
        box_feature(120.90, 32.00, 121.05, 32.04, code="329902", name="枫桥区"),
    ]
    report = _load(engine, tmp_path, "d2.geojson", changed, "district")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    assert report.reassigned_problems == 1
    assert area_ids(engine, "district") == ids
    with so.Session(engine) as session:
        rows = {p.external_id: p for p in session.scalars(sa.select(Problem).order_by(Problem.id))}
    assert rows["P1"].district_id == ids["329902"]
    assert rows["P1"].outside is False
    assert rows["P2"].district_id == ids["329901"]
    assert _areas(engine, "district")["329902"].max_lon == pytest.approx(121.05)


# --- quality reports -----------------------------------------------------------------


def test_overlaps_reported_in_m2(engine, tmp_path):
    overlapping = [
        DISTRICTS[0],
        box_feature(120.89, 32.00, 121.00, 32.04, code="329902", name="枫桥区"),
    ]
    report = _load(engine, tmp_path, "d.geojson", overlapping, "district")
    assert len(report.overlaps) == 1
    overlap = report.overlaps[0]
    assert {overlap.code_a, overlap.code_b} == {"329901", "329902"}
    expected = utm_area(box(120.89, 32.00, 120.90, 32.04))  # ≈ 4.2 km²
    assert overlap.m2 == pytest.approx(expected, rel=1e-3)
    # Sharing an edge is not an overlap.
    clean = _load(engine, tmp_path, "d2.geojson", DISTRICTS, "district")
    assert clean.overlaps == []


_HOLE = [(120.84, 32.01), (120.86, 32.01), (120.86, 32.03), (120.84, 32.03), (120.84, 32.01)]
_SHELL = [(120.80, 32.00), (120.90, 32.00), (120.90, 32.04), (120.80, 32.04), (120.80, 32.00)]


def _holed(code: str, **props) -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": code, **props},
        "geometry": {"type": "Polygon", "coordinates": [_SHELL, _HOLE]},
    }


def test_gap_inside_parent_reported_in_m2(engine, tmp_path):
    _load(engine, tmp_path, "d.geojson", DISTRICTS, "district")
    streets = [
        _holed("329901001", parent_code="329901"),  # leaves the hole of 329901 uncovered
        box_feature(120.90, 32.00, 121.00, 32.04, code="329902001", name="南湖街道"),
    ]
    report = _load(engine, tmp_path, "s.geojson", streets, "street")
    assert len(report.gaps) == 1, report.gaps
    gap = report.gaps[0]
    assert gap.parent_code == "329901"
    assert gap.m2 == pytest.approx(utm_area(Polygon(_HOLE)), rel=1e-3)  # ≈ 4.2 km²
    assert 120.84 < gap.lon < 120.86 and 32.01 < gap.lat < 32.03


def test_hole_in_a_layer_without_parents_reported_in_m2(engine, tmp_path):
    report = _load(engine, tmp_path, "d.geojson", [_holed("329901")], "district")
    assert [g.parent_code for g in report.gaps] == [None]
    assert report.gaps[0].m2 == pytest.approx(utm_area(Polygon(_HOLE)), rel=1e-3)


def test_t_junctions_give_no_false_gaps_or_overlaps(engine, tmp_path):
    # Regression: the set operations must run in lon/lat. Projecting straight lon/lat
    # edges to UTM first turns a T-junction (a vertex in the middle of a neighbour's
    # edge) into km-long slivers: false overlaps and gaps of hundreds of m².
    _load(engine, tmp_path, "d.geojson", DISTRICTS, "district")
    # STREETS split each district at mid-edge and cover it exactly.
    report = _load(engine, tmp_path, "s.geojson", STREETS, "street")
    assert report.gaps == []
    assert report.overlaps == []


def test_ring_of_areas_around_a_hole_reports_the_hole(engine, tmp_path):
    # Four boxes meeting in T-junctions around an uncovered square (no parent level):
    # the union has a hole only if the edges are taken as straight in lon/lat.
    ring = [
        box_feature(120.80, 32.00, 120.90, 32.01, code="1", name="s"),
        box_feature(120.80, 32.03, 120.90, 32.04, code="2", name="n"),
        box_feature(120.80, 32.01, 120.82, 32.03, code="3", name="w"),
        box_feature(120.88, 32.01, 120.90, 32.03, code="4", name="e"),
    ]
    report = _load(engine, tmp_path, "g.geojson", ring, "district")
    assert report.overlaps == []
    assert [g.parent_code for g in report.gaps] == [None]
    assert report.gaps[0].m2 == pytest.approx(utm_area(box(120.82, 32.01, 120.88, 32.03)), rel=1e-3)


def test_bow_tie_repaired_and_reported(engine, tmp_path):
    bow_tie = polygon_feature(
        [(120.80, 32.00), (120.90, 32.04), (120.90, 32.00), (120.80, 32.04)],
        code="329901",
        name="云溪区",
    )
    report = _load(engine, tmp_path, "d.geojson", [bow_tie, DISTRICTS[1]], "district")
    assert report.inserted == 2
    assert len(report.repaired) == 1
    assert "feature 1 (329901)" in report.repaired[0]
    assert "Self-intersection" in report.repaired[0]
    stored = _areas(engine, "district")["329901"]
    assert stored.geom.is_valid
    assert stored.geom.geom_type == "MultiPolygon"
    assert len(stored.geom.geoms) == 2  # the two triangles of the bow tie
    half = utm_area(box(120.80, 32.00, 120.90, 32.04)) / 2
    assert stored.area_m2 == pytest.approx(half, rel=1e-3)


# --- CRS -----------------------------------------------------------------------------

# A community well inside street 329901001 (lon 120.80–120.85), given in UTM metres.
_LONLAT_CORNERS = [(120.81, 32.01), (120.84, 32.01), (120.84, 32.03), (120.81, 32.03)]


def _utm_feature() -> dict:
    corners = [_to_utm.transform(x, y) for x, y in _LONLAT_CORNERS]
    assert corners[0][0] > 100_000  # really metres
    return polygon_feature(corners, code="329901001001", name="东门社区")


def _assert_lands_in_street(engine) -> None:
    community = _areas(engine, "community")["329901001001"]
    got = sorted(set(community.geom.geoms[0].exterior.coords))
    for (x, y), (ex, ey) in zip(got, sorted(_LONLAT_CORNERS), strict=True):
        assert (x, y) == pytest.approx((ex, ey), abs=1e-7)
    assert community.parent_id == area_ids(engine, "street")["329901001"]
    assert community.district_id == area_ids(engine, "district")["329901"]


def test_crs_option_overrides_the_file(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    path = write_geojson(tmp_path / "utm.geojson", [_utm_feature()])
    report = load_areas(engine, path, AreaLoadOptions(level="community", crs=UTM51))
    assert report.inserted == 1 and report.parents_by_containment == 1
    _assert_lands_in_street(engine)


def test_legacy_geojson_crs_member_is_honoured(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    path = write_geojson(
        tmp_path / "qgis.geojson", [_utm_feature()], crs="urn:ogc:def:crs:EPSG::32651"
    )
    load_areas(engine, path, AreaLoadOptions(level="community"))
    _assert_lands_in_street(engine)


def test_custom_field_names(engine, tmp_path):
    features = [
        box_feature(120.80, 32.00, 120.90, 32.04, adcode=329901, mc="云溪区"),
    ]
    path = write_geojson(tmp_path / "d.geojson", features)
    load_areas(
        engine, path, AreaLoadOptions(level="district", code_field="adcode", name_field="mc")
    )
    stored = _areas(engine, "district")
    assert list(stored) == ["329901"]  # numeric code kept as text, no ".0"
    assert stored["329901"].name == "云溪区"


def test_shapely_geometry_is_stored_exactly(engine, tmp_path):
    # Coordinates survive the round trip bit for bit (WKB on SQLite, EWKB on PostGIS),
    # which is what lets a reload detect "unchanged".
    coords = [(120.8123456789, 32.0012345678), (120.85, 32.0), (120.83, 32.03)]
    _load(
        engine,
        tmp_path,
        "d.geojson",
        [polygon_feature(coords, code="1", name="tri")],
        "district",
    )
    stored = _areas(engine, "district")["1"].geom
    assert shapely.equals_exact(stored.geoms[0], Polygon(coords), 0.0)


def test_reparented_area_reassigns_what_lies_in_it(engine, tmp_path):
    # 区划调整: district 329901 takes over the west half of 329902, and street 329902001
    # moves to 329901 by its parent code while its own shape stays the same. Problems in
    # that street must follow: their district must be the street's new district.
    load_tiny_city(engine, tmp_path)
    csv = write_csv(
        tmp_path / "p.csv", "id,lon,lat,category,found_at\nP1,120.92,32.02,litter,2024-05-01\n"
    )
    ingest_file(engine, csv)
    moved = [
        box_feature(120.80, 32.00, 120.95, 32.04, code="329901", name="云溪区"),
        box_feature(120.95, 32.00, 121.00, 32.04, code="329902", name="枫桥区"),
    ]
    _load(engine, tmp_path, "d2.geojson", moved, "district")
    streets = json.loads(json.dumps(STREETS))
    streets[2]["properties"]["parent_code"] = "329901"
    report = _load(engine, tmp_path, "s2.geojson", streets, "street")
    assert (report.updated, report.unchanged) == (1, 3)
    assert report.reassigned_problems == 1
    districts = area_ids(engine, "district")
    assert _areas(engine, "street")["329902001"].district_id == districts["329901"]
    with so.Session(engine) as session:
        problem = session.scalars(sa.select(Problem)).one()
    assert problem.district_id == districts["329901"]
    assert problem.street_id == area_ids(engine, "street")["329902001"]
