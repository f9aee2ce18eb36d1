"""Coverage of a round: which points in scope were visited, which not yet, fail rates by
point kind and by area, and the points as a map layer coloured by their latest result.

The figures come from one SQL aggregate — counts per (point kind, area) over the points in
the round's scope left-joined to each point's latest visit in the round (one index seek per
point) — summed into totals, kind rows and area rows in Python (a few hundred
rows at most), plus two counts of visits and problems.

Definitions, per round:

- in scope 应测评点位: points whose kind and area are in the round's scope;
- visited 已测评: points in scope with at least one visit in the round;
- a point's result is that of its latest visit in the round (by time; a point has at most
  one visit at a given time), so a point that failed and passed a re-visit counts as passed;
- fail rate 不合格率 = points whose result is fail or serious fail ÷ visited points
  (None when nothing was visited); coverage 覆盖率 = visited ÷ in scope.

Coordinates are EPSG:4326 lon/lat; times naive UTC (shown in ``tz``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, visible
from geo.core.errors import InvalidParameterError
from geo.core.geojson import feature_collection
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.rounds.rounds import FAILED, result_label, scope_conditions
from geo.storage.db import is_postgres
from geo.storage.models import Area, InspectionPoint
from geo.storage.round_models import InspectionRound, Visit, VisitProblem

COVERAGE_LEVELS = ("district", "street", "community", "grid")
RESULT_STYLE: dict[str | None, tuple[str, int, int]] = {
    # results first (the legend lists them in this order), then the points still to visit
    "pass": ("#2e7d32", 5, 2),
    "fail": ("#ef6c00", 6, 3),
    "serious_fail": ("#b71c1c", 7, 3),
    None: ("#1565c0", 8, 4),  # not visited: large blue markers, thick lines — plan the route
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
    viewer: Scope | None = None,
) -> Coverage:
    """Coverage of ``rnd``: totals, rows by point kind and by area of ``level`` (each row:
    key, label, points, visited, not_visited, passed, failed, serious, coverage,
    fail_rate). With ``area_code`` (an area of ``level``) only the points in that area
    count — the figures an area page shows. Only the points ``viewer`` (the caller's
    access scope) may see count; None: all."""
    column = _level_column(level)
    scope = _scoped(session, rnd, column, area_code, viewer)
    cells = _cells(session, rnd.id, column, scope)
    total = Counts(*(int(cells[c].sum()) for c in _COUNTS))
    by_kind = [
        {"key": k, "label": taxonomy.kind_label(k, lang), **c.to_dict()}
        for k, c in _grouped(cells, "kind").items()
    ]
    by_area = _area_rows(session, _grouped(cells, "area_id"))
    visits, problems = _visit_totals(session, rnd, scope)
    return Coverage(rnd.id, level, total, visits, problems, by_kind, by_area)


def round_points_geojson(
    session: so.Session,
    rnd: InspectionRound,
    taxonomy: Taxonomy,
    lang: str = "zh",
    visited: bool | None = None,
    tz: str = "Asia/Shanghai",
    viewer: Scope | None = None,
) -> str:
    """The points in the round's scope as GeoJSON (EPSG:4326), coloured by their latest
    result (``RESULT_STYLE``); ``visited`` True/False keeps only visited/unvisited ones.

    Properties: code, name, kind, kind_label ("kind · result"), result (None: not
    visited), result_label, color, radius, weight, visited_at (local), inspector.
    """
    stmt = sa.select(
        InspectionPoint.code,
        InspectionPoint.name,
        InspectionPoint.kind,
        Visit.result,
        Visit.visited_at,
        Visit.inspector,
        InspectionPoint.geom,
    ).select_from(InspectionPoint)
    stmt = with_latest_visit(stmt, session, rnd.id)
    stmt = stmt.where(*scope_conditions(session, rnd), *_visible_points(viewer))
    stmt = stmt.order_by(InspectionPoint.code)
    if visited is not None:
        stmt = stmt.where(Visit.id.is_not(None) if visited else Visit.id.is_(None))
    rows = session.execute(stmt).all()
    times = _local_texts([r.visited_at for r in rows], tz)
    props = (_point_props(r, t, taxonomy, lang) for r, t in zip(rows, times, strict=True))
    return feature_collection([r.geom for r in rows], props)


def result_legend(lang: str = "zh") -> dict[str, Any]:
    """Legend items (label, colour) for the coverage layer."""
    title = "Latest result in the round" if lang == "en" else "本轮最新测评结果"
    items = [{"label": result_label(r, lang), "color": s[0]} for r, s in RESULT_STYLE.items()]
    return {"title": title, "items": items}


def _point_props(row: Any, when: str | None, taxonomy: Taxonomy, lang: str) -> dict[str, Any]:
    color, radius, weight = RESULT_STYLE[row.result]
    label = result_label(row.result, lang)
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
        "visited_at": when,
        "inspector": row.inspector,
    }


def _local_texts(times: list[Any], tz: str) -> list[str | None]:
    """Naive UTC datetimes (or None) as local "YYYY-MM-DD HH:MM" text, in one step."""
    stamps = pd.to_datetime(pd.Series(times, dtype="datetime64[us]"))
    text = stamps.dt.tz_localize("UTC").dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M")
    return [None if t is None or t != t else t for t in text.astype(object).tolist()]


def _level_column(level: str) -> Any:
    if level not in COVERAGE_LEVELS:
        raise InvalidParameterError(
            tr(
                f"未知的区域层级 '{level}'; 可选: {', '.join(COVERAGE_LEVELS)}",
                f"unknown level '{level}'; one of: {', '.join(COVERAGE_LEVELS)}",
            )
        )
    return getattr(InspectionPoint, f"{level}_id")


def _visible_points(viewer: Scope | None) -> list[Any]:
    return [] if viewer is None else [visible(viewer, InspectionPoint)]


def _scoped(
    session: so.Session,
    rnd: InspectionRound,
    column: Any,
    area_code: str | None,
    viewer: Scope | None,
) -> list[Any]:
    scope = [*scope_conditions(session, rnd), *_visible_points(viewer)]
    if area_code is None:
        return scope
    level = column.key.removesuffix("_id")
    from geo.lifecycle.problems import area_ref

    area_id, _ = area_ref(session, level, area_code)
    return [*scope, column == area_id]


def with_latest_visit(stmt: sa.Select[Any], session: so.Session, round_id: int) -> Any:
    """``stmt`` (selecting from ``InspectionPoint``) left-joined to each point's latest
    visit in the round as ``Visit`` (NULL columns when not visited). (round, point, time)
    is unique, so the latest visit is one row.

    PostgreSQL: a hash join on the points' latest times (one GROUP BY over the round's
    unique index). SQLite would scan that derived table once per point, so there each point
    costs one seek on the unique index instead (a correlated subquery)."""
    if is_postgres(session):
        last = (
            sa.select(Visit.point_id, sa.func.max(Visit.visited_at).label("at"))
            .where(Visit.round_id == round_id)
            .group_by(Visit.point_id)
            .subquery()
        )
        same = sa.and_(
            Visit.round_id == round_id,
            Visit.point_id == InspectionPoint.id,
            Visit.visited_at == last.c.at,
        )
        return stmt.outerjoin(last, last.c.point_id == InspectionPoint.id).outerjoin(Visit, same)
    inner = so.aliased(Visit)
    latest_id = (
        sa.select(inner.id)
        .where(inner.round_id == round_id, inner.point_id == InspectionPoint.id)
        .order_by(inner.visited_at.desc())
        .limit(1)
        .correlate(InspectionPoint)
        .scalar_subquery()
    )
    return stmt.outerjoin(Visit, Visit.id == latest_id)


_COUNTS = ("points", "visited", "passed", "failed", "serious")


def _cells(session: so.Session, round_id: int, column: Any, scope: list[Any]) -> pd.DataFrame:
    """One aggregate: counts per (point kind, area) — a few hundred rows at most, from
    which the totals, the kind rows and the area rows are summed."""
    result = Visit.result
    stmt = sa.select(
        InspectionPoint.kind,
        column.label("area_id"),
        sa.func.count().label("points"),
        sa.func.count(result).label("visited"),
        sa.func.count().filter(result == "pass").label("passed"),
        sa.func.count().filter(result == FAILED[0]).label("failed"),
        sa.func.count().filter(result == FAILED[1]).label("serious"),
    ).select_from(InspectionPoint)
    stmt = with_latest_visit(stmt, session, round_id)
    stmt = stmt.where(*scope).group_by(InspectionPoint.kind, column)
    rows = [tuple(r) for r in session.execute(stmt)]
    return pd.DataFrame.from_records(rows, columns=["kind", "area_id", *_COUNTS])


def _grouped(cells: pd.DataFrame, key: str) -> dict[Any, Counts]:
    sums = cells.groupby(key, dropna=False, sort=True)[list(_COUNTS)].sum()
    return {
        (None if pd.isna(k) else (int(k) if key == "area_id" else k)): Counts(
            *(int(v) for v in row)
        )
        for k, row in zip(sums.index, sums.to_numpy(), strict=True)
    }


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
        rows.append({"key": None, "label": tr("区域外", "outside"), **counts[None].to_dict()})
    return rows


def _visit_totals(session: so.Session, rnd: InspectionRound, scope: list[Any]) -> tuple[int, int]:
    """Visits recorded in the round and problems found in them (points in ``scope``)."""
    where: list[Any] = [Visit.round_id == rnd.id]
    if scope:  # a scoped round, or one area of it
        where.append(Visit.point_id.in_(sa.select(InspectionPoint.id).where(*scope)))
    visits = session.scalar(sa.select(sa.func.count(Visit.id)).where(*where))
    problems = session.scalar(
        sa.select(sa.func.count(VisitProblem.problem_id))
        .join(Visit, Visit.id == VisitProblem.visit_id)
        .where(*where)
    )
    return int(visits or 0), int(problems or 0)
