"""Heat of unresolved problems by area: figures per area of one level, from the summary.

``area_heat`` answers "for every grid (street, district...) of the city or of one area:
how many problems match, how many are unresolved, overdue, closed on time" for a
``HeatFilters`` view. It reads the smallest summary cube that covers the filters, so its
cost depends on the number of areas, not of problems; the only problems it reads are
the few whose deadline passed since the summary's overdue clock last moved. A date
range combined with category/kind/campaign filters is counted from the problems table
(cost proportional to the problems in that range). Areas are in EPSG:4326; densities
are per km² (areas computed in the local UTM zone when loaded).
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, visible
from geo.core.errors import ConfigError
from geo.core.text import tr
from geo.reports.heat_filters import FilterError, HeatFilters
from geo.storage.models import Area, AreaSummary, InspectionPoint, Problem
from geo.storage.statuses import map_overdue_sql, unresolved_sql
from geo.summary import counts as summary
from geo.summary.meta import Meta
from geo.summary.recount import measure_sums

CLASSES = 5
ONTIME_BREAKS = (0.6, 0.8, 0.9, 0.95, 1.0)
"""Fixed class upper bounds of the on-time share (a rate reads best on fixed steps)."""


@dataclass(frozen=True)
class AreaRef:
    """An area by id and level (restricts a heat map to what lies inside it)."""

    id: int
    level: str


@dataclass(frozen=True)
class Catalog:
    """The areas of one level (optionally inside one area), sorted by id."""

    ids: np.ndarray
    codes: tuple[str, ...]
    km2: np.ndarray
    codes_json: str
    km2_json: str


@dataclass
class AreaHeat:
    """Figures per area, aligned with ``catalog.codes``; ``value`` is what the map colours by
    (NaN where undefined, e.g. no problem due yet for the on-time share)."""

    level: str
    catalog: Catalog
    n: np.ndarray
    unresolved: np.ndarray
    overdue: np.ndarray
    closed_on_time: np.ndarray
    count: np.ndarray
    value: np.ndarray
    breaks: list[float]
    source: str
    as_of: datetime


def area_heat(
    session: so.Session,
    view: HeatFilters,
    within: AreaRef | None = None,
    now: datetime | None = None,
    scope: Scope | None = None,
) -> AreaHeat:
    """Figures of every area of ``view.level`` (inside ``within`` or ``view.district``)
    that ``scope`` may see (None: the whole city).

    Steps: the area catalogue, the measures from the covering summary cube (or the
    problems table), the overdue correction up to ``now`` (naive UTC), then the value
    and its class breaks. Raises ``FilterError`` for an unknown district, ``ConfigError``
    when the summary needs a rebuild.
    """
    now = now or summary.utcnow()
    meta = summary.read_meta(session)
    if meta.stale:
        raise ConfigError(
            tr(
                "统计需要重建：请运行 `civicgrid summary rebuild`",
                "summary is stale: run `civicgrid summary rebuild`",
            )
        )
    within = within or district_ref(session, view.district)
    catalog = area_catalog(session, view.level, within, meta.areas_version, scope)
    measures, source = _measures(session, view, catalog, meta, now)
    return _compose(view, catalog, measures, source, now)


def district_ref(session: so.Session, code: str | None) -> AreaRef | None:
    """The district with ``code`` as an AreaRef; ``FilterError`` when there is none."""
    if code is None:
        return None
    area_id = session.scalar(sa.select(Area.id).where(Area.level == "district", Area.code == code))
    if area_id is None:
        raise FilterError("district", f"未知的区：{code!r}", f"unknown district {code!r}")
    return AreaRef(int(area_id), "district")


def area_catalog(
    session: so.Session,
    level: str,
    within: AreaRef | None,
    version: int,
    scope: Scope | None = None,
) -> Catalog:
    """Areas of ``level`` inside ``within`` and visible in ``scope``, sorted by id (cached
    per areas version). Measures are scattered onto these ids only, so figures of areas
    out of scope never reach the caller, nor their class breaks."""
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    return _cached_catalog(url, level, within, version, scope, session)


def classify(values: np.ndarray, metric: str) -> list[float]:
    """Upper bounds of the map's colour classes for ``values`` (NaN ignored).

    Counts and densities: quantiles of the non-zero values (as mapclassify.Quantiles),
    zero being a class of its own; the on-time share: fixed steps ``ONTIME_BREAKS``.
    """
    if metric == "ontime":
        return list(ONTIME_BREAKS)
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size == 0:
        return []
    unique = np.unique(positive)
    if unique.size <= CLASSES:
        return [float(v) for v in unique]
    # Quantile classes as mapclassify.Quantiles computes them (tests check they agree),
    # without its import time and extra statistics on every request.
    percents = np.linspace(100 / CLASSES, 100, CLASSES)
    return [float(b) for b in np.unique(np.round(np.percentile(positive, percents), 6))]


# --- measures ----------------------------------------------------------------------------

_Measures = dict[str, np.ndarray]


def _measures(
    session: so.Session,
    view: HeatFilters,
    catalog: Catalog,
    meta: Meta,
    now: datetime,
) -> tuple[_Measures, str]:
    if view.has_dates and view.has_attributes:
        rows = _rows(session, _problems_select(view, meta.day_offset_minutes, now))
        return _scatter(catalog, rows), "problems"
    cube, conditions, grouped = _cube_query(view)
    columns = [AreaSummary.area_id, *(getattr(AreaSummary, m) for m in summary.MEASURES)]
    if grouped:
        columns = [AreaSummary.area_id, *(sa.func.sum(c) for c in columns[1:])]
    stmt = sa.select(*columns).where(
        AreaSummary.cube == cube, AreaSummary.level == view.level, *conditions
    )
    if grouped:
        stmt = stmt.group_by(AreaSummary.area_id)
    measures = _scatter(catalog, _rows(session, stmt))
    if now > meta.overdue_as_of:
        late = _late_counts(session, view, meta, now)
        measures["overdue"] += _scatter(catalog, [(a, 0, 0, n, 0) for a, n in late])["overdue"]
    return measures, f"summary:{cube}"


def _cube_query(view: HeatFilters) -> tuple[str, list[sa.ColumnElement[bool]], bool]:
    """(cube, conditions on k1..k3, whether several rows per area may match)."""
    if view.has_dates:
        days = []
        if view.found_from:
            days.append(AreaSummary.k1 >= view.found_from.isoformat())
        if view.found_to:
            days.append(AreaSummary.k1 <= view.found_to.isoformat())
        return "day", days, True
    chosen = [(d, v) for d, v in _attribute_filters(view) if v]
    if not chosen:
        return "total", [], False
    if len(chosen) == 1:
        dim, values = chosen[0]
        return dim, [AreaSummary.k1.in_(values)], len(values) > 1
    keys = {"category": AreaSummary.k1, "kind": AreaSummary.k2, "campaign": AreaSummary.k3}
    return "attrs", [keys[d].in_(v) for d, v in chosen], True


def _attribute_filters(view: HeatFilters) -> list[tuple[str, tuple[str, ...]]]:
    return [("category", view.categories), ("kind", view.kinds), ("campaign", view.campaigns)]


def problem_conditions(view: HeatFilters, offset: int) -> list[sa.ColumnElement[bool]]:
    """SQL conditions on ``Problem`` for the view's categories, kinds, campaigns, dates."""
    conditions: list[sa.ColumnElement[bool]] = []
    if view.categories:
        conditions.append(Problem.category.in_(view.categories))
    if view.campaigns:
        conditions.append(Problem.campaign.in_(view.campaigns))
    if view.kinds:
        points = sa.select(InspectionPoint.id).where(InspectionPoint.kind.in_(view.kinds))
        conditions.append(Problem.point_id.in_(points))
    start, end = view.found_bounds(offset)
    if start is not None:
        conditions.append(Problem.found_at >= start)
    if end is not None:
        conditions.append(Problem.found_at < end)
    return conditions


def status_condition(status: str, now: datetime) -> sa.ColumnElement[bool] | None:
    """SQL condition on ``Problem`` for a status filter (unresolved / overdue / all)."""
    if status == "all":
        return None
    if status == "unresolved":
        return unresolved_sql(indexed=True)
    return map_overdue_sql(now, indexed=True)


def _problems_select(view: HeatFilters, offset: int, now: datetime) -> sa.Select[tuple]:
    area = getattr(Problem, f"{view.level}_id")
    return (
        sa.select(area, *measure_sums(now))
        .where(area.is_not(None), *problem_conditions(view, offset))
        .group_by(area)
    )


def _late_counts(
    session: so.Session, view: HeatFilters, meta: Meta, now: datetime
) -> list[tuple[int, int]]:
    """Unresolved problems of the view whose deadline fell in [overdue_as_of, now), per
    area. Selected by status and deadline only (the index that keeps this small), the
    view's other filters applied here, so no planner can prefer e.g. the category index
    and read every problem of a category."""
    area = getattr(Problem, f"{view.level}_id")
    stmt = (
        sa.select(area, Problem.category, Problem.campaign, InspectionPoint.kind, Problem.found_at)
        .outerjoin(InspectionPoint, InspectionPoint.id == Problem.point_id)
        .where(
            area.is_not(None),
            map_overdue_sql(now, indexed=True),
            Problem.deadline >= meta.overdue_as_of,
        )
    )
    rows = _rows(session, stmt)
    if not rows:
        return []
    if not (view.has_attributes or view.has_dates):
        return list(Counter(int(r[0]) for r in rows).items())
    late = pd.DataFrame(rows, columns=["area", "category", "campaign", "kind", "found_at"])
    keep = np.ones(len(late), dtype=bool)
    for column, wanted in (("category", view.categories), ("campaign", view.campaigns)):
        if wanted:
            keep &= late[column].isin(wanted).to_numpy()
    if view.kinds:
        keep &= late["kind"].isin(view.kinds).to_numpy()
    start, end = view.found_bounds(meta.day_offset_minutes)
    found = pd.to_datetime(late["found_at"])
    if start is not None:
        keep &= (found >= start).to_numpy()
    if end is not None:
        keep &= (found < end).to_numpy()
    counts = late[keep].groupby("area").size()
    return [(int(a), int(n)) for a, n in counts.items()]


def _rows(session: so.Session, stmt: sa.Select[Any]) -> Sequence[Any]:
    """Plain tuples straight from the DBAPI cursor of the executed statement: building
    20,000 result Row objects would cost more than the query itself."""
    result = session.connection().execute(stmt)
    try:
        rows: Sequence[Any] = result.cursor.fetchall()
        return rows
    finally:
        result.close()


def _scatter(catalog: Catalog, rows: Sequence[Any]) -> _Measures:
    """Dense measure arrays aligned with the catalogue (areas without rows get zeros)."""
    size = len(catalog.ids)
    out = {m: np.zeros(size, dtype=np.int64) for m in summary.MEASURES}
    if not rows or not size:
        return out
    width = len(rows[0])
    # fromiter over the chained row values: Row objects make np.array very slow.
    flat = np.fromiter(itertools.chain.from_iterable(rows), np.int64, len(rows) * width)
    data = flat.reshape(len(rows), width)
    pos = np.searchsorted(catalog.ids, data[:, 0])
    pos = np.minimum(pos, size - 1)
    hit = catalog.ids[pos] == data[:, 0]
    for i, m in enumerate(summary.MEASURES, start=1):
        np.add.at(out[m], pos[hit], data[hit, i])
    return out


def _compose(
    view: HeatFilters, catalog: Catalog, m: _Measures, source: str, now: datetime
) -> AreaHeat:
    count = {"unresolved": m["unresolved"], "overdue": m["overdue"], "all": m["n"]}[view.status]
    with np.errstate(divide="ignore", invalid="ignore"):
        if view.metric == "density":
            value = np.where(catalog.km2 > 0, count / catalog.km2, np.nan)
        elif view.metric == "ontime":
            due = (m["n"] - m["unresolved"]) + m["overdue"]
            value = np.where(due > 0, m["closed_on_time"] / due, np.nan)
        else:
            value = count.astype(float)
    return AreaHeat(
        level=view.level,
        catalog=catalog,
        n=m["n"],
        unresolved=m["unresolved"],
        overdue=m["overdue"],
        closed_on_time=m["closed_on_time"],
        count=count,
        value=value,
        breaks=classify(value, view.metric),
        source=source,
        as_of=now,
    )


_CATALOGS: dict[tuple[str, str, AreaRef | None, int, Scope | None], Catalog] = {}


def _cached_catalog(
    url: str,
    level: str,
    within: AreaRef | None,
    version: int,
    scope: Scope | None,
    session: so.Session,
) -> Catalog:
    key = (url, level, within, version, scope)
    found = _CATALOGS.get(key)
    if found is None:
        found = _load_catalog(session, level, within, scope)
        if len(_CATALOGS) >= 64:
            _CATALOGS.clear()
        _CATALOGS[key] = found
    return found


def _load_catalog(
    session: so.Session, level: str, within: AreaRef | None, scope: Scope | None
) -> Catalog:
    stmt = sa.select(Area.id, Area.code, Area.area_m2).where(Area.level == level)
    if scope is not None:
        stmt = stmt.where(visible(scope, Area))
    if within is not None:
        if within.level == level:
            stmt = stmt.where(Area.id == within.id)
        else:
            stmt = stmt.where(getattr(Area, f"{within.level}_id") == within.id)
    rows = session.execute(stmt.order_by(Area.id)).all()
    # Sorted by id so rows can be scattered with searchsorted; codes follow that order.
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    codes = tuple(str(r[1]) for r in rows)
    return Catalog(
        ids=ids,
        codes=codes,
        km2=np.array([r[2] / 1e6 for r in rows], dtype=float),
        codes_json=json.dumps(codes, ensure_ascii=False, separators=(",", ":")),
        km2_json=json.dumps([round(r[2] / 1e6, 4) for r in rows], separators=(",", ":")),
    )


__all__ = ["AreaHeat", "AreaRef", "Catalog", "area_heat", "classify"]
