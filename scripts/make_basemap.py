#!/usr/bin/env python3
"""Make the demo city's offline vector basemap (PMTiles) from its own geography.

Reads the demo files (``--demo``, default ``data/demo``) and writes one PMTiles archive of
vector tiles (``--out``, default ``instance/demo-basemap.pmtiles``): land, a river, parks,
residential compounds, roads and alleys, outlines and the names of districts, streets,
communities and grids (geo/demo/basemap.py says which layer holds what). Nothing is
downloaded; the same input gives byte-identical output. `civicgrid demo` runs this itself
when the file is missing.

Usage::

    python scripts/make_basemap.py [--demo data/demo] [--out instance/demo-basemap.pmtiles]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file from anywhere
    sys.path.insert(0, str(ROOT))

from geo.core.errors import CivicgridError  # noqa: E402
from geo.demo.basemap import MAX_ZOOM, build_basemap  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--demo", type=Path, default=ROOT / "data" / "demo", help="demo folder")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "instance" / "demo-basemap.pmtiles", help="output file"
    )
    parser.add_argument("--max-zoom", type=int, default=MAX_ZOOM, help="deepest zoom (10–15)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        report = build_basemap(args.demo, args.out, min(max(args.max_zoom, 10), MAX_ZOOM))
    except CivicgridError as exc:  # a missing, unreadable or empty district file
        print(f"错误 / error: {exc.message('zh')} / {exc.message('en')}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # the output cannot be written
        print(f"错误 / error: {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {report.path}: {report.bytes / 1e6:.2f} MB, {sum(report.tiles.values())} tiles "
        f"{report.tiles}, {report.features} features in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
