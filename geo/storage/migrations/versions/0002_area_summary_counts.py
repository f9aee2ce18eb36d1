"""area summary counts

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "area_summary",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_area_summary_area_id_areas")
        ),
        sa.PrimaryKeyConstraint("area_id", "category", "status", name=op.f("pk_area_summary")),
    )


def downgrade() -> None:
    op.drop_table("area_summary")
