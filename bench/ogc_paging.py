"""Benchmark: OGC API items paging deep in a large collection (issue 20).

Setup (not timed): the export benchmark's synthetic city (bench/export.py ``_setup``:
Voronoi grids, 200 inspection points, N problems) in a fresh SQLite file, or in the
PostGIS database given with ``--url`` (reused when it already holds the rows). Then, in
the same run, through the app (Flask test client, a planner's token):

* anchor: the first page, ``/ogcapi/collections/problems/items?limit=100``;
* deep offset: ``offset=N/2``;
* keyset next: the ``next`` link of the deep page (a cursor on the last id seen);
* sortby next: the ``next`` link of a deep ``sortby=-found_at`` page;
* bbox: a page of a bbox filter.

Each figure is the best of ``--repeat`` requests, in ms; the ratio is deep / anchor.

    python bench/ogc_paging.py --rows 1000000
    python bench/ogc_paging.py --rows 1000000 --url postgresql+psycopg://…/db
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit
from bench.export import _setup
from geo.storage.db import make_engine

TARGET_MS = 200.0
_ITEMS = "/ogcapi/collections/problems/items"


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = _parse(argv)
    with tempfile.TemporaryDirectory(prefix="civicgrid-bench-ogc-") as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        if _problems(url) < args.rows:
            print(f"setup: {args.rows} problems…", flush=True)
            _reset(url)
            _setup(url, args.rows, args.grids)
        _analyze(url)
        figures = _measure(url, args.rows, args.repeat)
    backend = "postgis" if url.startswith("postgresql") else "sqlite"
    result: dict[str, object] = {"bench": "ogc_paging", "backend": backend, "rows": args.rows}
    result.update({k: round(v, 1) for k, v in figures.items()})
    result["anchor"] = "first page (limit=100)"
    result["ratio"] = round(figures["deep_offset_ms"] / figures["anchor_ms"], 2)
    result["target_ms"] = TARGET_MS
    emit(result)
    return result


def _measure(url: str, rows: int, repeat: int) -> dict[str, float]:
    from geo.access.tokens import create_token
    from geo.storage.db import transaction
    from web import create_app

    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        from web import database

        with transaction(database.engine()) as session:
            _token, secret = create_token(session, f"bench-ogc-{time.time_ns()}", "planner")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}", "Accept": "application/geo+json"}

    def get(path: str, **params: Any) -> tuple[dict[str, Any], float]:
        best, doc = float("inf"), {}
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path, query_string=params or None, headers=headers)
            best = min(best, time.perf_counter() - start)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            doc = response.get_json()
        return doc, best * 1000

    first, anchor = get(_ITEMS, limit=100)
    deep, deep_ms = get(_ITEMS, limit=100, offset=rows // 2)
    _next, next_ms = get(_next_link(deep))
    sorted_deep, sorted_ms = get(_ITEMS, limit=100, offset=rows // 2, sortby="-found_at")
    _sorted_next, sorted_next_ms = get(_next_link(sorted_deep))
    _box, bbox_ms = get(_ITEMS, limit=100, bbox="120.88,32.00,120.92,32.04")
    assert len(first["features"]) == len(deep["features"]) == 100
    return {
        "anchor_ms": anchor,
        "deep_offset_ms": deep_ms,
        "keyset_next_ms": next_ms,
        "sortby_deep_offset_ms": sorted_ms,
        "sortby_next_ms": sorted_next_ms,
        "bbox_ms": bbox_ms,
    }


def _next_link(doc: dict[str, Any]) -> str:
    [href] = [link["href"] for link in doc["links"] if link["rel"] == "next"]
    return str(href).removeprefix("http://localhost")


def _problems(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text("SELECT count(*) FROM problems")) or 0)
    except sa.exc.SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


def _analyze(url: str) -> None:
    """Planner statistics and the visibility map, as autovacuum keeps them on a server
    (it may be off on a test server: then the planner guesses and sorts instead of
    scanning the id index)."""
    engine = make_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE"))
    engine.dispose()


def _reset(url: str) -> None:
    """An empty PostGIS schema (the bench owns the database it is given)."""
    if not url.startswith("postgresql"):
        return
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="problems")
    parser.add_argument("--grids", type=int, default=2_000, help="grid polygons")
    parser.add_argument("--repeat", type=int, default=3, help="requests per figure (best)")
    parser.add_argument("--url", help="a PostGIS database the bench may empty (default SQLite)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
