"""Coordinate reference systems: storage CRS and the local metric CRS.

Everything is stored in WGS-84 lon/lat (EPSG:4326). Metric work (areas in m²,
buffers and distances in metres) is done in the UTM zone of the data, never in degrees.
The Chinese GCJ-02 / BD-09 conversions live here too once the survey pipeline needs them.
"""

from __future__ import annotations

import math

import geopandas as gpd
from pyproj import CRS

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
    """Return ``frame`` in EPSG:4326.

    ``source_crs`` overrides the file's own CRS; a frame without any CRS is taken as
    WGS-84 lon/lat (what GeoJSON means by definition).
    """
    if source_crs is not None:
        frame = frame.set_crs(source_crs, allow_override=True)
    if frame.crs is None:
        return frame.set_crs(WGS84)
    if CRS.from_user_input(frame.crs).equals(WGS84, ignore_axis_order=True):
        return frame
    return frame.to_crs(WGS84)
