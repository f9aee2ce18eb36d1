"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from geo.storage.tables import metadata


def test_models_and_migrations_agree(engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _include(conn)}
        )
        diff = compare_metadata(context, metadata)
    assert diff == []


def _include(conn):
    def include(obj, name, type_, reflected, compare_to):
        if type_ == "table" and reflected and compare_to is None:
            return False  # PostGIS's spatial_ref_sys and friends
        using = getattr(obj, "dialect_options", {}).get("postgresql", {}).get("using")
        if type_ == "index" and using and conn.dialect.name != "postgresql":
            return False
        return _for_this_dialect(obj, conn.dialect.name)

    return include


def _for_this_dialect(obj, dialect: str) -> bool:
    """False for an index the models create on another backend only (``ddl_if``)."""
    only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
    return only is None or only == dialect
