"""Production serving (issue 21): `civicgrid serve` under gunicorn with several workers,
an access log without secrets, graceful reload, and in-process caches that stay correct
across workers (each response is keyed by data versions read from the database)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from flask import Flask

from geo.ingest.pipeline import IngestOptions, ingest_file
from tests.helpers import load_heat_city, signed_in, write_csv
from web import create_app

REPO = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-api-key-value"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICGRID_")}
    env.update(
        CIVICGRID_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
        PYTHONPATH=str(REPO),
        **extra,
    )
    return env


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def _wait_until_up(url: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not answer")


@pytest.mark.slow
def test_serve_runs_workers_logs_without_secrets_and_reloads(tmp_path: Path) -> None:
    env = _env(tmp_path, CIVICGRID_SECRET_KEY="0123456789abcdef0123456789abcdef")
    civicgrid = [sys.executable, "-m", "web"]
    subprocess.run([*civicgrid, "init"], env=env, check=True, capture_output=True, cwd=tmp_path)
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [*civicgrid, "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/healthz", server)
        assert _get(f"{base}/healthz?api_key={SECRET}")[0] == 200
        # gunicorn logs the request line as sent: api%5Fkey (api_key to the server) too
        assert _get(f"{base}/healthz?api%5Fkey={SECRET}")[0] == 200
        assert _get(f"{base}/readyz")[0] == 200
        server.send_signal(signal.SIGHUP)  # graceful reload: new workers, same socket
        time.sleep(2)
        assert _get(f"{base}/healthz")[0] == 200
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=40)
    log.seek(0)
    text = log.read()
    assert code == 0, text
    assert "gunicorn" in text and text.count("Booting worker") >= 4  # 2, then 2 after HUP
    assert "GET /healthz?api_key=[REDACTED]" in text
    assert "GET /healthz?api%5Fkey=[REDACTED]" in text
    assert SECRET not in text


def test_serve_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "web", "serve", "--port", str(_free_port())],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "CIVICGRID_SECRET_KEY" in lines[0], done.stderr


def test_worker_caches_follow_writes_made_elsewhere(sqlite_app: Flask, tmp_path: Path) -> None:
    """Two workers (two apps on one database): a change written by another process (the
    CLI's ingest) is seen by a worker that had cached the old figures, and both workers
    give the same ETag for the same data (a client may revalidate against either)."""
    url = sqlite_app.config["DATABASE_URL"]
    from web import database

    with sqlite_app.app_context():
        load_heat_city(database.engine(), tmp_path)
    other = create_app({"DATABASE_URL": url, "TESTING": True})
    one, two = signed_in(sqlite_app), signed_in(other)
    path = "/api/v1/heat?level=district"
    before_one, before_two = one.get(path), two.get(path)
    assert before_one.headers["ETag"] == before_two.headers["ETag"]
    assert two.get(path, headers={"If-None-Match": before_one.headers["ETag"]}).status_code == 304

    csv = "id,lon,lat,category,found_at\nNEW1,120.82,32.01,litter,2026-11-20T09:00:00+08:00\n"
    with sqlite_app.app_context():
        ingest_file(database.engine(), write_csv(tmp_path / "more.csv", csv), IngestOptions())
    after = two.get(path, headers={"If-None-Match": before_one.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before_two.headers["ETag"]
    unresolved = after.get_json()["totals"]["unresolved"]
    assert unresolved == before_two.get_json()["totals"]["unresolved"] + 1
