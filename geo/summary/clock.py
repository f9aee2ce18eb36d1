"""The overdue clock of the stored summaries: problems whose deadline passes are counted
as overdue when the clock advances (``advance_clock``), and a long writer that counted
without the summary lock settles what fell overdue meanwhile (``settle_clock``).

Times are naive UTC; counts are per area and summary row (geo.summary.cubes).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.storage.models import Problem, SummaryMeta
from geo.storage.statuses import map_overdue_sql
from geo.summary.counts import point_kinds, select_frame, utcnow
from geo.summary.cubes import MEASURES, ROW_KEYS, contributions, cube_rows
from geo.summary.merge import add_rows
from geo.summary.meta import Meta, lock_meta


def advance_clock(session: so.Session, now: datetime | None = None) -> int:
    """Count as overdue, in the stored rows, the problems whose deadline passed since the
    last advance, and move ``overdue_as_of`` to ``now`` (naive UTC). Returns rows touched.

    Call it in its own transaction or before writing problems in a writer's transaction.
    """
    now = now or utcnow()
    meta = lock_meta(session, bump="problems_version")
    if now <= meta.overdue_as_of:
        return 0
    touched = _count_newly_overdue(session, meta, meta.overdue_as_of, now)
    session.execute(sa.update(SummaryMeta).where(SummaryMeta.id == 1).values(overdue_as_of=now))
    return touched


def settle_clock(session: so.Session, counted_as_of: datetime, *own: sa.ColumnElement[bool]) -> int:
    """For rows a writer counted with overdue as of ``counted_as_of`` (its own new
    problems, selected by ``own``) while the stored clock moved on: an ``advance_clock``
    committed meanwhile could not see them, so count the ones that fell overdue between.
    Takes the summary lock (call it last in the writer's transaction). Returns rows touched.

    This lets a long PostgreSQL ingest count without holding the summary lock from its
    start (which would make every lifecycle write wait for the whole load)."""
    meta = lock_meta(session, bump="problems_version")
    if meta.overdue_as_of <= counted_as_of:
        return 0
    return _count_newly_overdue(session, meta, counted_as_of, meta.overdue_as_of, *own)


def _count_newly_overdue(
    session: so.Session,
    meta: Meta,
    since: datetime,
    now: datetime,
    *where: sa.ColumnElement[bool],
) -> int:
    """Add to the stored rows the overdue of the problems whose deadline lies in
    [since, now) (and ``where``)."""
    overdue = map_overdue_sql(now, indexed=True)
    due = select_frame(session, overdue, Problem.deadline >= since, *where)
    if not len(due):
        return 0
    kinds = point_kinds(session, [due])
    offset = meta.day_offset_minutes
    old = cube_rows(contributions(due, since, offset, kinds))
    new = cube_rows(contributions(due, now, offset, kinds))
    old["overdue"] = -old["overdue"]
    delta = pd.concat([new, old]).groupby(list(ROW_KEYS), as_index=False)[list(MEASURES)]
    delta = delta.sum()
    delta[["n", "unresolved", "closed_on_time"]] = 0
    delta = delta[delta["overdue"] != 0]
    add_rows(session, delta)
    return len(delta)
