"""GCJ-02 / BD-09 conversions (geo/core/crs.py): published reference points, round trips,
the China box, and the ``--crs`` names. Coordinates are lon/lat degrees."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.core.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    lonlat_to_wgs84,
    normalise_crs_name,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.core.errors import InvalidParameterError
from tests.helpers import raises_msg

# Reference values published with the gcoord library's test suite (5 decimals), for the
# input (123, 45) in each system.
REFERENCE = [
    (wgs84_to_gcj02, (123.00607541, 45.00197815)),
    (gcj02_to_wgs84, (122.99395597, 44.99804071)),
    (gcj02_to_bd09, (123.00636499, 45.00636899)),
    (bd09_to_gcj02, (122.99363304, 44.99365430)),
    (bd09_to_wgs84, (122.98762210, 44.99171540)),
    (wgs84_to_bd09, (123.0124491, 45.0083293)),
]


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Distance in metres between lon/lat degrees (equirectangular; fine at these sizes)."""
    dx = np.radians(np.asarray(lon2) - lon1) * np.cos(np.radians(lat1)) * 6_371_008.8
    dy = np.radians(np.asarray(lat2) - lat1) * 6_371_008.8
    return np.hypot(dx, dy)


@pytest.mark.parametrize(
    ("convert", "expected"), REFERENCE, ids=lambda v: getattr(v, "__name__", "")
)
def test_published_reference_points(convert, expected) -> None:
    lon, lat = convert(123.0, 45.0)
    assert float(lon) == pytest.approx(expected[0], abs=5e-6)
    assert float(lat) == pytest.approx(expected[1], abs=5e-6)


def test_offsets_have_the_documented_size_in_qinglan() -> None:
    lon, lat = 120.90, 32.02
    glon, glat = wgs84_to_gcj02(lon, lat)
    blon, blat = wgs84_to_bd09(lon, lat)
    assert 100 < _metres(lon, lat, glon, glat) < 700  # GCJ-02: 100–700 m
    assert 500 < _metres(glon, glat, blon, blat) < 1500  # BD-09: about another km


def test_outside_china_unchanged() -> None:
    lon = np.array([2.35, -74.0, 183.0, 121.0])
    lat = np.array([48.85, 40.7, 45.0, 60.0])
    assert not in_china(lon, lat).any()
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = convert(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_iterated_inverse_beats_the_one_step_inverse() -> None:
    lon, lat = np.array([116.3975, 120.9, 113.26]), np.array([39.9087, 32.02, 23.13])
    glon, glat = wgs84_to_gcj02(lon, lat)
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    assert _metres(lon, lat, back_lon, back_lat).max() < 1e-3
    flon, flat = wgs84_to_gcj02(glon, glat)
    one_step = (2 * glon - flon, 2 * glat - flat)  # the classic closed-form "inverse"
    assert _metres(lon, lat, *one_step).max() > 0.05


def test_vectorised_and_nan_safe() -> None:
    lon = np.array([120.9, np.nan, 121.0])
    lat = np.array([32.0, 32.0, np.nan])
    out_lon, out_lat = gcj02_to_wgs84(lon, lat)
    assert np.isfinite(out_lon[0]) and np.isnan(out_lon[1]) and np.isnan(out_lat[2])


china_lon = st.floats(min_value=73.7, max_value=134.7, allow_nan=False)
china_lat = st.floats(min_value=18.2, max_value=53.5, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_gcj02_round_trip_under_a_centimetre(lon: float, lat: float) -> None:
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert _metres(lon, lat, back_lon, back_lat) < 0.01


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_bd09_round_trip_under_a_centimetre(lon: float, lat: float) -> None:
    back_lon, back_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert _metres(lon, lat, back_lon, back_lat) < 0.01


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=50))
def test_arrays_match_scalars(points) -> None:
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    many = gcj02_to_wgs84(lon, lat)
    for i, (x, y) in enumerate(points):
        one = gcj02_to_wgs84(x, y)
        assert _metres(float(one[0]), float(one[1]), many[0][i], many[1][i]) < 1e-4


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, "EPSG:4326"),
        ("WGS84", "EPSG:4326"),
        ("cgcs2000", "EPSG:4490"),
        ("GCJ02", "gcj02"),
        ("gcj-02", "gcj02"),
        ("BD09", "bd09"),
        ("EPSG:32651", "EPSG:32651"),
        ("epsg:4490", "EPSG:4490"),
    ],
)
def test_crs_names(name, expected) -> None:
    assert normalise_crs_name(name) == expected


def test_unknown_crs_name_is_a_clear_error() -> None:
    with raises_msg(InvalidParameterError, "unknown coordinate system 'mars'"):
        normalise_crs_name("mars")


def test_epsg_input_through_pyproj() -> None:
    # UTM 51N easting/northing of a point in Qinglan → lon/lat.
    lon, lat = lonlat_to_wgs84([306_390.365], [3_544_489.484], "EPSG:32651")
    assert _metres(120.95, 32.02, lon[0], lat[0]) < 0.01
    same = lonlat_to_wgs84([120.9], [32.0], "cgcs2000")
    assert _metres(120.9, 32.0, same[0][0], same[1][0]) < 1.0
