"""Reading problems for people: one problem with its places and history, an area's
open problems, and the responsible units. Times stay naive UTC here (the web layer
shows them in the configured time zone); coordinates are EPSG:4326 lon/lat degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.actions import allowed_actions as _allowed
from geo.access.scope import Scope, visible
from geo.core.errors import InvalidParameterError, NotFoundError
from geo.core.geojson import feature_collection
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.lifecycle.selection import SELECTION_LEVELS
from geo.storage import statuses
from geo.storage.models import (
    Area,
    AreaSummary,
    InspectionPoint,
    Problem,
    ProblemEvent,
    ResponsibleUnit,
)

UNIT_KINDS = ("department", "street_office")
PAGE_SIZE = 50


@dataclass(frozen=True)
class AreaRef:
    """An area's level, code and name."""

    level: str
    code: str
    name: str


def get_problem(session: so.Session, problem_id: int, scope: Scope | None = None) -> Problem:
    """The problem with its unit, point and events loaded; ``NotFoundError`` if unknown
    or outside ``scope`` (None: the whole city), so that ids reveal nothing."""
    problem = session.scalar(
        sa.select(Problem)
        .options(
            so.joinedload(Problem.unit),
            so.joinedload(Problem.point),
            so.selectinload(Problem.events).joinedload(ProblemEvent.unit),
        )
        .where(Problem.id == problem_id, *_in_scope(scope))
    )
    if problem is None:
        raise NotFoundError(tr(f"问题不存在: {problem_id}", f"no problem with id {problem_id}"))
    return problem


def _in_scope(scope: Scope | None) -> list[sa.ColumnElement[bool]]:
    return [] if scope is None else [visible(scope, Problem)]


def problem_areas(session: so.Session, problem: Problem) -> list[AreaRef]:
    """The problem's district, street, community and grid (those it has), coarse to fine."""
    ids = [getattr(problem, f"{level}_id") for level in SELECTION_LEVELS]
    rows = session.execute(
        sa.select(Area.id, Area.level, Area.code, Area.name).where(
            Area.id.in_([i for i in ids if i is not None])
        )
    ).all()
    by_id = {r.id: AreaRef(r.level, r.code, r.name) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def allowed_actions(status: str, pending: str | None = None) -> list[str]:
    """Names of the actions the status (and pending request) allows, in lifecycle order."""
    return _allowed(status, pending)


def is_overdue(problem: Problem, now: datetime | None = None) -> bool:
    """Overdue 超期 (geo.storage.statuses.is_overdue: unresolved, not held, past its
    deadline and not rectified by it)."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    return statuses.is_overdue(problem.status, problem.deadline, now, problem.rectified_at)


def problem_geojson(
    session: so.Session,
    problem_id: int,
    taxonomy: Taxonomy,
    lang: str = "zh",
    scope: Scope | None = None,
) -> str:
    """The problem's location as a one-feature GeoJSON FeatureCollection (EPSG:4326)."""
    problem = get_problem(session, problem_id, scope)
    props = {
        "code": f"#{problem.id}",
        "name": taxonomy.category_label(problem.category, lang),
        "kind_label": taxonomy.status_label(problem.status, lang),
        "status": problem.status,
        "color": "#2e7d32" if problem.status == statuses.CLOSED else "#c0392b",
    }
    return feature_collection([problem.geom], [props])


def problem_area_geojson(session: so.Session, problem_id: int, scope: Scope | None = None) -> str:
    """The outline of the problem's grid (else its finest area) as GeoJSON (EPSG:4326)."""
    problem = get_problem(session, problem_id, scope)
    area_id = next(
        (
            getattr(problem, f"{level}_id")
            for level in reversed(SELECTION_LEVELS)
            if getattr(problem, f"{level}_id") is not None
        ),
        None,
    )
    rows = session.execute(
        sa.select(Area.code, Area.name, Area.level, Area.geom).where(Area.id == area_id)
    ).all()
    props = ({"code": c, "name": n, "level": lv} for c, n, lv, _ in rows)
    return feature_collection([r.geom for r in rows], props)


def problem_extent(session: so.Session, problem: Problem, pad: float = 0.002) -> tuple[float, ...]:
    """Bounding box (lon/lat degrees) of the problem's grid, else around its point."""
    box = None
    if problem.grid_id is not None:
        box = session.execute(
            sa.select(Area.min_lon, Area.min_lat, Area.max_lon, Area.max_lat).where(
                Area.id == problem.grid_id
            )
        ).first()
    if box is None:
        return (problem.lon - pad, problem.lat - pad, problem.lon + pad, problem.lat + pad)
    return (box[0], box[1], box[2], box[3])


def area_ref(
    session: so.Session, level: str, code: str, scope: Scope | None = None
) -> tuple[int, AreaRef]:
    """Id and reference of an area; ``InvalidParameterError`` / ``NotFoundError`` (also
    when the area lies outside ``scope``)."""
    if level not in SELECTION_LEVELS:
        raise InvalidParameterError(
            tr(
                f"未知的区域层级 '{level}'; 可选: {', '.join(SELECTION_LEVELS)}",
                f"unknown level '{level}'; one of: {', '.join(SELECTION_LEVELS)}",
            )
        )
    row = session.execute(
        sa.select(Area.id, Area.name).where(
            Area.level == level,
            Area.code == code,
            *([] if scope is None else [visible(scope, Area)]),
        )
    ).first()
    if row is None:
        raise NotFoundError(tr(f"未找到区域 '{code}'", f"no {level} with code '{code}'"))
    return row.id, AreaRef(level, code, row.name)


def open_problems(
    session: so.Session, level: str, area_id: int, page: int = 1
) -> tuple[list[Problem], int]:
    """One page of an area's unresolved problems (oldest first; voided reports left out)
    and their total."""
    where = [
        getattr(Problem, f"{level}_id") == area_id,
        statuses.unresolved_sql(),
    ]
    total = session.scalar(sa.select(sa.func.count(Problem.id)).where(*where)) or 0
    rows = session.scalars(
        sa.select(Problem)
        .options(so.joinedload(Problem.unit))
        .where(*where)
        .order_by(Problem.found_at, Problem.id)
        .limit(PAGE_SIZE)
        .offset(max(0, page - 1) * PAGE_SIZE)
    ).all()
    return list(rows), int(total)


def found_by_category(session: so.Session, level: str, area_id: int) -> dict[str, int]:
    """Number of not yet assigned (found) problems per category in an area."""
    rows = session.execute(
        sa.select(Problem.category, sa.func.count())
        .where(getattr(Problem, f"{level}_id") == area_id, Problem.status == "found")
        .group_by(Problem.category)
    ).all()
    return {c: int(n) for c, n in rows}


def units(session: so.Session) -> list[ResponsibleUnit]:
    """All responsible units by name."""
    return list(session.scalars(sa.select(ResponsibleUnit).order_by(ResponsibleUnit.name)))


def add_unit(session: so.Session, name: str, kind: str | None = None) -> ResponsibleUnit:
    """Create a responsible unit (``kind``: department or street_office); refuse duplicates."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidParameterError(
            tr("单位名称应为 1–200 个字符", "unit name must be 1–200 characters")
        )
    if kind is not None and kind not in UNIT_KINDS:
        raise InvalidParameterError(
            tr(
                f"未知的单位类型 '{kind}'; 可选: {', '.join(UNIT_KINDS)}",
                f"unknown unit kind '{kind}'; one of: {', '.join(UNIT_KINDS)}",
            )
        )
    if session.scalar(sa.select(ResponsibleUnit.id).where(ResponsibleUnit.name == name)):
        raise InvalidParameterError(tr(f"责任单位已存在 '{name}'", f"unit '{name}' already exists"))
    unit = ResponsibleUnit(name=name, kind=kind)
    session.add(unit)
    session.flush()
    return unit


def point_label(point: InspectionPoint | None, taxonomy: Taxonomy, lang: str) -> str | None:
    """'name (kind)' of an inspection point, or None."""
    if point is None:
        return None
    return f"{point.name}（{taxonomy.kind_label(point.kind, lang)}）"


SOURCE_LABELS: dict[str, tuple[str, str]] = {
    "mobile": ("手机上报", "Phone report"),
    "visit": ("测评走访", "Round visit"),
    "api": ("接口上报", "API"),
    "survey": ("暗访调查", "Survey"),
}


def source_label(source: str, lang: str) -> str:
    """How a problem's source reads to a user: a built-in source's label in ``lang``
    ("zh" or "en"), any other source (a survey's ``--source`` name) as it is."""
    zh, en = SOURCE_LABELS.get(source, (source, source))
    return en if lang == "en" else zh


def unresolved_count(session: so.Session, area_id: int) -> int:
    """Unresolved problems of an area according to the per-area summary (geo/summary/counts.py)."""

    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(AreaSummary.unresolved), 0)).where(
            AreaSummary.cube == "total", AreaSummary.area_id == area_id
        )
    )
    return int(total or 0)
