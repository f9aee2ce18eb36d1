"""Building GeoJSON text from shapely geometries without per-feature geometry work.

Coordinates are EPSG:4326 lon/lat rounded to ``precision`` decimals (6 ≈ 0.1 m).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import shapely

DEFAULT_PRECISION = 6


def rounded(geoms: Sequence[Any] | np.ndarray, precision: int = DEFAULT_PRECISION) -> np.ndarray:
    """Geometries (EPSG:4326) with coordinates rounded to ``precision`` decimals."""
    array = np.asarray(geoms, dtype=object)
    return shapely.transform(array, lambda xy: np.round(xy, precision))


def feature_collection(
    geoms: Sequence[Any] | np.ndarray,
    properties: Iterable[Mapping[str, Any]],
    precision: int = DEFAULT_PRECISION,
) -> str:
    """A GeoJSON FeatureCollection as text; geometries EPSG:4326, rounded."""
    texts = shapely.to_geojson(rounded(geoms, precision))
    features = (
        f'{{"type":"Feature","geometry":{g},"properties":'
        f"{json.dumps(dict(p), ensure_ascii=False, default=str)}}}"
        for g, p in zip(texts, properties, strict=True)
    )
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
