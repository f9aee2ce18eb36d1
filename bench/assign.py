"""Benchmark: assigning points to irregular grids, civicgrid vs geopandas.sjoin(within).

Builds N irregular grid polygons (Voronoi cells tiling the demo city's extent) and M
points, a share of them exactly on shared vertices. Times geo.areas.assign (index build +
assignment, with the deterministic edge rule) against plain
``geopandas.sjoin(points, grids, predicate="within")`` on the same data in the same run,
and counts the edge points each leaves unassigned.

    python bench/assign.py --rows 1000000 --grids 20000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import edge_points, emit, peak_rss_mb, random_points, timed, voronoi_grids
from geo.areas.assign import AreaIndex

TARGET_RATIO = 1.1


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = _parse(argv)
    grids = voronoi_grids(args.grids)
    n_edge = max(1, int(args.rows * args.edge_share))
    points = np.concatenate([random_points(args.rows - n_edge), edge_points(grids, n_edge)])
    is_edge = np.zeros(len(points), bool)
    is_edge[-n_edge:] = True
    print(f"{len(grids)} grids, {len(points)} points ({n_edge} on shared vertices)", flush=True)

    ours, seconds = timed(lambda: AreaIndex.from_frame(grids).assign(points), args.repeat)
    # A fresh frame each time: geopandas caches the spatial index on a frame, and a new
    # batch of survey points never comes with its index already built.
    joined, anchor = timed(
        lambda: gpd.sjoin(
            gpd.GeoDataFrame(geometry=points, crs=4326),
            grids[["geometry"]],
            predicate="within",
            how="inner",
        ),
        args.repeat,
    )
    edge_unassigned = int(ours["grid_id"].isna().to_numpy()[is_edge].sum())
    sjoin_found = np.zeros(len(points), bool)
    sjoin_found[joined.index.unique().to_numpy()] = True
    result = {
        "bench": "assign",
        "rows": len(points),
        "grids": len(grids),
        "seconds": round(seconds, 3),
        "anchor": "geopandas.sjoin(predicate='within')",
        "anchor_seconds": round(anchor, 3),
        "ratio": round(seconds / anchor, 3),
        "target": TARGET_RATIO,
        "edge_points": n_edge,
        "edge_unassigned": edge_unassigned,
        "sjoin_edge_missed": int((~sjoin_found[is_edge]).sum()),
        "unassigned": int(ours["grid_id"].isna().sum()),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    emit(result)
    return result


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="points to assign")
    parser.add_argument("--grids", type=int, default=20_000, help="grid polygons")
    parser.add_argument("--edge-share", type=float, default=0.01, help="share on vertices")
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
