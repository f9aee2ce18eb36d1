"""bench/rates.py runs at a tiny size and both paths agree."""

from __future__ import annotations

import pytest

from bench import rates

# Benchmarks end to end, at a tiny size.
pytestmark = pytest.mark.slow


def test_rates_bench_tiny(capsys) -> None:
    result = rates.main(["--rows", "3000", "--grids", "60", "--repeat", "1"])
    assert result["rates_match"] == 1 and result["grids"] > 0
    assert set(result) >= {"seconds", "anchor_seconds", "ratio", "rates_match"}
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith('{"bench": "rates"')
