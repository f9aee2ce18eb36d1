"""Quarterly scores per area under several evaluation schemes (三标融合).

Each area starts at the scheme's ``base_score`` (100) and loses, per category (an
indicator, 测评指标), the category's deduction weight in that scheme (taxonomy
``[categories.X.deductions]``) for every failing location found in the quarter:

- a location is the inspection point when the problem is linked to one, else the
  problem's position rounded to 4 decimal degrees (about 10 m); a (category, location)
  counts once per quarter however often it was found (voided reports not at all);
- with the scheme's ``per_points``, the count of failing locations is normalised per
  that many inspection points of the area: × per_points ÷ max(points, per_points);
- per evaluation an indicator deducts at most ``indicator_cap`` × its weight;
- a scheme with ``area_kinds`` covers only problems and areas in streets/communities of
  those kinds (rural scheme → towns and villages, by the code's sequence, DOMAIN.md);
  an area it does not cover gets no score under it (None).

One inspection feeds every scheme; each scheme still gets its own result. Scores do not
go below 0. ``deductions`` explains each area's deduction per scheme and category.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import InvalidParameterError
from geo.core.periods import Period
from geo.core.taxonomy import Scheme, Taxonomy
from geo.core.text import tr
from geo.storage.models import Area, InspectionPoint, Problem
from geo.storage.statuses import VOIDED

SCORE_LEVELS: tuple[str, ...] = ("district", "street", "community", "grid")


def quarterly_scores(
    session: so.Session,
    level: str,
    quarter: Period,
    taxonomy: Taxonomy,
    tz: str = "Asia/Shanghai",
) -> pd.DataFrame:
    """Scores of every area of ``level`` for the problems found in ``quarter``.

    Returns one row per area, sorted by code: id, code, name, indicators (distinct
    category × location pairs), problems (found in the quarter), points (inspection
    points), then per scheme code ``<scheme>_deduction`` and ``<scheme>`` (base −
    deduction, floored at 0; both None where the scheme does not cover the area) and
    ``<scheme>_detail`` (per category: label, locations, deduction, capped)."""
    _check(level, quarter)
    start, end = quarter.utc_bounds(tz)
    areas = _areas(session, level)
    found = _indicators(session, level, start, end)
    kinds = _kinds(session)
    out = areas[["id", "code", "name", "points"]].copy()
    counted = found.groupby("area_id").agg(indicators=("category", "size"), problems=("n", "sum"))
    out = out.join(counted, on="id")
    out[["indicators", "problems"]] = out[["indicators", "problems"]].fillna(0).astype("int64")
    for code, scheme in taxonomy.schemes.items():
        covered = _covered(areas, kinds, scheme)
        in_scheme = found[_in_kinds(found, kinds, scheme)]
        deduction, detail = _deductions(in_scheme, out, scheme, code, taxonomy)
        out[f"{code}_deduction"] = np.where(covered, deduction, None)
        score = (scheme.base_score - deduction).clip(lower=0)
        out[code] = np.where(covered, score, None)
        out[f"{code}_detail"] = [d if c else [] for d, c in zip(detail, covered, strict=True)]
    return out.reset_index(drop=True)


def _check(level: str, quarter: Period) -> None:
    if level not in SCORE_LEVELS:
        raise InvalidParameterError(
            tr(
                f"未知的区域层级 '{level}'; 可选: {', '.join(SCORE_LEVELS)}",
                f"unknown level '{level}'; one of: {', '.join(SCORE_LEVELS)}",
            )
        )
    if quarter.kind != "quarter":
        raise InvalidParameterError(
            tr(
                f"季度测评需要季度 '{quarter.code}'",
                f"scores need a quarter such as 2026-Q4, not '{quarter.code}'",
            )
        )


def _areas(session: so.Session, level: str) -> pd.DataFrame:
    """The areas of ``level`` with their ancestry and number of inspection points."""
    owner = getattr(InspectionPoint, f"{level}_id")
    points = (
        sa.select(owner.label("area_id"), sa.func.count().label("points"))
        .where(owner.is_not(None))
        .group_by(owner)
        .subquery()
    )
    stmt = (
        sa.select(
            Area.id,
            Area.code,
            Area.name,
            Area.district_id,
            Area.street_id,
            Area.community_id,
            sa.func.coalesce(points.c.points, 0),
        )
        .outerjoin(points, points.c.area_id == Area.id)
        .where(Area.level == level)
        .order_by(Area.code)
    )
    columns = ["id", "code", "name", "district_id", "street_id", "community_id", "points"]
    frame = pd.DataFrame(session.execute(stmt).all(), columns=columns)
    frame["level"] = level
    return frame


def _indicators(session: so.Session, level: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Distinct (area, category, location) found in the quarter, with the problems' street
    and community (for the schemes' area kinds) and how many problems."""
    area = getattr(Problem, f"{level}_id")
    unlinked = Problem.point_id.is_(None)
    loc_x = sa.case((unlinked, sa.func.round(Problem.lon * 10_000)), else_=None)
    loc_y = sa.case((unlinked, sa.func.round(Problem.lat * 10_000)), else_=None)
    keys = [area, Problem.category, Problem.point_id, loc_x, loc_y]
    stmt = (
        sa.select(
            *keys,
            sa.func.min(Problem.street_id),
            sa.func.min(Problem.community_id),
            sa.func.count(),
        )
        .where(
            area.is_not(None),
            Problem.found_at >= start,
            Problem.found_at < end,
            Problem.status != VOIDED,  # a false report deducts nothing
        )
        .group_by(*keys)
    )
    columns = ["area_id", "category", "point_id", "x", "y", "street_id", "community_id", "n"]
    return pd.DataFrame(session.execute(stmt).all(), columns=columns)


def _kinds(session: so.Session) -> pd.DataFrame:
    """Every street and community with its district and street ids and its kind, by its
    code's sequence (DOMAIN.md): streets 001–099 ``street``, 100–399 ``town``;
    communities 001–199 ``community``, 200–399 ``village``. Codes of other shapes are
    urban (``street`` / ``community``)."""
    rows = session.execute(
        sa.select(Area.id, Area.level, Area.code, Area.district_id, Area.street_id).where(
            Area.level.in_(("street", "community"))
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["id", "level", "code", "district_id", "street_id"])
    frame["kind"] = [_kind(lv, c) for lv, c in zip(frame["level"], frame["code"], strict=True)]
    return frame


def _kind(level: str, code: str) -> str:
    tail = code[-3:] if code.isdigit() and len(code) in (9, 12) else ""
    rural = tail != "" and (100 if level == "street" else 200) <= int(tail) <= 399
    if level == "street":
        return "town" if rural else "street"
    return "village" if rural else "community"


def _in_kinds(frame: pd.DataFrame, kinds: pd.DataFrame, scheme: Scheme) -> pd.Series:
    """Rows (with street_id, community_id) in a street or community the scheme covers."""
    if not scheme.area_kinds:
        return pd.Series(True, index=frame.index)
    wanted = set(kinds.loc[kinds["kind"].isin(scheme.area_kinds), "id"])
    return frame["street_id"].isin(wanted) | frame["community_id"].isin(wanted)


def _covered(areas: pd.DataFrame, kinds: pd.DataFrame, scheme: Scheme) -> np.ndarray:
    """Which areas the scheme covers: itself or an ancestor of a covered kind, or (for
    districts and streets) a covered street/community inside it."""
    if not scheme.area_kinds:
        return np.ones(len(areas), dtype=bool)
    parts = kinds[kinds["kind"].isin(scheme.area_kinds)]
    wanted = set(parts["id"])
    own = areas["id"].isin(wanted) | areas["street_id"].isin(wanted)
    own |= areas["community_id"].isin(wanted)
    inside = areas["id"].isin(set(parts["district_id"]) | set(parts["street_id"]))
    return np.asarray(own | inside, dtype=bool)


def _deductions(
    found: pd.DataFrame, out: pd.DataFrame, scheme: Scheme, code: str, taxonomy: Taxonomy
) -> tuple[pd.Series, list[list[dict[str, Any]]]]:
    """Per area (rows of ``out``): the scheme's deduction and its detail per category."""
    per_area: dict[int, list[dict[str, Any]]] = {}
    points = dict(zip(out["id"], out["points"], strict=True))
    counts = found.groupby(["area_id", "category"]).size()
    for (area_id, category), locations in counts.items():
        known = taxonomy.categories.get(category)
        weight = known.deductions.get(code, 0.0) if known else 0.0
        if weight <= 0:
            continue
        amount = float(locations)
        if scheme.per_points:
            amount *= scheme.per_points / max(float(points.get(area_id, 0)), scheme.per_points)
        raw = weight * amount
        cap = None if scheme.indicator_cap is None else weight * scheme.indicator_cap
        deducted = raw if cap is None else min(raw, cap)
        per_area.setdefault(int(area_id), []).append(
            {
                "category": category,
                "label": taxonomy.category_label(category),
                "locations": int(locations),
                "deduction": round(deducted, 4),
                "capped": cap is not None and raw > cap,
            }
        )
    details = [sorted(per_area.get(int(i), []), key=lambda d: -d["deduction"]) for i in out["id"]]
    totals = pd.Series(
        [round(sum(d["deduction"] for d in ds), 4) for ds in details], index=out.index
    )
    return totals, details
