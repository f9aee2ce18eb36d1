"""Benchmark: the grid heat API and the city overview page at a million problems.

Builds N irregular grids (Voronoi cells over the demo city's extent) and two databases
over them: one with ``--rows`` problems (default 1,000,000) and the anchor with
``--anchor-rows`` (10,000), inserted directly with executemany (setup speed is not what
is measured), then ``summary.rebuild``. Measures ``GET /api/v1/heat?level=grid``
through the Flask test client, ``--requests`` times each:

- uncached: the response cache is emptied before each request (the per-level area list,
  reference data cached per areas version, stays warm), so every request reads the
  summary and builds and gzips the body;
- cached: the same request again (served from the in-process response cache).

The anchor is the same uncached request on the small database, in the same run and
interleaved with the large one (so both see the same load of a shared machine): ratio =
large p50 / anchor p50 (target ≤ 1.5: the cost must not grow with the problems). Then
Chromium loads the overview page with all grids: bytes on the wire, seconds until the
shapes are drawn, requests leaving the origin.

    python bench/heat.py --rows 1000000 --grids 20000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit, peak_rss_mb, voronoi_grids
from geo.areas.assign import AreaIndex
from geo.core.crs import areas_m2
from geo.storage.db import make_engine, transaction
from geo.storage.models import Area, Problem
from geo.storage.sqltypes import geometry_to_db
from geo.summary import counts as summary
from geo.summary.upgrade import upgrade

URL = "/api/v1/heat?level=grid"
TARGETS = {"ratio": 1.5, "uncached_p50_ms": 50, "cached_p50_ms": 5, "page_bytes": 1_500_000}
CATEGORIES = ["illegal_ads", "disorderly_parking", "non_motor_parking", "litter", "street_vending"]
STATUSES = ["found", "assigned", "rectified", "closed"]


def main(argv: list[str] | None = None, browser: Any = None) -> dict[str, Any]:
    """Run the benchmark; ``browser``: a Playwright browser to use (tests), else one is
    launched."""
    args = _parse(argv)
    with tempfile.TemporaryDirectory(prefix="civicgrid-bench-") as tmp:
        urls = _urls(args, Path(tmp))
        grids = voronoi_grids(args.grids)
        print(f"{len(grids)} grids", flush=True)
        for url, rows in ((urls[0], args.rows), (urls[1], args.anchor_rows)):
            seconds = _build(url, grids, rows, args.seed)
            print(f"{rows} problems loaded and summarised in {seconds:.1f} s", flush=True)
        large, anchor = _measure_api(urls, args.requests)
        print(f"{args.rows} problems: {large}", flush=True)
        print(f"{args.anchor_rows} problems: {anchor}", flush=True)
        basemap = _demo_basemap(Path(tmp)) if args.basemap else None
        page = {} if args.no_browser else _measure_page(urls[0], browser, basemap)
    result = {
        "bench": "heat",
        "rows": args.rows,
        "grids": len(grids),
        "requests": args.requests,
        "anchor": f"same request at {args.anchor_rows} problems",
        "anchor_rows": args.anchor_rows,
        "uncached_p50_ms": large["uncached_p50_ms"],
        "uncached_p95_ms": large["uncached_p95_ms"],
        "cached_p50_ms": large["cached_p50_ms"],
        "cached_p95_ms": large["cached_p95_ms"],
        "anchor_uncached_p50_ms": anchor["uncached_p50_ms"],
        "ratio": round(large["uncached_p50_ms"] / anchor["uncached_p50_ms"], 3),
        "filtered_p50_ms": large["filtered_p50_ms"],
        "density_p50_ms": large["density_p50_ms"],
        "loadavg_1min": round(os.getloadavg()[0], 2),
        "response_bytes": large["response_bytes"],
        **page,
        "targets": TARGETS,
        "backend": sa.make_url(urls[0]).get_backend_name(),
        "basemap": "pmtiles" if args.basemap else "none",
        "peak_rss_mb": round(peak_rss_mb()),
    }
    emit(result)
    return result


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="problems (large case)")
    parser.add_argument("--anchor-rows", type=int, default=10_000, help="problems (anchor)")
    parser.add_argument("--grids", type=int, default=20_000, help="grid polygons")
    parser.add_argument("--requests", type=int, default=200, help="requests per figure")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium page load")
    parser.add_argument(
        "--basemap",
        action="store_true",
        help="load the page with the demo's offline PMTiles basemap (its tiles are counted "
        "apart from page_bytes, as tile_bytes)",
    )
    parser.add_argument(
        "--database-url",
        nargs=2,
        metavar=("LARGE", "ANCHOR"),
        help="two empty databases to use (default: SQLite files in a temporary folder); "
        "their civicgrid tables are dropped first",
    )
    return parser.parse_args(argv)


def _urls(args: argparse.Namespace, tmp: Path) -> tuple[str, str]:
    if args.database_url:
        return args.database_url[0], args.database_url[1]
    return f"sqlite:///{tmp / 'large.db'}", f"sqlite:///{tmp / 'anchor.db'}"


# --- setup -------------------------------------------------------------------------------


def _build(url: str, grids: Any, rows: int, seed: int) -> float:
    start = time.perf_counter()
    engine = make_engine(url)
    _reset(engine)
    upgrade(engine)
    with transaction(engine) as session:
        ids = _insert_grids(session, grids)
        _insert_problems(session, grids.assign(id=ids), rows, seed)
        summary.rebuild(session)
    engine.dispose()
    return time.perf_counter() - start


def _reset(engine: sa.Engine) -> None:
    from geo.storage.models import Base

    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def _insert_grids(session: Any, grids: Any) -> np.ndarray:
    dialect = session.get_bind().dialect.name
    bounds = grids.geometry.bounds
    m2 = areas_m2(grids.geometry)
    wkb = geometry_to_db(
        np.array([g if g.geom_type == "MultiPolygon" else _multi(g) for g in grids.geometry]),
        dialect,
    )
    now = summary.utcnow()
    records = [
        {
            "id": int(i),
            "level": "grid",
            "code": code,
            "name": f"网格{int(i):05d}",
            "area_m2": float(a),
            "min_lon": x0,
            "min_lat": y0,
            "max_lon": x1,
            "max_lat": y1,
            "geom": g,
            "updated_at": now,
        }
        for i, code, a, (x0, y0, x1, y1), g in zip(
            grids["id"], grids["code"], m2, bounds.itertuples(index=False), wkb, strict=True
        )
    ]
    session.execute(sa.insert(Area), records)
    summary.touch(session, "areas")
    return grids["id"].to_numpy()


def _multi(polygon: Any) -> Any:
    import shapely

    return shapely.MultiPolygon([polygon])


def _insert_problems(session: Any, grids: Any, rows: int, seed: int) -> None:
    frame = _synthetic_problems(grids, rows, seed)
    dialect = session.get_bind().dialect.name
    import shapely

    geoms = geometry_to_db(shapely.points(frame["lon"], frame["lat"]), dialect)
    frame["geom"] = list(geoms)
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for start in range(0, len(records), 50_000):
        session.execute(sa.insert(Problem), records[start : start + 50_000])


def _synthetic_problems(grids: Any, rows: int, seed: int) -> pd.DataFrame:
    """``rows`` problems over a year: a third in a few hot spots, status mix by age."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = grids.total_bounds
    hot = rows // 3
    centres = rng.uniform([x0, y0], [x1, y1], size=(8, 2))
    pick = rng.integers(0, 8, hot)
    lon = np.r_[rng.uniform(x0, x1, rows - hot), centres[pick, 0] + rng.normal(0, 0.006, hot)]
    lat = np.r_[rng.uniform(y0, y1, rows - hot), centres[pick, 1] + rng.normal(0, 0.005, hot)]
    lon, lat = np.clip(lon, x0 + 1e-6, x1 - 1e-6), np.clip(lat, y0 + 1e-6, y1 - 1e-6)
    assigned = AreaIndex.from_frame(grids).assign(_points(lon, lat))
    now = summary.utcnow().replace(microsecond=0)
    age_days = rng.uniform(0, 365, rows)
    found = pd.to_datetime(now) - pd.to_timedelta(age_days, unit="D")
    closed_share = np.clip(age_days / 30, 0.1, 0.95)
    status = np.where(
        rng.uniform(size=rows) < closed_share, "closed", rng.choice(STATUSES[:3], rows)
    )
    deadline = found + pd.to_timedelta(rng.integers(1, 15, rows), unit="D")
    closed_at = found + pd.to_timedelta(rng.uniform(0.2, 20, rows), unit="D")
    return pd.DataFrame(
        {
            "source": "bench",
            "external_id": [f"b{i}" for i in range(rows)],
            "category": rng.choice(CATEGORIES, rows),
            "description": "",
            "lon": lon,
            "lat": lat,
            "outside": assigned["grid_id"].isna().to_numpy(),
            "grid_id": assigned["grid_id"].to_numpy(),
            "status": status,
            "found_at": found.to_pydatetime(),
            "deadline": deadline.to_pydatetime(),
            "closed_at": np.where(status == "closed", closed_at.to_pydatetime(), None),
            "campaign": pd.Series(["psa_upgrade", None])[
                (rng.uniform(size=rows) >= 0.2).astype(int)
            ].to_numpy(),
            "reopen_count": 0,
            "version": 1,
        }
    )


def _points(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    import shapely

    return shapely.points(lon, lat)


# --- measurements ------------------------------------------------------------------------


def _measure_api(urls: tuple[str, str], requests: int) -> tuple[dict[str, Any], ...]:
    """Time the requests on both databases, interleaved (large, anchor, large, ...) so
    that both see the same machine load."""
    from tests.helpers import signed_in
    from web import create_app, httpcache

    apps = [create_app({"DATABASE_URL": url, "TESTING": True}) for url in urls]
    clients = [signed_in(app, "city_officer") for app in apps]  # every route needs a login
    stores = [httpcache.cache(app) for app in apps]
    headers = {"Accept-Encoding": "gzip"}
    for client in clients:
        client.get(URL, headers=headers)  # warm the per-level area list and imports

    def timed_get(k: int, path: str, clear: bool) -> float:
        if clear:
            stores[k].clear()
        start = time.perf_counter()
        response = clients[k].get(path, headers=headers)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.data[:200]
        return elapsed

    def series(path: str, count: int, clear: bool) -> list[list[float]]:
        out: list[list[float]] = [[], []]
        for _ in range(count):
            for k in (0, 1):
                out[k].append(timed_get(k, path, clear))
        return out

    cold = series(URL, requests, clear=True)
    warm = series(URL, requests, clear=False)
    filtered = series(URL + "&category=litter&status=overdue", requests // 4, clear=True)
    density = series(
        "/api/v1/heat/points?bbox=120.8,31.95,121.0,32.1&zoom=13", max(3, requests // 20), True
    )
    sizes = [len(client.get(URL, headers=headers).data) for client in clients]
    return tuple(
        {
            "uncached_p50_ms": _ms(statistics.median(cold[k])),
            "uncached_p95_ms": _ms(float(np.percentile(cold[k], 95))),
            "cached_p50_ms": _ms(statistics.median(warm[k])),
            "cached_p95_ms": _ms(float(np.percentile(warm[k], 95))),
            "filtered_p50_ms": _ms(statistics.median(filtered[k])),
            "density_p50_ms": _ms(statistics.median(density[k])),
            "response_bytes": sizes[k],
        }
        for k in (0, 1)
    )


def _demo_basemap(tmp: Path) -> Path:
    """The demo city's PMTiles basemap (the grids cover the demo city's extent)."""
    from geo.demo.basemap import build_basemap

    demo = Path(__file__).resolve().parents[1] / "data" / "demo"
    return build_basemap(demo, tmp / "basemap.pmtiles").path


def _measure_page(url: str, browser: Any = None, basemap: Path | None = None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.web.browser import CHROMIUM, CHROMIUM_ARGS

    if browser is not None:
        return _page_figures(url, browser, basemap)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return _page_figures(url, launched, basemap)
        finally:
            launched.close()


def _page_figures(url: str, browser: Any, basemap: Path | None = None) -> dict[str, Any]:
    """Load the overview twice in fresh pages: the first builds the server's cached
    outlines (a cold server), the second is what a visitor normally gets."""
    from tests.helpers import ensure_user
    from tests.web.browser import live_server
    from web import create_app

    settings: dict[str, Any] = {"DATABASE_URL": url, "TESTING": True}  # a random secret key
    if basemap is not None:
        settings.update(BASEMAP="pmtiles", PMTILES_PATH=str(basemap))
    app = create_app(settings)
    user = ensure_user(app, "city_officer")
    with live_server(app) as base:
        cold = _load_overview(browser, base, user)
        warm = _load_overview(browser, base, user)
    return {
        "page_bytes": warm["bytes"],
        "tile_bytes": warm["tile_bytes"],
        "draw_seconds": warm["drawn"],
        "cold_server_draw_seconds": cold["drawn"],
        "offorigin_requests": warm["offorigin"] + cold["offorigin"],
        "console_errors": warm["errors"] + cold["errors"],
        "shapes_drawn": warm["shapes"],
    }


def _load_overview(browser: Any, base: str, user: str) -> dict[str, Any]:
    from tests.helpers import TEST_PASSWORD
    from tests.web.browser import PageWatch, context_login, wait_until

    context = browser.new_context(viewport={"width": 1400, "height": 900})  # empty cache
    context_login(context, base, user, TEST_PASSWORD)
    page = context.new_page()
    watch = PageWatch(page, base)
    finished: list[Any] = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(base + "/")
    wait_until(
        page,
        "(() => { const d = document.querySelector('.folium-map')?.dataset;"
        " return !!d && d.heatSeq === '1' && d.layersPending === '0'"
        " && (d.basemap === undefined || d.basemap === 'ready'); })()",
        timeout=120_000,
    )
    drawn = page.evaluate("performance.now()") / 1000
    page.wait_for_load_state("networkidle")
    total = tiles = 0
    for request in finished:
        sizes = request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        if "/basemap.pmtiles" in request.url:
            tiles += size  # the basemap's tiles: counted apart (target: page excl. tiles)
        else:
            total += size
    shapes = page.eval_on_selector(".folium-map", "e => e.dataset.heatShown")
    context.close()
    return {
        "bytes": total,
        "tile_bytes": tiles,
        "drawn": round(drawn, 3),
        "offorigin": len(watch.offorigin),
        "errors": len(watch.console_errors),
        "shapes": int(shapes or 0),
    }


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


if __name__ == "__main__":
    main()
