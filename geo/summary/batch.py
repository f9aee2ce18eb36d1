"""Summary counts of one ingest batch, computed once for the batch instead of per chunk.

An ingest only adds problems, so the batch's contribution to ``area_summary`` (and to
``rate_summary``) is the sum of its chunks' rows: ``BatchCounts`` adds each chunk up in
pandas (no database work, so it overlaps a background COPY) and ``flush`` merges the
total into the stored rows, in the batch's transaction. The rows are the ones
``summary.apply_changes`` would add chunk by chunk, and a full ``summary.rebuild`` gives
the same counts.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.storage.db import is_postgres
from geo.storage.models import InspectionPoint
from geo.summary import clock, merge
from geo.summary import counts as summary
from geo.summary.cubes import contributions, cube_rows, sum_rows
from geo.summary.merge import AREA_SUMMARY, RATE_SUMMARY
from geo.summary.rate_cubes import empty_rows, rate_rows, sum_rate_rows

_COMPACT_ROWS = 2_000_000
"""Pending cube rows above which they are summed, so memory stays bounded by the
number of distinct summary rows rather than the number of chunks."""

_STAGE_ROWS = 600_000
"""PostgreSQL: pending rows above which they go to a temporary table of the batch's
transaction (``merge.stage_rows``), so an ingest's memory is bounded by its chunk size,
not by its row count (a batch has about 1.5 summary rows per problem)."""


class BatchCounts:
    """The summary rows of a batch's new problems, summed chunk by chunk.

    Build it after the batch's ``clock.advance_clock`` (the overdue instant is read
    once; on PostgreSQL that advance is committed apart and ``flush`` settles the rest);
    ``add`` each chunk of written problems (``summary.SOURCE_COLUMNS``; times naive UTC);
    ``flush`` once at the end of the batch.
    """

    def __init__(self, session: so.Session) -> None:
        meta = summary.read_meta(session)
        self.as_of, self.offset = meta.overdue_as_of, meta.day_offset_minutes
        rows = session.execute(sa.select(InspectionPoint.id, InspectionPoint.kind)).all()
        self.kinds = {int(i): str(k) for i, k in rows}
        self.pending: list[pd.DataFrame] = []
        self.pending_rates: list[pd.DataFrame] = []
        self.session, self.postgres = session, is_postgres(session)
        self.staged = False

    def add(self, frame: pd.DataFrame) -> None:
        """Count one chunk of new problems (no database access)."""
        if frame.empty:
            return
        self.pending.append(cube_rows(contributions(frame, self.as_of, self.offset, self.kinds)))
        if sum(len(p) for p in self.pending) > _COMPACT_ROWS:
            self.pending = [self.total()]
        self.pending_rates.append(rate_rows(frame, self.offset))
        if sum(len(p) for p in self.pending_rates) > _COMPACT_ROWS:
            self.pending_rates = [self.rates()]
        held = sum(len(p) for p in (*self.pending, *self.pending_rates))
        if self.postgres and held > _STAGE_ROWS:
            self._stage()

    def _stage(self) -> None:
        """Move the pending rows to the database (PostgreSQL; see ``_STAGE_ROWS``)."""
        for pending, table in ((self.pending, AREA_SUMMARY), (self.pending_rates, RATE_SUMMARY)):
            if pending:
                merge.stage_rows(self.session, pd.concat(pending, ignore_index=True), table)
        self.pending, self.pending_rates, self.staged = [], [], True

    def total(self) -> pd.DataFrame:
        """The batch's summary rows so far (``ROW_KEYS`` + ``MEASURES``), keys unique."""
        if not self.pending:
            return pd.DataFrame(columns=[*summary.ROW_KEYS, *summary.MEASURES])
        if len(self.pending) == 1:
            return self.pending[0]
        return sum_rows(pd.concat(self.pending, ignore_index=True))

    def rates(self) -> pd.DataFrame:
        """The batch's rate rows so far (``RATE_KEYS`` + ``RATE_MEASURES``), keys unique."""
        if not self.pending_rates:
            return empty_rows()
        if len(self.pending_rates) == 1:
            return self.pending_rates[0]
        return sum_rate_rows(pd.concat(self.pending_rates, ignore_index=True))

    def flush(
        self, session: so.Session, bulk: bool = False, own: sa.ColumnElement[bool] | None = None
    ) -> int:
        """Add the batch's counts to the stored summaries and bump the problems version
        (``bulk``: see ``summary.add_counts``). ``own`` selects the batch's problems: when
        the clock was advanced by someone else since this batch read it, the ones that fell
        overdue meanwhile are counted too (``clock.settle_clock``). Returns the number of
        summary rows."""
        if self.staged:
            self._stage()
            added = summary.add_staged(session, bulk=bulk)
        else:
            rows, rates = self.total(), self.rates()
            self.pending, self.pending_rates = [], []
            if rows.empty and rates.empty:
                return 0
            added = summary.add_counts(session, rows, bulk=bulk, rates=rates)
        if own is not None:
            added += clock.settle_clock(session, self.as_of, own)
        return added
