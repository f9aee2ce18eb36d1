"""Problem features built as GeoJSON text by the database itself (the fast path).

For the big pulls (GeoJSON and GeoJSON Text Sequences of problems, in WGS-84) the
database renders each RFC 7946 Feature with its JSON functions (SQLite ``json_object``,
PostgreSQL ``json_build_object``): one text per row instead of thirty Python values,
which makes a million-feature export several times faster. The text comes back as its
UTF-8 bytes (SQLite ``CAST(… AS BLOB)``, PostgreSQL ``convert_to(…, 'UTF8')``), ready
to be written: Python never decodes and re-encodes a feature. Names come from
primary-key joins, labels from CASE expressions over the taxonomy, times from the
zone's UTC offset.

The output equals geo/export/encode.py ``feature_texts`` feature for feature (tests
compare them). It needs a time zone whose UTC offset is constant over the data's time
range (true for Asia/Shanghai since 1991); ``sql_offset`` says when it is, otherwise
callers use the columnar Python path. Coordinates: EPSG:4326 lon/lat, 6 decimals.
"""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects.postgresql import aggregate_order_by

from geo.core.taxonomy import Taxonomy
from geo.export.encode import offset_text
from geo.export.fields import ANCESTRY_LEVELS, PROBLEM_FIELDS
from geo.export.query import TIME_COLUMNS, Page
from geo.reports.filters import ProblemFilter
from geo.storage.db import is_postgres
from geo.storage.models import Area, InspectionPoint, Problem, ResponsibleUnit
from geo.storage.statuses import map_overdue_sql

_PRECISION = 6
EXPORT_THREADS = 2
"""Database connections rendering an export at once."""
_LOOKAHEAD = EXPORT_THREADS + 1
"""Runs asked for ahead of the consumer: every connection busy, one run ready."""


def sql_offset(session: so.Session, tz: str) -> int | None:
    """The UTC offset (seconds) of ``tz`` if it is the same all over the stored problems'
    time range (from a year before the first found time to five years after the last or
    now), else None."""
    first, last = session.execute(
        sa.select(sa.func.min(Problem.found_at), sa.func.max(Problem.found_at))
    ).one()
    now = datetime.now(UTC).replace(tzinfo=None)
    start = (first or now) - timedelta(days=366)
    end = max(last or now, now) + timedelta(days=5 * 366)
    return _fixed_offset(tz, start.year, end.year)


@functools.lru_cache(maxsize=64)
def _fixed_offset(tz: str, first_year: int, last_year: int) -> int | None:
    """``tz``'s UTC offset (seconds) if it is the same every day of these whole years,
    else None. Kept: it is asked on every OGC page and costs more than the page's SQL."""
    utc = pd.date_range(f"{first_year}-01-01", f"{last_year}-12-31", freq="D", tz="UTC")
    offsets = (utc.tz_convert(tz).tz_localize(None) - utc.tz_localize(None)).unique()
    return int(offsets[0].total_seconds()) if len(offsets) == 1 else None


def problem_features(
    session: so.Session,
    filt: ProblemFilter,
    taxonomy: Taxonomy,
    lang: str,
    offset_s: int,
    page: Page | None = None,
) -> sa.Select[Any]:
    """A select of (feature JSON as UTF-8 bytes, lon, lat) per problem, ordered by id.

    ``offset_s`` is the fixed UTC offset of the export's time zone, in seconds;
    lon/lat are EPSG:4326 degrees, rounded to 6 decimals in the feature.
    """
    shape = _feature_shape(taxonomy, lang, offset_s, is_postgres(session))
    stmt: sa.Select[Any] = sa.select(*shape.columns)
    stmt = stmt.select_from(Problem).outerjoin(
        ResponsibleUnit, ResponsibleUnit.id == Problem.unit_id
    )
    stmt = stmt.outerjoin(shape.point, shape.point.id == Problem.point_id)
    for level, alias in shape.areas.items():
        stmt = stmt.outerjoin(alias, alias.id == getattr(Problem, f"{level}_id"))
    stmt = filt.apply(stmt).order_by(Problem.id).params({_AS_OF: filt.as_of})
    if page is not None:
        stmt = stmt.where(*page.where)
        if page.ids is not None:
            stmt = stmt.where(Problem.id.in_(list(page.ids)))
        elif page.limit is not None:
            stmt = stmt.limit(page.limit).offset(page.offset)
    return stmt


_AS_OF = "feature_as_of"
"""The bound parameter of the overdue rule's time in a cached feature expression."""


@dataclass(frozen=True)
class _FeatureShape:
    """The feature expression (the select's columns) and the aliases it reads from."""

    columns: tuple[Any, ...]
    areas: dict[str, Any]
    point: Any


_SHAPES: dict[tuple[int, str, int, bool], tuple[Taxonomy, _FeatureShape]] = {}
_SHAPES_LOCK = threading.Lock()


def _feature_shape(taxonomy: Taxonomy, lang: str, offset_s: int, pg: bool) -> _FeatureShape:
    """The feature expression for these labels, zone and backend, built once: it has
    about a hundred SQL elements and cost more to build than an OGC page's query took to
    run. Expressions are immutable, so requests on several threads share them; the
    overdue rule's time is the bound parameter ``_AS_OF``."""
    key = (id(taxonomy), lang, offset_s, pg)
    with _SHAPES_LOCK:
        kept = _SHAPES.get(key)
    if kept is not None and kept[0] is taxonomy:
        return kept[1]
    areas = {level: so.aliased(Area, name=f"a_{level}") for level in ANCESTRY_LEVELS}
    point = so.aliased(InspectionPoint, name="pt")
    as_of = sa.bindparam(_AS_OF, type_=Problem.deadline.type)
    values = _property_values(taxonomy, lang, offset_s, as_of, areas, point, pg)
    props = _json_object(pg, [(f.name, values[f.name]) for f in PROBLEM_FIELDS])
    feature = _json_object(
        pg,
        [("type", "Feature"), ("id", Problem.id), ("geometry", _point(pg)), ("properties", props)],
    )
    shape = _FeatureShape(
        (_utf8(feature, pg).label("feature"), Problem.lon, Problem.lat), areas, point
    )
    with _SHAPES_LOCK:
        if len(_SHAPES) >= 64:  # taxonomies of apps created and dropped (tests)
            _SHAPES.clear()
        _SHAPES[key] = (taxonomy, shape)
    return shape


def _property_values(
    taxonomy: Taxonomy,
    lang: str,
    offset_s: int,
    as_of: Any,
    areas: dict[str, Any],
    point: Any,
    pg: bool,
) -> dict[str, Any]:
    p = Problem
    values: dict[str, Any] = {
        "id": p.id,
        "external_id": p.external_id,
        "source": p.source,
        "category": p.category,
        "category_label": _labels(p.category, taxonomy.categories, lang),
        "status": p.status,
        "status_label": _labels(p.status, taxonomy.statuses, lang),
        "overdue": _bool(map_overdue_sql(as_of), pg),
        "description": p.description,
        **{c: _iso(getattr(p, c), offset_s, pg) for c in TIME_COLUMNS},
        "reopen_count": p.reopen_count,
        "campaign": p.campaign,
        "campaign_label": _labels(p.campaign, taxonomy.campaigns, lang),
        "unit": ResponsibleUnit.name,
        "point_code": point.code,
        "point_name": point.name,
        "point_kind": point.kind,
        "point_kind_label": _labels(point.kind, taxonomy.point_kinds, lang),
        "outside": _bool(p.outside, pg),
    }
    for level, alias in areas.items():
        values[f"{level}_code"] = alias.code
        values[f"{level}_name"] = alias.name
    return values


def _json_object(pg: bool, pairs: list[tuple[str, Any]]) -> Any:
    args: list[Any] = []
    for key, value in pairs:
        args += [_text(key), _text(value) if isinstance(value, str) else value]
    return (sa.func.json_build_object if pg else sa.func.json_object)(*args)


def _utf8(json_value: Any, pg: bool) -> Any:
    """The JSON value's text as UTF-8 bytes: SQLite stores text as UTF-8, so a cast to
    BLOB hands over its bytes unchanged; PostgreSQL converts from the server encoding."""
    text = sa.cast(json_value, sa.Text)
    if pg:
        return sa.func.convert_to(text, sa.literal_column("'UTF8'"), type_=sa.LargeBinary)
    return sa.cast(text, sa.LargeBinary)


def _text(value: str) -> Any:
    return sa.cast(sa.literal(value, sa.Text), sa.Text)


def _point(pg: bool) -> Any:
    lon, lat = (_rounded(Problem.lon, pg), _rounded(Problem.lat, pg))
    array = (sa.func.json_build_array if pg else sa.func.json_array)(lon, lat)
    return _json_object(pg, [("type", "Point"), ("coordinates", array)])


def _rounded(column: Any, pg: bool) -> Any:
    if pg:
        return sa.func.round(sa.cast(column, sa.Numeric), _PRECISION)
    return sa.func.round(column, _PRECISION)


def _labels(column: Any, items: Any, lang: str) -> Any:
    """The label of the code in ``column`` (the code itself when not in the taxonomy)."""
    mapping = {code: item.label(lang) for code, item in items.items()}
    if not mapping:
        return column
    return sa.case(mapping, value=column, else_=column)


def _bool(condition: Any, pg: bool) -> Any:
    if pg:
        return sa.case((condition, sa.true()), else_=sa.false())
    return sa.func.json(sa.case((condition, "true"), else_="false"))


def _iso(column: Any, offset_s: int, pg: bool) -> Any:
    suffix = offset_text(offset_s)
    if pg:
        local = column + sa.func.make_interval(0, 0, 0, 0, 0, 0, offset_s)
        return sa.func.to_char(local, 'YYYY-MM-DD"T"HH24:MI:SS') + suffix
    return sa.func.strftime("%Y-%m-%dT%H:%M:%S", column, f"{offset_s:+d} seconds") + suffix


@dataclass(frozen=True)
class FeatureRun:
    """The features of one id range as one UTF-8 text, joined by a separator; how many
    they are and their bounding box (min lon, min lat, max lon, max lat; EPSG:4326)."""

    text: bytes
    count: int
    bounds: tuple[float, float, float, float]


def feature_runs(
    session: so.Session,
    filt: ProblemFilter,
    taxonomy: Taxonomy,
    lang: str,
    offset_s: int,
    chunk_rows: int,
    separator: bytes,
) -> Iterator[FeatureRun]:
    """All features of ``filt`` in id order, as runs of ids ``chunk_rows`` wide, each
    run's features joined by ``separator`` in the database.

    One row per run, not one per problem: Python handles no per-feature object (no
    row, no GIL hand-over per feature, nothing for the garbage collector). The id span
    is rendered by ``EXPORT_THREADS`` database connections at once (the database works
    outside Python's GIL), each run read as soon as the consumer asks for it: at most
    ``EXPORT_THREADS + 1`` runs are in memory. Each run is its own read transaction: a
    problem changed during the export appears once, as it was when its run was read.
    """
    bounds: list[Any] = [sa.func.min(Problem.id), sa.func.max(Problem.id)]
    span: sa.Select[Any] = sa.select(*bounds)
    low, high = session.execute(filt.apply(span)).one()
    if low is None:
        return
    engine = session.get_bind().engine
    starts = iter(range(int(low), int(high) + 1, chunk_rows))

    def render(start: int) -> FeatureRun | None:
        where = (Problem.id >= start, Problem.id < start + chunk_rows)
        stmt = problem_features(session, filt, taxonomy, lang, offset_s, Page(where=where))
        with engine.connect() as conn:
            text, count, *box = conn.execute(_joined(stmt, separator, engine)).one()
        return FeatureRun(text, count, (box[0], box[1], box[2], box[3])) if count else None

    pool = ThreadPoolExecutor(max_workers=EXPORT_THREADS, thread_name_prefix="civicgrid-export")
    try:
        pending = deque(pool.submit(render, start) for start in islice(starts, _LOOKAHEAD))
        while pending:
            run = pending.popleft().result()
            following = next(starts, None)
            if following is not None:
                pending.append(pool.submit(render, following))
            if run is not None:
                yield run
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _joined(stmt: sa.Select[Any], separator: bytes, engine: sa.Engine) -> sa.Select[Any]:
    """One row: the features of ``stmt`` joined in id order, their count and bounds."""
    rows = stmt.add_columns(Problem.id.label("feature_id")).subquery()
    text: Any
    if is_postgres(engine):
        in_order = aggregate_order_by(sa.literal(separator, sa.LargeBinary), rows.c.feature_id)
        text = sa.func.string_agg(rows.c.feature, in_order, type_=sa.LargeBinary)
    else:
        # group_concat joins text (one cast to BLOB for the run) in the order of its
        # input, the id-ordered subquery (an aggregate query does not flatten it).
        joined = sa.func.group_concat(sa.cast(rows.c.feature, sa.Text), separator.decode())
        text = sa.cast(joined, sa.LargeBinary)
    lon, lat = rows.c.lon, rows.c.lat
    columns: list[Any] = [text, sa.func.count()]
    return sa.select(
        *columns,
        *(sa.func.min(lon), sa.func.min(lat), sa.func.max(lon), sa.func.max(lat)),
    )
