"""Problems for the HTTP API (/api/v1): list with filters and paging, read one.

Every read is limited to the caller's scope (geo/access/scope.py); a problem out of scope is
"not found", never "forbidden", so ids reveal nothing. Creating one is
geo/ingest/intake.py ``create_problem``. Coordinates are WGS-84 lon/lat degrees; times are
naive UTC in the database and ISO 8601 with ``Z`` in the JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, scoped
from geo.core.errors import NotFoundError
from geo.core.params import MAX_ID
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.export.query import count_up_to
from geo.protocols.problem_query import ProblemQuery
from geo.storage.models import Area, InspectionPoint, Problem, ResponsibleUnit


def get_problem(
    session: so.Session, scope: Scope, problem_id: int, taxonomy: Taxonomy, lang: str = "zh"
) -> dict[str, Any]:
    """Problem ``problem_id`` as JSON-ready data with its history, if ``scope`` sees it.

    Raises ``NotFoundError`` when it does not exist *or* is out of scope.
    """
    row = None
    if 0 < problem_id <= MAX_ID:
        row = session.execute(_select(scope).where(Problem.id == problem_id)).first()
    if row is None:
        raise NotFoundError(tr(f"没有这个问题: {problem_id}", f"no problem {problem_id}"))
    item = _as_json(row, taxonomy, lang)
    problem = session.get(Problem, problem_id)
    assert problem is not None
    item["events"] = [
        {
            "at": _iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "note": e.note,
        }
        for e in problem.events
    ]
    return item


@dataclass(frozen=True)
class ProblemPage:
    """One page of a filtered, scoped problem list; ``total`` counts the whole list."""

    items: list[dict[str, Any]]
    total: int | None
    """How many match, None when more than ``COUNT_CAP`` do (not counted further)."""
    limit: int
    offset: int


def list_problems(
    session: so.Session,
    scope: Scope,
    filters: ProblemQuery,
    taxonomy: Taxonomy,
    lang: str = "zh",
) -> ProblemPage:
    """Problems in ``scope`` matching ``filters``, by id, one page (limit/offset); the
    total counted up to ``COUNT_CAP``."""
    stmt = filters.apply(_select(scope))
    total = count_up_to(session, filters.apply(scoped(sa.select(Problem.id), scope, Problem)))
    rows = session.execute(stmt.order_by(Problem.id).limit(filters.limit).offset(filters.offset))
    return ProblemPage(
        [_as_json(r, taxonomy, lang) for r in rows], total, filters.limit, filters.offset
    )


# --- read ------------------------------------------------------------------------------

_AREA_LEVELS = ("district", "street", "community", "grid")


def _select(scope: Scope) -> sa.Select[Any]:
    areas = {level: so.aliased(Area, name=f"{level}_area") for level in _AREA_LEVELS}
    stmt = sa.select(
        Problem,
        ResponsibleUnit.name.label("unit_name"),
        InspectionPoint.code.label("point_code"),
        *(areas[level].code.label(f"{level}_code") for level in _AREA_LEVELS),
    )
    stmt = stmt.outerjoin(ResponsibleUnit, ResponsibleUnit.id == Problem.unit_id)
    stmt = stmt.outerjoin(InspectionPoint, InspectionPoint.id == Problem.point_id)
    for level in _AREA_LEVELS:
        stmt = stmt.outerjoin(areas[level], areas[level].id == getattr(Problem, f"{level}_id"))
    return scoped(stmt, scope, Problem)


def _as_json(row: Any, taxonomy: Taxonomy, lang: str) -> dict[str, Any]:
    p: Problem = row.Problem
    return {
        "id": p.id,
        "source": p.source,
        "external_id": p.external_id,
        "category": p.category,
        "category_label": taxonomy.category_label(p.category, lang),
        "status": p.status,
        "status_label": taxonomy.status_label(p.status, lang),
        "description": p.description,
        "lon": p.lon,
        "lat": p.lat,
        "outside": p.outside,
        "district": row.district_code,
        "street": row.street_code,
        "community": row.community_code,
        "grid": row.grid_code,
        "point_code": row.point_code,
        "unit": row.unit_name,
        "campaign": p.campaign,
        "found_at": _iso(p.found_at),
        "assigned_at": _iso(p.assigned_at),
        "deadline": _iso(p.deadline),
        "rectified_at": _iso(p.rectified_at),
        "closed_at": _iso(p.closed_at),
        "reopen_count": p.reopen_count,
        "version": p.version,
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"
