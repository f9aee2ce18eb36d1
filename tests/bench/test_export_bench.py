"""bench/export.py runs at a tiny size and prints its JSON line with the issue's keys."""

from __future__ import annotations

import json

import pytest

from bench import export

# Benchmarks end to end, at a tiny size.
pytestmark = pytest.mark.slow


def test_export_bench_tiny(capsys) -> None:
    result = export.main(["--rows", "500", "--grids", "30", "--chunk-rows", "200"])
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line == result
    assert {"seconds", "anchor_seconds", "ratio", "rss_growth_mb", "features"} <= set(line)
    assert line["features"] == line["anchor_features"] == line["http_gzip_features"] == 500
    assert {"http_first_byte_s", "http_server_rss_growth_mb"} <= set(line)
