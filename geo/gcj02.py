"""WGS-84 → GCJ-02 (the "Mars" coordinates of AMap/Gaode and Tencent maps), vectorised.

GCJ-02 is not a CRS that PROJ knows: it is WGS-84 lon/lat shifted by a published
closed-form formula on the Krasovsky ellipsoid (a = 6378245.0 m,
e² = 0.00669342162296594323), applied only inside China's rough bounding box. The
shift is 100–700 m. Used for exports meant for AMap-based tools; storage stays WGS-84.
web/static/civicgrid-map.js ``wgsToGcj`` is the same formula for the browser.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_A = 6378245.0
_EE = 0.00669342162296594323

FloatArray = npt.NDArray[np.float64]


def out_of_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where (lon, lat) degrees lie outside the box where GCJ-02 applies."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 lon/lat (degrees) of WGS-84 lon/lat arrays (degrees); unchanged outside China.

    NaN in, NaN out. Works on scalars too (returns 0-d arrays).
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x, y = lon - 105.0, lat - 35.0
    d_lat = _transform_lat(x, y)
    d_lon = _transform_lon(x, y)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + d_lon), np.where(outside, lat, lat + d_lat)


def wgs84_to_gcj02_xy(xy: FloatArray) -> FloatArray:
    """The same for an (n, 2) lon/lat array, as ``shapely.transform`` wants it."""
    lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def _transform_lat(x: FloatArray, y: FloatArray) -> FloatArray:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    r += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return r


def _transform_lon(x: FloatArray, y: FloatArray) -> FloatArray:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    r += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return r
