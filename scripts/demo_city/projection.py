"""Projection between WGS-84 lon/lat (EPSG:4326) and UTM zone 51N (EPSG:32651, metres).

Geometry helpers accept a shapely geometry or an array of them; coordinate helpers take
and return float arrays. Output coordinates are rounded to 6 decimals (about 0.1 m).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

from .config import UTM_CRS, Array


@functools.cache
def _transformer(to_utm: bool) -> Transformer:
    """EPSG:4326 → EPSG:32651 if ``to_utm``, else back (x = lon/easting first)."""
    src, dst = ("EPSG:4326", UTM_CRS) if to_utm else (UTM_CRS, "EPSG:4326")
    return Transformer.from_crs(src, dst, always_xy=True)


def _transform_xy(a: Array, b: Array, to_utm: bool) -> tuple[Array, Array]:
    """Coordinate arrays through :func:`_transformer`, as float arrays."""
    u, v = _transformer(to_utm).transform(a, b)
    return np.asarray(u, dtype=float), np.asarray(v, dtype=float)


def _project(geoms: Any, to_utm: bool) -> Any:
    """Geometries (scalar or array) through :func:`_transformer`."""
    return shapely.transform(
        geoms, lambda c: np.column_stack(_transform_xy(c[:, 0], c[:, 1], to_utm))
    )


def to_utm(geoms: Any) -> Any:
    """Project geometries (scalar or array) from EPSG:4326 lon/lat to EPSG:32651 metres."""
    return _project(geoms, True)


def to_lonlat(geoms: Any) -> Any:
    """Project geometries (scalar or array) from EPSG:32651 metres to EPSG:4326 lon/lat."""
    return _project(geoms, False)


def xy_to_lonlat(x: Array, y: Array) -> tuple[Array, Array]:
    """EPSG:32651 metres -> EPSG:4326 lon/lat arrays."""
    return _transform_xy(x, y, False)


def lonlat_to_xy(lon: Array, lat: Array) -> tuple[Array, Array]:
    """EPSG:4326 lon/lat -> EPSG:32651 metres arrays."""
    return _transform_xy(lon, lat, True)


def round_geom(geom: Any) -> Any:
    """Round lon/lat coordinates (EPSG:4326) to 6 decimals (the GeoJSON output precision)."""
    return shapely.transform(geom, lambda c: np.round(c, 6))


def to_output(geoms: Any) -> Any:
    """EPSG:32651 metres -> EPSG:4326 lon/lat rounded to 6 decimals (output coordinates)."""
    return round_geom(to_lonlat(geoms))
