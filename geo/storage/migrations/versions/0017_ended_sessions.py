"""Sessions ended one by one (ended_sessions)

Logout now ends only the session it is called from: every login gets a session id of
its own (``<user id>.<stamp>.<random>``) and logging out records that id's SHA-256 here,
so every copy of that cookie is refused while the user's other sessions (another browser,
the phone) go on. A password change, disabling and a role change still end all of the
user's sessions (``users.session_generation``). Session ids issued before this revision
have no random part and are refused: everyone logs in once more after the upgrade.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ended_sessions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_ended_sessions_ended_at", "ended_sessions", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_ended_sessions_ended_at", table_name="ended_sessions")
    op.drop_table("ended_sessions")
