"""Benchmark: a round's coverage (latest result per point, by kind and by street) and its
map layer, civicgrid vs pandas.

Fills a database with S streets (Voronoi cells), P inspection points of the 16 kinds and
V visits of one round (inserted directly, COPY on PostgreSQL; about one point in five
never visited), then times ``geo.rounds.coverage.round_coverage`` (SQL: window function for each
point's latest visit, GROUP BY kind and street) against what an analyst would do in the
same run: ``pandas.read_sql`` of the points and visits, latest visit per point, groupby.
Checks that both give the same numbers. Also times the GeoJSON layer of all points
(``round_points_geojson``), the payload the round page fetches.

    python bench/coverage.py --points 100000 --visits 1000000 [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit, peak_rss_mb, timed, voronoi_grids
from bench.rates import _insert, _multi
from geo.core.taxonomy_file import default_taxonomy
from geo.rounds import coverage
from geo.rounds.rounds import RESULTS
from geo.storage.db import backend_name, make_engine, transaction
from geo.storage.models import Area, Base, InspectionPoint, InspectionRound, Visit
from geo.storage.sqltypes import geometry_to_db
from geo.summary.upgrade import upgrade

TARGET_RATIO = 1.0
COLUMNS = ["points", "visited", "passed", "failed", "serious"]


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = _parse(argv)
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/coverage.db"
    engine = make_engine(url)
    _fill(engine, args.streets, args.points, args.visits)
    print(f"{args.points} points, {args.visits} visits in {backend_name(engine)}", flush=True)
    tax = default_taxonomy()

    def ours() -> coverage.Coverage:
        with transaction(engine, write=False) as session:
            rnd = session.get_one(InspectionRound, 1)
            return coverage.round_coverage(session, rnd, tax, "street")

    def layer() -> str:
        with transaction(engine, write=False) as session:
            rnd = session.get_one(InspectionRound, 1)
            return coverage.round_points_geojson(session, rnd, tax)

    figures, seconds = timed(ours, args.repeat)
    anchor_frames, anchor = timed(lambda: _pandas(engine), args.repeat)
    body, layer_seconds = timed(layer, args.repeat)
    result = {
        "bench": "coverage",
        "backend": backend_name(engine),
        "points": args.points,
        "visits": args.visits,
        "streets": args.streets,
        "seconds": round(seconds, 3),
        "anchor": "pandas.read_sql + latest + groupby",
        "anchor_seconds": round(anchor, 3),
        "ratio": round(seconds / anchor, 3),
        "target": TARGET_RATIO,
        "figures_match": int(_same(figures, anchor_frames)),
        "layer_seconds": round(layer_seconds, 3),
        "layer_mb": round(len(body.encode()) / 1e6, 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    engine.dispose()
    emit(result)
    return result


def _pandas(engine: sa.Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The analyst's way: read points and visits, keep each point's latest, group."""
    with engine.connect() as conn:
        points = pd.read_sql(
            sa.select(InspectionPoint.id, InspectionPoint.kind, InspectionPoint.street_id), conn
        )
        visits = pd.read_sql(
            sa.select(Visit.point_id, Visit.visited_at, Visit.id, Visit.result).where(
                Visit.round_id == 1
            ),
            conn,
        )
    latest = visits.sort_values(["point_id", "visited_at", "id"]).drop_duplicates(
        "point_id", keep="last"
    )
    frame = points.merge(latest, left_on="id", right_on="point_id", how="left")
    frame = frame.assign(
        points=1,
        visited=frame["result"].notna(),
        passed=frame["result"] == "pass",
        failed=frame["result"] == "fail",
        serious=frame["result"] == "serious_fail",
    )
    return (
        frame.groupby("kind")[COLUMNS].sum().sort_index(),
        frame.groupby("street_id")[COLUMNS].sum().sort_index(),
    )


def _same(ours: coverage.Coverage, theirs: tuple[pd.DataFrame, pd.DataFrame]) -> bool:
    kinds = pd.DataFrame(ours.by_kind).set_index("key")[COLUMNS].sort_index()
    areas = pd.DataFrame(ours.by_area).set_index("key")[COLUMNS]
    by_street = theirs[1].copy()
    by_street.index = [f"S{int(i):05d}" for i in by_street.index]
    ok_kinds = (kinds.to_numpy() == theirs[0].to_numpy()).all()
    ok_areas = (areas.sort_index().to_numpy() == by_street.sort_index().to_numpy()).all()
    return bool(ok_kinds and ok_areas)


def _fill(engine: sa.Engine, n_streets: int, n_points: int, n_visits: int) -> None:
    """Fresh schema, streets, points, one whole-city round and its visits (seeded)."""
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(engine)
    streets = voronoi_grids(n_streets, seed=5)
    _insert(engine, Area.__table__, _street_records(engine, streets))
    _insert(engine, InspectionPoint.__table__, _point_records(engine, len(streets), n_points))
    round_row = pd.DataFrame(
        [
            {
                "id": 1,
                "name": "bench",
                "starts_on": date(2026, 10, 1),
                "ends_on": date(2026, 12, 31),
                # JSON: text for COPY on PostgreSQL, a list for SQLAlchemy on SQLite
                "point_kinds": "[]" if engine.dialect.name == "postgresql" else [],
                "description": "",
                "created_at": datetime(2026, 9, 1),
                "created_by": "bench",
            }
        ]
    )
    _insert(engine, InspectionRound.__table__, round_row)
    _insert(engine, Visit.__table__, _visit_records(n_points, n_visits))
    with engine.begin() as conn:  # planner statistics, as after any bulk load
        conn.exec_driver_sql("ANALYZE")


def _street_records(engine: sa.Engine, cells: pd.DataFrame) -> pd.DataFrame:
    bounds = cells.geometry.bounds
    return pd.DataFrame(
        {
            "id": cells["id"],
            "level": "street",
            "code": [f"S{i:05d}" for i in cells["id"]],
            "name": [f"街道{i}" for i in cells["id"]],
            "area_m2": 1.0e6,
            "min_lon": bounds["minx"],
            "min_lat": bounds["miny"],
            "max_lon": bounds["maxx"],
            "max_lat": bounds["maxy"],
            "geom": list(geometry_to_db(_multi(cells.geometry.values), engine.dialect.name)),
            "updated_at": datetime(2026, 9, 1),
        }
    )


def _point_records(engine: sa.Engine, n_streets: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(17)
    lon, lat = rng.uniform(120.80, 121.00, n), rng.uniform(31.95, 32.10, n)
    kinds = list(default_taxonomy().point_kinds)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "code": [f"P{i:07d}" for i in range(1, n + 1)],
            "name": [f"点位{i}" for i in range(1, n + 1)],
            "kind": rng.choice(kinds, n),
            "geom": list(geometry_to_db(shapely.points(lon, lat), engine.dialect.name)),
            "lon": lon,
            "lat": lat,
            "outside": False,
            "street_id": rng.integers(1, n_streets + 1, n),
        }
    )


def _visit_records(n_points: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(23)
    visited = rng.choice(np.arange(1, n_points + 1), max(1, int(n_points * 0.8)), replace=False)
    start = np.datetime64("2026-10-01T00:00:00")
    seconds = rng.choice(90 * 86400, n, replace=False) if n <= 90 * 86400 else None
    if seconds is None:
        seconds = rng.integers(0, 90 * 86400, n)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "round_id": 1,
            "point_id": rng.choice(visited, n),
            "visited_at": start + seconds.astype("timedelta64[s]"),
            "inspector": "bench",
            "result": rng.choice(list(RESULTS), n, p=[0.7, 0.25, 0.05]),
            "note": "",
        }
    )


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000, help="inspection points")
    parser.add_argument("--visits", type=int, default=1_000_000, help="visits in the round")
    parser.add_argument("--streets", type=int, default=200, help="street polygons")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
