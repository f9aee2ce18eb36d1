"""bench/serve.py runs at a tiny size against a real `civicgrid serve` and prints its line."""

from __future__ import annotations

import json
import socket

import pytest

from bench import serve


@pytest.mark.slow
def test_serve_bench_tiny(tmp_path, capsys) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = ["--rows", "300", "--workdir", str(tmp_path), "--port", str(port)]
    # The mix's first lifecycle POST is client 2's 6th request: on a loaded machine 0.5 s
    # was too short to reach it (on main too); 40 requests still end a fast phase early.
    result = serve.main([*argv, "--seconds", "3", "--max-requests", "40", "--clients", "4"])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(line) == result
    assert result["errors"] == 0 and result["database_locked"] == 0
    assert result["heat_cached_rps"] > 0 and result["rankings_p95_ms"] > 0
    assert result["lifecycle_posts"] > 0 and result["anchor_rps"] > 0
