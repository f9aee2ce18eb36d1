"""bench/coverage.py runs at a tiny size and both paths agree."""

from __future__ import annotations

import pytest

from bench import coverage

# Benchmarks end to end, at a tiny size.
pytestmark = pytest.mark.slow


def test_coverage_bench_tiny(capsys) -> None:
    result = coverage.main(
        ["--points", "300", "--visits", "2000", "--streets", "8", "--repeat", "1"]
    )
    assert result["figures_match"] == 1 and result["points"] == 300
    assert set(result) >= {"seconds", "anchor_seconds", "ratio", "layer_seconds"}
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith('{"bench": "coverage"')
