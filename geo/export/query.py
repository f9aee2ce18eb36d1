"""Reading problems, inspection points and areas for export, in chunks of columns.

One select per target (filter and access scope applied through ``ProblemFilter``), read
through a streaming cursor (server-side on PostgreSQL) in chunks of ``chunk_rows``. Each
chunk becomes a :class:`Chunk` of numpy columns (geo/export/rows.py turns ids and codes
into names and labels with vectorised lookups: no joins, no per-row Python). Times are
read as float epoch seconds (UTC) so neither backend parses datetimes row by row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.taxonomy import Taxonomy
from geo.export.rows import TIME_COLUMNS, Chunk, Columns, chunk_builder  # noqa: F401
from geo.reports.filters import ProblemFilter, Target
from geo.storage.db import is_postgres
from geo.storage.models import Area, InspectionPoint, Problem

DEFAULT_CHUNK_ROWS = 10_000
_JULIAN_EPOCH = 2440587.5  # Julian day of 1970-01-01T00:00:00Z


@dataclass(frozen=True)
class Page:
    """Which rows to read: extra WHERE conditions, an id list, limit/offset (OGC API)."""

    where: tuple[sa.ColumnElement[bool], ...] = ()
    ids: Sequence[int] | None = None
    limit: int | None = None
    offset: int = 0


def model_of(target: Target) -> type[Problem] | type[InspectionPoint] | type[Area]:
    """The mapped class read for ``target``."""
    models: dict[str, type[Problem] | type[InspectionPoint] | type[Area]] = {
        "problems": Problem,
        "points": InspectionPoint,
        "areas": Area,
    }
    return models[target]


def filtered(stmt: sa.Select[Any], target: Target, filt: ProblemFilter) -> sa.Select[Any]:
    """``stmt`` (over the target's table) restricted by ``filt`` and its scope."""
    if target == "problems":
        return filt.apply(stmt)
    if target == "points":
        return filt.apply_points(stmt)
    return filt.apply_areas(stmt)


def count_rows(
    session: so.Session, target: Target, filt: ProblemFilter, page: Page | None = None
) -> int:
    """How many rows of ``target`` the filter (and ``page.where``/``page.ids``) lets through."""
    model = model_of(target)
    stmt = _paged(filtered(sa.select(sa.func.count(model.id)), target, filt), model, page)
    return int(session.scalar(stmt) or 0)


COUNT_CAP = 100_000
"""Totals are counted up to this many rows: an exact count of a million rows costs more
than the page it comes with (a quarter of a second on PostGIS), so beyond it the answer
is "more than COUNT_CAP"."""


def count_up_to(session: so.Session, ids: sa.Select[Any], cap: int | None = None) -> int | None:
    """How many rows ``ids`` (a select of one column) gives, or None when more than
    ``cap`` (default ``COUNT_CAP``) do: the count stops there."""
    cap = COUNT_CAP if cap is None else cap
    inner = ids.limit(cap + 1).subquery()
    count = int(session.scalar(sa.select(sa.func.count()).select_from(inner)) or 0)
    return None if count > cap else count


def iter_chunks(
    session: so.Session,
    target: Target,
    filt: ProblemFilter,
    taxonomy: Taxonomy,
    lang: str = "zh",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    page: Page | None = None,
) -> Iterator[Chunk]:
    """Yield the rows of ``target`` that ``filt`` lets through, ordered by id, in chunks.

    Memory stays proportional to ``chunk_rows`` plus the lookup tables (areas, units,
    points), whatever the number of rows. Labels are in ``lang`` (zh default).
    """
    build = chunk_builder(session, target, taxonomy, lang, filt.as_of)
    stmt = _statement(session, target, filt, page)
    result = session.connection().execute(
        stmt, execution_options={"stream_results": True, "yield_per": chunk_rows}
    )
    names = list(result.keys())
    for rows in result.partitions(chunk_rows):
        yield build(dict(zip(names, _transpose(rows, len(names)), strict=True)))


def _transpose(rows: Sequence[Any], width: int) -> list[np.ndarray]:
    columns = list(zip(*rows, strict=True)) if rows else [()] * width
    out = []
    for values in columns:
        array = np.empty(len(values), dtype=object)
        array[:] = values
        out.append(array)
    return out


def _statement(
    session: so.Session, target: Target, filt: ProblemFilter, page: Page | None
) -> sa.Select[Any]:
    model = model_of(target)
    columns = {"problems": _problem_columns, "points": _point_columns, "areas": _area_columns}
    stmt = filtered(sa.select(*columns[target](session)), target, filt)
    stmt = _paged(stmt, model, page).order_by(model.id)
    if page is not None and page.limit is not None and page.ids is None:
        stmt = stmt.limit(page.limit).offset(page.offset)
    return stmt


def _paged(stmt: sa.Select[Any], model: Any, page: Page | None) -> sa.Select[Any]:
    if page is None:
        return stmt
    stmt = stmt.where(*page.where)
    if page.ids is not None:
        stmt = stmt.where(model.id.in_(list(page.ids)))
    return stmt


# --- columns ----------------------------------------------------------------------------


def epoch_seconds(session: so.Session, column: Any) -> sa.ColumnElement[float]:
    """A naive-UTC datetime column as float seconds since 1970 (NULL stays NULL)."""
    if is_postgres(session):
        return sa.cast(sa.extract("epoch", column), sa.Float)
    # julianday() is the cheapest date function of SQLite and returns a float directly.
    return (sa.func.julianday(column, type_=sa.Float) - _JULIAN_EPOCH) * 86400.0


def raw_wkb(session: so.Session, column: Any) -> sa.ColumnElement[bytes]:
    """A geometry column as plain WKB bytes, decoded later in bulk by shapely."""
    if is_postgres(session):
        return sa.func.ST_AsBinary(column, type_=sa.LargeBinary)
    return sa.type_coerce(column, sa.LargeBinary)


def _problem_columns(session: so.Session) -> list[Any]:
    p = Problem
    times = [epoch_seconds(session, getattr(p, c)).label(c) for c in TIME_COLUMNS]
    return [
        *(p.id, p.external_id, p.source, p.category, p.status, p.description),
        *times,
        *(p.reopen_count, p.campaign, p.unit_id, p.point_id),
        *(p.district_id, p.street_id, p.community_id, p.grid_id, p.outside, p.lon, p.lat),
    ]


def _point_columns(session: so.Session) -> list[Any]:
    p = InspectionPoint
    return [
        *(p.id, p.code, p.name, p.kind, p.address, p.unit_id),
        *(p.district_id, p.street_id, p.community_id, p.grid_id, p.outside, p.lon, p.lat),
        raw_wkb(session, p.geom).label("wkb"),
    ]


def _area_columns(session: so.Session) -> list[Any]:
    a = Area
    return [
        *(a.id, a.code, a.name, a.level, a.parent_id, a.area_m2),
        *(a.district_id, a.street_id, a.community_id),
        raw_wkb(session, a.geom).label("wkb"),
    ]
