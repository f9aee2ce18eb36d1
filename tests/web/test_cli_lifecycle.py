"""civicgrid problems/units/rank/scores/bulletin through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.storage.models import Problem
from geo.storage.publication_models import Publication
from tests.helpers import table_counts, write_csv
from tests.lifecycle_data import load_lifecycle_city, problem_id
from tests.stats_data import LATE_CSV, load_stats_city

EN = {"LC_ALL": "en_US.UTF-8"}  # an English terminal; without it messages are Chinese


def _engine(app: Flask):
    from web import database

    with app.app_context():
        return database.engine()


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    load_lifecycle_city(_engine(app), tmp_path)
    return app


def _state(app: Flask):
    engine = _engine(app)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Problem.id, Problem.status, Problem.version)).all()
    return table_counts(engine), sorted(rows)


def test_assign_by_filters_then_rectify_close_reopen_by_id(city_app: Flask) -> None:
    runner = city_app.test_cli_runner()
    result = runner.invoke(
        args=[
            "problems",
            "assign",
            "--level",
            "street",
            "--area",
            "329901001",
            "--category",
            "litter",
            "--unit",
            "东门街道办事处",
            "--actor",
            "脚本",
        ],
        env=EN,
    )
    assert result.exit_code == 0, result.output
    assert "2 problems → assigned" in result.output
    pid = problem_id(_engine(city_app), "A1")
    for action in ("rectify", "close", "reopen"):
        result = runner.invoke(
            args=["problems", action, "--id", str(pid), "--actor", "脚本", "--note", "批处理"]
        )
        assert result.exit_code == 0, result.output
    with _engine(city_app).connect() as conn:
        status, reopened = conn.execute(
            sa.select(Problem.status, Problem.reopen_count).where(Problem.id == pid)
        ).one()
    assert (status, reopened) == ("assigned", 1)


def test_dry_run_changes_nothing(city_app: Flask) -> None:
    before = _state(city_app)
    result = city_app.test_cli_runner().invoke(
        args=[
            "problems",
            "assign",
            "--level",
            "street",
            "--area",
            "329901001",
            "--unit",
            "东门街道办事处",
            "--actor",
            "x",
            "--dry-run",
        ],
        env=EN,
    )
    assert result.exit_code == 0 and "3 problems" in result.output and "dry run" in result.output
    assert _state(city_app) == before


BAD_COMMANDS = [
    (["problems", "close", "--id", "{A1}", "--actor", "x", "--note", "y"], "cannot close"),
    (["problems", "rectify", "--id", "{C1}", "--actor", "x"], "note is required"),
    (
        [
            "problems",
            "rectify",
            "--id",
            "{C1}",
            "--actor",
            "x",
            "--note",
            "y",
            "--expect-version",
            "5",
        ],
        "reload",
    ),
    (
        ["problems", "rectify", "--id", "99999", "--actor", "x", "--note", "y"],
        "no problem with id 99999",
    ),
    (
        ["problems", "assign", "--id", "{A1}", "--actor", "x", "--unit", "无此单位"],
        "unknown responsible unit",
    ),
    (
        [
            "problems",
            "assign",
            "--id",
            "{A1}",
            "--actor",
            "x",
            "--unit",
            "东门街道办事处",
            "--deadline",
            "2020-01-01",
        ],
        "in the past",
    ),
    (["problems", "assign", "--actor", "x", "--unit", "东门街道办事处"], "filter"),
    (
        [
            "problems",
            "assign",
            "--level",
            "street",
            "--area",
            "1",
            "--actor",
            "x",
            "--unit",
            "东门街道办事处",
        ],
        "no street",
    ),
]


def test_bad_commands_fail_with_one_line_and_change_nothing(city_app) -> None:
    engine = _engine(city_app)
    ids = {"A1": problem_id(engine, "A1"), "C1": problem_id(engine, "C1")}
    before = _state(city_app)
    for args, message in BAD_COMMANDS:
        runner = city_app.test_cli_runner()
        result = runner.invoke(args=[a.format(**ids) for a in args], env=EN)
        assert result.exit_code == 1, args
        assert message in result.output and result.output.startswith("error:")
        assert _state(city_app) == before


def test_units_add_and_list(city_app: Flask) -> None:
    runner = city_app.test_cli_runner()
    assert runner.invoke(args=["units", "add", "市容环卫处", "--kind", "department"]).exit_code == 0
    duplicate = runner.invoke(args=["units", "add", "市容环卫处"], env=EN)
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    duplicate = runner.invoke(args=["units", "add", "市容环卫处"])
    assert duplicate.exit_code == 1 and duplicate.output.startswith("错误:")
    listing = runner.invoke(args=["units", "list"]).output
    assert "市容环卫处\tdepartment" in listing and "云溪区城管局" in listing


def test_rank_and_scores_print_tables(app: Flask, tmp_path: Path) -> None:
    load_stats_city(_engine(app), tmp_path)
    runner = app.test_cli_runner()
    ranked = runner.invoke(args=["rank", "--level", "street", "--period", "2026-W47"])
    assert ranked.exit_code == 0, ranked.output
    lines = ranked.output.splitlines()
    assert lines[2].startswith("1\t南湖街道") and "红榜 red" in lines[2]
    assert lines[3].startswith("2\t东门街道") and "50.0%" in lines[3] and "黑榜 black" in lines[3]
    bad = runner.invoke(args=["rank", "--period", "2026-W60"])
    assert bad.exit_code == 1 and "2026-W60" in bad.output
    scores = runner.invoke(args=["scores", "--level", "street", "--period", "2026-Q4"])
    # The rural scheme covers the town 北岭镇 only (no score for the street 东门).
    assert "329901001\t东门街道\t5\t7\t93.0 (-7)\t92.5 (-7.5)\t—\n" in scores.output
    assert "329902101\t北岭镇\t0\t0\t100.0 (-0)\t100.0 (-0)\t100.0 (-0)" in scores.output


def test_rank_shows_a_closed_week_as_published(app: Flask, tmp_path: Path) -> None:
    """`civicgrid rank` of a closed week stores it on first showing and prints the stored
    figures afterwards; a problem of the week filed later changes only a what-if."""
    engine = _engine(app)
    load_stats_city(engine, tmp_path)
    runner = app.test_cli_runner()
    args = ["rank", "--level", "street", "--period", "2026-W47", "--json"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    shown = json.loads(first.output)
    east = next(r for r in shown["rows"] if r["code"] == "329901001")
    assert shown["published_at"] and (east["due"], east["closed"], east["rank"]) == (4, 2, 2)
    # P9 of 东门, due Thu 19 Nov and closed on time, filed after publication.
    late = write_csv(tmp_path / "late.csv", LATE_CSV)
    ingest_file(engine, late, IngestOptions(source="late"))
    again = runner.invoke(args=args)
    assert again.exit_code == 0 and json.loads(again.output) == shown  # as published
    table = runner.invoke(args=args[:-1]).output
    assert f"published {shown['published_at']}" in runner.invoke(args=args[:-1], env=EN).output
    assert "发布于" in table.splitlines()[0]
    what_if = json.loads(runner.invoke(args=[*args, "--top", "1"]).output)
    east = next(r for r in what_if["rows"] if r["code"] == "329901001")
    assert what_if["published_at"] is None and (east["due"], east["closed"]) == (5, 3)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(Publication.kind, Publication.level)).all()
    assert stored == [("ranking", "street")]  # the what-if was not stored


def test_bulletin_html_and_bad_output(app: Flask, tmp_path: Path) -> None:
    load_stats_city(_engine(app), tmp_path)
    runner = app.test_cli_runner()
    out = tmp_path / "w47.html"
    result = runner.invoke(args=["bulletin", "--period", "2026-W47", "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "文明城市创建工作周通报" in html and "data:image/png;base64," in html
    bad = runner.invoke(args=["bulletin", "--period", "2026-W47", "-o", str(tmp_path / "w.docx")])
    assert bad.exit_code == 1 and ".pdf" in bad.output and not (tmp_path / "w.docx").exists()
    bad = runner.invoke(args=["bulletin", "--period", "2026-W99", "-o", str(tmp_path / "x.html")])
    assert bad.exit_code == 1 and not (tmp_path / "x.html").exists()
