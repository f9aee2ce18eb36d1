"""Tests for geo.areas.assign: finest-level assignment, ancestry, edge ties, representative points.

Areas are tiny GeoDataFrames in EPSG:4326 built inline; no database is involved.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, box

from geo.areas.assign import AreaIndex, assign_lonlat, representative_points
from geo.storage.models import ANCESTRY_COLUMNS

X0, Y0 = 120.0, 32.0


def _areas(rows: list[dict]) -> gpd.GeoDataFrame:
    """Areas frame: id, level, code, district/street/community ids, geometry (EPSG:4326)."""
    frame = pd.DataFrame(rows)
    for col in ("district_id", "street_id", "community_id"):
        if col not in frame:
            frame[col] = None
        frame[col] = frame[col].astype("Int64")
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)


def _ids(result: pd.DataFrame, i: int) -> dict[str, int | None]:
    return {
        c: (None if pd.isna(result.at[i, c]) else int(result.at[i, c])) for c in ANCESTRY_COLUMNS
    }


# A district (1) ⊃ street (2) ⊃ community (3) ⊃ grid (4); the grid covers only the
# south-west quarter of the community, the community the west half of the street.
HIERARCHY = [
    {"id": 1, "level": "district", "code": "320601", "geometry": box(X0, Y0, X0 + 0.4, Y0 + 0.4)},
    {
        "id": 2,
        "level": "street",
        "code": "320601001",
        "district_id": 1,
        "geometry": box(X0, Y0, X0 + 0.2, Y0 + 0.2),
    },
    {
        "id": 3,
        "level": "community",
        "code": "320601001001",
        "district_id": 1,
        "street_id": 2,
        "geometry": box(X0, Y0, X0 + 0.1, Y0 + 0.2),
    },
    {
        "id": 4,
        "level": "grid",
        "code": "320601001001001",
        "district_id": 1,
        "street_id": 2,
        "community_id": 3,
        "geometry": box(X0, Y0, X0 + 0.1, Y0 + 0.1),
    },
]


def test_finest_level_with_ancestors():
    index = AreaIndex.from_frame(_areas(HIERARCHY))
    points = shapely.points(
        [
            (X0 + 0.05, Y0 + 0.05),  # in the grid
            (X0 + 0.05, Y0 + 0.15),  # in the community, outside the grid
            (X0 + 0.15, Y0 + 0.05),  # in the street, outside the community
            (X0 + 0.30, Y0 + 0.30),  # in the district only
        ]
    )
    result = index.assign(points)
    assert list(result["level"]) == ["grid", "community", "street", "district"]
    assert not result["outside"].any()
    assert _ids(result, 0) == {"district_id": 1, "street_id": 2, "community_id": 3, "grid_id": 4}
    assert _ids(result, 1) == {"district_id": 1, "street_id": 2, "community_id": 3, "grid_id": None}
    assert _ids(result, 2) == {
        "district_id": 1,
        "street_id": 2,
        "community_id": None,
        "grid_id": None,
    }
    assert _ids(result, 3) == {
        "district_id": 1,
        "street_id": None,
        "community_id": None,
        "grid_id": None,
    }
    for col in ANCESTRY_COLUMNS:
        assert str(result[col].dtype) == "Int64"


def test_assign_lonlat_matches_assign():
    index = AreaIndex.from_frame(_areas(HIERARCHY))
    lon = np.array([X0 + 0.05, X0 + 0.3, X0 + 1.0])
    lat = np.array([Y0 + 0.05, Y0 + 0.3, Y0 + 1.0])
    by_lonlat = assign_lonlat(index, lon, lat)
    by_points = index.assign(shapely.points(lon, lat))
    pd.testing.assert_frame_equal(by_lonlat, by_points)


def _two_grids(order: list[int]) -> gpd.GeoDataFrame:
    # West grid has the HIGHER code and the LOWER id, so the tie rule cannot be
    # "first loaded" or "lowest id" by accident.
    grids = [
        {"id": 7, "level": "grid", "code": "B002", "geometry": box(X0, Y0, X0 + 0.1, Y0 + 0.1)},
        {
            "id": 9,
            "level": "grid",
            "code": "A001",
            "geometry": box(X0 + 0.1, Y0, X0 + 0.2, Y0 + 0.1),
        },
    ]
    return _areas([grids[i] for i in order])


@pytest.mark.parametrize("order", [[0, 1], [1, 0]])
def test_point_on_shared_edge_goes_to_lower_code(order):
    index = AreaIndex.from_frame(_two_grids(order))
    on_edge = shapely.points([(X0 + 0.1, Y0 + 0.05), (X0 + 0.1, Y0), (X0 + 0.1, Y0 + 0.1)])
    results = [index.assign(on_edge) for _ in range(3)]
    for result in results:
        assert list(result["grid_id"]) == [9, 9, 9]  # code A001
        assert not result["outside"].any()
    # Each point is in the result exactly once (no duplicated rows for the two grids).
    assert len(results[0]) == 3


def test_point_on_shared_edge_independent_of_point_order():
    index = AreaIndex.from_frame(_two_grids([0, 1]))
    pts = shapely.points([(X0 + 0.05, Y0 + 0.05), (X0 + 0.1, Y0 + 0.05), (X0 + 0.15, Y0 + 0.05)])
    forward = index.assign(pts)["grid_id"].tolist()
    backward = index.assign(pts[::-1])["grid_id"].tolist()[::-1]
    assert forward == backward == [7, 9, 9]


def test_shared_vertex_of_four_areas():
    step = 0.125
    codes = {(0, 0): "G4", (1, 0): "G2", (0, 1): "G1", (1, 1): "G3"}
    rows = [
        {
            "id": 10 + i,
            "level": "grid",
            "code": code,
            "geometry": box(X0 + c * step, Y0 + r * step, X0 + (c + 1) * step, Y0 + (r + 1) * step),
        }
        for i, ((c, r), code) in enumerate(codes.items())
    ]
    vertex = shapely.points([(X0 + step, Y0 + step)])
    for perm in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]):
        result = AreaIndex.from_frame(_areas([rows[i] for i in perm])).assign(vertex)
        assert result["grid_id"].tolist() == [12]  # code G1, the lowest
        assert result["level"].tolist() == ["grid"]


def test_point_outside_everything():
    index = AreaIndex.from_frame(_areas(HIERARCHY))
    result = index.assign(shapely.points([(X0 + 5, Y0 + 5), (X0 + 0.05, Y0 + 0.05)]))
    assert result["outside"].tolist() == [True, False]
    assert pd.isna(result["level"].iloc[0])
    for col in ANCESTRY_COLUMNS:
        assert pd.isna(result.at[0, col])


def test_empty_index_puts_everything_outside():
    index = AreaIndex.from_frame(_areas(HIERARCHY).iloc[:0])
    assert index.empty
    result = index.assign(shapely.points([(X0, Y0)]))
    assert result["outside"].tolist() == [True]


def test_only_districts_loaded():
    districts = _areas(
        [
            {
                "id": 1,
                "level": "district",
                "code": "320601",
                "geometry": box(X0, Y0, X0 + 1, Y0 + 1),
            },
            {
                "id": 2,
                "level": "district",
                "code": "320602",
                "geometry": box(X0 + 1, Y0, X0 + 2, Y0 + 1),
            },
        ]
    )
    result = AreaIndex.from_frame(districts).assign(shapely.points([(X0 + 1.5, Y0 + 0.5)]))
    assert _ids(result, 0) == {
        "district_id": 2,
        "street_id": None,
        "community_id": None,
        "grid_id": None,
    }
    assert result.at[0, "level"] == "district"
    assert not result.at[0, "outside"]


def test_representative_point_of_point_is_itself():
    pt = Point(X0 + 0.3, Y0 + 0.7)
    (rep,) = representative_points(np.array([pt], dtype=object))
    assert rep.equals(pt)


def test_representative_point_of_line_is_its_midpoint_on_the_line():
    # An uneven L (0.3 east, then 0.1 north): the centroid and bbox centre are off the
    # line, and the midpoint along its length (0.2 east) is not a vertex.
    line = LineString([(X0, Y0), (X0 + 0.3, Y0), (X0 + 0.3, Y0 + 0.1)])
    (rep,) = representative_points(np.array([line], dtype=object))
    assert rep.geom_type == "Point"
    assert line.distance(rep) < 1e-12
    assert (rep.x, rep.y) == pytest.approx((X0 + 0.2, Y0))
    assert line.project(rep, normalized=True) == pytest.approx(0.5)
    assert line.distance(line.centroid) > 0.01  # the centroid would have been wrong


def test_representative_point_of_c_shaped_polygon_is_inside():
    c_shape = Polygon(
        [(X0, Y0), (X0 + 3, Y0), (X0 + 3, Y0 + 1), (X0 + 1, Y0 + 1), (X0 + 1, Y0 + 2),
         (X0 + 3, Y0 + 2), (X0 + 3, Y0 + 3), (X0, Y0 + 3)]
    )  # fmt: skip
    assert not c_shape.contains(c_shape.centroid)  # the case that matters
    (rep,) = representative_points(np.array([c_shape], dtype=object))
    assert c_shape.contains(rep)


def test_representative_points_mixed_array_keeps_order():
    geoms = np.array(
        [
            box(X0, Y0, X0 + 1, Y0 + 1),
            Point(X0 + 5, Y0 + 5),
            LineString([(X0, Y0), (X0 + 2, Y0)]),
            shapely.MultiLineString([[(X0, Y0), (X0 + 1, Y0)], [(X0 + 1, Y0), (X0 + 3, Y0)]]),
        ],
        dtype=object,
    )
    reps = representative_points(geoms)
    assert len(reps) == 4
    assert geoms[0].contains(reps[0])
    assert reps[1].equals(Point(X0 + 5, Y0 + 5))
    assert (reps[2].x, reps[2].y) == pytest.approx((X0 + 1, Y0))
    assert geoms[3].distance(reps[3]) < 1e-12
    assert reps[3].x == pytest.approx(X0 + 1.5)


# --- property: a box tiled by squares ------------------------------------------------

STEP = 0.0625  # 1/16°: exact in binary, so grid lines and sampled coordinates coincide
COLS, ROWS = 4, 3


def _tiling(codes: list[str]) -> gpd.GeoDataFrame:
    rows = []
    for i, code in enumerate(codes):
        c, r = i % COLS, i // COLS
        rows.append(
            {
                "id": 100 + i,
                "level": "grid",
                "code": code,
                "geometry": box(
                    X0 + c * STEP, Y0 + r * STEP, X0 + (c + 1) * STEP, Y0 + (r + 1) * STEP
                ),
            }
        )
    return _areas(rows)


def _brute_force(tiles: gpd.GeoDataFrame, pt: Point) -> int:
    hits = [
        (row.code, row.id)
        for row in tiles.itertuples()
        if row.geometry.contains(pt) or row.geometry.touches(pt)
    ]
    assert hits, "sampled point outside the tiled box"
    return min(hits)[1]


# Coordinates on a 1/64° lattice hit edges and vertices often; floats hit interiors.
_lattice_x = st.integers(0, COLS * 4).map(lambda k: X0 + k / 64)
_lattice_y = st.integers(0, ROWS * 4).map(lambda k: Y0 + k / 64)
_float_x = st.floats(X0, X0 + COLS * STEP, allow_nan=False)
_float_y = st.floats(Y0, Y0 + ROWS * STEP, allow_nan=False)
_points = st.lists(
    st.tuples(st.one_of(_lattice_x, _float_x), st.one_of(_lattice_y, _float_y)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(
    codes=st.permutations([f"{320601001001000 + i}" for i in range(COLS * ROWS)]),
    coords=_points,
)
def test_tiled_box_every_point_assigned_once_like_brute_force(codes, coords):
    tiles = _tiling(list(codes))
    result = AreaIndex.from_frame(tiles).assign(shapely.points(coords))
    assert len(result) == len(coords)
    assert not result["outside"].any()
    assert result["grid_id"].notna().all()
    expected = [_brute_force(tiles, Point(x, y)) for x, y in coords]
    assert result["grid_id"].astype(int).tolist() == expected
