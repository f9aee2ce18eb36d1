"""Benchmark: rankings with every rate for all grids over a quarter, civicgrid vs pandas.

Fills a database with N irregular grids (Voronoi cells) and M problems over 2026-Q4
(inserted directly, COPY on PostgreSQL), then times ``geo.reports.rankings.rankings`` (the SQL
aggregates of geo/reports/stats.py for the quarter and the one before, sorted, red/black
lists) against what an analyst would do in the same run: ``pandas.read_sql`` of the
problems from the same database and a groupby computing the same rates. Checks that
both give the same numbers.

    python bench/rates.py --rows 1000000 --grids 20000 [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit, peak_rss_mb, timed, voronoi_grids
from geo.core.periods import parse_period
from geo.reports import rankings
from geo.reports.stats import period_cutoff
from geo.storage.db import backend_name, make_engine, transaction
from geo.storage.models import Area, Problem
from geo.storage.sqltypes import geometry_to_db
from geo.storage.tables import metadata
from geo.summary import counts as summary
from geo.summary.upgrade import upgrade

TARGET_RATIO = 0.2
PERIOD = "2026-Q4"
NOW = datetime(2027, 1, 10)  # after the quarter: its rates are final
COUNTS = ["found", "due", "closed", "closed_on_time", "reworked", "overdue"]
RATES = ["closure_rate", "on_time_rate", "rework_rate", "avg_rectify_days"]


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = _parse(argv)
    with tempfile.TemporaryDirectory(prefix="civicgrid-rates-") as scratch:
        return _run(args, args.database_url or f"sqlite:///{scratch}/rates.db")


def _run(args: argparse.Namespace, url: str) -> dict[str, object]:
    engine = make_engine(url)
    grids = _filled(engine) if args.reuse else None
    if grids is None:
        grids = _fill(engine, args.grids, args.rows)
    with engine.connect() as conn:
        rows = int(conn.execute(sa.select(sa.func.count(Problem.id))).scalar_one())
    print(f"{grids} grids, {rows} problems in {backend_name(engine)}", flush=True)
    period = parse_period(PERIOD)

    def ours() -> pd.DataFrame:
        with transaction(engine, write=False) as session:
            return rankings.rankings(session, "grid", period, now=NOW).rows

    ranked, seconds = timed(ours, args.repeat)
    anchor_frame, anchor = timed(lambda: _pandas_rates(engine), args.repeat)
    result = {
        "bench": "rates",
        "backend": backend_name(engine),
        "rows": rows,
        "grids": grids,
        "seconds": round(seconds, 3),
        "anchor": "pandas.read_sql + groupby",
        "anchor_seconds": round(anchor, 3),
        "ratio": round(seconds / anchor, 3),
        "target": TARGET_RATIO,
        "rates_match": int(_same(ranked, anchor_frame)),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    engine.dispose()
    emit(result)
    return result


def _pandas_rates(engine: sa.Engine) -> pd.DataFrame:
    """The analyst's way: read every problem of the grids, then group in pandas."""
    start, cutoff = period_cutoff(parse_period(PERIOD), "Asia/Shanghai", NOW)
    times = ["found_at", "assigned_at", "deadline", "rectified_at", "closed_at"]
    columns = [Problem.grid_id, *(getattr(Problem, t) for t in times), Problem.reopen_count]
    with engine.connect() as conn:
        df = pd.read_sql(
            sa.select(*columns).where(Problem.grid_id.is_not(None)), conn, parse_dates=times
        )
    due = (df.deadline >= start) & (df.deadline < cutoff)
    closed = df.closed_at.notna() & (df.closed_at < cutoff)
    rect = due & df.rectified_at.notna() & (df.rectified_at < cutoff)
    days = (df.rectified_at - df.assigned_at.fillna(df.found_at)).dt.total_seconds() / 86400
    flags = pd.DataFrame(
        {
            "grid_id": df.grid_id,
            "found": (df.found_at >= start) & (df.found_at < cutoff),
            "due": due,
            "closed": due & closed,
            "closed_on_time": due & (df.closed_at <= df.deadline),
            "reworked": due & (df.reopen_count > 0),
            "overdue": (df.deadline < cutoff)
            & (df.found_at < cutoff)
            & (df.closed_at.isna() | (df.closed_at >= cutoff))
            & ~(df.rectified_at <= df.deadline),  # rectified in time is never overdue
            "days": days.where(rect),
        }
    )
    out = flags.groupby("grid_id").agg(
        **{c: (c, "sum") for c in COUNTS}, avg_rectify_days=("days", "mean")
    )
    for name, part in (
        ("closure_rate", "closed"),
        ("on_time_rate", "closed_on_time"),
        ("rework_rate", "reworked"),
    ):
        out[name] = out[part] / out["due"].where(out["due"] > 0)
    return out.sort_values(["closure_rate", "on_time_rate"], ascending=False)


def _same(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    mine = ours.set_index("id").loc[theirs.index]
    for column in COUNTS:
        if not (mine[column].to_numpy() == theirs[column].to_numpy()).all():
            print(f"mismatch in {column}", flush=True)
            return False
    for column in RATES:
        a, b = mine[column].to_numpy(float), theirs[column].to_numpy(float)
        if not np.allclose(a, b, rtol=1e-9, atol=1e-6, equal_nan=True):
            print(f"mismatch in {column}", flush=True)
            return False
    return True


def _filled(engine: sa.Engine) -> int | None:
    """The grid count of a database this benchmark filled before, else None."""
    try:
        with engine.connect() as conn:
            sources = conn.execute(sa.select(sa.func.count()).where(Problem.source == "bench"))
            if not sources.scalar_one():
                return None
            return int(conn.execute(sa.select(sa.func.count(Area.id))).scalar_one())
    except sa.exc.DBAPIError:
        return None


def _fill(engine: sa.Engine, n_grids: int, n_rows: int) -> int:
    """Fresh schema, ``n_grids`` grids and ``n_rows`` problems; returns the grid count."""
    with engine.begin() as conn:
        metadata.drop_all(conn)  # every model module's tables (rounds' refer to problems)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(engine)
    grids = voronoi_grids(n_grids)
    _insert(engine, Area.__table__, _grid_records(engine, grids))
    _insert(engine, Problem.__table__, _problem_records(engine, len(grids), n_rows))
    # Planner statistics and (PostgreSQL) visibility/hint bits, as autovacuum leaves a
    # live table: otherwise the first timed read pays for writing every page's hint bits.
    # Rows written behind the writers' back: count them as ingest would have.
    with transaction(engine) as session:
        _, seconds = timed(lambda: summary.rebuild(session), 1)
    print(f"summary rebuilt in {seconds:.1f} s", flush=True)
    vacuum = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(vacuum)
    return len(grids)


def _grid_records(engine: sa.Engine, grids: Any) -> pd.DataFrame:
    bounds = grids.geometry.bounds
    return pd.DataFrame(
        {
            "id": grids["id"],
            "level": "grid",
            "code": grids["code"],
            "name": [f"网格{i}" for i in grids["id"]],
            "area_m2": 1.0e5,
            "min_lon": bounds["minx"],
            "min_lat": bounds["miny"],
            "max_lon": bounds["maxx"],
            "max_lat": bounds["maxy"],
            "geom": list(geometry_to_db(_multi(grids.geometry.values), _dialect(engine))),
            "updated_at": datetime(2026, 9, 1),
        }
    )


def _multi(polygons: Any) -> Any:
    return shapely.multipolygons(np.asarray(polygons, dtype=object).reshape(-1, 1))


def _problem_records(engine: sa.Engine, n_grids: int, n: int) -> pd.DataFrame:
    """Problems found over Q4 with a realistic mix of states (seeded, reproducible)."""
    rng = np.random.default_rng(42)
    start = np.datetime64("2026-09-20T00:00:00")
    found = start + rng.integers(0, 100 * 86400, n).astype("timedelta64[s]")
    assigned = found + rng.integers(600, 86400, n).astype("timedelta64[s]")
    deadline = assigned + (rng.choice([1, 3, 7, 15], n) * 86400).astype("timedelta64[s]")
    rectified = assigned + rng.integers(3600, 20 * 86400, n).astype("timedelta64[s]")
    closed = rectified + rng.integers(600, 3 * 86400, n).astype("timedelta64[s]")
    stage = rng.choice(4, n, p=[0.1, 0.2, 0.15, 0.55])  # found, assigned, rectified, closed
    status = np.array(["found", "assigned", "rectified", "closed"])[stage]
    lon = rng.uniform(120.80, 121.00, n)
    lat = rng.uniform(31.95, 32.10, n)
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "source": "bench",
            "external_id": [f"B{i}" for i in range(n)],
            "category": rng.choice(["litter", "illegal_ads", "street_vending"], n),
            "description": "",
            "lon": lon,
            "lat": lat,
            "geom": list(geometry_to_db(shapely.points(lon, lat), _dialect(engine))),
            "outside": False,
            "grid_id": rng.integers(1, n_grids + 1, n),
            "status": status,
            "found_at": found,
            "assigned_at": pd.Series(assigned).where(stage >= 1),
            "deadline": pd.Series(deadline).where(stage >= 1),
            "rectified_at": pd.Series(rectified).where(stage >= 2),
            "closed_at": pd.Series(closed).where(stage >= 3),
            "reopen_count": (rng.random(n) < 0.08).astype(int),
            "version": 1,
        }
    )
    return frame


def _insert(engine: sa.Engine, table: Any, frame: pd.DataFrame) -> None:
    if _dialect(engine) == "postgresql":
        _copy(engine, table, frame)
        return
    records = frame.astype(object).where(frame.notna(), None)
    with engine.begin() as conn:
        for start in range(0, len(frame), 50_000):
            chunk = records.iloc[start : start + 50_000]
            conn.execute(table.insert(), _to_python(chunk))


def _copy(engine: sa.Engine, table: Any, frame: pd.DataFrame) -> None:
    columns = list(frame.columns)
    if "geom" in frame:  # PostGIS reads hex EWKB as geometry text
        frame = frame.assign(geom=[g.hex() for g in frame["geom"]])
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _to_python(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.to_dict("records")
    for record in out:
        for key, value in record.items():
            if isinstance(value, pd.Timestamp):
                record[key] = value.to_pydatetime()
            elif hasattr(value, "item"):
                record[key] = value.item()
    return out


def _dialect(engine: sa.Engine) -> str:
    return engine.dialect.name


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="problems")
    parser.add_argument("--grids", type=int, default=20_000, help="grid polygons")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    parser.add_argument(
        "--reuse", action="store_true", help="time a database this benchmark filled before"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
