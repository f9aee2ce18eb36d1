"""The two shapes of the rates statement give the same figures, and SQLite's covering
index for them exists after migrating, is what the grid rates read, and downgrades cleanly."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from geo import rate_sql
from geo.db import alembic_config, current_revision, make_engine, transaction, upgrade, writer
from geo.models import RATES_INDEX_COLUMNS
from geo.periods import parse_period
from geo.stats import period_cutoff
from tests.stats_data import load_stats_city

NOW = datetime(2026, 12, 1)
INDEX = "ix_problems_rates"


def _index_columns(engine) -> list[str] | None:
    indexes = {ix["name"]: ix["column_names"] for ix in sa.inspect(engine).get_indexes("problems")}
    return indexes.get(INDEX)


def test_rates_index_after_upgrade_and_downgrade(db_url) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    assert current_revision(engine) == "0010"
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


@pytest.mark.parametrize("level", ["district", "street", "grid", "unit"])
@pytest.mark.parametrize("period", ["2026-W47", "2026-11"])
def test_grouped_shape_gives_the_flat_figures(engine, tmp_path: Path, level, period) -> None:
    load_stats_city(engine, tmp_path)
    windows = _windows(period)
    with transaction(engine, write=False) as session:
        for lean in (False, True):
            grouped = _rows(session, rate_sql._grouped_by_due_window(session, level, windows, lean))
            flat = _rows(session, rate_sql._flat(session, level, windows, lean))
            assert grouped == flat
            assert any(row[2] for row in flat)  # something is due: the test means something


def _windows(period: str) -> list[tuple[datetime, datetime]]:
    p = parse_period(period)
    return [period_cutoff(x, "Asia/Shanghai", NOW) for x in (p, p.previous())]


def _rows(session, stmt) -> list[tuple]:
    def plain(value):
        return round(float(value), 9) if isinstance(value, float) else value

    rows = session.execute(stmt).all()
    return sorted(
        (tuple(plain(v) for v in row) for row in rows), key=lambda r: (r[0] is None, r[0] or 0)
    )
