"""bench/mobile.py at a tiny size: it runs, measures what it says and prints its JSON line."""

from __future__ import annotations

import json

import pytest

from bench import mobile


@pytest.mark.slow
@pytest.mark.browser
def test_mobile_bench_runs_small(capsys, browser) -> None:
    result = mobile.main(["--problems", "160", "--cpu", "2"], browser=browser)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(line) == result
    for key in ("first_s", "repeat_s", "first_kb", "anchor_seconds", "ratio"):
        assert result[key] > 0
    assert set(result["pages"]) == {"/my", "/report"}
    assert result["pages"]["/my"]["clustered"]  # 160 markers + the city's: dense
    assert result["console_errors"] == 0
