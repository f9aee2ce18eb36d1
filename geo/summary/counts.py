"""Per-area summary counts of problems, kept up to date in the writer's transaction.

Heat maps and rankings read these instead of scanning the problems table, so their cost
does not grow with the number of problems. Every code path that inserts problems,
changes their status, deadline or other attributes, or moves them between areas calls
``apply_changes`` with the affected rows as they were before and as they are after, in
the same transaction (an ingest, which only adds problems, sums its whole batch with
``geo.summary.batch.BatchCounts`` and hands it to ``add_counts`` once). ``mismatches``
compares the stored counts with a recount (tests), ``rebuild`` recomputes everything in
SQL. The pandas side of the definitions lives in geo/summary/cubes.py, the writing in
geo/summary/merge.py.

Contract for callers: ``before`` / ``after`` frames carry at least ``SOURCE_COLUMNS``
(extra columns are ignored; ``snapshot`` reads them for given problem ids); either may be
None. Times in the frames are naive UTC datetimes, as stored.

The counts are kept in *cubes* (see ``CUBES``): per area and level, broken down by
nothing, by category, point kind, campaign, all three, or by local found day. Each row
holds four measures: problems, unresolved (not closed), overdue and closed on time.

Overdue depends on the clock. Rows count as overdue the unresolved problems whose
deadline is before ``summary_meta.overdue_as_of``; a reader adds the few whose deadline
fell between that instant and now (``geo.reports.heat``), and ``advance_clock`` moves the instant
forward (run by ingest and by ``civicgrid summary refresh``), so that correction stays
small. Found days are local dates at the fixed offset ``day_offset_minutes`` (480 = UTC+8,
China has no daylight saving time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql

from geo.core.errors import ConfigError
from geo.core.text import tr
from geo.storage.db import is_postgres
from geo.storage.models import (
    ANCESTRY_COLUMNS,
    STATUSES,
    Area,
    AreaSummary,
    InspectionPoint,
    Problem,
    RateSummary,
    SummaryMeta,
)
from geo.summary.cubes import (
    CLOSED,
    CUBES,
    LEVEL_OF_COLUMN,
    MEASURES,
    NOT_UNRESOLVED,
    ROW_KEYS,
    contributions,
    cube_rows,
)
from geo.summary.merge import AREA_SUMMARY, RATE_SUMMARY, SummaryTable, add_rows
from geo.summary.rate_cubes import (
    RATE_SOURCE_COLUMNS,
    empty_rows,
    rate_rows,
    sum_rate_rows,
)

UNRESOLVED_STATUSES: tuple[str, ...] = (*(s for s in STATUSES if s != CLOSED), "held")
"""Statuses that count as unresolved: not closed and not voided (held ones still count)."""

PROBLEM_COLUMNS: tuple[str, ...] = (
    "category",
    "status",
    "campaign",
    "point_id",
    "found_at",
    "deadline",
    "closed_at",
)
"""Problem attribute columns the summary depends on (besides the area ancestry)."""

SOURCE_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys((*ANCESTRY_COLUMNS, *PROBLEM_COLUMNS, *RATE_SOURCE_COLUMNS))
)
"""Problem columns a caller must pass to ``apply_changes`` (area and rate summaries)."""

KEY_COLUMNS: tuple[str, ...] = tuple(c for c in SOURCE_COLUMNS if c not in ANCESTRY_COLUMNS)
"""The ``SOURCE_COLUMNS`` besides the area ancestry."""

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


def apply_changes(
    session: so.Session, before: pd.DataFrame | None, after: pd.DataFrame | None
) -> int:
    """Move the summary counts from the ``before`` state of some problems to ``after``.

    Steps: lock the bookkeeping row (and bump the problems version), compute each
    frame's contribution to every cube, subtract ``before`` from ``after``, add the
    non-zero differences to the stored rows. Returns the number of summary rows touched.
    """
    frames = [(f, s) for f, s in ((before, -1), (after, 1)) if f is not None and len(f)]
    if not frames:
        return 0
    for frame, _ in frames:
        missing = [c for c in SOURCE_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"summary.apply_changes: frame lacks columns {missing}")
    meta = _lock_meta(session, bump="problems_version")
    kinds = _point_kinds(session, [f for f, _ in frames])
    offset = meta.day_offset_minutes
    areas = _net_change(
        [(cube_rows(contributions(f, meta.overdue_as_of, offset, kinds)), s) for f, s in frames],
        AREA_SUMMARY,
    )
    rates = _net_change([(rate_rows(f, offset), s) for f, s in frames], RATE_SUMMARY)
    add_rows(session, areas)
    add_rows(session, rates, table=RATE_SUMMARY)
    return len(areas) + len(rates)


def _net_change(parts: list[tuple[pd.DataFrame, int]], table: SummaryTable) -> pd.DataFrame:
    """The rows of ``table`` times their sign (``after`` +1, ``before`` -1), added up per
    key; keys whose measures all cancel out are dropped."""
    measures = list(table.measures)
    signed = [rows.assign(**{m: rows[m] * sign for m in measures}) for rows, sign in parts]
    delta = pd.concat(signed, ignore_index=True)
    delta = delta.groupby(list(table.keys), as_index=False, sort=False)[measures].sum()
    return delta[(delta[measures].abs() > 1e-12).any(axis=1)]


def add_counts(
    session: so.Session,
    rows: pd.DataFrame,
    bulk: bool = False,
    rates: pd.DataFrame | None = None,
) -> int:
    """Add summary rows (``ROW_KEYS`` + ``MEASURES``, keys unique) and rate rows
    (``RATE_KEYS`` + ``RATE_MEASURES``) computed elsewhere, e.g. by
    ``geo.summary.batch.BatchCounts``, and bump the problems version.

    ``bulk``: a large load that may lock the summary table until the transaction ends
    (its foreign keys are checked once, not row by row). Returns the number of rows."""
    _lock_meta(session, bump="problems_version")
    added = add_rows(session, rows, suspend_keys=bulk)
    if rates is not None:
        added += add_rows(session, rates, table=RATE_SUMMARY)
    return added


def snapshot(session: so.Session, problem_ids: Iterable[int]) -> pd.DataFrame:
    """The ``id`` and ``SOURCE_COLUMNS`` of the given problems, as stored now.

    Read it before and after changing problems and hand both to ``apply_changes``.
    """
    ids = [int(i) for i in problem_ids]
    frames = [
        _select_frame(session, Problem.id.in_(ids[start : start + 10_000]))
        for start in range(0, len(ids), 10_000)
    ]
    return pd.concat(frames, ignore_index=True) if frames else _select_frame(session, sa.false())


def advance_clock(session: so.Session, now: datetime | None = None) -> int:
    """Count as overdue, in the stored rows, the problems whose deadline passed since the
    last advance, and move ``overdue_as_of`` to ``now`` (naive UTC). Returns rows touched.

    Call it in its own transaction or before writing problems in a writer's transaction.
    """
    now = now or utcnow()
    meta = _lock_meta(session, bump="problems_version")
    if now <= meta.overdue_as_of:
        return 0
    due = _select_frame(
        session,
        Problem.status.in_(UNRESOLVED_STATUSES),
        Problem.deadline >= meta.overdue_as_of,
        Problem.deadline < now,
    )
    touched = 0
    if len(due):
        kinds = _point_kinds(session, [due])
        offset = meta.day_offset_minutes
        old = cube_rows(contributions(due, meta.overdue_as_of, offset, kinds))
        new = cube_rows(contributions(due, now, offset, kinds))
        old["overdue"] = -old["overdue"]
        delta = pd.concat([new, old]).groupby(list(ROW_KEYS), as_index=False)[list(MEASURES)]
        delta = delta.sum()
        delta[["n", "unresolved", "closed_on_time"]] = 0
        delta = delta[delta["overdue"] != 0]
        add_rows(session, delta)
        touched = len(delta)
    session.execute(sa.update(SummaryMeta).where(SummaryMeta.id == 1).values(overdue_as_of=now))
    return touched


def rebuild(
    session: so.Session,
    day_offset_minutes: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Recompute every summary row from the problems table (after bulk loads or repairs):
    the area summary in SQL, the rate counts in pandas over id ranges of problems; sets
    the overdue clock to now and clears the stale flag.

    ``day_offset_minutes``: UTC offset of the local day for found-day buckets and rate
    periods (default: keep the stored one, 480 = UTC+8). ``progress(done, total)`` is
    called after each range of problems counted for the rates.
    """
    meta = _lock_meta(session, bump="problems_version")
    offset = meta.day_offset_minutes if day_offset_minutes is None else day_offset_minutes
    now = utcnow()
    session.execute(sa.delete(AreaSummary))
    for cube, dims in CUBES.items():
        for column, level in LEVEL_OF_COLUMN.items():
            session.execute(
                sa.insert(AreaSummary).from_select(
                    list(ROW_KEYS) + list(MEASURES),
                    _recount_select(session, cube, dims, column, level, now, offset),
                )
            )
    _rebuild_rates(session, offset, progress)
    session.execute(
        sa.update(SummaryMeta)
        .where(SummaryMeta.id == 1)
        .values(overdue_as_of=now, day_offset_minutes=offset, stale=False)
    )
    add_area_rows(session)


_REBUILD_CHUNK = 200_000


def _rebuild_rates(
    session: so.Session, offset: int, progress: Callable[[int, int], None] | None
) -> None:
    """Recount ``rate_summary`` from the problems, read in id ranges (rate_cubes.py
    holds the one definition of the periods, so the recount runs in pandas)."""
    session.execute(sa.delete(RateSummary))
    problems = session.execute(sa.select(sa.func.count(Problem.id))).scalar_one()
    parts, done, last = [empty_rows()], 0, 0
    while True:
        chunk = _select_frame(session, Problem.id > last, limit=_REBUILD_CHUNK)
        if chunk.empty:
            break
        last, done = int(chunk["id"].max()), done + len(chunk)
        parts.append(rate_rows(chunk, offset))
        if sum(map(len, parts)) > _REBUILD_CHUNK * 10:  # memory bounded by distinct rows
            parts = [sum_rate_rows(pd.concat(parts, ignore_index=True))]
        if progress is not None:
            progress(done, problems)
    add_rows(session, sum_rate_rows(pd.concat(parts, ignore_index=True)), table=RATE_SUMMARY)


def add_area_rows(session: so.Session) -> None:
    """Give every area its ``total`` row, zeros when it has no problem yet.

    The default heat map then reads exactly one row per area of a level, so its cost
    depends on the number of areas and never on how many of them have problems.
    """
    missing = (
        sa.select(
            sa.literal("total", sa.String),
            Area.level,
            *([sa.literal("", sa.String)] * 3),
            Area.id,
            *([sa.literal(0, sa.Integer)] * len(MEASURES)),
        )
        .where(Area.level.in_(tuple(LEVEL_OF_COLUMN.values())))
        .where(~sa.exists().where(AreaSummary.cube == "total", AreaSummary.area_id == Area.id))
    )
    session.execute(sa.insert(AreaSummary).from_select([*ROW_KEYS, *MEASURES], missing))


def rebuild_if_stale(session: so.Session) -> bool:
    """Rebuild when the bookkeeping row says so (right after the migration that created
    the cubes). Returns True when it rebuilt."""
    if not read_meta(session).stale:
        return False
    rebuild(session)
    return True


def mismatches(session: so.Session) -> pd.DataFrame:
    """Rows where the stored summaries (``area_summary`` and ``rate_summary``) differ
    from a recount of the problems table.

    Columns: ``table``, that table's row keys, each measure as stored and
    ``<measure>_true`` (the other table's columns empty).
    """
    meta = read_meta(session)
    problems = _select_frame(session)
    kinds = _point_kinds(session, [problems])
    offset = meta.day_offset_minutes
    areas = _differing(
        _stored(session, AreaSummary, AREA_SUMMARY, AreaSummary.n != 0),
        cube_rows(contributions(problems, meta.overdue_as_of, offset, kinds)),
        AREA_SUMMARY,
    )
    rates = _stored(session, RateSummary, RATE_SUMMARY)
    rates["period_start"] = pd.to_datetime(rates["period_start"]).to_numpy()
    recount = rate_rows(problems, offset)
    recount["period_start"] = pd.to_datetime(recount["period_start"]).to_numpy()
    return pd.concat([areas, _differing(rates, recount, RATE_SUMMARY)], ignore_index=True)


def _stored(
    session: so.Session, model: Any, table: SummaryTable, *where: sa.ColumnElement[bool]
) -> pd.DataFrame:
    columns = list(table.columns)
    rows = session.execute(sa.select(*(getattr(model, c) for c in columns)).where(*where))
    return pd.DataFrame(rows.all(), columns=columns)


def _differing(stored: pd.DataFrame, recount: pd.DataFrame, table: SummaryTable) -> pd.DataFrame:
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


def read_meta(session: so.Session) -> Meta:
    """The bookkeeping row (versions, overdue clock, day offset, stale flag)."""
    row = session.execute(sa.select(*_meta_columns()).where(SummaryMeta.id == 1)).first()
    if row is None:
        raise ConfigError(
            tr(
                "数据库未初始化：请运行 `civicgrid init`",
                "summary bookkeeping missing: run `civicgrid init`",
            )
        )
    return _meta(row)


def touch(session: so.Session, what: str) -> None:
    """Bump ``areas_version`` or ``points_version`` after areas or points changed, so
    cached map resources are refetched."""
    if f"{what}_version" not in VERSIONS:
        raise ValueError(f"unknown version {what!r}")
    _lock_meta(session, bump=f"{what}_version")
    if what == "areas":
        add_area_rows(session)


def local_day(session: so.Session, column: Any, offset: int) -> sa.Label[str]:
    """SQL expression: 'YYYY-MM-DD' of a naive-UTC timestamp column at UTC+``offset`` min."""
    if is_postgres(session):
        shifted = column + sa.cast(sa.literal(f"{offset} minutes"), postgresql.INTERVAL)
        return sa.func.to_char(shifted, "YYYY-MM-DD").label("day")
    return sa.func.strftime("%Y-%m-%d", column, f"{offset:+d} minutes").label("day")


def utcnow() -> datetime:
    """Now as a naive UTC datetime (how times are stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


# --- SQL ---------------------------------------------------------------------------------


def _select_frame(
    session: so.Session, *where: sa.ColumnElement[bool], limit: int | None = None
) -> pd.DataFrame:
    columns = [Problem.id, *(getattr(Problem, c) for c in SOURCE_COLUMNS)]
    stmt = sa.select(*columns).where(*where)
    if limit is not None:
        stmt = stmt.order_by(Problem.id).limit(limit)
    rows = session.execute(stmt).all()
    return pd.DataFrame(rows, columns=["id", *SOURCE_COLUMNS])


def _point_kinds(session: so.Session, frames: list[pd.DataFrame]) -> dict[int, str]:
    ids = {int(i) for f in frames for i in pd.to_numeric(f["point_id"]).dropna().tolist()}
    if not ids:
        return {}
    rows = session.execute(
        sa.select(InspectionPoint.id, InspectionPoint.kind).where(InspectionPoint.id.in_(ids))
    ).all()
    return {int(i): str(k) for i, k in rows}


def _meta_columns() -> list[Any]:
    return [
        SummaryMeta.problems_version,
        SummaryMeta.areas_version,
        SummaryMeta.points_version,
        SummaryMeta.overdue_as_of,
        SummaryMeta.day_offset_minutes,
        SummaryMeta.stale,
    ]


def _lock_meta(session: so.Session, bump: str) -> Meta:
    """Bump one version and return the row; on PostgreSQL this row lock also serialises
    summary writers with ``advance_clock`` (SQLite writers are serial anyway)."""
    column = getattr(SummaryMeta, bump)
    row = session.execute(
        sa.update(SummaryMeta)
        .where(SummaryMeta.id == 1)
        .values({column: column + 1})
        .returning(*_meta_columns())
    ).first()
    if row is None:
        raise ConfigError(
            tr(
                "数据库未初始化：请运行 `civicgrid init`",
                "summary bookkeeping missing: run `civicgrid init`",
            )
        )
    return _meta(row)


def _meta(row: Any) -> Meta:
    return Meta(
        problems_version=int(row[0]),
        areas_version=int(row[1]),
        points_version=int(row[2]),
        overdue_as_of=row[3],
        day_offset_minutes=int(row[4]),
        stale=bool(row[5]),
    )


def _recount_select(
    session: so.Session,
    cube: str,
    dims: tuple[str, ...],
    column: str,
    level: str,
    as_of: datetime,
    offset: int,
) -> Any:
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
    unresolved = Problem.status.not_in(NOT_UNRESOLVED)
    on_time = sa.and_(
        Problem.status == CLOSED,
        sa.or_(
            Problem.deadline.is_(None),
            sa.and_(Problem.closed_at.is_not(None), Problem.closed_at <= Problem.deadline),
        ),
    )
    overdue = sa.and_(unresolved, Problem.deadline < as_of)
    return [
        sa.func.count().label("n"),
        sa.func.coalesce(sa.func.sum(sa.case((unresolved, 1), else_=0)), 0).label("unresolved"),
        sa.func.coalesce(sa.func.sum(sa.case((overdue, 1), else_=0)), 0).label("overdue"),
        sa.func.coalesce(sa.func.sum(sa.case((on_time, 1), else_=0)), 0).label("closed_on_time"),
    ]
