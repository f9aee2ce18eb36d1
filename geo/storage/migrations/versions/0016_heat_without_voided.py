"""Voided problems leave the heat-map counts (issue 16, item 5)

A voided report is in no figure (README, counting rules): the area summary's ``n`` (all
problems matching the map's filters, and with it the heat map's "closed" = n − unresolved
and the on-time share's denominator) no longer counts voided ones. Marks the summary
stale, so an existing database's stored cubes are recounted by this rule on upgrade
(`civicgrid init`, or `civicgrid summary rebuild`).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("UPDATE summary_meta SET stale = :stale").bindparams(stale=True))


def downgrade() -> None:
    op.execute(sa.text("UPDATE summary_meta SET stale = :stale").bindparams(stale=True))
