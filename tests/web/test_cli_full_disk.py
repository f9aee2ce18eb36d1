"""Read-only commands on a full disk (issue 22, item 4): when SQLite cannot open the
database as usual (it needs to create its -wal/-shm files), `summary check` and `export`
read it as an immutable file and work; writes still fail with one line. On a real full
tmpfs when this machine lets us mount one, else with the fault simulated."""

from __future__ import annotations

import gc
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from flask import Flask

import web.cli.common
from geo.areas.loading import AreaLoadOptions, load_areas
from geo.storage.db import make_engine
from geo.summary.upgrade import upgrade
from tests.helpers import load_tiny_city
from web import create_app, database

NOTE = "已以只读方式读取"
REPO = Path(__file__).resolve().parents[2]


def _disk_fault(*_args: object, **_kwargs: object) -> None:
    raise sa_exc.OperationalError("PRAGMA journal_mode=WAL", {}, sqlite3.OperationalError(
        "disk I/O error"))  # fmt: skip


@pytest.fixture
def city(sqlite_app: Flask, sqlite_engine: sa.Engine, tmp_path: Path) -> Flask:
    with sqlite_app.app_context():
        engine = database.engine()
        load_tiny_city(engine, tmp_path)
        engine.dispose()
    # No connection may stay open: the last one to close deletes the -wal file, which a
    # test writes (as pending changes) and expects to find.
    sqlite_engine.dispose()
    gc.collect()
    # Everything into the main file, the -wal file emptied (as after a clean shutdown),
    # whatever other connection a fixture may still hold.
    path = sqlite_app.config["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sqlite_app


def test_check_and_export_read_the_file_when_it_cannot_be_opened_as_usual(
    city: Flask, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(web.cli.common, "ready_engine", _disk_fault)
    runner = city.test_cli_runner()
    check = runner.invoke(args=["summary", "check"])
    assert check.exit_code == 0 and NOTE in check.output, check.output
    out = tmp_path / "districts.geojson"
    export = runner.invoke(args=["export", "areas", "--level", "district", "-o", str(out)])
    assert export.exit_code == 0, export.output
    assert out.read_text().count('"Feature"') == 2


def test_pending_changes_in_the_log_are_not_read_around(
    city: Flask, tmp_path: Path, monkeypatch
) -> None:
    """With changes still in the -wal file an immutable read would be stale: one line."""
    database_file = Path(city.config["DATABASE_URL"].removeprefix("sqlite:///"))
    Path(f"{database_file}-wal").write_bytes(b"pending")
    monkeypatch.setattr(web.cli.common, "ready_engine", _disk_fault)
    result = city.test_cli_runner().invoke(args=["summary", "check"])
    assert result.exit_code == 2 and "disk I/O error" in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("错误")]) == 1


def test_on_a_real_full_tmpfs(tmp_path: Path) -> None:
    mount = tmp_path / "full"
    mount.mkdir()
    if (
        shutil.which("mount") is None
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
        ).returncode
    ):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        url = f"sqlite:///{mount / 'c.db'}"
        engine = make_engine(url)
        upgrade(engine)
        districts = REPO / "data" / "demo" / "districts.geojson"
        load_areas(engine, districts, AreaLoadOptions("district"))
        engine.dispose()
        with (mount / "filler").open("wb", buffering=0) as filler:  # fill to the last byte
            try:
                while True:
                    filler.write(b"\0" * 65536)
            except OSError:
                pass
        app = create_app({"DATABASE_URL": url, "TESTING": True})
        runner = app.test_cli_runner()
        check = runner.invoke(args=["summary", "check"])
        assert check.exit_code == 0 and NOTE in check.output, check.output
        out = tmp_path / "areas.geojson"
        export = runner.invoke(args=["export", "areas", "-o", str(out)])
        assert export.exit_code == 0 and out.read_text().count('"Feature"') == 4, export.output
        survey = tmp_path / "s.csv"
        survey.write_text("id,lon,lat,category,found_at\nS1,120.82,32.01,litter,2024-06-01\n")
        ingest = runner.invoke(args=["ingest", str(survey)])
        assert ingest.exit_code == 2 and ingest.output.count("错误") == 1, ingest.output
        with app.app_context():
            database.engine().dispose()  # no open file left on the mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)
