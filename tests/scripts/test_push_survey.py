"""scripts/push_survey.py against a live server, run as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from tests.helpers import add_token, load_scoped_city, table_counts, write_csv
from tests.web.browser import live_server
from web import database

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "push_survey.py"
GOOD = "id,lon,lat,category,found_at\nQ1,120.82,32.01,litter,2024-06-01\nQ2,120.92,32.01,litter,2024-06-01\n"  # noqa: E501
BAD = GOOD + "Q3,abc,32.01,litter,2024-06-01\n"


@pytest.fixture
def server(sqlite_app: Flask, tmp_path: Path):
    app = sqlite_app  # one live-server run is enough; the API is tested on both backends
    with app.app_context():
        engine = database.engine()
    load_scoped_city(engine, tmp_path)
    token = add_token(engine, "nightly", "city_officer")["Authorization"].split()[1]
    with live_server(app) as base:
        yield base, token, engine


def _push(
    base: str, token: str, *args: str, lang: str = "C.UTF-8"
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CIVICGRID_TOKEN": token, "LC_ALL": lang}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--url", base],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_push_survey_uploads_and_prints_the_summary(server, tmp_path) -> None:
    base, token, _ = server
    path = write_csv(tmp_path / "五月暗访.csv", GOOD)
    done = _push(base, token, str(path), "--source", "team-a")
    assert done.returncode == 0, done.stderr
    assert "五月暗访.csv: 2 行 / rows — 导入 accepted 2" in done.stdout
    assert "(已写入 written)" in done.stdout
    again = _push(base, token, str(path), "--source", "team-a")
    assert "已存在 duplicates 2" in again.stdout and again.returncode == 0


def test_push_survey_lists_rejects_and_exits_1(server, tmp_path) -> None:
    base, token, engine = server
    before = table_counts(engine)["problems"]
    done = _push(base, token, str(write_csv(tmp_path / "bad.csv", BAD)))
    assert done.returncode == 1
    assert "第 4 行 / row 4: 坐标不是数字 / non-numeric lon" in done.stdout
    assert table_counts(engine)["problems"] == before
    lenient = _push(base, token, str(write_csv(tmp_path / "bad.csv", BAD)), "--lenient")
    assert lenient.returncode == 0 and "导入 accepted 2" in lenient.stdout


def test_push_survey_bad_token_and_no_server(server, tmp_path) -> None:
    base, _, _ = server
    path = write_csv(tmp_path / "s.csv", GOOD)
    done = _push(base, "cg_wrong", str(path))
    assert done.returncode == 2 and "令牌无效" in done.stdout  # a Chinese terminal
    done = _push(base, "cg_wrong", str(path), lang="en_US.UTF-8")
    assert done.returncode == 2 and "invalid token" in done.stdout
    gone = _push("http://127.0.0.1:9", "cg_x", str(path))
    assert gone.returncode == 2 and "cannot reach" in gone.stderr
    missing = _push(base, "", str(path))
    assert missing.returncode == 2 and "CIVICGRID_TOKEN" in missing.stderr
