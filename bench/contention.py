"""Benchmark: reads and writes served while a large ingest holds the database (issue 22).

Loads the demo city into a fresh SQLite database (or, with ``--postgis-url``, a PostGIS
one), starts ``flask --app web ingest`` of an N-row survey in a child process, and while
it runs sends token GETs (``/api/v1/problems``) and, every ``--write-every``-th request, a
write (``POST /api/v1/problems``) through the app in this process. Prints p50/p95 of
each and the number of 5xx answers. Target: read p95 ≤ 200 ms, no 5xx.

Anchor: the same reads with no ingest running (``anchor_read_p95_ms``).

``--preload N`` stores N problems first, so that the timed ingest runs against a full
table and every other write is a lifecycle change (assign) of one of them.

    python bench/contention.py --rows 1000000 [--preload 100000]
        [--database-url postgresql+psycopg://…/db]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.common import emit  # noqa: E402
from bench.ingest import DEMO, make_survey_csv  # noqa: E402
from geo.access.tokens import create_token  # noqa: E402
from geo.areas.loading import AreaLoadOptions, load_areas  # noqa: E402
from geo.areas.points import load_points  # noqa: E402
from geo.areas.units import unit_ids  # noqa: E402
from geo.demo.city import DEMO_LEVEL_FILES  # noqa: E402
from geo.ingest.pipeline import IngestOptions, ingest_file  # noqa: E402
from geo.storage.db import make_engine, transaction  # noqa: E402
from geo.storage.models import Problem  # noqa: E402
from geo.summary.upgrade import upgrade  # noqa: E402

TARGET_READ_P95_MS = 200.0
UNIT = "压测责任单位"
NEW = {"lon": 120.86, "lat": 32.02, "category": "litter", "found_at": "2026-06-01 10:00"}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="civicgrid-contention-"))
    work.mkdir(parents=True, exist_ok=True)
    grids = gpd.read_file(DEMO / "grids.geojson", engine="pyogrio")
    csv_path, frame = make_survey_csv(work / "survey.csv", grids, args.rows, args.seed)
    url = args.postgis_url or f"sqlite:///{work / 'contention.db'}"
    header = _fresh_city(url, work)
    found = _preload(url, work, grids, args.preload, args.seed) if args.preload else []
    result: dict[str, Any] = {"bench": "contention", "rows": len(frame), "backend": url[:10]}
    result["preloaded"] = args.preload
    result.update(_measure(url, header, csv_path, (args.write_every, found), args.min_requests))
    emit(result)
    return result


def _measure(
    url: str,
    header: dict[str, str],
    csv_path: Path,
    writes_plan: tuple[int, list[int]],
    min_requests: int,
) -> dict[str, Any]:
    write_every, found = writes_plan
    from web import create_app

    app = create_app({"DATABASE_URL": url, "TESTING": True})
    client = app.test_client()
    anchor = [_timed(client.get, "/api/v1/problems?limit=20", header)[0] for _ in range(50)]
    env = {**os.environ, "CIVICGRID_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "flask", "--app", "web", "ingest", "-q", str(csv_path)]
    child = subprocess.Popen(command, env=env, cwd=ROOT)
    reads: list[float] = []
    writes: list[float] = []
    lifecycle: list[float] = []
    errors = 0
    n = 0
    while child.poll() is None or n < min_requests:
        n += 1
        if n % write_every == 0 and found and n % (2 * write_every) == 0:
            # A lifecycle write of a problem stored before the ingest began.
            body = {"action": "assign", "unit": UNIT, "version": 1}
            ms, status = _timed(client.post, f"/api/v1/problems/{found.pop()}", header, json=body)
            lifecycle.append(ms)
        elif n % write_every == 0:
            ms, status = _timed(client.post, "/api/v1/problems", header, json=NEW)
            writes.append(ms)
        else:
            ms, status = _timed(client.get, "/api/v1/problems?limit=20", header)
            reads.append(ms)
        errors += status >= 500
    if child.wait() != 0:
        raise SystemExit(f"ingest failed ({child.returncode})")
    return {
        "requests": n,
        "read_p50_ms": _pct(reads, 50),
        "read_p95_ms": _pct(reads, 95),
        "write_p95_ms": _pct(writes + lifecycle, 95),
        "create_p95_ms": _pct(writes, 95),
        "lifecycle_p95_ms": _pct(lifecycle, 95),
        "lifecycle_writes": len(lifecycle),
        "errors_5xx": errors,
        "anchor": "the same reads without an ingest",
        "anchor_read_p95_ms": _pct(anchor, 95),
        "ratio": round(_pct(reads, 95) / max(_pct(anchor, 95), 0.001), 2),
        "target_read_p95_ms": TARGET_READ_P95_MS,
    }


def _timed(call: Any, path: str, header: dict[str, str], **kw: Any) -> tuple[float, int]:
    start = time.perf_counter()
    response = call(path, headers=header, **kw)
    return (time.perf_counter() - start) * 1000, response.status_code


def _pct(values: list[float], q: int) -> float:
    return round(float(np.percentile(values, q)), 1) if values else 0.0


def _preload(url: str, work: Path, grids: gpd.GeoDataFrame, rows: int, seed: int) -> list[int]:
    """``rows`` problems stored before the timed ingest (not timed); the found ones' ids."""
    path, _ = make_survey_csv(work / "preload.csv", grids, rows, seed + 1)
    engine = make_engine(url)
    ingest_file(engine, path, IngestOptions(source="preload"))
    with transaction(engine) as session:
        unit_ids(session, [UNIT])
        ids = list(session.scalars(sa.select(Problem.id).where(Problem.status == "found")))
    engine.dispose()
    return ids


def _fresh_city(url: str, work: Path) -> dict[str, str]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work / 'contention.db'}{suffix}").unlink(missing_ok=True)
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        from bench.ingest import _drop_all

        _drop_all(engine)
    upgrade(engine)
    for level, name in DEMO_LEVEL_FILES:
        load_areas(engine, DEMO / name, AreaLoadOptions(level=level))
    load_points(engine, DEMO / "points.geojson")
    with transaction(engine) as session:
        _, secret = create_token(session, "bench", "city_officer", actor="bench")
    engine.dispose()
    return {"Authorization": f"Bearer {secret}"}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="survey rows to ingest")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--workdir", default=None, help="where to put the CSV and database")
    parser.add_argument(
        "--database-url",
        "--postgis-url",
        dest="postgis_url",
        default=None,
        help="a PostGIS database (emptied!); default: a SQLite file in --workdir",
    )
    parser.add_argument(
        "--preload",
        type=int,
        default=0,
        help="problems stored before the timed ingest (lifecycle writes change them)",
    )
    parser.add_argument("--write-every", type=int, default=10, help="every Nth request writes")
    parser.add_argument("--min-requests", type=int, default=20, help="at least this many")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
