"""Publishing periods as they close (issue 16, item 2): what a daily timer runs.

A closed period's rankings, scores and bulletin are otherwise stored when somebody first
opens them, so a survey file loaded between the period's end and that first showing
would be in the published figures without anyone noticing. ``publish_closed`` stores,
for the periods that ended last (the previous week, month and quarter at ``now``), the
rankings of every level, the quarter's scores of every level and the week's bulletin:
each in its own short transaction, each only if it was never stored (running it twice
stores nothing twice). Times are naive UTC; periods are local to ``tz``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy.orm as so
from sqlalchemy.engine import Engine

from geo.core.periods import KINDS, Period, current_period
from geo.core.taxonomy import Taxonomy
from geo.reports import publications, score_publications
from geo.reports.scores import SCORE_LEVELS
from geo.reports.stats import RATE_LEVELS
from geo.storage.db import transaction
from geo.storage.publication_models import Publication

ISSUED_BY = "schedule"


@dataclass(frozen=True)
class Outcome:
    """One figure set of a closed period: stored now (``new``) or found already stored."""

    kind: str  # "ranking", "scores" or "bulletin"
    level: str  # "" for the bulletin
    period: str  # e.g. 2026-W49
    computed_at: datetime  # naive UTC, when the stored figures were computed
    new: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "level": self.level,
            "period": self.period,
            "computed_at": self.computed_at.isoformat(timespec="seconds"),
            "new": self.new,
        }


def last_closed(tz: str, now: datetime) -> dict[str, Period]:
    """The periods of each kind (week, month, quarter) that ended last before ``now``
    (naive UTC), by kind."""
    return {kind: current_period(kind, tz, now).previous() for kind in KINDS}


def publish_closed(
    engine: Engine,
    taxonomy: Taxonomy,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
    issued_by: str = ISSUED_BY,
) -> list[Outcome]:
    """Store the figures of the periods that ended last before ``now`` (naive UTC; default
    the present): rankings of every level for the week, month and quarter, the quarter's
    scores of every level and the week's bulletin. Returns one outcome per figure set,
    in that order. Each set is one transaction, so a failure keeps what was stored."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    closed = last_closed(tz, now)
    steps: list[tuple[str, str, Period, Callable[[so.Session], tuple[Publication, bool]]]] = []
    for period in closed.values():
        for level in RATE_LEVELS:
            step = _ranking_step(level, period, tz, now, issued_by)
            steps.append(("ranking", level, period, step))
    quarter = closed["quarter"]
    for level in SCORE_LEVELS:
        steps.append(
            ("scores", level, quarter, _scores_step(level, quarter, taxonomy, tz, now, issued_by))
        )
    week = closed["week"]
    steps.append(("bulletin", "", week, _bulletin_step(week, taxonomy, tz, now, issued_by)))
    outcomes = []
    for kind, level, period, step in steps:
        with transaction(engine) as session:
            stored, new = step(session)
        outcomes.append(Outcome(kind, level, period.code, stored.computed_at, new))
    return outcomes


def _ranking_step(
    level: str, period: Period, tz: str, now: datetime, issued_by: str
) -> Callable[[so.Session], tuple[Publication, bool]]:
    def step(session: so.Session) -> tuple[Publication, bool]:
        ranking, stored = publications.frozen_ranking(session, level, period, tz, now)
        if stored is not None:
            return stored, False
        return publications.publish_ranking(session, ranking, now, issued_by), True

    return step


def _scores_step(
    level: str, quarter: Period, taxonomy: Taxonomy, tz: str, now: datetime, issued_by: str
) -> Callable[[so.Session], tuple[Publication, bool]]:
    def step(session: so.Session) -> tuple[Publication, bool]:
        frame, stored = score_publications.frozen_scores(session, level, quarter, taxonomy, tz)
        if stored is not None:
            return stored, False
        published = score_publications.publish_scores(
            session, level, quarter, frame, tz, now, issued_by
        )
        assert published is not None  # the quarter is closed at ``now`` by construction
        return published, True

    return step


def _bulletin_step(
    week: Period, taxonomy: Taxonomy, tz: str, now: datetime, issued_by: str
) -> Callable[[so.Session], tuple[Publication, bool]]:
    def step(session: so.Session) -> tuple[Publication, bool]:
        existing = publications.find(session, "bulletin", "", week)
        if existing is not None:
            return existing, False
        return publications.issue_bulletin(session, week, taxonomy, tz, now, issued_by), True

    return step
