"""Benchmark: civicgrid's OGC API – Features beside pygeoapi on the same PostGIS table
(issue 21, item 4).

Fills a PostGIS database with the demo city's areas and N problems, then serves the
``problems`` table twice under gunicorn with the same workers and threads: civicgrid's
``/ogcapi`` (``civicgrid serve``) and pygeoapi with its PostgreSQL provider (PyPI
``pygeoapi``; the ``bench`` extra of setup.cfg, or ``--peer-python`` naming an interpreter
that has it). 16 clients then request items pages (first page, a bbox, a deep offset),
each for ``--seconds``, one server after the other: requests/s and p95 for both, in the
same run. Target: civicgrid ≥ 2× pygeoapi's throughput with the same or better p95.

civicgrid answers as a logged-in script would (a bearer token, checked per request, and
the caller's scope applied); pygeoapi serves anonymously.

    python bench/ogc_peer.py --rows 1000000 --database-url postgresql+psycopg://…/db
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.common import emit  # noqa: E402
from bench.httpload import HOST, Request, Results, drive  # noqa: E402
from bench.ingest import DEMO, _drop_all, make_survey_csv  # noqa: E402
from geo.access.tokens import create_token  # noqa: E402
from geo.areas.loading import AreaLoadOptions, load_areas  # noqa: E402
from geo.demo.city import DEMO_LEVEL_FILES  # noqa: E402
from geo.ingest.pipeline import IngestOptions, ingest_file  # noqa: E402
from geo.storage.db import make_engine, transaction  # noqa: E402
from geo.summary.upgrade import upgrade  # noqa: E402

TARGET_RATIO = 2.0
LIMIT = 100
BBOX = "120.85,32.00,120.87,32.02"
PYGEOAPI_CONFIG = """\
server:
  bind: {{host: {host}, port: {port}}}
  url: http://{host}:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: {limit}, max_items: 10000}}
  map:
    url: "https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png"
    attribution: OSM
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], terms_of_service: none,
                    url: http://{host}}}
  license: {{name: none, url: http://{host}}}
  provider: {{name: bench, url: http://{host}}}
  contact: {{name: bench}}
resources:
  problems:
    type: collection
    title: problems
    description: problems
    keywords: [problems]
    extents:
      spatial: {{bbox: [120.7, 31.9, 121.1, 32.2], crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: {db_host}, port: {db_port}, dbname: {db_name}, user: {db_user},
               password: "{db_password}", search_path: [public]}}
        id_field: id
        table: problems
        geom_field: geom
"""


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="civicgrid-ogcpeer-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.reuse:
        rows, token = _reuse(args.database_url)
    else:
        rows, token = _build(args.database_url, work, args.rows, args.seed)
    paths = _paths(rows)
    civicgrid = _measure(_civicgrid_server(args, work), args, paths, token)
    pygeoapi = _measure(_pygeoapi_server(args, work), args, paths, None)
    result = _result(args, rows, civicgrid, pygeoapi)
    emit(result)
    return result


def _build(url: str, work: Path, rows: int, seed: int) -> tuple[int, str]:
    engine = make_engine(url)
    _drop_all(engine)
    upgrade(engine)
    for level, name in DEMO_LEVEL_FILES:
        load_areas(engine, DEMO / name, AreaLoadOptions(level=level))
    grids = gpd.read_file(DEMO / "grids.geojson", engine="pyogrio")
    csv_path, frame = make_survey_csv(work / "survey.csv", grids, rows, seed)
    ingest_file(engine, csv_path, IngestOptions(source="bench"))
    with transaction(engine) as session:
        _, secret = create_token(session, "bench", "city_officer", actor="bench")
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE problems")
    engine.dispose()
    return len(frame), secret


def _reuse(url: str) -> tuple[int, str]:
    """The problems already in ``url`` (e.g. left by bench/scale.py) and a new token."""
    engine = make_engine(url)
    with transaction(engine) as session:
        rows = int(session.execute(sa.text("SELECT count(*) FROM problems")).scalar_one())
        _, secret = create_token(session, f"bench-{secrets.token_hex(4)}", "city_officer")
    engine.dispose()
    return rows, secret


def _paths(rows: int) -> dict[str, str]:
    return {
        "first_page": f"/collections/problems/items?f=json&limit={LIMIT}",
        "bbox": f"/collections/problems/items?f=json&limit={LIMIT}&bbox={BBOX}",
        "deep_offset": f"/collections/problems/items?f=json&limit={LIMIT}&offset={rows // 2}",
    }


# --- servers ------------------------------------------------------------------------------


def _civicgrid_server(args: argparse.Namespace, work: Path) -> tuple[list[str], dict, str]:
    env = {
        **os.environ,
        "CIVICGRID_DATABASE_URL": args.database_url,
        "CIVICGRID_SECRET_KEY": secrets.token_hex(32),
        "CIVICGRID_DB_POOL_SIZE": str(max(10, args.threads)),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "web", "serve", "--host", HOST, "--port", str(args.port)]
    command += [*_gunicorn_options(args), "--no-access-log"]
    return command, env, "/ogcapi"


def _pygeoapi_server(args: argparse.Namespace, work: Path) -> tuple[list[str], dict, str]:
    url = sa.make_url(args.database_url)
    config = work / "pygeoapi.yml"
    config.write_text(
        PYGEOAPI_CONFIG.format(
            host=HOST,
            port=args.port + 1,
            limit=LIMIT,
            db_host=url.host or HOST,
            db_port=url.port or 5432,
            db_name=url.database,
            db_user=url.username or "postgres",
            db_password=url.password or "",
        )
    )
    python = args.peer_python or sys.executable
    openapi = work / "pygeoapi-openapi.yml"
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    bindir = Path(python).parent
    generated = subprocess.run(
        [str(bindir / "pygeoapi"), "openapi", "generate", str(config), "--output-file", openapi],
        env=env,
        capture_output=True,
        text=True,
    )
    if generated.returncode != 0:
        raise SystemExit(f"pygeoapi openapi generate failed: {generated.stderr[-2000:]}")
    command = [python, "-m", "gunicorn", "--bind", f"{HOST}:{args.port + 1}"]
    command += [*_gunicorn_options(args), "--no-control-socket"]
    return [*command, "pygeoapi.flask_app:APP"], env, ""


def _gunicorn_options(args: argparse.Namespace) -> list[str]:
    """The same workers, threads and worker class for both servers, no access log."""
    return [
        *("--workers", str(args.workers), "--threads", str(args.threads)),
        *("--worker-class", "gthread", "--timeout", "60"),
    ]


def _measure(
    server: tuple[list[str], dict, str], args: argparse.Namespace, paths: dict, token: str | None
) -> dict[str, Results]:
    command, env, prefix = server
    port = args.port if prefix else args.port + 1
    log = Path(tempfile.mkstemp(prefix="ogcpeer-", suffix=".log")[1])
    process = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=-2, cwd=ROOT)
    try:
        _wait(port, f"{prefix}/collections/problems/items?f=json&limit=1", process, log, token)
        headers: tuple[tuple[str, str], ...] = (("Accept-Encoding", "gzip"),)
        if token:
            headers += (("Authorization", f"Bearer {token}"),)
        results = {}
        for kind, path in paths.items():
            request = Request(kind, prefix + path, headers=headers)
            results[kind] = drive(
                port, _always(request), args.clients, args.seconds, args.max_requests
            )
        return results
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _always(request: Request) -> Callable[[int, int], Request]:
    return lambda _client, _n: request


def _wait(port: int, path: str, process: subprocess.Popen, log: Path, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-3000:]}")
        try:
            request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers=headers)
            urllib.request.urlopen(request, timeout=10).read()
            return
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit(f"server on {port} did not answer: {log.read_text()[-3000:]}")


def _result(
    args: argparse.Namespace, rows: int, ours: dict[str, Results], peer: dict[str, Results]
) -> dict[str, Any]:
    def rps(results: dict[str, Results]) -> float:
        return round(sum(r.rps(k) for k, r in results.items()) / len(results), 1)

    def p95(results: dict[str, Results]) -> float:
        return max(r.p(k, 95) for k, r in results.items())

    out: dict[str, Any] = {
        "bench": "ogc_peer",
        "rows": rows,
        "workers": args.workers,
        "threads": args.threads,
        "clients": args.clients,
        "seconds": args.seconds,
        "civicgrid_rps": rps(ours),
        "pygeoapi_rps": rps(peer),
    }
    out["ratio"] = round(out["civicgrid_rps"] / max(out["pygeoapi_rps"], 1e-9), 2)
    out["civicgrid_p95_ms"] = p95(ours)
    out["pygeoapi_p95_ms"] = p95(peer)
    for kind in ours:
        out[f"civicgrid_{kind}_rps"] = ours[kind].rps(kind)
        out[f"pygeoapi_{kind}_rps"] = peer[kind].rps(kind)
        out[f"civicgrid_{kind}_p95_ms"] = ours[kind].p(kind, 95)
        out[f"pygeoapi_{kind}_p95_ms"] = peer[kind].p(kind, 95)
    out["civicgrid_errors"] = sum(r.errors() for r in ours.values())
    out["pygeoapi_errors"] = sum(r.errors() for r in peer.values())
    out["anchor"] = "pygeoapi (PostgreSQL provider), same table, workers and threads"
    out["target"] = TARGET_RATIO
    return out


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="problems in the table")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--database-url", required=True, help="a PostGIS database (emptied!)")
    parser.add_argument("--workdir", default=None, help="where to put the CSV and configs")
    parser.add_argument("--port", type=int, default=5503, help="civicgrid; pygeoapi on +1")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--seconds", type=float, default=30.0, help="per request kind")
    parser.add_argument("--max-requests", type=int, default=200_000, help="per request kind")
    parser.add_argument(
        "--reuse", action="store_true", help="serve the problems already in the database"
    )
    parser.add_argument(
        "--peer-python", default=None, help="a Python with pygeoapi (default: this one)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
