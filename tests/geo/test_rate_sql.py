"""SQLite's covering index for the rates exists after migrating, is all the grid rates
read (no table rows, no sort), and downgrades cleanly; PostgreSQL has no such index."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command

from geo.core.periods import parse_period
from geo.reports.stats import period_cutoff
from geo.storage.db import make_engine, transaction, writer
from geo.storage.models import RATES_INDEX_COLUMNS
from geo.storage.schema import alembic_config, current_revision
from geo.summary import rate_sql
from geo.summary.upgrade import upgrade

NOW = datetime(2026, 12, 1)
INDEX = "ix_problems_rates"


def _index_columns(engine) -> list[str] | None:
    indexes = {ix["name"]: ix["column_names"] for ix in sa.inspect(engine).get_indexes("problems")}
    return indexes.get(INDEX)


def test_rates_index_after_upgrade_and_downgrade(db_url) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    assert (current_revision(engine) or "") >= "0010"
    sqlite = engine.dialect.name == "sqlite"
    assert _index_columns(engine) == (list(RATES_INDEX_COLUMNS) if sqlite else None)
    with writer(engine).begin() as conn:
        command.downgrade(alembic_config(conn), "0009")
    assert current_revision(engine) == "0009"
    assert _index_columns(engine) is None
    upgrade(engine)
    assert _index_columns(engine) == (list(RATES_INDEX_COLUMNS) if sqlite else None)
    engine.dispose()


def test_sqlite_grid_rates_read_only_the_covering_index(engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the covering index is SQLite's")
    upgrade(engine)
    with transaction(engine, write=False) as session:
        stmt = rate_sql.rate_counts_query(session, "grid", _windows("2026-Q4"), True)
        sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
        plan = " | ".join(row[3] for row in session.execute(sa.text("EXPLAIN QUERY PLAN " + sql)))
    assert f"USING COVERING INDEX {INDEX}" in plan and "TEMP B-TREE" not in plan, plan


def _windows(period: str) -> list[tuple[datetime, datetime]]:
    p = parse_period(period)
    return [period_cutoff(x, "Asia/Shanghai", NOW) for x in (p, p.previous())]
