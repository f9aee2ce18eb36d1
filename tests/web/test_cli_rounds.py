"""civicgrid rounds / notice and the new problems commands through click's runner."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.areas.units import unit_ids
from geo.storage.db import transaction
from geo.storage.models import Problem
from tests.helpers import table_counts
from tests.lifecycle_data import load_lifecycle_city, problem_id
from tests.rounds_data import ROUND, load_round_city

EN = {"LC_ALL": "en_US.UTF-8"}  # an English terminal; without it messages are Chinese


def _engine(app: Flask):
    from web import database

    with app.app_context():
        return database.engine()


@pytest.fixture
def round_app(app: Flask, tmp_path: Path) -> Flask:
    engine = _engine(app)
    load_round_city(engine, tmp_path)
    with transaction(engine) as session:
        unit_ids(session, ["东门街道办事处"])
    return app


def test_rounds_add_list_show_and_visit(round_app: Flask) -> None:
    runner = round_app.test_cli_runner()
    added = runner.invoke(
        args=[
            "rounds",
            "add",
            "十二月暗访",
            "--start",
            "2026-12-01",
            "--end",
            "2026-12-31",
            "--kind",
            "market",
            "--area",
            "street:329901002",
        ],
        env=EN,
    )
    assert added.exit_code == 0 and "round created: 十二月暗访" in added.output
    listed = runner.invoke(args=["rounds", "list"])
    assert ROUND in listed.output and "3/4 75.0%" in listed.output and "不合格率" in listed.output
    listed = runner.invoke(args=["rounds", "list"], env=EN)
    assert "3/4 75.0%" in listed.output and "fail rate" in listed.output
    shown = runner.invoke(args=["rounds", "show", ROUND, "--json"])
    assert json.loads(shown.output)["fail_rate"] == pytest.approx(1 / 3)
    visit = runner.invoke(
        args=[
            "rounds",
            "visit",
            "--round",
            "十二月暗访",
            "--point",
            "M2",
            "--result",
            "不合格",
            "--inspector",
            "丙",
            "--at",
            "2026-12-02 09:30",
            "--problem",
            "litter:门口垃圾",
        ]
    )
    assert visit.exit_code == 0 and "不合格（1 个问题）" in visit.output
    table = runner.invoke(args=["rounds", "show", "十二月暗访", "--level", "district"])
    assert "云溪区 329901\t1\t1\t0\t0\t1\t0\t100.0%" in table.output


BAD = [
    (
        ["rounds", "add", "倒序", "--start", "2026-12-31", "--end", "2026-12-01"],
        "the round ends (2026-12-01) before it starts (2026-12-31)",
    ),
    (
        [
            "rounds",
            "visit",
            "--round",
            ROUND,
            "--point",
            "NOPE",
            "--result",
            "pass",
            "--inspector",
            "丙",
            "--at",
            "2026-11-18 10:00",
        ],
        "unknown point code 'NOPE'",
    ),
    (
        [
            "rounds",
            "visit",
            "--round",
            ROUND,
            "--point",
            "S1",
            "--result",
            "pass",
            "--inspector",
            "丙",
            "--at",
            "2026-11-18 10:00",
        ],
        "outside the scope",
    ),
    (
        [
            "rounds",
            "visit",
            "--round",
            ROUND,
            "--point",
            "M2",
            "--result",
            "pass",
            "--inspector",
            "丙",
            "--at",
            "yesterday-ish",
        ],
        "malformed time 'yesterday-ish'",
    ),
    (["rounds", "show", "第九轮"], "no round '第九轮'"),
    (["notice", "--round", ROUND, "--street", "329902001", "-o", "x.html"], "nothing to notify"),
    (["notice", "--round", ROUND, "-o", "x.html"], "give --round and --street"),
    (["notice", "--round", ROUND, "--street", "329901001", "-o", "x.doc"], ".html or .pdf"),
]


def test_bad_input_is_one_line_exit_1_and_changes_nothing(round_app: Flask, tmp_path) -> None:
    runner = round_app.test_cli_runner()
    engine = _engine(round_app)
    for args, message in BAD:
        args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
        before = table_counts(engine)
        result = runner.invoke(args=args, env=EN)
        assert result.exit_code == 1, args
        assert message in result.output and result.output.startswith("error:"), args
        assert table_counts(engine) == before, args


def test_notice_issue_preview_and_reprint(round_app: Flask, tmp_path: Path) -> None:
    runner = round_app.test_cli_runner()
    engine = _engine(round_app)
    preview = runner.invoke(
        args=[
            "notice",
            "--round",
            ROUND,
            "--street",
            "329901001",
            "-o",
            str(tmp_path / "d.html"),
            "--preview",
        ]
    )
    assert preview.exit_code == 0 and "抄告单 草稿: " in preview.output
    args = ["notice", "--round", ROUND, "--street", "329901001", "-o", str(tmp_path / "e.html")]
    preview = runner.invoke(args=[*args, "--preview"], env=EN)
    assert preview.exit_code == 0 and "notice draft: " in preview.output
    assert table_counts(engine)["notices"] == 0
    issued = runner.invoke(
        args=[
            "notice",
            "--round",
            ROUND,
            "--street",
            "329901001",
            "-o",
            str(tmp_path / "n.pdf"),
            "--actor",
            "市创建办",
            "--assign",
            "东门街道办事处",
        ]
    )
    assert issued.exit_code == 0, issued.output
    assert "抄告单 文明创建督查〔2026〕第1号: 1 个不合格点位, 2 个问题" in issued.output
    assert (tmp_path / "n.pdf").read_bytes().startswith(b"%PDF")
    again = runner.invoke(args=["notice", "--notice", "1", "-o", str(tmp_path / "a.html")])
    assert again.exit_code == 0 and "第1号" in (tmp_path / "a.html").read_text(encoding="utf-8")
    assert table_counts(engine)["notices"] == 1


def test_extension_commands_need_the_role(app: Flask, tmp_path: Path) -> None:
    engine = _engine(app)
    load_lifecycle_city(engine, tmp_path)
    runner = app.test_cli_runner()
    pid = str(problem_id(engine, "C1"))
    with engine.begin() as conn:  # a deadline in the future, whenever the test runs
        conn.execute(sa.update(Problem).values(deadline=datetime(2030, 1, 1)))
    asked = runner.invoke(
        args=[
            "problems",
            "request-extension",
            "--id",
            pid,
            "--actor",
            "东门",
            "--note",
            "雨天",
            "--deadline",
            "2030-01-10",
        ]
    )
    assert asked.exit_code == 0 and "申请延期 1 个问题" in asked.output
    before = table_counts(engine)
    args = ["problems", "approve-extension", "--id", pid, "--actor", "东门"]
    denied = runner.invoke(args=args, env=EN)
    assert denied.exit_code == 1 and "needs the approval right" in denied.output
    assert table_counts(engine) == before
    granted = runner.invoke(
        args=[
            "problems",
            "approve-extension",
            "--id",
            pid,
            "--actor",
            "市创建办",
            "--role",
            "city_officer",
        ]
    )
    assert granted.exit_code == 0 and "批准延期 1 个问题" in granted.output
