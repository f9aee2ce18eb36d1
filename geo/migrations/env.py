"""Alembic environment: always run with a connection handed in by geo.db.upgrade()."""

from __future__ import annotations

from alembic import context

from geo.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand
    raise SystemExit("run migrations with `civicgrid init` (geo.db.upgrade), not alembic directly")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
