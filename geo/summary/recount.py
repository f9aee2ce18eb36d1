"""The summary counts recounted in SQL from the problems table: the four measures'
aggregates (the SQL side of geo/summary/cubes.py), one cube's rows at one level (for
``geo.summary.counts.rebuild``), the local found day, and the comparison of stored
with recounted rows (``geo.summary.counts.mismatches``). Times are naive UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql

from geo.storage.db import is_postgres
from geo.storage.models import InspectionPoint, Problem
from geo.storage.statuses import CLOSED, VOIDED, map_overdue_sql, unresolved_sql
from geo.summary.merge import SummaryTable


def stored_rows(
    session: so.Session, model: Any, table: SummaryTable, *where: sa.ColumnElement[bool]
) -> pd.DataFrame:
    """The stored rows of a summary ``table`` (``model``) as a frame of its columns."""
    columns = list(table.columns)
    rows = session.execute(sa.select(*(getattr(model, c) for c in columns)).where(*where))
    return pd.DataFrame(rows.all(), columns=columns)


def differing_rows(
    stored: pd.DataFrame, recount: pd.DataFrame, table: SummaryTable
) -> pd.DataFrame:
    """Keys whose stored measures differ from the recount (a missing row counts as zeros;
    float sums within rounding agree), with the ``table`` name and ``<measure>_true``."""
    keys = list(table.keys)
    merged = stored.merge(recount, on=keys, how="outer", suffixes=("", "_true"))
    merged = merged.fillna({c: 0 for c in merged.columns if c not in keys})
    differs = np.zeros(len(merged), dtype=bool)
    for m in table.measures:
        stored_values = merged[m].to_numpy(dtype="float64")
        true_values = merged[f"{m}_true"].to_numpy(dtype="float64")
        differs |= ~np.isclose(stored_values, true_values, rtol=1e-9, atol=1e-6)
    return merged[differs].assign(table=table.name).reset_index(drop=True)


def local_day(session: so.Session, column: Any, offset: int) -> sa.Label[str]:
    """SQL expression: 'YYYY-MM-DD' of a naive-UTC timestamp column at UTC+``offset`` min."""
    if is_postgres(session):
        shifted = column + sa.cast(sa.literal(f"{offset} minutes"), postgresql.INTERVAL)
        return sa.func.to_char(shifted, "YYYY-MM-DD").label("day")
    return sa.func.strftime("%Y-%m-%d", column, f"{offset:+d} minutes").label("day")


def recount_select(
    session: so.Session,
    cube: str,
    dims: tuple[str, ...],
    column: str,
    level: str,
    as_of: datetime,
    offset: int,
) -> Any:
    """INSERT-ready SELECT: the rows of one ``cube`` at one ``level`` (area ids from
    ``column``), recounted from the problems table with overdue as of ``as_of``."""
    area = getattr(Problem, column)
    expressions = {
        "category": Problem.category,
        "kind": sa.func.coalesce(InspectionPoint.kind, ""),
        "campaign": sa.func.coalesce(Problem.campaign, ""),
        "day": local_day(session, Problem.found_at, offset),
    }
    keys = [expressions[d] for d in dims]
    padded = [*keys, *([sa.literal("", sa.String)] * (3 - len(keys)))]
    return (
        sa.select(
            sa.literal(cube, sa.String),
            sa.literal(level, sa.String),
            *padded,
            area,
            *measure_sums(as_of),
        )
        .select_from(Problem)
        .outerjoin(InspectionPoint, InspectionPoint.id == Problem.point_id)
        .where(area.is_not(None))
        .group_by(*keys, area)
    )


def measure_sums(as_of: datetime) -> list[sa.ColumnElement[int]]:
    """SQL aggregates of the four measures over problems, overdue as of ``as_of``."""
    unresolved = unresolved_sql()
    on_time = sa.and_(
        Problem.status == CLOSED,
        sa.or_(
            Problem.deadline.is_(None),
            sa.and_(Problem.closed_at.is_not(None), Problem.closed_at <= Problem.deadline),
        ),
    )
    overdue = map_overdue_sql(as_of)
    return [
        sa.func.count().filter(Problem.status != VOIDED).label("n"),  # in no figure
        sa.func.coalesce(sa.func.sum(sa.case((unresolved, 1), else_=0)), 0).label("unresolved"),
        sa.func.coalesce(sa.func.sum(sa.case((overdue, 1), else_=0)), 0).label("overdue"),
        sa.func.coalesce(sa.func.sum(sa.case((on_time, 1), else_=0)), 0).label("closed_on_time"),
    ]
