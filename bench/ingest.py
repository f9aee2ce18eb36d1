"""Benchmark: `civicgrid ingest` of a large survey CSV, end to end, against bare floors.

Generates an N-row survey CSV (WGS-84, ids, categories, local times, descriptions) over
the demo city's 1,502 grids, loads the demo city's areas and inspection points into a
fresh database, then times `flask --app web ingest FILE` in a child process (start-up,
reading, validation, dedupe, assignment, nearest-point linking, writing, summary counts).

Anchors measured in the same run:
- SQLite: bare ``geopandas.sjoin`` of the same points to the same grids plus a bare
  ``sqlite3.executemany`` of the same problem rows into a fresh copy of the schema.
  Target: end-to-end ≤ 1.5 × that floor; peak RSS of the ingest ≤ 2 GB.
- PostGIS (``--postgis-url``, skipped when absent): ``COPY`` of the raw points followed by
  ``UPDATE … FROM areas WHERE ST_Intersects(...)``. Target: ingest ≥ 4 × faster.

    python bench/ingest.py --rows 1000000 --postgis-url postgresql+psycopg://.../civicgrid_wt3
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import emit, timed  # noqa: E402
from geo.areas.loading import AreaLoadOptions, load_areas  # noqa: E402
from geo.areas.points import load_points  # noqa: E402
from geo.core.taxonomy_file import default_taxonomy  # noqa: E402
from geo.demo.city import DEMO_LEVEL_FILES  # noqa: E402
from geo.storage.bulk import point_wkb  # noqa: E402
from geo.storage.db import make_engine  # noqa: E402
from geo.summary.upgrade import upgrade  # noqa: E402

DEMO = ROOT / "data" / "demo"
TARGET_RATIO = 1.5
TARGET_RSS_MB = 2048
TARGET_POSTGIS_SPEEDUP = 4.0
_WORDS = ("门口", "路边", "小区内", "菜场旁", "公交站", "楼道", "围墙", "绿化带")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="civicgrid-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    grids = gpd.read_file(DEMO / "grids.geojson", engine="pyogrio")
    csv_path, frame = make_survey_csv(work / "survey.csv", grids, args.rows, args.seed)
    print(f"{len(frame)} rows over {len(grids)} grids → {csv_path}", flush=True)

    result: dict[str, Any] = {"bench": "ingest", "rows": len(frame), "grids": len(grids)}
    result.update(_sqlite_side(work, csv_path, frame, grids))
    if args.postgis_url:
        result.update(_postgis_side(args.postgis_url, args.db_suffix, csv_path, frame))
    else:
        print("PostGIS side skipped: no --postgis-url", flush=True)
    emit(result)
    return result


def make_survey_csv(
    path: Path, grids: gpd.GeoDataFrame, rows: int, seed: int
) -> tuple[Path, pd.DataFrame]:
    """``rows`` survey rows at random points inside the grids (EPSG:4326)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = grids.total_bounds
    lon, lat = _inside(grids, rng, rows, (x0, y0, x1, y1))
    categories = np.array(sorted(default_taxonomy().categories), dtype=object)
    start = np.datetime64("2026-01-01T08:00")
    minutes = rng.integers(0, 365 * 24 * 60, rows).astype("timedelta64[m]")
    frame = pd.DataFrame(
        {
            "id": [f"B{i:08d}" for i in range(1, rows + 1)],
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "category": categories[rng.integers(0, len(categories), rows)],
            "found_at": pd.Series(start + minutes).dt.strftime("%Y-%m-%dT%H:%M:00+08:00"),
            "description": np.array(_WORDS, dtype=object)[rng.integers(0, len(_WORDS), rows)],
        }
    )
    frame.to_csv(path, index=False)
    return path, frame


def _inside(
    grids: gpd.GeoDataFrame, rng: np.random.Generator, n: int, bbox: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    union = grids.geometry.union_all()
    import shapely

    shapely.prepare(union)
    lon, lat = np.empty(0), np.empty(0)
    while len(lon) < n:
        x = rng.uniform(bbox[0], bbox[2], n)
        y = rng.uniform(bbox[1], bbox[3], n)
        keep = shapely.contains_xy(union, x, y)
        lon, lat = np.r_[lon, x[keep]], np.r_[lat, y[keep]]
    return lon[:n], lat[:n]


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_side(
    work: Path, csv_path: Path, frame: pd.DataFrame, grids: gpd.GeoDataFrame
) -> dict[str, Any]:
    url = f"sqlite:///{work / 'ingest.db'}"
    _fresh_city(url, work / "ingest.db")
    seconds, rss_mb, output = _run_cli(url, csv_path)
    print(output.strip().splitlines()[0] if output.strip() else "(no output)", flush=True)
    _check_count(url, len(frame))

    points = _points(frame)
    joined, sjoin_s = timed(lambda: gpd.sjoin(points, grids[["geometry"]], predicate="within"))
    anchor_db = work / "anchor.db"
    _fresh_schema(f"sqlite:///{anchor_db}", anchor_db)
    rows = _anchor_rows(frame, joined)
    _, executemany_s = timed(lambda: _executemany(anchor_db, rows))
    anchor = sjoin_s + executemany_s
    return {
        "seconds": round(seconds, 3),
        "anchor": "geopandas.sjoin + sqlite3.executemany",
        "anchor_seconds": round(anchor, 3),
        "sjoin_seconds": round(sjoin_s, 3),
        "executemany_seconds": round(executemany_s, 3),
        "ratio": round(seconds / anchor, 3),
        "target": TARGET_RATIO,
        "rows_per_s": round(len(frame) / seconds),
        "peak_rss_mb": round(rss_mb),
        "target_rss_mb": TARGET_RSS_MB,
    }


def _fresh_city(url: str, path: Path | None = None) -> None:
    engine = _fresh_schema(url, path)
    for level, name in DEMO_LEVEL_FILES:
        load_areas(engine, DEMO / name, AreaLoadOptions(level=level))
    load_points(engine, DEMO / "points.geojson")
    engine.dispose()


def _fresh_schema(url: str, path: Path | None = None) -> sa.Engine:
    if path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(url)
    if path is None:
        _drop_all(engine)
    upgrade(engine)
    return engine


def _drop_all(engine: sa.Engine) -> None:
    # Every table module, so that drop_all knows them all: a database a bench ran on
    # before (publications stored by a page) is emptied too, not left half migrated.
    from geo.storage import access_models, publication_models, round_models  # noqa: F401
    from geo.storage.models import Base

    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_raw")
        Base.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


_PEAK_MARK = "CIVICGRID_BENCH_VMHWM_KB"
# The child reports its own peak (VmHWM): RUSAGE_CHILDREN's ru_maxrss also counts the
# parent's peak at the time of the fork (Linux carries it over the exec), so a bench
# that built a big survey in memory would be charged for it.
_CHILD = (
    "import atexit, runpy, sys\n"
    "def _peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    f"            sys.stderr.write('{_PEAK_MARK} ' + line.split()[1] + '\\n')\n"
    "atexit.register(_peak)\n"
    "sys.argv = ['flask', *sys.argv[1:]]\n"
    "runpy.run_module('flask', run_name='__main__', alter_sys=True)\n"
)


def _run_cli(url: str, csv_path: Path) -> tuple[float, float, str]:
    """Run `flask --app web ingest` in a child; wall seconds, its peak RSS (MB), output."""
    env = {**os.environ, "CIVICGRID_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", _CHILD, "--app", "web", "ingest", str(csv_path)]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"ingest failed ({done.returncode}): {done.stderr.strip()}")
    peaks = [line.split()[1] for line in done.stderr.splitlines() if line.startswith(_PEAK_MARK)]
    if peaks:
        rss_mb = int(peaks[-1]) / 1024
    else:  # no /proc: the children's maximum, which may include this process's own peak
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, rss_mb, done.stdout


def _check_count(url: str, expected: int) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM problems")).scalar_one()
    engine.dispose()
    if n != expected:
        raise SystemExit(f"ingest stored {n} problems, expected {expected}")


def _points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326, index=frame.index
    )


def _anchor_rows(frame: pd.DataFrame, joined: gpd.GeoDataFrame) -> list[tuple[Any, ...]]:
    """The same problem rows the ingest writes (same columns), as plain tuples."""
    grid = joined.groupby(level=0)["index_right"].first().reindex(frame.index)
    found = pd.to_datetime(frame["found_at"], utc=True).dt.tz_convert(None)
    found_text = found.dt.strftime("%Y-%m-%d %H:%M:%S.%f").tolist()
    wkb = point_wkb(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    grid_ids = [None if pd.isna(g) else int(g) + 1 for g in grid.tolist()]
    n = len(frame)
    return list(
        zip(
            ["survey"] * n,
            frame["id"].tolist(),
            frame["category"].tolist(),
            frame["description"].tolist(),
            frame["lon"].tolist(),
            frame["lat"].tolist(),
            wkb,
            [0] * n,
            grid_ids,
            ["found"] * n,
            found_text,
            [0] * n,
            [1] * n,
            strict=True,
        )
    )


def _executemany(path: Path, rows: list[tuple[Any, ...]]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO problems (source, external_id, category, description, lon, lat, geom, "
        "outside, grid_id, status, found_at, reopen_count, version) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    conn.close()


# --- PostGIS ---------------------------------------------------------------------------------


def _postgis_side(
    base_url: str, suffix: str, csv_path: Path, frame: pd.DataFrame
) -> dict[str, Any]:
    url = _bench_database(base_url, suffix)
    _fresh_city(url)
    seconds, _, output = _run_cli(url, csv_path)
    print(output.strip().splitlines()[0] if output.strip() else "(no output)", flush=True)
    _check_count(url, len(frame))
    anchor = _postgis_anchor(url, frame)
    return {
        "postgis_seconds": round(seconds, 3),
        "postgis_anchor": "COPY raw points + UPDATE … FROM areas WHERE ST_Intersects",
        "postgis_anchor_seconds": round(anchor, 3),
        "postgis_speedup": round(anchor / seconds, 3),
        "postgis_target_speedup": TARGET_POSTGIS_SPEEDUP,
        "postgis_rows_per_s": round(len(frame) / seconds),
    }


def _bench_database(base_url: str, suffix: str) -> str:
    base = sa.make_url(base_url)
    name = f"{base.database}_{suffix}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first() is None:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _postgis_anchor(url: str, frame: pd.DataFrame) -> float:
    """COPY the raw points into a staging table, then assign grids with one UPDATE."""
    engine = make_engine(url)
    wkb = point_wkb(frame["lon"].to_numpy(), frame["lat"].to_numpy(), srid=4326)
    ids, lon, lat = frame["id"].tolist(), frame["lon"].tolist(), frame["lat"].tolist()
    rows = list(zip(ids, lon, lat, wkb, strict=True))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_raw")
        conn.exec_driver_sql(
            "CREATE TABLE bench_raw (external_id text, lon float8, lat float8, "
            "geom geometry(Point, 4326), grid_id integer)"
        )
    raw = engine.raw_connection()
    try:
        start = time.perf_counter()
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(
            "COPY bench_raw (external_id, lon, lat, geom) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["text", "float8", "float8", "bytea"])
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            "UPDATE bench_raw r SET grid_id = a.id FROM areas a "
            "WHERE a.level = 'grid' AND ST_Intersects(a.geom, r.geom)"
        )
        raw.commit()
        seconds = time.perf_counter() - start
    finally:
        raw.close()
        engine.dispose()
    return seconds


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="survey rows to ingest")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--workdir", default=None, help="where to put the CSV and databases")
    parser.add_argument(
        "--postgis-url",
        default=os.environ.get("CIVICGRID_BENCH_POSTGIS_URL"),
        help="PostGIS server URL; the bench uses the database <name>_<suffix> on it",
    )
    parser.add_argument("--db-suffix", default="bench", help="suffix of the bench database")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
