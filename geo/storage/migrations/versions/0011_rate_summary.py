"""Rate counts per level, owner and reporting period (rate_summary)

The table is created empty and the summary marked stale, so ``geo.summary.upgrade.upgrade`` fills it
(with the area summary) by ``summary.rebuild`` right after migrating.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Spelled out (not imported from geo.storage.models) so this revision stays as it was written.
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
        "rate_summary",
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column("rectify_days", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "level", "kind", "owner_id", "period_start", name=op.f("pk_rate_summary")
        ),
        sqlite_with_rowid=False,
    )
    op.execute(sa.text("UPDATE summary_meta SET stale = :stale").bindparams(stale=True))


def downgrade() -> None:
    op.drop_table("rate_summary")
