"""The database schema: Alembic migrations (geo/storage/migrations), the revision a
database is at, and the check that it is current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.core.errors import ConfigError
from geo.core.text import tr
from geo.storage.db import writer


def alembic_config(connection: sa.Connection | None = None) -> Any:
    """An Alembic config pointing at geo/storage/migrations, optionally bound to a connection."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (creating it in an empty database). Counts kept by
    geo.summary are not recounted here: ``geo.summary.upgrade.upgrade`` does both.

    On PostgreSQL the PostGIS extension is created first when missing (needs the
    right to do so; otherwise ask the DBA to run ``CREATE EXTENSION postgis``).
    """
    from alembic import command

    with writer(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        command.upgrade(alembic_config(conn), revision)


def at_head(conn: sa.Connection) -> bool:
    """Whether the database behind ``conn`` is at the newest schema revision."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision() == head_revision()


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest schema revision this code knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def require_schema(engine: Engine) -> None:
    """Raise ``ConfigError`` unless the database is at the newest schema revision."""
    current = current_revision(engine)
    if current != head_revision():
        state_zh = "未初始化" if current is None else f"当前版本 {current}"
        state_en = "not initialised" if current is None else f"at revision {current}"
        raise ConfigError(
            tr(
                f"数据库结构需要更新（{state_zh}）：请先运行 `civicgrid init`",
                f"database schema {state_en}: run `civicgrid init` first",
            )
        )


def readiness(engine: Engine) -> dict[str, object]:
    """Whether the database answers and is at the newest schema revision.

    Returns ``{"ready", "database", "revision", "head"}``; ``database`` is ``ok``,
    ``outdated`` (reachable, not at head) or ``unavailable`` (the driver's first line in
    ``detail``). Never raises for a database fault.
    """
    from geo.storage.faults import driver_line, is_fault

    head = head_revision()
    try:
        current = current_revision(engine)
    except Exception as exc:
        if not is_fault(exc):
            raise
        return {"ready": False, "database": "unavailable", "head": head, "detail": driver_line(exc)}
    state = "ok" if current == head else "outdated"
    return {"ready": state == "ok", "database": state, "revision": current, "head": head}
