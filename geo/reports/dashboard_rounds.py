"""The dashboard's campaign-by-phase figures: the inspection rounds (测评轮次).

This codebase models a campaign's phases as its inspection rounds (geo/rounds: a round
has dates, point kinds and areas; there is no separate phase record), so the chart is one
bar group per round that overlaps the dashboard's periods: coverage and fail rate, the
round page's own figures (``geo.rounds.coverage.round_coverage``, limited to what the
caller's scope may see).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope
from geo.core.taxonomy import Taxonomy
from geo.rounds.coverage import round_coverage
from geo.storage.round_models import InspectionRound

MAX_ROUNDS = 8
"""The latest rounds shown (the others are on /rounds)."""


@dataclass(frozen=True)
class RoundFigures:
    """One round: its name, points in scope, visited, coverage and fail rate (0–1, None
    where nothing counts)."""

    name: str
    points: int
    visited: int
    coverage: float | None
    fail_rate: float | None


def round_figures(
    session: so.Session, scope: Scope, taxonomy: Taxonomy, first: date, end: date
) -> list[RoundFigures]:
    """The rounds overlapping the local dates [first, end), oldest first (at most
    MAX_ROUNDS, the latest), with their coverage figures within ``scope``."""
    stmt = (
        sa.select(InspectionRound)
        .where(InspectionRound.starts_on < end, InspectionRound.ends_on >= first)
        .order_by(InspectionRound.starts_on.desc(), InspectionRound.id.desc())
        .limit(MAX_ROUNDS)
    )
    out = []
    for rnd in reversed(list(session.scalars(stmt))):
        total = round_coverage(session, rnd, taxonomy, viewer=scope).total
        out.append(
            RoundFigures(rnd.name, total.points, total.visited, total.coverage, total.fail_rate)
        )
    return out
