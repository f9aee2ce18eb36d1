"""Access version (access_meta.version)

One counter that every change of a user, an API token or their scopes adds one to, in
the change's own transaction: each web worker keeps the principals it resolved in memory
and trusts them only while this number (and areas_version) is unchanged, so a revoke,
a disabled user or a new scope holds in every worker from the next request on.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "access_meta",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("access_meta")
