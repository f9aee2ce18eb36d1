"""The summary bookkeeping row (``summary_meta``): data versions (for ETags), the
overdue clock, the local day's UTC offset and the stale flag; locked and bumped by every
summary writer (geo/summary/counts.py). Read it with ``geo.summary.counts.read_meta``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import ConfigError
from geo.core.text import tr
from geo.storage.models import SummaryMeta

VERSIONS = ("problems_version", "areas_version", "points_version")


@dataclass(frozen=True)
class Meta:
    """Summary bookkeeping read by the heat maps."""

    problems_version: int
    areas_version: int
    points_version: int
    overdue_as_of: datetime
    day_offset_minutes: int
    stale: bool


def meta_columns() -> list[Any]:
    """The columns of ``summary_meta`` in ``Meta`` order."""
    return [
        SummaryMeta.problems_version,
        SummaryMeta.areas_version,
        SummaryMeta.points_version,
        SummaryMeta.overdue_as_of,
        SummaryMeta.day_offset_minutes,
        SummaryMeta.stale,
    ]


def lock_meta(session: so.Session, bump: str) -> Meta:
    """Bump one version and return the row; on PostgreSQL this row lock also serialises
    summary writers with ``advance_clock`` (SQLite writers are serial anyway)."""
    column = getattr(SummaryMeta, bump)
    row = session.execute(
        sa.update(SummaryMeta)
        .where(SummaryMeta.id == 1)
        .values({column: column + 1})
        .returning(*meta_columns())
    ).first()
    if row is None:
        raise ConfigError(
            tr(
                "数据库未初始化：请运行 `civicgrid init`",
                "summary bookkeeping missing: run `civicgrid init`",
            )
        )
    return meta_from_row(row)


def meta_from_row(row: Any) -> Meta:
    """A ``Meta`` from a row of ``meta_columns()``."""
    return Meta(
        problems_version=int(row[0]),
        areas_version=int(row[1]),
        points_version=int(row[2]),
        overdue_as_of=row[3],
        day_offset_minutes=int(row[4]),
        stale=bool(row[5]),
    )
