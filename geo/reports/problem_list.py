"""One area and its unresolved problems: what an area page shows.

``find_area`` looks an area up by level and code (with its ancestors for the breadcrumb
and its bounding box in EPSG:4326 degrees); ``area_problems`` lists the problems inside
it that match a view, sorted by age or deadline, one page at a time, with the total.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, visible
from geo.reports.heat import AreaRef, problem_conditions, status_condition
from geo.reports.heat_filters import FilterError, HeatFilters
from geo.storage.models import Area, InspectionPoint, Problem
from geo.storage.statuses import is_overdue
from geo.summary import counts as summary

SORTS = {
    "age": (Problem.found_at.asc(), Problem.id.asc()),
    "-age": (Problem.found_at.desc(), Problem.id.desc()),
    "deadline": (Problem.deadline.is_(None), Problem.deadline.asc(), Problem.id.asc()),
    "-deadline": (Problem.deadline.is_(None), Problem.deadline.desc(), Problem.id.desc()),
}
"""Sort orders: ``age`` oldest first, ``deadline`` earliest first (no deadline last)."""
PAGE_SIZE = 50
ANCESTOR_LEVELS = ("district", "street", "community")


@dataclass(frozen=True)
class AreaInfo:
    """An area: identity, size (km²), bounding box (lon/lat) and ancestors, coarse first."""

    id: int
    level: str
    code: str
    name: str
    km2: float
    bbox: tuple[float, float, float, float]
    ancestors: tuple[tuple[str, str, str], ...]  # (level, code, name)

    @property
    def ref(self) -> AreaRef:
        """This area as an AreaRef."""
        return AreaRef(self.id, self.level)


@dataclass(frozen=True)
class ProblemRow:
    """One row of an area's problem table (times naive UTC)."""

    id: int
    category: str
    description: str
    status: str
    found_at: datetime
    deadline: datetime | None
    point_name: str | None
    point_kind: str | None
    grid_code: str | None
    age_days: int
    overdue_days: int | None
    grid_name: str | None = None  # people read names; the 15-digit code is shown beside it


@dataclass(frozen=True)
class ProblemPage:
    """A page of rows, the total number of matching problems, page number and count."""

    rows: list[ProblemRow]
    total: int
    page: int
    pages: int


def find_area(session: so.Session, level: str, code: str) -> AreaInfo | None:
    """The area of ``level`` with ``code``, or None."""
    area = session.scalars(sa.select(Area).where(Area.level == level, Area.code == code)).first()
    if area is None:
        return None
    ids = [getattr(area, f"{lvl}_id") for lvl in ANCESTOR_LEVELS if lvl != level]
    found = {
        a.id: a for a in session.scalars(sa.select(Area).where(Area.id.in_([i for i in ids if i])))
    }
    ancestors = tuple(
        (found[i].level, found[i].code, found[i].name) for i in ids if i is not None and i in found
    )
    return AreaInfo(
        id=area.id,
        level=area.level,
        code=area.code,
        name=area.name,
        km2=area.area_m2 / 1e6,
        bbox=(area.min_lon, area.min_lat, area.max_lon, area.max_lat),
        ancestors=ancestors,
    )


def area_choices(
    session: so.Session, level: str, scope: Scope | None = None
) -> list[tuple[str, str]]:
    """(code, name) of every area of ``level`` visible in ``scope``, by code (menus)."""
    stmt = sa.select(Area.code, Area.name).where(Area.level == level).order_by(Area.code)
    if scope is not None:
        stmt = stmt.where(visible(scope, Area))
    rows = session.execute(stmt).all()
    return [(str(c), str(n)) for c, n in rows]


def area_problems(
    session: so.Session,
    area: AreaRef,
    view: HeatFilters,
    sort: str = "age",
    page: int = 1,
    now: datetime | None = None,
) -> ProblemPage:
    """Problems inside ``area`` matching ``view`` (status filter included), one page of
    ``PAGE_SIZE`` sorted by ``sort`` (see ``SORTS``). Raises ``FilterError`` for an
    unknown sort."""
    if sort not in SORTS:
        raise FilterError(
            "sort", f"未知的排序：{sort!r}", f"unknown sort {sort!r}; one of {', '.join(SORTS)}"
        )
    now = now or summary.utcnow()
    conditions, total = _matching(session, area, view, now)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    grid = so.aliased(Area)
    rows = session.execute(
        sa.select(
            Problem.id,
            Problem.category,
            Problem.description,
            Problem.status,
            Problem.found_at,
            Problem.deadline,
            InspectionPoint.name,
            InspectionPoint.kind,
            grid.code,
            grid.name,
            Problem.rectified_at,
        )
        .outerjoin(InspectionPoint, InspectionPoint.id == Problem.point_id)
        .outerjoin(grid, grid.id == Problem.grid_id)
        .where(*conditions)
        .order_by(*SORTS[sort])
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return ProblemPage([_row(r, now) for r in rows], total, page, pages)


def _row(r: Any, now: datetime) -> ProblemRow:
    found_at, deadline, status = r[4], r[5], r[3]
    late = is_overdue(status, deadline, now, r[10])
    return ProblemRow(
        id=r[0],
        category=r[1],
        description=r[2] or "",
        status=status,
        found_at=found_at,
        deadline=deadline,
        point_name=r[6],
        point_kind=r[7],
        grid_code=r[8],
        age_days=max(0, (now - found_at).days),
        overdue_days=max(0, (now - deadline).days) if late else None,
        grid_name=r[9],
    )


MARKER_LIMIT = 5_000


def problems_geojson(
    session: so.Session,
    area: AreaRef,
    view: HeatFilters,
    labels: dict[str, dict[str, str]],
    now: datetime | None = None,
) -> str:
    """The newest ``MARKER_LIMIT`` problems inside ``area`` matching ``view`` as GeoJSON
    points (EPSG:4326), with id, category label, description, status label, found and
    deadline (ISO, UTC) and whether overdue; the collection's ``total`` says how many
    matched in all. ``labels`` maps "categories"/"statuses" to code → label."""
    now = now or summary.utcnow()
    conditions, total = _matching(session, area, view, now)
    rows = session.execute(
        sa.select(
            Problem.id,
            Problem.category,
            Problem.description,
            Problem.status,
            Problem.found_at,
            Problem.deadline,
            Problem.lon,
            Problem.lat,
            Problem.rectified_at,
        )
        .where(*conditions)
        .order_by(Problem.found_at.desc(), Problem.id.desc())
        .limit(MARKER_LIMIT)
    ).all()
    features = [_marker(r, labels, now) for r in rows]
    return json.dumps(
        {"type": "FeatureCollection", "total": total, "features": features},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _marker(r: Any, labels: dict[str, dict[str, str]], now: datetime) -> dict[str, object]:
    pid, category, description, status, found_at, deadline, lon, lat, rectified_at = r
    overdue = is_overdue(status, deadline, now, rectified_at)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": {
            "id": pid,
            "category": labels["categories"].get(category, category),
            "description": description or "",
            "status": labels["statuses"].get(status, status),
            "found_at": found_at.isoformat() + "Z",
            "deadline": deadline.isoformat() + "Z" if deadline else None,
            "overdue": overdue,
        },
    }


def _matching(
    session: so.Session, area: AreaRef, view: HeatFilters, now: datetime
) -> tuple[list[sa.ColumnElement[bool]], int]:
    """The WHERE conditions for problems inside ``area`` matching ``view``, and their count."""
    offset = summary.read_meta(session).day_offset_minutes
    conditions = [getattr(Problem, f"{area.level}_id") == area.id]
    conditions += problem_conditions(view, offset)
    status = status_condition(view.status, now)
    if status is not None:
        conditions.append(status)
    total = session.scalar(sa.select(sa.func.count()).select_from(Problem).where(*conditions))
    return conditions, int(total or 0)
