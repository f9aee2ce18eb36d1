"""Typed model of publications (issue 16): the figures of a closed period as first shown
or issued — a ranking of one level, a weekly bulletin, or a quarter's scores of one level
(geo/reports/score_publications.py) — frozen with their computation
time, so later views show what was published (DOMAIN.md: once published, a closed
period's figures do not change).

Conventions as in geo/storage/models.py (naive UTC times, the same ``Base``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.storage.models import Base

PUBLICATION_KINDS: tuple[str, ...] = ("ranking", "bulletin", "scores")


class Publication(Base):
    """One published ranking (``kind`` 'ranking', one ``level``) or bulletin (``level`` '')
    of one period (its code, e.g. 2026-W47): the figures as canonical JSON, and for a
    bulletin the issued HTML, byte for byte."""

    __tablename__ = "publications"
    __table_args__ = (
        sa.UniqueConstraint("kind", "level", "period", name="uq_publications_kind_level_period"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    level: so.Mapped[str] = so.mapped_column(sa.String(16), default="")
    period: so.Mapped[str] = so.mapped_column(sa.String(16), index=True)
    period_kind: so.Mapped[str] = so.mapped_column(sa.String(8))
    computed_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime)
    issued_by: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    figures: so.Mapped[str] = so.mapped_column(sa.Text)
    html: so.Mapped[str | None] = so.mapped_column(sa.Text)
