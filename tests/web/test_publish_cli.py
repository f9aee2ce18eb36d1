"""`civicgrid publish` (geo/reports/scheduled.py): run by a daily timer, it stores the
figures of the periods that just closed, so a file loaded after a period's end cannot
slip into figures first shown later; a second run stores nothing twice."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.storage.publication_models import Publication
from tests.helpers import write_csv
from tests.stats_data import LATE_CSV, load_stats_city

MONDAY = "2026-11-23 00:05"  # local time: W47, October and Q3 have closed
EXPECTED = (
    [
        ("ranking", level, "2026-W47")
        for level in ("district", "street", "community", "grid", "unit")
    ]
    + [
        ("ranking", level, "2026-10")
        for level in ("district", "street", "community", "grid", "unit")
    ]
    + [
        ("ranking", level, "2026-Q3")
        for level in ("district", "street", "community", "grid", "unit")
    ]
    + [("scores", level, "2026-Q3") for level in ("district", "street", "community", "grid")]
    + [("bulletin", "", "2026-W47")]
)


def _engine(app: Flask):
    from web import database

    with app.app_context():
        return database.engine()


def _stored(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Publication.kind, Publication.level, Publication.period))
        return sorted(tuple(r) for r in rows)


def test_publish_stores_the_closed_periods_once(app: Flask, tmp_path: Path) -> None:
    engine = _engine(app)
    load_stats_city(engine, tmp_path)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["publish", "--at", MONDAY, "--json"])
    assert first.exit_code == 0, first.output
    outcomes = json.loads(first.output)
    assert [(o["kind"], o["level"], o["period"]) for o in outcomes] == EXPECTED
    assert all(o["new"] for o in outcomes)
    assert _stored(engine) == sorted(EXPECTED)
    # A file of the week loaded after the timer ran leaves the published week as it was:
    # 东门 due P1–P4, closed P1 P2, second (hand-checked in tests/stats_data.py).
    ingest_file(engine, write_csv(tmp_path / "late.csv", LATE_CSV), IngestOptions(source="late"))
    shown = runner.invoke(args=["rank", "--level", "street", "--period", "2026-W47", "--json"])
    east = next(r for r in json.loads(shown.output)["rows"] if r["code"] == "329901001")
    assert (east["due"], east["closed"], east["rank"]) == (4, 2, 2)
    again = runner.invoke(args=["publish", "--at", MONDAY])
    assert again.exit_code == 0, again.output
    lines = again.output.strip().splitlines()
    assert len(lines) == len(EXPECTED) and all("已发布" in line for line in lines)
    assert _stored(engine) == sorted(EXPECTED)  # nothing stored twice


def test_a_malformed_time_is_one_line_and_stores_nothing(app: Flask, tmp_path: Path) -> None:
    engine = _engine(app)
    load_stats_city(engine, tmp_path)
    done = app.test_cli_runner().invoke(args=["publish", "--at", "下周一"])
    assert done.exit_code == 1
    assert done.output.strip().splitlines() == ["错误: --at: 时间格式错误 '下周一'"]
    assert _stored(engine) == []
