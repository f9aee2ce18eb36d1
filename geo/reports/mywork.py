""" "My work" (/my): what needs the signed-in person now, within their scope.

Lists of problems (each a plain dict for the page and the offline cache): overdue, due
today or within two working days, newly found, sent back (回退) and rectified awaiting
verification (待核查), plus the markers of the small map coloured by the same states.
Overdue follows DOMAIN.md (geo/storage/statuses.py ``OVERDUE``; rectified by the deadline
is not overdue). Times are naive UTC; coordinates WGS-84 lon/lat degrees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, scoped
from geo.core.geojson import DEFAULT_PRECISION
from geo.core.taxonomy import Taxonomy
from geo.core.workcal import WorkCalendar, deadline_for
from geo.rounds.coverage import round_coverage
from geo.storage import statuses
from geo.storage.models import Problem, ProblemEvent
from geo.storage.round_models import InspectionRound

LIST_LIMIT = 50
"""Problems shown per list (the counts are complete)."""
MARKER_LIMIT = 2000
"""Most markers sent to the small map: a grid manager's grids hold far fewer open ones."""
CLUSTER_MIN = 150
"""From this many markers on, the small map clusters them (leaflet.markercluster)."""
DUE_SOON_WORKING_DAYS = 2
LISTS = ("overdue", "due_soon", "found", "sent_back", "awaiting")
"""The lists in the order the page shows them."""


@dataclass
class WorkLists:
    """Count and first ``LIST_LIMIT`` problems of each list of ``LISTS``."""

    counts: dict[str, int] = field(default_factory=dict)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def work_lists(
    session: so.Session,
    scope: Scope,
    now: datetime,
    calendar: WorkCalendar,
    taxonomy: Taxonomy,
    lang: str = "zh",
    tz: str = "Asia/Shanghai",
) -> WorkLists:
    """The work lists of ``scope`` at ``now`` (naive UTC); "due soon" ends after
    ``DUE_SOON_WORKING_DAYS`` working days on ``calendar`` in the local zone ``tz``."""
    soon = deadline_for(now, DUE_SOON_WORKING_DAYS, "working", calendar, tz)
    out = WorkLists()
    for name in LISTS:
        where = [*_conditions(name, now, soon), _sent_back() if name == "sent_back" else sa.true()]
        base = scoped(sa.select(Problem).where(*where), scope, Problem)
        out.counts[name] = int(
            session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
        )
        order = (
            Problem.deadline.asc() if name in ("overdue", "due_soon") else Problem.found_at.desc()
        )
        rows = session.scalars(base.order_by(order, Problem.id).limit(LIST_LIMIT)).all()
        out.items[name] = [_item(p, taxonomy, lang) for p in rows]
    return out


def marker_geojson(
    session: so.Session,
    scope: Scope,
    now: datetime,
    calendar: WorkCalendar,
    tz: str = "Asia/Shanghai",
) -> str:
    """Unresolved, not held problems of ``scope`` as a GeoJSON FeatureCollection
    (WGS-84), each with ``id`` and ``state``: overdue, due_soon, on_time, awaiting or
    found (no deadline yet); at most ``MARKER_LIMIT``, most urgent first."""
    soon = deadline_for(now, DUE_SOON_WORKING_DAYS, "working", calendar, tz)
    stmt = scoped(
        sa.select(Problem.id, Problem.lon, Problem.lat, Problem.status, Problem.deadline)
        .where(Problem.status.in_(statuses.OVERDUE))
        .order_by(Problem.deadline.asc(), Problem.id)
        .limit(MARKER_LIMIT),
        scope,
        Problem,
    )
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [round(lon, DEFAULT_PRECISION), round(lat, DEFAULT_PRECISION)],
            },
            "properties": {"id": pid, "state": marker_state(status, deadline, now, soon)},
        }
        for pid, lon, lat, status, deadline in session.execute(stmt)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))


def marker_state(status: str, deadline: datetime | None, now: datetime, soon: datetime) -> str:
    """The map colour class of one unresolved problem (see ``marker_geojson``)."""
    if status == "rectified":
        return "awaiting"
    if statuses.is_overdue(status, deadline, now):
        return "overdue"
    if deadline is None:
        return "found"
    return "due_soon" if deadline <= soon else "on_time"


def _conditions(name: str, now: datetime, soon: datetime) -> list[Any]:
    late = sa.or_(Problem.rectified_at.is_(None), Problem.rectified_at > Problem.deadline)
    if name == "overdue":
        return [Problem.status.in_(("found", "assigned")), Problem.deadline < now, late]
    if name == "due_soon":
        return [
            Problem.status.in_(("found", "assigned")),
            Problem.deadline >= now,
            Problem.deadline <= soon,
        ]
    if name in ("found", "sent_back"):
        return [Problem.status == "found"]
    return [Problem.status == "rectified"]


def _sent_back() -> Any:
    """The problem's latest event is a send back (回退): it waits to be assigned again."""
    latest = (
        sa.select(ProblemEvent.action)
        .where(ProblemEvent.problem_id == Problem.id)
        .order_by(ProblemEvent.at.desc(), ProblemEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return latest == "send_back"


def _item(p: Problem, taxonomy: Taxonomy, lang: str) -> dict[str, Any]:
    category = taxonomy.categories.get(p.category)
    return {
        "id": p.id,
        "category": category.label(lang) if category else p.category,
        "description": (p.description or "")[:120],
        "status": p.status,
        "deadline": p.deadline,
        "found_at": p.found_at,
    }


def rounds_to_do(
    session: so.Session, scope: Scope, today: date, taxonomy: Taxonomy
) -> list[dict[str, Any]]:
    """The rounds under way on the local date ``today`` with the points of ``scope``
    still to visit: ``id``, ``name``, ``ends_on``, ``points``, ``not_visited``."""
    stmt = sa.select(InspectionRound).where(
        InspectionRound.starts_on <= today, InspectionRound.ends_on >= today
    )
    out = []
    for rnd in session.scalars(stmt.order_by(InspectionRound.ends_on, InspectionRound.id)):
        total = round_coverage(session, rnd, taxonomy, viewer=scope).total
        if total.points:
            out.append(
                {
                    "id": rnd.id,
                    "name": rnd.name,
                    "ends_on": rnd.ends_on,
                    "points": total.points,
                    "not_visited": total.not_visited,
                }
            )
    return out
