"""Coordinate reference systems: storage CRS and the local metric CRS.

Everything is stored in WGS-84 lon/lat (EPSG:4326). Metric work (areas in m²,
buffers and distances in metres) is done in the UTM zone of the data, never in degrees.
Survey coordinates in the Chinese GCJ-02 (AMap, Tencent) and BD-09 (Baidu) systems are
converted to WGS-84 here, vectorised over numpy arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo.core.errors import InvalidParameterError
from geo.core.text import tr

WGS84 = CRS.from_epsg(4326)


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS-84 UTM zone CRS containing (lon, lat) in degrees, e.g. EPSG:32651 at 121°E."""
    zone = min(60, max(1, math.floor((lon + 180.0) / 6.0) + 1))
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def metric_crs_for(frame: gpd.GeoSeries | gpd.GeoDataFrame) -> CRS:
    """The UTM CRS at the centre of ``frame``'s bounds (``frame`` in EPSG:4326)."""
    minx, miny, maxx, maxy = frame.total_bounds
    if not all(map(math.isfinite, (minx, miny, maxx, maxy))):
        return utm_crs(120.0, 30.0)
    return utm_crs((minx + maxx) / 2.0, (miny + maxy) / 2.0)


def areas_m2(geoms: gpd.GeoSeries) -> gpd.pd.Series:
    """Area of each geometry of ``geoms`` (EPSG:4326) in square metres, via local UTM."""
    return geoms.to_crs(metric_crs_for(geoms)).area


def to_wgs84(frame: gpd.GeoDataFrame, source_crs: str | CRS | None) -> gpd.GeoDataFrame:
    """Return ``frame`` in EPSG:4326: the one conversion every vector loader uses.

    ``source_crs`` (any ``--crs`` value: wgs84, cgcs2000, gcj02, bd09, EPSG:n) overrides
    the file's own CRS; a frame without any CRS is taken as WGS-84 lon/lat (what GeoJSON
    means by definition). GCJ-02 and BD-09 geometries are shifted vertex by vertex;
    a polygon the shift made invalid is repaired (``shapely.make_valid``, structure
    method, so polygons stay polygons). Raises ``InvalidParameterError`` for an unknown
    CRS and for coordinates that cannot be lon/lat (a projected file without ``--crs``).
    """
    name = None if source_crs is None else normalise_crs_name(str(source_crs))
    if name in ("gcj02", "bd09"):
        frame = frame.set_crs(WGS84, allow_override=True)
        frame = frame.set_geometry(shift_to_wgs84(frame.geometry, name))
    elif name is not None:
        frame = frame.set_crs(name, allow_override=True)
    if frame.crs is None:
        frame = frame.set_crs(WGS84)
    elif not CRS.from_user_input(frame.crs).equals(WGS84, ignore_axis_order=True):
        frame = frame.to_crs(WGS84)
    _check_lonlat(frame.geometry)
    return frame


def shift_to_wgs84(geoms: gpd.GeoSeries, name: str) -> gpd.GeoSeries:
    """GCJ-02 (``gcj02``) or BD-09 (``bd09``) geometries → WGS-84, vertex by vertex;
    geometries the shift made invalid are repaired, polygons staying polygonal."""
    inverse = gcj02_to_wgs84 if name == "gcj02" else bd09_to_wgs84

    def convert(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(inverse(xy[:, 0], xy[:, 1]))

    values = np.asarray(geoms.values, dtype=object)
    was_valid = shapely.is_valid(values)
    shifted = shapely.transform(values, convert)
    broken = was_valid & ~shapely.is_valid(shifted)
    if broken.any():
        shifted[broken] = shapely.make_valid(shifted[broken], method="structure")
    return gpd.GeoSeries(shifted, index=geoms.index, crs=WGS84)


def _check_lonlat(geoms: gpd.GeoSeries) -> None:
    present = geoms[~(geoms.isna() | geoms.is_empty)]
    if present.empty:
        return
    minx, miny, maxx, maxy = present.total_bounds
    if minx < -180.0 or maxx > 180.0 or miny < -90.0 or maxy > 90.0:
        extent = f"x {minx:.0f}…{maxx:.0f}, y {miny:.0f}…{maxy:.0f}"
        raise InvalidParameterError(
            tr(
                f"坐标不是经纬度（{extent}）：文件是未声明的投影坐标系，请用 --crs 指定，"
                "例如 --crs EPSG:4549（CGCS2000 3 度带，中央经线 120°E）",
                f"coordinates are not longitude/latitude ({extent}): the file is in a "
                "projected CRS that it does not declare; give it with --crs, e.g. "
                "--crs EPSG:4549 (CGCS2000 3-degree zone, 120°E)",
            )
        )


# --- Chinese coordinate systems: GCJ-02 (AMap, Tencent) and BD-09 (Baidu) -----------------
#
# PROJ does not know these offsets. GCJ-02 is the published closed-form perturbation on
# the Krasovsky ellipsoid, applied only inside a rough China box; BD-09 is a further
# polar-coordinate shift of GCJ-02. Both inverses are found by fixed-point iteration
# (the one-step inverse is off by up to ~4.5 m); a few steps reach 1e-10° (~0.01 mm).
# web/static/civicgrid-map.js ``wgsToGcj`` is the same forward formula for the browser
# (tests/geo/test_gcj02.py checks that they agree).

KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
_INVERSE_TOLERANCE_DEG = 1e-10
_INVERSE_MAX_STEPS = 30

INPUT_CRS_NAMES: dict[str, str] = {
    "wgs84": "EPSG:4326",
    "wgs-84": "EPSG:4326",
    "cgcs2000": "EPSG:4490",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
}
"""Accepted ``--crs`` names (case-insensitive); anything else must be ``EPSG:n`` or a
string pyproj understands."""


def in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Boolean mask of lon/lat (degrees) inside the box where GCJ-02 offsets apply."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 lon/lat degrees → GCJ-02 lon/lat degrees (unchanged outside China)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _gcj_offset(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def wgs84_to_gcj02_xy(xy: np.ndarray) -> np.ndarray:
    """The same for an (n, 2) lon/lat degree array, as ``shapely.transform`` wants it."""
    lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 lon/lat degrees → WGS-84 degrees, iterated to < 1e-10° (unchanged outside China)."""
    target_lon, target_lat = np.asarray(lon, float), np.asarray(lat, float)
    return _invert(wgs84_to_gcj02, target_lon, target_lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 lon/lat degrees → BD-09 lon/lat degrees (Baidu's published formula)."""
    x, y = np.asarray(lon, float), np.asarray(lat, float)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 lon/lat degrees → GCJ-02 degrees, iterated to < 1e-10°."""
    return _invert(gcj02_to_bd09, np.asarray(lon, float), np.asarray(lat, float))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 lon/lat degrees → BD-09 degrees (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 lon/lat degrees → WGS-84 degrees (through GCJ-02, both steps iterated)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def normalise_crs_name(name: str | None) -> str:
    """``--crs`` value → ``EPSG:4326``, ``EPSG:n``, ``gcj02`` or ``bd09``.

    Raises ``InvalidParameterError`` naming the value when pyproj does not know it.
    """
    if name is None or not str(name).strip():
        return "EPSG:4326"
    key = str(name).strip().lower()
    if key in INPUT_CRS_NAMES:
        return INPUT_CRS_NAMES[key]
    try:
        crs = CRS.from_user_input(str(name).strip())
    except CRSError as exc:
        raise InvalidParameterError(
            tr(
                f"未知的坐标系 '{name}'",
                f"unknown coordinate system '{name}' (wgs84, cgcs2000, gcj02, bd09 or EPSG:n)",
            )
        ) from exc
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_string()


def lonlat_to_wgs84(
    x: ArrayLike, y: ArrayLike, crs_name: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinates in ``crs_name`` (see ``normalise_crs_name``) to WGS-84 lon/lat.

    ``x``/``y`` are lon/lat degrees for geographic systems (GCJ-02, BD-09, EPSG:4490...)
    or easting/northing in the CRS's units for projected ones. NaN stays NaN.
    """
    name = normalise_crs_name(crs_name)
    x, y = np.asarray(x, float), np.asarray(y, float)
    if name == "EPSG:4326":
        return x, y
    if name == "gcj02":
        return gcj02_to_wgs84(x, y)
    if name == "bd09":
        return bd09_to_wgs84(x, y)
    transformer = Transformer.from_crs(CRS.from_user_input(name), WGS84, always_xy=True)
    lon, lat = transformer.transform(x, y)
    return np.asarray(lon, float), np.asarray(lat, float)


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1.0 - KRASOVSKY_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrt_magic * np.cos(rad) * pi)
    return dlon, dlat


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    target_lon: np.ndarray,
    target_lat: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(lon, lat) = target by fixed-point iteration (the Jacobian is ≈ I)."""
    lon, lat = target_lon.copy(), target_lat.copy()
    for _ in range(_INVERSE_MAX_STEPS):
        fx, fy = forward(lon, lat)
        dx, dy = fx - target_lon, fy - target_lat
        lon, lat = lon - dx, lat - dy
        error = np.nanmax(np.abs(np.r_[dx, dy]), initial=0.0)
        if not error > _INVERSE_TOLERANCE_DEG:
            break
    return lon, lat
