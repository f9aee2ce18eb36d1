"""ingest batch details: file format, encoding, input CRS, size, linked count, reject reasons

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_batches") as batch:
        batch.add_column(sa.Column("file_format", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("encoding", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("input_crs", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("file_bytes", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("linked", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("reject_reasons", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingest_batches") as batch:
        for column in (
            "reject_reasons",
            "linked",
            "file_bytes",
            "input_crs",
            "encoding",
            "file_format",
        ):
            batch.drop_column(column)
