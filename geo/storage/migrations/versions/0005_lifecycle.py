"""lifecycle: unit kinds; unit, deadline and photo on problem events

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=True))
    with op.batch_alter_table("problem_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("deadline", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("photo", sa.String(length=200), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_problem_events_unit_id_units"), "units", ["unit_id"], ["id"]
        )
    with op.batch_alter_table("problems", schema=None) as batch_op:
        # Rates by period filter on the deadline (geo/reports/stats.py).
        batch_op.create_index(batch_op.f("ix_problems_deadline"), ["deadline"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problems_deadline"))
    with op.batch_alter_table("problem_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_problem_events_unit_id_units"), type_="foreignkey")
        batch_op.drop_column("photo")
        batch_op.drop_column("deadline")
        batch_op.drop_column("unit_id")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("kind")
