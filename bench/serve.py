"""Benchmark: `civicgrid serve` (gunicorn) under a bounded load (issue 21, item 5).

Builds the demo city's areas and points with N problems in a fresh database (SQLite, or
PostGIS with ``--database-url``), starts ``civicgrid serve`` with 2 workers on 127.0.0.1
and drives it with bench/httpload.py: phases of cached heat, uncached heat (a new date
filter each request), the overview page, the rankings page, problem pages, then all of
them mixed with lifecycle POSTs (assign) and survey uploads. Each phase stops after
``--seconds`` or ``--max-requests``. Counts errors (any 4xx/5xx) and "database is
locked" in the server's log (except a token's last use skipped by design, issue 22).

Targets: cached heat ≥ 1,000 req/s; rankings ≥ 100 req/s with p95 ≤ 300 ms; 0 errors;
writers never see "database is locked". Anchor: ``GET /healthz`` on the same server
(no database; the ceiling of this server and this client on this machine).

    python bench/serve.py --rows 1000000 [--database-url postgresql+psycopg://…/db]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
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
from bench.ingest import DEMO, make_survey_csv  # noqa: E402
from geo.access.tokens import create_token  # noqa: E402
from geo.access.users import create_user  # noqa: E402
from geo.areas.loading import AreaLoadOptions, load_areas  # noqa: E402
from geo.areas.points import load_points  # noqa: E402
from geo.areas.units import unit_ids  # noqa: E402
from geo.demo.city import DEMO_LEVEL_FILES  # noqa: E402
from geo.ingest.pipeline import IngestOptions, ingest_file  # noqa: E402
from geo.storage.db import make_engine, transaction  # noqa: E402
from geo.storage.models import Problem  # noqa: E402
from geo.summary.upgrade import upgrade  # noqa: E402

TARGETS = {"heat_cached_rps": 1000, "rankings_rps": 100, "rankings_p95_ms": 300, "errors": 0}
PASSWORD = "Kq7-load-test-Wx2-pass"
UNIT = "压测责任单位"
UPLOAD_CSV = "id,lon,lat,category,found_at\n{rows}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="civicgrid-serve-"))
    work.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{work / 'serve.db'}"
    city = _build_city(url, work, args.rows, args.seed)
    server, log = _start(url, work, args)
    try:
        cookie = _login(args.port)
        phases = _phases(args, city, cookie)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    text = log.read_text(errors="replace")
    result = _result(args, city["rows"], phases)
    # A token's last use skipped while another worker records it is by design (issue 22);
    # any other "database is locked" is a request that met the lock.
    locked = [ln for ln in text.splitlines() if "database is locked" in ln]
    result["database_locked"] = sum("not recorded" not in ln for ln in locked)
    emit(result)
    return result


# --- the city ---------------------------------------------------------------------------


def _build_city(url: str, work: Path, rows: int, seed: int) -> dict[str, Any]:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        from bench.ingest import _drop_all

        _drop_all(engine)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{engine.url.database}{suffix}").unlink(missing_ok=True)
    upgrade(engine)
    for level, name in DEMO_LEVEL_FILES:
        load_areas(engine, DEMO / name, AreaLoadOptions(level=level))
    load_points(engine, DEMO / "points.geojson")
    grids = gpd.read_file(DEMO / "grids.geojson", engine="pyogrio")
    csv_path, frame = make_survey_csv(work / "survey.csv", grids, rows, seed)
    ingest_file(engine, csv_path, IngestOptions(source="bench"))
    with transaction(engine) as session:
        unit_ids(session, [UNIT])
        create_user(session, "loadtester", PASSWORD, "city_officer")
        _, secret = create_token(session, "bench", "city_officer", actor="bench")
        found = sa.select(Problem.id).where(Problem.status == "found").order_by(Problem.id)
        ids = list(session.scalars(found.limit(50_000)))
    engine.dispose()
    sample = frame.head(5)[["lon", "lat", "category"]]
    return {"rows": len(frame), "token": secret, "found": ids, "sample": sample}


# --- the server -------------------------------------------------------------------------


def _start(url: str, work: Path, args: argparse.Namespace) -> tuple[subprocess.Popen, Path]:
    env = {
        **os.environ,
        "CIVICGRID_DATABASE_URL": url,
        "CIVICGRID_SECRET_KEY": secrets.token_hex(32),
        "CIVICGRID_DB_POOL_SIZE": str(max(10, args.threads)),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "web", "serve", "--host", HOST, "--port", str(args.port)]
    command += ["--workers", str(args.workers), "--threads", str(args.threads)]
    command += ["--worker-class", args.worker_class, "--no-access-log"]
    log = work / "server.log"
    server = subprocess.Popen(command, env=env, cwd=work, stdout=log.open("w"), stderr=-2)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://{HOST}:{args.port}/readyz", timeout=2).read()
            return server, log
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("the server did not answer within 60 s")


def _login(port: int) -> str:
    """Log in through the form; the Cookie header of that browser session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://{HOST}:{port}"
    html = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    form = {"username": "loadtester", "password": PASSWORD, "csrf_token": token.group(1)}
    opener.open(f"{base}/login", urllib.parse.urlencode(form).encode()).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


# --- the load ---------------------------------------------------------------------------

GZIP = ("Accept-Encoding", "gzip")


def _requests(city: dict[str, Any], cookie: str) -> dict[str, Callable[[int, int], Request]]:
    api = (("Authorization", f"Bearer {city['token']}"), GZIP)
    page = (("Cookie", cookie), GZIP)
    found: list[int] = city["found"]
    counter = [0]

    def uncached(client: int, n: int) -> Request:
        counter[0] += 1
        day, month = counter[0] % 28 + 1, counter[0] // 28 % 12 + 1
        path = f"/api/v1/heat?level=grid&status=all&from=2026-{month:02d}-{day:02d}"
        return Request("heat_uncached", f"{path}&to=2026-12-{counter[0] % 3 + 29}", headers=api)

    def assign(client: int, n: int) -> Request:
        counter[0] += 1
        pid = found.pop() if found else 1
        body = f'{{"action": "assign", "unit": "{UNIT}", "version": 1}}'.encode()
        headers = (*api, ("Content-Type", "application/json"))
        return Request("lifecycle_post", f"/api/v1/problems/{pid}", "POST", headers, body)

    def upload(client: int, n: int) -> Request:
        counter[0] += 1
        rows = "".join(
            f"U{counter[0]}-{i},{r.lon},{r.lat},{r.category},2026-11-20T09:00:00+08:00\n"
            for i, r in enumerate(city["sample"].itertuples())
        )
        return _multipart(UPLOAD_CSV.format(rows=rows).encode(), api)

    def problem_page(client: int, n: int) -> Request:
        pid = (client * 7919 + n * 104_729) % max(city["rows"], 1) + 1
        return Request("problem_page", f"/problems/{pid}", headers=page)

    return {
        "healthz": lambda c, n: Request("healthz", "/healthz"),
        "heat_cached": lambda c, n: Request("heat_cached", "/api/v1/heat?level=grid", headers=api),
        "heat_uncached": uncached,
        "overview": lambda c, n: Request("overview", "/", headers=page),
        "rankings": lambda c, n: Request("rankings", "/rankings?level=grid", headers=page),
        "problem_page": problem_page,
        "lifecycle_post": assign,
        "upload": upload,
    }


def _multipart(content: bytes, headers: tuple[tuple[str, str], ...]) -> Request:
    boundary = "civicgridbench" + secrets.token_hex(8)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="u.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    kind = ("Content-Type", f"multipart/form-data; boundary={boundary}")
    return Request("upload", "/api/v1/surveys", "POST", (*headers, kind), body)


MIX = (
    ["heat_cached"] * 8 + ["heat_uncached"] * 2 + ["overview"] * 2 + ["rankings"] * 4
    + ["problem_page"] * 2 + ["lifecycle_post"]
)  # fmt: skip


def _phases(args: argparse.Namespace, city: dict[str, Any], cookie: str) -> dict[str, Results]:
    make = _requests(city, cookie)

    def run(pick: Callable[[int, int], Request]) -> Results:
        return drive(args.port, pick, args.clients, args.seconds, args.max_requests)

    phases = {name: run(make[name]) for name in ("healthz", "heat_cached", "heat_uncached")}
    for name in ("overview", "rankings", "problem_page"):
        phases[name] = run(make[name])

    def mixed(client: int, n: int) -> Request:
        if client == 0 and n % 50 == 49:
            return make["upload"](client, n)
        return make[MIX[(client + n * 7) % len(MIX)]](client, n)

    phases["mixed"] = run(mixed)
    return phases


def _result(args: argparse.Namespace, rows: int, phases: dict[str, Results]) -> dict[str, Any]:
    mixed = phases["mixed"]
    heat = phases["heat_cached"]
    out: dict[str, Any] = {
        "bench": "serve",
        "rows": rows,
        "workers": args.workers,
        "worker_class": args.worker_class,
        "threads": args.threads,
        "clients": args.clients,
        "heat_cached_rps": heat.rps("heat_cached"),
        "heat_cached_p95_ms": heat.p("heat_cached", 95),
        "heat_uncached_rps": phases["heat_uncached"].rps("heat_uncached"),
        "heat_uncached_p95_ms": phases["heat_uncached"].p("heat_uncached", 95),
        "overview_rps": phases["overview"].rps("overview"),
        "overview_p95_ms": phases["overview"].p("overview", 95),
        "rankings_rps": phases["rankings"].rps("rankings"),
        "rankings_p95_ms": phases["rankings"].p("rankings", 95),
        "problem_page_rps": phases["problem_page"].rps("problem_page"),
        "problem_page_p95_ms": phases["problem_page"].p("problem_page", 95),
        "mixed_rps": round(mixed.count() / max(mixed.seconds, 1e-9), 1),
        "mixed_rankings_p95_ms": mixed.p("rankings", 95),
        "lifecycle_posts": len(mixed.latencies.get("lifecycle_post", [])),
        "lifecycle_post_p95_ms": mixed.p("lifecycle_post", 95),
        "uploads": len(mixed.latencies.get("upload", [])),
        "upload_p95_ms": mixed.p("upload", 95),
        "errors": sum(r.errors() for r in phases.values()),
        "requests": sum(r.count() for r in phases.values()),
        "anchor": "GET /healthz on the same server (no database)",
        "anchor_rps": phases["healthz"].rps("healthz"),
    }
    out["ratio"] = round(out["heat_cached_rps"] / max(out["anchor_rps"], 1e-9), 2)
    out["targets"] = TARGETS
    return out


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="problems in the city")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--workdir", default=None, help="where to put the CSV and database")
    parser.add_argument("--database-url", default=None, help="a PostGIS database (emptied!)")
    parser.add_argument("--port", type=int, default=5502, help="on 127.0.0.1")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase, at most")
    parser.add_argument("--max-requests", type=int, default=50_000, help="per phase, at most")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
