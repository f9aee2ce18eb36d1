"""Coverage of a round: which points in scope were visited, which not yet, fail rates by
point kind and by area, and the points as a map layer coloured by their latest result.

All figures are SQL aggregates (one GROUP BY each) over the points in the round's scope
left-joined to each point's latest visit in the round (window function, both backends).

Definitions, per round:

- in scope 应测评点位: points whose kind and area are in the round's scope;
- visited 已测评: points in scope with at least one visit in the round;
- a point's result is that of its latest visit in the round (by time), so a point that
  failed and passed a later re-visit counts as passed;
- fail rate 不合格率 = points whose result is fail or serious fail ÷ visited points
  (None when nothing was visited); coverage 覆盖率 = visited ÷ in scope.

Coordinates are EPSG:4326 lon/lat; times naive UTC (shown in ``tz``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.errors import InvalidParameterError
from geo.geojson import feature_collection
from geo.models import Area, InspectionPoint, InspectionRound, Visit, VisitProblem
from geo.rounds import FAILED, result_label, scope_conditions
from geo.taxonomy import Taxonomy

COVERAGE_LEVELS = ("district", "street", "community", "grid")
RESULT_STYLE: dict[str | None, tuple[str, int, int]] = {
    None: ("#1565c0", 8, 5),  # not visited: large blue markers, thick lines — plan the route
    "pass": ("#2e7d32", 5, 3),
    "fail": ("#ef6c00", 6, 3),
    "serious_fail": ("#b71c1c", 7, 4),
}
"""Colour, marker radius (px) and line weight (px) per latest result (None: not visited)."""


@dataclass
class Counts:
    """Points in scope, visited, and latest results, with the derived rates."""

    points: int = 0
    visited: int = 0
    passed: int = 0
    failed: int = 0
    serious: int = 0

    @property
    def not_visited(self) -> int:
        return self.points - self.visited

    @property
    def coverage(self) -> float | None:
        return self.visited / self.points if self.points else None

    @property
    def fail_rate(self) -> float | None:
        return (self.failed + self.serious) / self.visited if self.visited else None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(not_visited=self.not_visited, coverage=self.coverage, fail_rate=self.fail_rate)
        return out


@dataclass
class Coverage:
    """A round's coverage: totals, by point kind, by area of ``level``."""

    round_id: int
    level: str
    total: Counts
    visits: int
    problems: int
    by_kind: list[dict[str, Any]] = field(default_factory=list)
    by_area: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: totals, visits, problems found, rows by kind and by area."""
        return {
            "round_id": self.round_id,
            "level": self.level,
            **self.total.to_dict(),
            "visits": self.visits,
            "problems": self.problems,
            "by_kind": self.by_kind,
            "by_area": self.by_area,
        }


def round_coverage(
    session: so.Session,
    rnd: InspectionRound,
    taxonomy: Taxonomy,
    level: str = "street",
    lang: str = "zh",
    area_code: str | None = None,
) -> Coverage:
    """Coverage of ``rnd``: totals, rows by point kind and by area of ``level`` (each row:
    key, label, points, visited, not_visited, passed, failed, serious, coverage,
    fail_rate). With ``area_code`` (an area of ``level``) only the points in that area
    count — the figures an area page shows."""
    column = _level_column(level)
    scope = _scoped(session, rnd, column, area_code)
    latest = latest_visits(rnd.id)
    base = sa.select(InspectionPoint.kind, column.label("area_id"), latest.c.result).select_from(
        InspectionPoint
    )
    joined = base.outerjoin(latest, latest.c.point_id == InspectionPoint.id).where(*scope)
    rows = joined.subquery()
    total = _counts(session, rows, None)
    by_kind = [
        {"key": k, "label": taxonomy.kind_label(k, lang), **c.to_dict()}
        for k, c in _counts(session, rows, rows.c.kind).items()
    ]
    by_area = _area_rows(session, _counts(session, rows, rows.c.area_id))
    visits, problems = _visit_totals(session, rnd, scope)
    return Coverage(rnd.id, level, total.get(None, Counts()), visits, problems, by_kind, by_area)


def round_points_geojson(
    session: so.Session,
    rnd: InspectionRound,
    taxonomy: Taxonomy,
    lang: str = "zh",
    visited: bool | None = None,
    tz: str = "Asia/Shanghai",
) -> str:
    """The points in the round's scope as GeoJSON (EPSG:4326), coloured by their latest
    result (``RESULT_STYLE``); ``visited`` True/False keeps only visited/unvisited ones.

    Properties: code, name, kind, kind_label ("kind · result"), result (None: not
    visited), result_label, color, radius, weight, visited_at (local), inspector.
    """
    latest = latest_visits(rnd.id)
    stmt = (
        sa.select(
            InspectionPoint.code,
            InspectionPoint.name,
            InspectionPoint.kind,
            latest.c.result,
            latest.c.visited_at,
            latest.c.inspector,
            InspectionPoint.geom,
        )
        .outerjoin(latest, latest.c.point_id == InspectionPoint.id)
        .where(*scope_conditions(session, rnd))
        .order_by(InspectionPoint.code)
    )
    if visited is not None:
        stmt = stmt.where(
            latest.c.point_id.is_not(None) if visited else latest.c.point_id.is_(None)
        )
    rows = session.execute(stmt).all()
    zone = ZoneInfo(tz)
    props = (_point_props(r, taxonomy, lang, zone) for r in rows)
    return feature_collection([r.geom for r in rows], props)


def result_legend(lang: str = "zh") -> dict[str, Any]:
    """Legend items (label, colour) for the coverage layer."""
    title = "Latest result in the round" if lang == "en" else "本轮最新测评结果"
    items = [{"label": result_label(r, lang), "color": s[0]} for r, s in RESULT_STYLE.items()]
    return {"title": title, "items": items}


def _point_props(row: Any, taxonomy: Taxonomy, lang: str, zone: ZoneInfo) -> dict[str, Any]:
    color, radius, weight = RESULT_STYLE[row.result]
    label = result_label(row.result, lang)
    when = row.visited_at
    return {
        "code": row.code,
        "name": row.name,
        "kind": row.kind,
        "kind_label": f"{taxonomy.kind_label(row.kind, lang)} · {label}",
        "result": row.result,
        "result_label": label,
        "color": color,
        "radius": radius,
        "weight": weight,
        "visited_at": None
        if when is None
        else when.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "inspector": row.inspector,
    }


def _level_column(level: str) -> Any:
    if level not in COVERAGE_LEVELS:
        raise InvalidParameterError(
            f"未知的区域层级 / unknown level '{level}'; 可选 / one of: {', '.join(COVERAGE_LEVELS)}"
        )
    return getattr(InspectionPoint, f"{level}_id")


def _scoped(
    session: so.Session, rnd: InspectionRound, column: Any, area_code: str | None
) -> list[Any]:
    scope = scope_conditions(session, rnd)
    if area_code is None:
        return scope
    level = column.key.removesuffix("_id")
    from geo.problems import area_ref

    area_id, _ = area_ref(session, level, area_code)
    return [*scope, column == area_id]


def latest_visits(round_id: int) -> sa.Subquery:
    """Each point's latest visit in the round: point_id, result, visited_at, inspector."""
    order = sa.func.row_number().over(
        partition_by=Visit.point_id, order_by=(Visit.visited_at.desc(), Visit.id.desc())
    )
    ranked = (
        sa.select(
            Visit.point_id, Visit.result, Visit.visited_at, Visit.inspector, order.label("rn")
        )
        .where(Visit.round_id == round_id)
        .subquery()
    )
    return (
        sa.select(ranked.c.point_id, ranked.c.result, ranked.c.visited_at, ranked.c.inspector)
        .where(ranked.c.rn == 1)
        .subquery()
    )


def _counts(session: so.Session, rows: sa.Subquery, key: Any) -> dict[Any, Counts]:
    result = rows.c.result
    columns = [
        sa.func.count().label("points"),
        sa.func.count(result).label("visited"),
        sa.func.count().filter(result == "pass").label("passed"),
        sa.func.count().filter(result == FAILED[0]).label("failed"),
        sa.func.count().filter(result == FAILED[1]).label("serious"),
    ]
    if key is None:
        row = session.execute(sa.select(*columns)).one()
        return {None: Counts(*map(int, row))}
    stmt = sa.select(key, *columns).group_by(key).order_by(key)
    return {k: Counts(*map(int, rest)) for k, *rest in session.execute(stmt)}


def _area_rows(session: so.Session, counts: dict[Any, Counts]) -> list[dict[str, Any]]:
    ids = [i for i in counts if i is not None]
    names = dict(
        (r.id, (r.code, r.name))
        for r in session.execute(sa.select(Area.id, Area.code, Area.name).where(Area.id.in_(ids)))
    )
    rows = [
        {"key": names[i][0], "label": names[i][1], **c.to_dict()}
        for i, c in counts.items()
        if i in names
    ]
    rows.sort(key=lambda r: r["key"])
    if None in counts:  # points outside every area of the level
        rows.append({"key": None, "label": "区域外 / outside", **counts[None].to_dict()})
    return rows


def _visit_totals(session: so.Session, rnd: InspectionRound, scope: list[Any]) -> tuple[int, int]:
    """Visits recorded in the round and problems found in them (points in ``scope``)."""
    in_scope = sa.select(InspectionPoint.id).where(*scope)
    visits = session.scalar(
        sa.select(sa.func.count(Visit.id)).where(
            Visit.round_id == rnd.id, Visit.point_id.in_(in_scope)
        )
    )
    problems = session.scalar(
        sa.select(sa.func.count(VisitProblem.problem_id))
        .join(Visit, Visit.id == VisitProblem.visit_id)
        .where(Visit.round_id == rnd.id, Visit.point_id.in_(in_scope))
    )
    return int(visits or 0), int(problems or 0)
