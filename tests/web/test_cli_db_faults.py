"""Every CLI failure is one line (issue 22): a database that is full, locked, unreadable
or unreachable gives ``错误: …`` / ``error: …`` and exit code 2, ``ingest --json`` prints
``{"error": …}``, and nothing is written."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy.exc as sa_exc
from flask import Flask

import web.cli.ingest
import web.cli.summary
from tests.helpers import load_tiny_city, table_counts, write_csv
from web import create_app, database

EN = {"LC_ALL": "en_US.UTF-8"}
SURVEY = "id,lon,lat,category,found_at\nS1,120.82,32.01,litter,2024-06-01 10:00\n"


def _fault(message: str, driver: type[Exception] = sqlite3.OperationalError):
    def boom(*_args: object, **_kwargs: object) -> None:
        raise sa_exc.OperationalError("INSERT INTO problems …", {}, driver(message))

    return boom


def _one_line(result, prefix: str = "错误:") -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(prefix)]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.fixture
def city(sqlite_app: Flask, tmp_path: Path) -> Flask:
    with sqlite_app.app_context():
        load_tiny_city(database.engine(), tmp_path)
    return sqlite_app


def test_ingest_on_a_full_disk(city: Flask, tmp_path: Path, monkeypatch) -> None:
    with city.app_context():
        engine = database.engine()
    before = table_counts(engine)
    monkeypatch.setattr(web.cli.ingest, "ingest_file", _fault("database or disk is full"))
    runner = city.test_cli_runner()
    path = write_csv(tmp_path / "s.csv", SURVEY)
    line = _one_line(runner.invoke(args=["ingest", str(path)]))
    assert "数据库磁盘已满" in line and "database or disk is full" in line
    result = runner.invoke(args=["ingest", str(path), "--json"], env=EN)
    first = result.output.splitlines()[0]
    assert json.loads(first) == {
        "error": "the database's disk is full or failing: ask the administrator"
    }
    assert _one_line(result, "error:").startswith("error: the database's disk is full")
    assert table_counts(engine) == before


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("disk I/O error", "数据库磁盘已满"),
        ("database is locked", "数据库正忙"),
        ("terminating connection due to administrator command", "数据库暂时不可用"),
    ],
)
def test_summary_check_faults(city: Flask, monkeypatch, message: str, words: str) -> None:
    monkeypatch.setattr(web.cli.summary.summary, "mismatches", _fault(message))
    line = _one_line(city.test_cli_runner().invoke(args=["summary", "check"]))
    assert words in line and message in line


def test_database_unreachable(tmp_path: Path) -> None:
    app = create_app(
        {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/civicgrid", "TESTING": True}
    )
    runner = app.test_cli_runner()
    line = _one_line(runner.invoke(args=["summary", "check"], env=EN), "error:")
    assert "temporarily unavailable" in line and "Connection refused" in line
    path = write_csv(tmp_path / "s.csv", SURVEY)
    result = runner.invoke(args=["ingest", str(path), "--json"], env=EN)
    assert "temporarily unavailable" in json.loads(result.output.splitlines()[0])["error"]
    assert "Connection refused" in _one_line(result, "error:")


def test_database_file_cannot_be_opened(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder.db"
    folder.mkdir()  # a directory where the database file should be
    app = create_app({"DATABASE_URL": f"sqlite:///{folder}", "TESTING": True})
    runner = app.test_cli_runner()
    line = _one_line(runner.invoke(args=["summary", "check"]))
    assert "无法打开数据库文件" in line and "unable to open database file" in line
    path = write_csv(tmp_path / "s.csv", SURVEY)
    result = runner.invoke(args=["ingest", str(path), "--json"])
    assert json.loads(result.output.splitlines()[0])["error"].startswith("无法打开数据库文件")
    _one_line(result)
