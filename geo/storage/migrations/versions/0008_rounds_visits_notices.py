"""rounds, visits, notices; extensions and holds on problems

Revision ID: 0008
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("point_kinds", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_rounds")),
        sa.UniqueConstraint("name", name=op.f("uq_inspection_rounds_name")),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("warning_days", sa.Integer(), nullable=False),
        sa.Column("visit_ids", sa.JSON(), nullable=False),
        sa.Column("problem_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_notices_area_id_areas")),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["inspection_rounds.id"],
            name=op.f("fk_notices_round_id_inspection_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("year", "seq", name="uq_notices_year_seq"),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_round_id"), ["round_id"], unique=False)
    op.create_table(
        "round_areas",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_round_areas_area_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["inspection_rounds.id"],
            name=op.f("fk_round_areas_round_id_inspection_rounds"),
        ),
        sa.PrimaryKeyConstraint("round_id", "area_id", name=op.f("pk_round_areas")),
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("visited_at", sa.DateTime(), nullable=False),
        sa.Column("inspector", sa.String(length=100), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["ingest_batches.id"], name=op.f("fk_visits_batch_id_ingest_batches")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["inspection_points.id"],
            name=op.f("fk_visits_point_id_inspection_points"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["inspection_rounds.id"],
            name=op.f("fk_visits_round_id_inspection_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("round_id", "point_id", "visited_at", name="uq_visits_round_point_at"),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visits_point_id"), ["point_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visits_round_id"), ["round_id"], unique=False)
    # Plain ALTER TABLE ADD COLUMN on both backends: no rebuild of problems on SQLite, where
    # rebuilding a table other tables reference would trip over their foreign keys. The
    # link to visits is a table of its own for the same reason.
    op.add_column(
        "ingest_batches", sa.Column("visits", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("problems", sa.Column("pending", sa.String(length=20), nullable=True))
    op.add_column("problems", sa.Column("requested_deadline", sa.DateTime(), nullable=True))
    op.add_column(
        "problems",
        sa.Column("extension_count", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "visit_problems",
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["problem_id"], ["problems.id"], name=op.f("fk_visit_problems_problem_id_problems")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_visit_problems_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("problem_id", name=op.f("pk_visit_problems")),
    )
    op.create_index(
        op.f("ix_visit_problems_visit_id"), "visit_problems", ["visit_id"], unique=False
    )


def downgrade() -> None:
    # Plain ALTER TABLE DROP COLUMN (SQLite ≥ 3.35): no rebuild of the referenced tables.
    op.drop_table("visit_problems")
    for column in ("extension_count", "requested_deadline", "pending"):
        op.drop_column("problems", column)
    op.drop_column("ingest_batches", "visits")
    op.drop_table("visits")
    op.drop_table("round_areas")
    op.drop_table("notices")
    op.drop_table("inspection_rounds")
