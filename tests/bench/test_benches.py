"""Benchmarks run at a tiny size, to prove they work and print their JSON line."""

from __future__ import annotations

import json

import pytest

from bench import assign

# Benchmarks end to end, at a tiny size.
pytestmark = pytest.mark.slow


def test_assign_bench_runs_small(capsys) -> None:
    result = assign.main(["--rows", "2000", "--grids", "50", "--repeat", "1"])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(line) == result
    for key in ("seconds", "anchor_seconds", "ratio", "edge_unassigned", "sjoin_edge_missed"):
        assert key in result
    assert result["edge_unassigned"] == 0  # the edge rule: every shared-vertex point assigned
    assert result["sjoin_edge_missed"] == result["edge_points"]  # `within` leaves them out
    assert result["unassigned"] == 0
