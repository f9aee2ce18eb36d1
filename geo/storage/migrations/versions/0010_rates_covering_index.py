"""SQLite covering index for the rates and rankings (grid first)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Spelled out (not imported from geo.storage.models) so this revision stays as it was written.
COLUMNS = [
    "grid_id",
    "status",
    "found_at",
    "deadline",
    "closed_at",
    "rectified_at",
    "assigned_at",
    "reopen_count",
    "extension_count",
]


def _sqlite() -> bool:
    # PostgreSQL aggregates over a parallel sequential scan; the index would only slow
    # its writes.
    return bool(op.get_bind().dialect.name == "sqlite")


def upgrade() -> None:
    if _sqlite():
        op.create_index("ix_problems_rates", "problems", COLUMNS, unique=False)


def downgrade() -> None:
    if _sqlite():
        op.drop_index("ix_problems_rates", table_name="problems")
