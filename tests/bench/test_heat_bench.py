"""bench/heat.py at a tiny size: it runs, measures what it says and prints its JSON line."""

from __future__ import annotations

import json

import pytest

from bench import heat


@pytest.mark.slow
@pytest.mark.browser
def test_heat_bench_runs_small(capsys, browser) -> None:
    args = ["--rows", "600", "--anchor-rows", "60", "--grids", "40", "--requests", "4"]
    result = heat.main(args, browser=browser)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(line) == result
    for key in (
        "ratio",
        "uncached_p50_ms",
        "uncached_p95_ms",
        "cached_p50_ms",
        "page_bytes",
        "draw_seconds",
        "offorigin_requests",
    ):
        assert key in result
    assert result["shapes_drawn"] == result["grids"] == 40
    assert result["offorigin_requests"] == 0 and result["console_errors"] == 0
    assert 0 < result["page_bytes"] < 1_500_000
