"""Per-area summary counts of problems, kept up to date in the writer's transaction.

Heat maps and rankings read these instead of scanning the problems table, so their cost
does not grow with the number of problems. Every code path that inserts problems,
changes their status, deadline or other attributes, or moves them between areas calls
``apply_changes`` with the affected rows as they were before and as they are after, in
the same transaction (an ingest, which only adds problems, sums its whole batch with
``geo.summary.batch.BatchCounts`` and hands it to ``add_counts`` once). ``mismatches``
compares the stored counts with a recount (tests), ``rebuild`` recomputes everything in
SQL. The pandas side of the definitions lives in geo/summary/cubes.py, the SQL side in
geo/summary/recount.py, the writing in geo/summary/merge.py, the bookkeeping row in
geo/summary/meta.py.

Contract for callers: ``before`` / ``after`` frames carry at least ``SOURCE_COLUMNS``
(extra columns are ignored; ``snapshot`` reads them for given problem ids); either may be
None. Times in the frames are naive UTC datetimes, as stored.

The counts are kept in *cubes* (see ``CUBES``): per area and level, broken down by
nothing, by category, point kind, campaign, all three, or by local found day. Each row
holds four measures: problems, unresolved and overdue (geo/storage/statuses.py:
``UNRESOLVED``, ``MAP_OVERDUE``) and closed on time.

Overdue depends on the clock. Rows count as overdue the unresolved problems whose
deadline is before ``summary_meta.overdue_as_of``; a reader adds the few whose deadline
fell between that instant and now (``geo.reports.heat``), and ``advance_clock`` moves the instant
forward (run by ingest and by ``civicgrid summary refresh``), so that correction stays
small. Found days are local dates at the fixed offset ``day_offset_minutes``, derived from
the configured zone when the summary is rebuilt (``geo.core.periods.utc_offset_minutes``:
480 for Asia/Shanghai, which has no daylight saving time); readers that filter the
problems table by local found date use the same stored offset, so they agree with the
day cubes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import ConfigError
from geo.core.periods import utc_offset_minutes
from geo.core.text import tr
from geo.storage.models import (
    ANCESTRY_COLUMNS,
    Area,
    AreaSummary,
    InspectionPoint,
    Problem,
    RateFrozen,
    RateSummary,
    SummaryMeta,
)
from geo.summary.cubes import (
    CUBES,
    LEVEL_OF_COLUMN,
    MEASURES,
    ROW_KEYS,
    contributions,
    cube_rows,
)
from geo.summary.merge import (
    AREA_SUMMARY,
    RATE_FROZEN,
    RATE_SUMMARY,
    SummaryTable,
    add_rows,
    merge_staged,
)
from geo.summary.meta import VERSIONS, Meta, lock_meta, meta_columns, meta_from_row
from geo.summary.rate_cubes import (
    RATE_SOURCE_COLUMNS,
    empty_rows,
    rate_rows,
    sum_rate_rows,
)
from geo.summary.recount import differing_rows, recount_select, stored_rows

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


def apply_changes(
    session: so.Session,
    before: pd.DataFrame | None,
    after: pd.DataFrame | None,
    as_of: datetime | pd.Series | None = None,
) -> int:
    """Move the summary counts from the ``before`` state of some problems to ``after``.

    Steps: lock the bookkeeping row (and bump the problems version), compute each
    frame's contribution to every cube, subtract ``before`` from ``after``, add the
    non-zero differences to the stored rows. Returns the number of summary rows touched.

    ``as_of`` (naive UTC; one time, or a Series of times indexed by problem id): when the
    change happened, for a lifecycle event. Rate periods that ended by then keep their
    figures as they stood (geo/summary/rate_cubes.py, History); the part not applied goes
    to ``rate_frozen``. None (new problems, area corrections): every period changes.
    """
    frames = [(f, s) for f, s in ((before, -1), (after, 1)) if f is not None and len(f)]
    if not frames:
        return 0
    for frame, _ in frames:
        missing = [c for c in SOURCE_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"summary.apply_changes: frame lacks columns {missing}")
    meta = lock_meta(session, bump="problems_version")
    kinds = point_kinds(session, [f for f, _ in frames])
    offset = meta.day_offset_minutes
    areas = _net_change(
        [(cube_rows(contributions(f, meta.overdue_as_of, offset, kinds)), s) for f, s in frames],
        AREA_SUMMARY,
    )
    rates = _net_change(
        [(rate_rows(f, offset, _times(f, as_of)), s) for f, s in frames], RATE_SUMMARY
    )
    add_rows(session, areas)
    add_rows(session, rates, table=RATE_SUMMARY)
    if as_of is not None:
        whole = [(rate_rows(f, offset), -s) for f, s in frames]
        frozen = _net_change([(rates, 1), *whole], RATE_SUMMARY)
        add_rows(session, frozen, table=RATE_FROZEN)
    return len(areas) + len(rates)


def _times(frame: pd.DataFrame, as_of: datetime | pd.Series | None) -> np.ndarray | None:
    """``as_of`` per row of ``frame`` (naive UTC, NaT where none is given)."""
    if as_of is None:
        return None
    if isinstance(as_of, pd.Series):
        times = pd.to_datetime(pd.to_numeric(frame["id"]).map(as_of))
        return times.to_numpy().astype("datetime64[us]")
    return np.full(len(frame), np.datetime64(as_of, "us"))


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
    lock_meta(session, bump="problems_version")
    added = add_rows(session, rows, suspend_keys=bulk)
    if rates is not None:
        added += add_rows(session, rates, table=RATE_SUMMARY)
    return added


def add_staged(session: so.Session, bulk: bool = False) -> int:
    """PostgreSQL: like ``add_counts`` for the rows kept by ``merge.stage_rows`` in this
    transaction (added up by key in the database). Returns the number of merged rows."""
    lock_meta(session, bump="problems_version")
    added = merge_staged(session, bulk, AREA_SUMMARY)
    return added + merge_staged(session, False, RATE_SUMMARY)


def snapshot(session: so.Session, problem_ids: Iterable[int]) -> pd.DataFrame:
    """The ``id`` and ``SOURCE_COLUMNS`` of the given problems, as stored now.

    Read it before and after changing problems and hand both to ``apply_changes``.
    """
    ids = [int(i) for i in problem_ids]
    frames = [
        select_frame(session, Problem.id.in_(ids[start : start + 10_000]))
        for start in range(0, len(ids), 10_000)
    ]
    return pd.concat(frames, ignore_index=True) if frames else select_frame(session, sa.false())


def rebuild(
    session: so.Session,
    day_offset_minutes: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    tz: str | None = None,
) -> None:
    """Recompute every summary row from the problems table (after bulk loads or repairs):
    the area summary in SQL, the rate counts in pandas over id ranges of problems; sets
    the overdue clock to now and clears the stale flag.

    ``day_offset_minutes``: UTC offset of the local day for found-day buckets and rate
    periods; when None, derived from the IANA zone ``tz`` (CIVICGRID_TIMEZONE), else
    the stored one is kept. ``progress(done, total)`` is called after each range of
    problems counted for the rates.
    """
    meta = lock_meta(session, bump="problems_version")
    offset = day_offset_minutes
    if offset is None:
        offset = meta.day_offset_minutes if tz is None else utc_offset_minutes(tz)
    now = utcnow()
    session.execute(sa.delete(AreaSummary))
    for cube, dims in CUBES.items():
        for column, level in LEVEL_OF_COLUMN.items():
            session.execute(
                sa.insert(AreaSummary).from_select(
                    list(ROW_KEYS) + list(MEASURES),
                    recount_select(session, cube, dims, column, level, now, offset),
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
        chunk = select_frame(session, Problem.id > last, limit=_REBUILD_CHUNK)
        if chunk.empty:
            break
        last, done = int(chunk["id"].max()), done + len(chunk)
        parts.append(rate_rows(chunk, offset))
        if sum(map(len, parts)) > _REBUILD_CHUNK * 10:  # memory bounded by distinct rows
            parts = [sum_rate_rows(pd.concat(parts, ignore_index=True))]
        if progress is not None:
            progress(done, problems)
    parts.append(stored_rows(session, RateFrozen, RATE_FROZEN))  # what history froze
    add_rows(session, sum_rate_rows(_days(pd.concat(parts, ignore_index=True))), table=RATE_SUMMARY)


def _days(rows: pd.DataFrame) -> pd.DataFrame:
    """Rate rows with ``period_start`` as datetime64 (stored rows come back as dates)."""
    return rows.assign(period_start=pd.to_datetime(rows["period_start"]).to_numpy())


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
    problems = select_frame(session)
    kinds = point_kinds(session, [problems])
    offset = meta.day_offset_minutes
    areas = differing_rows(
        stored_rows(session, AreaSummary, AREA_SUMMARY, AreaSummary.n != 0),
        cube_rows(contributions(problems, meta.overdue_as_of, offset, kinds)),
        AREA_SUMMARY,
    )
    rates = stored_rows(session, RateSummary, RATE_SUMMARY)
    rates["period_start"] = pd.to_datetime(rates["period_start"]).to_numpy()
    frozen = stored_rows(session, RateFrozen, RATE_FROZEN)
    recount = sum_rate_rows(_days(pd.concat([rate_rows(problems, offset), frozen])))
    return pd.concat([areas, differing_rows(rates, recount, RATE_SUMMARY)], ignore_index=True)


_READ_META = sa.select(*meta_columns()).where(SummaryMeta.id == 1)


def read_meta(session: so.Session) -> Meta:
    """The bookkeeping row (versions, overdue clock, day offset, stale flag)."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # as the ORM's autoflush would
    # Core on the session's connection: read on every API request, the ORM layer cost
    # more than the query.
    row = session.connection().execute(_READ_META).first()
    if row is None:
        raise ConfigError(
            tr(
                "数据库未初始化：请运行 `civicgrid init`",
                "summary bookkeeping missing: run `civicgrid init`",
            )
        )
    return meta_from_row(row)


def touch(session: so.Session, what: str) -> None:
    """Bump ``areas_version`` or ``points_version`` after areas or points changed, so
    cached map resources are refetched."""
    if f"{what}_version" not in VERSIONS:
        raise ValueError(f"unknown version {what!r}")
    lock_meta(session, bump=f"{what}_version")
    if what == "areas":
        add_area_rows(session)


def utcnow() -> datetime:
    """Now as a naive UTC datetime (how times are stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def select_frame(
    session: so.Session, *where: sa.ColumnElement[bool], limit: int | None = None
) -> pd.DataFrame:
    columns = [Problem.id, *(getattr(Problem, c) for c in SOURCE_COLUMNS)]
    stmt = sa.select(*columns).where(*where)
    if limit is not None:
        stmt = stmt.order_by(Problem.id).limit(limit)
    rows = session.execute(stmt).all()
    return pd.DataFrame(rows, columns=["id", *SOURCE_COLUMNS])


def point_kinds(session: so.Session, frames: list[pd.DataFrame]) -> dict[int, str]:
    ids = {int(i) for f in frames for i in pd.to_numeric(f["point_id"]).dropna().tolist()}
    if not ids:
        return {}
    rows = session.execute(
        sa.select(InspectionPoint.id, InspectionPoint.kind).where(InspectionPoint.id.in_(ids))
    ).all()
    return {int(i): str(k) for i, k in rows}
