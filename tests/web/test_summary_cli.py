"""`civicgrid summary check|rebuild|refresh`."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from geo.storage.models import AreaSummary, Problem, RateSummary
from tests.helpers import load_heat_city

EN = {"LC_ALL": "en_US.UTF-8"}  # an English terminal; without it messages are Chinese


def test_check_rebuild_refresh(app, runner, tmp_path: Path) -> None:
    from web import database

    with app.app_context():
        engine = database.engine()
    load_heat_city(engine, tmp_path)
    assert runner.invoke(args=["summary", "check"]).exit_code == 0
    with engine.begin() as conn:
        conn.execute(sa.update(AreaSummary).values(n=AreaSummary.n + 1))
    broken = runner.invoke(args=["summary", "check"])
    assert broken.exit_code == 1 and "summary rebuild" in broken.output
    rebuilt = runner.invoke(args=["summary", "rebuild"])
    assert rebuilt.exit_code == 0 and "统计已重建" in rebuilt.output
    assert runner.invoke(args=["summary", "check"]).exit_code == 0
    with engine.begin() as conn:
        conn.execute(sa.update(RateSummary).values(due=RateSummary.due + 1))
    broken = runner.invoke(args=["summary", "check"])
    assert broken.exit_code == 1 and "summary rebuild" in broken.output
    rebuilt = runner.invoke(args=["summary", "rebuild"], env=EN)
    problems = _problem_count(engine)
    assert rebuilt.exit_code == 0 and f"rate counts: {problems:,}/{problems:,}" in rebuilt.output
    assert runner.invoke(args=["summary", "check"]).exit_code == 0
    refreshed = runner.invoke(args=["summary", "refresh"], env=EN)
    assert refreshed.exit_code == 0 and "overdue counts moved" in refreshed.output
    bad = runner.invoke(args=["summary", "rebuild", "--day-offset", "5000"])
    assert bad.exit_code == 2 and "5000" in bad.output


def _problem_count(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count(Problem.id))).scalar_one())


def test_rebuild_takes_the_local_day_from_the_configured_zone(engine, tmp_path: Path) -> None:
    from geo.storage.db import transaction
    from geo.summary.counts import read_meta
    from web import create_app

    url = engine.url.render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": url, "TESTING": True, "TIMEZONE": "Asia/Kolkata"})
    result = app.test_cli_runner().invoke(args=["summary", "rebuild"])
    assert result.exit_code == 0, result.output
    with transaction(engine, write=False) as session:
        assert read_meta(session).day_offset_minutes == 330  # UTC+5:30, not China's 480
