"""Migration 0008 (rounds, visits, notices; extension columns) upgrades a database holding
problems and history without losing them, and downgrades cleanly, on both backends."""

from __future__ import annotations

from alembic import command

from geo.storage.db import make_engine, writer
from geo.storage.schema import alembic_config, current_revision
from geo.summary.upgrade import upgrade


def _fill_at_0005(engine) -> None:
    upgrade(engine, "0005")
    point = "0101000020E6100000000000000000F03F000000000000F03F"  # EWKB POINT(1 1), 4326
    geom = point if engine.dialect.name == "postgresql" else bytes.fromhex("01010000" + point[18:])
    with writer(engine).begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO problems (source, external_id, category, description, lon, lat, geom,"
            " outside, status, found_at, reopen_count, version) VALUES ('s', '1', 'litter', '',"
            " 1, 1, %s, false, 'found', '2026-01-01', 0, 1)"
            if engine.dialect.name == "postgresql"
            else "INSERT INTO problems (source, external_id, category, description, lon, lat,"
            " geom, outside, status, found_at, reopen_count, version) VALUES ('s', '1',"
            " 'litter', '', 1, 1, ?, 0, 'found', '2026-01-01', 0, 1)",
            (geom,),
        )
        conn.exec_driver_sql(
            "INSERT INTO problem_events (problem_id, at, actor, action, to_status, note)"
            " VALUES (1, '2026-01-01', 'a', 'assign', 'assigned', '')"
        )


def test_upgrade_keeps_rows_and_downgrade_is_clean(db_url) -> None:
    engine = make_engine(db_url)
    _fill_at_0005(engine)
    upgrade(engine, "0008")
    assert current_revision(engine) == "0008"
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT extension_count, pending FROM problems").one()
        events = conn.exec_driver_sql("SELECT count(*) FROM problem_events").scalar_one()
    assert tuple(row) == (0, None) and events == 1
    with writer(engine).begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
    assert current_revision(engine) == "0005"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM problem_events").scalar_one() == 1
    upgrade(engine, "0008")
    assert current_revision(engine) == "0008"
    engine.dispose()
