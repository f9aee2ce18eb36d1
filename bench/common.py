"""Shared benchmark helpers: timing, peak memory, synthetic grids, the JSON result line."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import shapely

T = TypeVar("T")

# The demo city's extent (EPSG:4326 degrees).
BBOX = (120.80, 31.95, 121.00, 32.10)


def timed(func: Callable[[], T], repeat: int = 1) -> tuple[T, float]:
    """Run ``func`` ``repeat`` times; return the last result and the best wall time (s)."""
    best = float("inf")
    result: Any = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return result, best


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def voronoi_grids(n: int, seed: int = 7, bbox: tuple[float, ...] = BBOX) -> gpd.GeoDataFrame:
    """``n`` irregular polygons (Voronoi cells clipped to ``bbox``) tiling it exactly.

    Columns: id, level='grid', code (15 digits), district_id/street_id/community_id (NA);
    EPSG:4326. Shared edges are identical, vertex for vertex.
    """
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bbox
    seeds = shapely.multipoints(np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)]))
    frame = shapely.box(x0, y0, x1, y1)
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame))
    cells = shapely.intersection(cells, frame)
    cells = cells[shapely.get_type_id(cells) == 3]  # Polygon
    ids = np.arange(1, len(cells) + 1)
    return gpd.GeoDataFrame(
        {
            "id": ids,
            "level": "grid",
            "code": [f"329901001{i:06d}" for i in ids],
            "district_id": None,
            "street_id": None,
            "community_id": None,
        },
        geometry=cells,
        crs=4326,
    )


def edge_points(grids: gpd.GeoDataFrame, n: int, seed: int = 11) -> np.ndarray:
    """``n`` points exactly on polygon vertices (shared by 2–3 cells) of ``grids``."""
    rng = np.random.default_rng(seed)
    coords = shapely.get_coordinates(shapely.get_exterior_ring(grids.geometry.values))
    x0, y0, x1, y1 = grids.total_bounds
    inner = (coords[:, 0] > x0) & (coords[:, 0] < x1) & (coords[:, 1] > y0) & (coords[:, 1] < y1)
    coords = coords[inner]
    return shapely.points(coords[rng.integers(0, len(coords), n)])


def random_points(n: int, seed: int = 3, bbox: tuple[float, ...] = BBOX) -> np.ndarray:
    """``n`` uniform random points in ``bbox`` (EPSG:4326)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bbox
    return shapely.points(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n))


def emit(result: dict[str, Any]) -> None:
    """Print the one JSON line every benchmark ends with (DESIGN.md, Tests)."""
    print(json.dumps(result, ensure_ascii=False))
