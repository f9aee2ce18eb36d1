"""Building GeoJSON text from shapely geometries without per-feature geometry work.

Coordinates are EPSG:4326 lon/lat rounded to ``precision`` decimals (6 ≈ 0.1 m).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import shapely

DEFAULT_PRECISION = 6


def rounded(geoms: Sequence[Any] | np.ndarray, precision: int = DEFAULT_PRECISION) -> np.ndarray:
    """Geometries (EPSG:4326) with coordinates rounded to ``precision`` decimals."""
    array = np.asarray(geoms, dtype=object)
    return shapely.transform(array, lambda xy: np.round(xy, precision))


def outward_bbox(bbox: Sequence[float], precision: int = DEFAULT_PRECISION) -> list[float]:
    """``[minlon, minlat, maxlon, maxlat]`` (EPSG:4326, degrees) rounded outward to
    ``precision`` decimals: the minima down, the maxima up, so the box still holds all it
    held. Float noise smaller than a thousandth of the last decimal is dropped first, so
    ``121.00000000000001`` stays ``121.0`` instead of growing to ``121.000001``."""
    scale = 10**precision
    snapped = [round(float(v) * scale, 3) for v in bbox]
    low = [math.floor(v) / scale for v in snapped[:2]]
    high = [math.ceil(v) / scale for v in snapped[2:]]
    return low + high


def geojson_texts(
    geoms: Sequence[Any] | np.ndarray, precision: int = DEFAULT_PRECISION, ccw: bool = False
) -> np.ndarray:
    """GeoJSON text of each geometry (None stays None), coordinates rounded to ``precision``
    decimals; ``ccw``: exterior rings counter-clockwise, holes clockwise (RFC 7946).

    GEOS writes 17 significant digits, so a rounded 32.019679 comes out as
    32.019678999999996: such numbers are written again, shortest (Python's ``repr``).
    """
    geoms = rounded(geoms, precision)
    if ccw:
        geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    texts = shapely.to_geojson(geoms).astype(object)
    long_number, short = _long_number(precision), _shortest(precision)
    return np.array([t if t is None else long_number.sub(short, t) for t in texts], dtype=object)


@cache
def _long_number(precision: int) -> re.Pattern[str]:
    return re.compile(rf"-?\d+\.\d{{{precision + 1},}}(?:[eE][-+]?\d+)?")


@cache
def _shortest(precision: int) -> Any:
    return lambda match: repr(round(float(match.group()), precision))


def feature_collection(
    geoms: Sequence[Any] | np.ndarray,
    properties: Iterable[Mapping[str, Any]],
    precision: int = DEFAULT_PRECISION,
) -> str:
    """A GeoJSON FeatureCollection as text; geometries EPSG:4326, rounded."""
    texts = geojson_texts(geoms, precision)
    features = (
        f'{{"type":"Feature","geometry":{g},"properties":'
        f"{json.dumps(dict(p), ensure_ascii=False, default=str)}}}"
        for g, p in zip(texts, properties, strict=True)
    )
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
