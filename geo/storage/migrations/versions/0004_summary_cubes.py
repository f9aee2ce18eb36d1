"""summary cubes for the heat maps, and summary bookkeeping

Replaces area_summary (area, category, status → n) by per-cube counts with the measures
the heat maps need (unresolved, overdue, closed on time), and adds summary_meta. The new
counts are computed by ``geo.summary.upgrade.upgrade`` right after this migration (the meta row is
created stale), with the code that maintains them.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_KEYS = ("cube", "level", "k1", "k2", "k3", "area_id")


def upgrade() -> None:
    op.drop_table("area_summary")
    op.create_table(
        "area_summary",
        sa.Column("cube", sa.String(length=12), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("k1", sa.String(length=60), nullable=False),
        sa.Column("k2", sa.String(length=60), nullable=False),
        sa.Column("k3", sa.String(length=60), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("unresolved", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("closed_on_time", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_area_summary_area_id_areas")
        ),
        sa.PrimaryKeyConstraint(*_KEYS, name=op.f("pk_area_summary")),
        sqlite_with_rowid=False,
    )
    meta = op.create_table(
        "summary_meta",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problems_version", sa.Integer(), nullable=False),
        sa.Column("areas_version", sa.Integer(), nullable=False),
        sa.Column("points_version", sa.Integer(), nullable=False),
        sa.Column("overdue_as_of", sa.DateTime(), nullable=False),
        sa.Column("day_offset_minutes", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_meta")),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(
        meta,
        [
            {
                "id": 1,
                "problems_version": 0,
                "areas_version": 0,
                "points_version": 0,
                "overdue_as_of": now,
                "day_offset_minutes": 480,
                "stale": True,
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("summary_meta")
    op.drop_table("area_summary")
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
    problems = sa.table(
        "problems",
        sa.column("category"),
        sa.column("status"),
        *(sa.column(c) for c in ("district_id", "street_id", "community_id", "grid_id")),
    )
    summary = sa.table(
        "area_summary",
        sa.column("area_id"),
        sa.column("category"),
        sa.column("status"),
        sa.column("n"),
    )
    for name in ("district_id", "street_id", "community_id", "grid_id"):
        area = problems.c[name]
        counted = (
            sa.select(area, problems.c.category, problems.c.status, sa.func.count())
            .where(area.is_not(None))
            .group_by(area, problems.c.category, problems.c.status)
        )
        op.execute(sa.insert(summary).from_select(["area_id", "category", "status", "n"], counted))
