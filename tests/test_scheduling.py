"""tests/scheduling.py: under `pytest -n 2 --dist loadgroup` (as `make test` runs), the
tests of an ``xdist_group`` run on one worker and slow tests are handed out first."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[1]

MODULE = """
import json, os, pytest
pytestmark = {mark}

@pytest.mark.parametrize("n", range(4))
def test_{name}(n):
    with open({log!r}, "a") as f:
        f.write(json.dumps([{name!r}, n, os.environ["PYTEST_XDIST_WORKER"]]) + "\\n")
"""


def _run(pytester: pytest.Pytester, modules: dict[str, str]) -> list[list]:
    log = pytester.path / "ran.jsonl"
    for name, mark in modules.items():
        pytester.makepyfile(**{f"test_{name}": MODULE.format(mark=mark, name=name, log=str(log))})
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow\n    xdist_group: group\n")
    result = pytester.runpytest_subprocess(
        "-n", "2", "--dist", "loadgroup", "-p", "tests.scheduling", "-p", "no:cacheprovider", "-q",
        "-p", "no:schemathesis", "-p", "no:hypothesispytest",  # quicker to start
    )  # fmt: skip
    result.assert_outcomes(passed=4 * len(modules))
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_a_group_runs_on_one_worker_and_slow_tests_go_first(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))  # for -p tests.scheduling
    ran = _run(
        pytester,
        {
            "a": "pytest.mark.xdist_group('city')",
            "b": "[]",
            "c": "[pytest.mark.slow]",
            "d": "pytest.mark.xdist_group('city')",
        },
    )
    workers = {name: {w for n, _, w in ran if n == name} for name in "abcd"}
    assert len(workers["a"] | workers["d"]) == 1, workers  # the group: one worker
    # Of the single tests, the slow ones are handed out first (before b, listed earlier).
    assert next(name for name, _, _ in ran if name in "bc") == "c", ran
