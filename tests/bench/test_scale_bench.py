"""bench/scale.py and bench/ogc_peer.py run at a tiny size on PostGIS and print their line."""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench import ogc_peer, scale

KEYS = [
    "rows",
    "ingest_s",
    "ingest_peak_rss_mb",
    "heat_p50_ms",
    "heat_cached_p50_ms",
    "area_page_s",
    "rankings_s",
    "dashboard_s",
    "ogc_deep_ms",
    "export_rows_per_s",
]


@pytest.fixture
def postgis_bench_url(worker_id: str) -> Iterator[str]:
    """A database of its own (the benches empty theirs), dropped afterwards."""
    url = os.environ.get("CIVICGRID_TEST_POSTGIS_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CIVICGRID_TEST_POSTGIS_URL is not set: PostGIS tests must run in CI")
        pytest.skip("PostGIS not configured")
    base = sa.make_url(url)
    name = f"{base.database}_scaletest_{worker_id}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    own = base.set(database=name)
    with sa.create_engine(own).begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    yield own.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.mark.slow
@pytest.mark.postgis
def test_scale_bench_tiny(tmp_path, capsys, postgis_bench_url) -> None:
    result = scale.main(["--rows", "3000", "--grids", "300", "--database-url", postgis_bench_url,
                         "--workdir", str(tmp_path)])  # fmt: skip
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(line) == result
    assert all(key in result for key in KEYS)
    assert result["rows"] == 3000 and result["export_rows"] > 0
    assert result["heat_p50_ms"] > 0 and result["ogc_deep_ms"] > 0
    assert result["dashboard_s"] > 0 and result["search_s"] > 0
    searched = [result[f"search_{kind}_s"] for kind in ("point", "area", "problem")]
    assert result["search_s"] == max(searched)


@pytest.mark.slow
@pytest.mark.postgis
def test_ogc_peer_bench_tiny(tmp_path, postgis_bench_url) -> None:
    peer = os.environ.get("CIVICGRID_TEST_PEER_PYTHON")
    found = shutil.which("pygeoapi")
    if not peer and not found:
        pytest.skip("pygeoapi not installed (the bench extra); set CIVICGRID_TEST_PEER_PYTHON")
    peer = peer or str(Path(str(found)).parent / "python")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = ["--rows", "500", "--database-url", postgis_bench_url, "--workdir", str(tmp_path)]
    argv += ["--seconds", "0.5", "--max-requests", "20", "--port", str(port)]
    result = ogc_peer.main([*argv, "--peer-python", peer])
    assert result["civicgrid_rps"] > 0 and result["pygeoapi_rps"] > 0
    assert result["civicgrid_errors"] == 0 and result["pygeoapi_errors"] == 0
