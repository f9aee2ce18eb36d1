"""bench/contention.py runs at a tiny size and prints its JSON line."""

from __future__ import annotations

import json

import pytest

from bench import contention


@pytest.mark.slow
def test_contention_bench_tiny(tmp_path, capsys) -> None:
    result = contention.main(["--rows", "300", "--workdir", str(tmp_path), "--min-requests", "20"])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(line) == result
    assert result["requests"] >= 20 and result["errors_5xx"] == 0
    assert result["read_p95_ms"] > 0 and result["anchor_read_p95_ms"] > 0
