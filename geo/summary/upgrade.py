"""Upgrading a database: the schema migrations, then the summary counts they marked stale.

A migration that reshapes a summary table only marks it stale (``summary_meta.stale``);
the recount needs the current code and therefore the current schema, so it runs here,
after the migrations, and only at the head revision (below it the flag waits for a later
upgrade). This lives above geo.storage because it needs the summary's own code.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.engine import Engine

from geo.storage.db import writer
from geo.storage.schema import at_head, migrate
from geo.summary.counts import rebuild_if_stale


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` and recount stale summary tables at the head.

    On PostgreSQL the PostGIS extension is created first when missing (see
    ``geo.storage.schema.migrate``).
    """
    migrate(engine, revision)
    with writer(engine).begin() as conn:
        if at_head(conn) and sa.inspect(conn).has_table("summary_meta"):
            with so.Session(bind=conn) as session:
                rebuild_if_stale(session)
                session.flush()
