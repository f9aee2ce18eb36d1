"""bench/ingest.py runs at a tiny size and prints its JSON line with the issue's keys."""

from __future__ import annotations

import json
import os

import pytest

from bench import ingest

KEYS = {"rows", "seconds", "anchor_seconds", "ratio", "rows_per_s", "peak_rss_mb"}
POSTGIS_KEYS = {"postgis_seconds", "postgis_anchor_seconds", "postgis_speedup"}


@pytest.mark.slow
def test_bench_ingest_tiny(tmp_path, capsys) -> None:
    url = os.environ.get("CIVICGRID_TEST_POSTGIS_URL")
    args = ["--rows", "300", "--workdir", str(tmp_path)]
    postgis = ["--postgis-url", url, "--db-suffix", "benchtest"] if url else []
    result = ingest.main(args + postgis)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(line) == result
    assert set(result) >= KEYS and result["rows"] == 300
    assert result["seconds"] > 0 and result["anchor_seconds"] > 0 and result["peak_rss_mb"] > 0
    if url:
        assert set(result) >= POSTGIS_KEYS
