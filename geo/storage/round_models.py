"""Typed SQLAlchemy models of rounds of field evaluation (实地测评 / 暗访督查): rounds and
their areas, visits to inspection points and the problems each found, notices (抄告单).

Conventions as in geo/storage/models.py (naive UTC times, the same ``Base``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.storage.models import Area, Base, InspectionPoint


class InspectionRound(Base):
    """A round of field evaluation (实地测评 / 暗访督查): a period of local calendar days
    and a scope (point kinds and areas; empty means all)."""

    __tablename__ = "inspection_rounds"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    starts_on: so.Mapped[date] = so.mapped_column(sa.Date)
    ends_on: so.Mapped[date] = so.mapped_column(sa.Date)
    point_kinds: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime)
    created_by: so.Mapped[str] = so.mapped_column(sa.String(100))

    areas: so.Mapped[list[Area]] = so.relationship(secondary="round_areas", order_by=Area.code)


class RoundArea(Base):
    """An area (any level) in a round's scope."""

    __tablename__ = "round_areas"

    round_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("inspection_rounds.id"), primary_key=True
    )
    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"), primary_key=True)


class Visit(Base):
    """One visit of an inspection point in a round: when, who, the result
    (pass 合格 / fail 不合格 / serious_fail 严重不合格) and a note. Problems found in it
    point at it (``Problem.visit_id``)."""

    __tablename__ = "visits"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "point_id", "visited_at", name="uq_visits_round_point_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    round_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("inspection_rounds.id"), index=True)
    point_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("inspection_points.id"), index=True)
    visited_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime)
    inspector: so.Mapped[str] = so.mapped_column(sa.String(100))
    result: so.Mapped[str] = so.mapped_column(sa.String(20))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    batch_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("ingest_batches.id"))

    point: so.Mapped[InspectionPoint] = so.relationship()


class VisitProblem(Base):
    """A problem found in a visit (a problem belongs to at most one visit)."""

    __tablename__ = "visit_problems"

    problem_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("problems.id"), primary_key=True)
    visit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("visits.id"), index=True)


class Notice(Base):
    """An issued notice (抄告单) to a street or town for a round: its number (year and
    sequence within the year), who issued it when, and what it listed."""

    __tablename__ = "notices"
    __table_args__ = (sa.UniqueConstraint("year", "seq", name="uq_notices_year_seq"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    round_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("inspection_rounds.id"), index=True)
    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"), index=True)
    year: so.Mapped[int] = so.mapped_column()
    seq: so.Mapped[int] = so.mapped_column()
    number: so.Mapped[str] = so.mapped_column(sa.String(100))
    issued_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime)
    issued_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    warning_days: so.Mapped[int] = so.mapped_column()
    visit_ids: so.Mapped[list[Any]] = so.mapped_column(sa.JSON, default=list)
    problem_ids: so.Mapped[list[Any]] = so.mapped_column(sa.JSON, default=list)

    round: so.Mapped[InspectionRound] = so.relationship()
    area: so.Mapped[Area] = so.relationship()
