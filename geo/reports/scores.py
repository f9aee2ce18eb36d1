"""Quarterly scores per area under several evaluation schemes (三标融合), computed in SQL.

Each area starts at the scheme's ``base_score`` (100) and loses, for every indicator
found in the quarter, the category's deduction weight in that scheme (taxonomy
``[categories.X.deductions]``). An indicator is a (category, location) pair and is
counted once per quarter even when it was found several times: the location is the
inspection point when the problem is linked to one, else the problem's position
rounded to 4 decimal degrees (about 10 m). One inspection feeds every scheme; each
scheme still gets its own result, side by side. Scores do not go below 0.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import InvalidParameterError
from geo.core.periods import Period
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.storage.models import Area, Problem
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

    Returns one row per area: id, code, name, indicators (distinct category × location
    pairs), problems (found in the quarter), then per scheme code ``<scheme>_deduction``
    and ``<scheme>`` (the score, base − deduction, floored at 0). Sorted by code.
    """
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
    start, end = quarter.utc_bounds(tz)
    indicators = _indicators(level, start, end).subquery()
    deductions = _deductions(session, indicators, taxonomy, level)
    return _scores(deductions, taxonomy)


def _indicators(level: str, start: datetime, end: datetime) -> sa.Select[Any]:
    """Distinct (area, category, location) found in the quarter, with how many problems."""
    area = getattr(Problem, f"{level}_id")
    unlinked = Problem.point_id.is_(None)
    loc_x = sa.case((unlinked, sa.func.round(Problem.lon * 10_000)), else_=None)
    loc_y = sa.case((unlinked, sa.func.round(Problem.lat * 10_000)), else_=None)
    return (
        sa.select(
            area.label("area_id"),
            Problem.category,
            Problem.point_id,
            loc_x.label("loc_x"),
            loc_y.label("loc_y"),
            sa.func.count().label("problems"),
        )
        .where(
            area.is_not(None),
            Problem.found_at >= start,
            Problem.found_at < end,
            Problem.status != VOIDED,  # a false report deducts nothing
        )
        .group_by(area, Problem.category, Problem.point_id, loc_x, loc_y)
    )


def _deductions(
    session: so.Session, indicators: sa.Subquery, taxonomy: Taxonomy, level: str
) -> pd.DataFrame:
    """Per area: indicator and problem counts, and the deduction sum of every scheme."""
    sums = [
        sa.func.coalesce(
            sa.func.sum(
                sa.case(
                    {c.code: c.deductions.get(code, 0.0) for c in taxonomy.categories.values()},
                    value=indicators.c.category,
                    else_=0.0,
                )
            ),
            0.0,
        ).label(code)
        for code in taxonomy.schemes
    ]
    stmt = (
        sa.select(
            Area.id,
            Area.code,
            Area.name,
            sa.func.count(indicators.c.area_id).label("indicators"),
            sa.func.coalesce(sa.func.sum(indicators.c.problems), 0).label("problems"),
            *sums,
        )
        .select_from(Area)
        .join(indicators, indicators.c.area_id == Area.id, isouter=True)
        .where(Area.level == level)
        .group_by(Area.id, Area.code, Area.name)
        .order_by(Area.code)
    )
    columns = ["id", "code", "name", "indicators", "problems", *taxonomy.schemes]
    return pd.DataFrame(session.execute(stmt).all(), columns=columns)


def _scores(frame: pd.DataFrame, taxonomy: Taxonomy) -> pd.DataFrame:
    out = frame[["id", "code", "name"]].copy()
    out["indicators"] = frame["indicators"].astype("int64")
    out["problems"] = frame["problems"].astype("int64")
    for code, scheme in taxonomy.schemes.items():
        deduction = frame[code].astype("float64").round(2)
        out[f"{code}_deduction"] = deduction
        out[code] = (scheme.base_score - deduction).clip(lower=0).round(2)
    return out
