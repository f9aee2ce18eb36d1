"""Alembic environment: always run with a connection handed in by geo.storage.schema.migrate()."""

from __future__ import annotations

from alembic import context

from geo.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand
    raise SystemExit(
        "run migrations with `civicgrid init` (geo.summary.upgrade), not alembic directly"
    )


def _include(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # GiST indexes exist only on PostGIS (ddl_if); SQLite autogenerate must not add them.
    if type_ == "index" and getattr(obj, "dialect_options", {}).get("postgresql", {}).get("using"):
        return bool(connection is not None and connection.dialect.name == "postgresql")
    return True


context.configure(
    connection=connection,
    include_object=_include,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
