"""Publications (frozen rankings and bulletins) and the one overdue rule

Creates ``publications``: the figures of a closed period as first shown or issued.
Creates ``rate_frozen``: the part of ``rate_summary`` that history froze (a lifecycle
event leaves the periods ended before it as they stood).
Marks the summary stale: overdue is now counted one way everywhere (held problems and
those rectified by their deadline are not overdue), so ``geo.summary.upgrade.upgrade``
recounts the stored cubes right after migrating.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


_COUNTS = (
    "found",
    "due",
    "closed",
    "closed_on_time",
    "reworked",
    "extended",
    "rectified",
    "overdue_delta",
)


def upgrade() -> None:
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_kind", sa.String(length=8), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publications")),
        sa.UniqueConstraint("kind", "level", "period", name="uq_publications_kind_level_period"),
    )
    op.create_index(op.f("ix_publications_period"), "publications", ["period"])
    op.create_table(
        "rate_frozen",
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column("rectify_days", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "level", "kind", "owner_id", "period_start", name=op.f("pk_rate_frozen")
        ),
        sqlite_with_rowid=False,
    )
    op.execute(sa.text("UPDATE summary_meta SET stale = :stale").bindparams(stale=True))


def downgrade() -> None:
    op.drop_table("rate_frozen")
    op.drop_index(op.f("ix_publications_period"), table_name="publications")
    op.drop_table("publications")
