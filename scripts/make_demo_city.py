#!/usr/bin/env python3
"""Generate the fictional demo city 青岚市 (Qinglan) for civicgrid.

Writes, under ``--out`` (default: the repository's ``data/demo``):

* ``city.geojson``, ``districts.geojson``, ``streets.geojson``, ``communities.geojson``,
  ``grids.geojson``: the hierarchy city → district → street/town → community/village →
  grid. Each level tiles its parent exactly: siblings share edges vertex by vertex, never
  overlap, and their union is the parent.
* ``points.geojson``: inspection points of every kind (Point, LineString or Polygon).
* ``problems.csv``: problems with lon/lat, category, description and lifecycle columns.

CRS and units: every output coordinate is WGS-84 longitude/latitude (EPSG:4326) rounded to
6 decimals (about 0.1 m). All metric work (Voronoi seeding, feature sizes, offsets,
distances, areas) is done in UTM zone 51N (EPSG:32651), in metres and square metres.
Times are China Standard Time (UTC+08:00), as a snapshot at the fixed ``REFERENCE_TIME``;
with the fixed seed the output is byte-identical from run to run.

The hierarchy is built top-down in UTM (Voronoi cells of random seeds, clipped to their
parent), then made exact once: the boundaries of all grid cells are snap-rounded together
on the 1e-6 degree grid, polygonized into faces, and every level is the union of its faces.
The work is done by the ``demo_city`` package next to this file; this is its entry point.

Usage (from any directory)::

    python scripts/make_demo_city.py [--out data/demo] [--grids 1500] [--problems 20000]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

SCRIPTS_DIR = Path(__file__).resolve().parent
if str(SCRIPTS_DIR) not in sys.path:  # also when loaded by path or run with python -P
    sys.path.insert(0, str(SCRIPTS_DIR))

from demo_city.pipeline import generate  # noqa: E402
from demo_city.writers import AREA_FILES, write_demo  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "demo"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (sizes are counts; ``--out`` is a folder)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--grids", type=int, default=1500, help="approximate number of grids")
    parser.add_argument("--problems", type=int, default=20000, help="number of problems")
    parser.add_argument("--points", type=int, default=800, help="approximate inspection points")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    args = parse_args(argv)
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[make_demo_city {time.perf_counter() - t0:6.1f}s] {msg}", flush=True)

    demo = generate(args.grids, args.points, args.problems, log)
    out: Path = args.out
    counts = write_demo(out, demo)
    sizes = ", ".join(f"{len(a)} {n}" for n, a in zip(AREA_FILES, demo.levels, strict=True))
    log(f"wrote {out}: {sizes}, {len(demo.points)} points, {args.problems} problems {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
