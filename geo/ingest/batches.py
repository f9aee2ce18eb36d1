"""An ingest and the database: stored ids of a source (re-deliveries are de-duplicated
by source and external id), the batch record of each ingest, and the frame of rows as
the problems table stores them."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.text import in_lang
from geo.ingest.result import IngestOptions, IngestResult
from geo.ingest.sources.base import SurveySource
from geo.storage.models import ANCESTRY_COLUMNS, IngestBatch, Problem
from geo.summary import clock

ID_QUERY_CHUNK = 5_000
"""Ids per ``IN (...)`` lookup: well under every backend's bound-parameter limit."""


def source_has_rows(session: so.Session, source: str) -> bool:
    """Whether any problem of ``source`` is stored (else no id needs looking up)."""
    return (
        session.scalar(sa.select(Problem.id).where(Problem.source == source).limit(1)) is not None
    )


def stored_ids(session: so.Session, source: str, ids: pd.Series) -> set[str]:
    """Which of ``ids`` are stored for ``source`` already (a re-delivery skips them)."""
    values = ids.tolist()
    known: set[str] = set()
    for start in range(0, len(values), ID_QUERY_CHUNK):
        known.update(
            session.scalars(
                sa.select(Problem.external_id).where(
                    Problem.source == source,
                    Problem.external_id.in_(values[start : start + ID_QUERY_CHUNK]),
                )
            )
        )
    return known


def open_batch(
    session: so.Session, source: SurveySource, options: IngestOptions, result: IngestResult
) -> IngestBatch:
    """Record the start of an ingest (its id goes on every problem it writes).

    The overdue clock is advanced first (geo/summary/clock.py). On PostgreSQL in a short
    transaction of its own: inside the batch's, its lock on the summary would make every
    lifecycle write wait for the whole load; the batch settles any later advance when it
    flushes its counts (``BatchCounts.flush(own=…)``). SQLite has one writer at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        with so.Session(session.get_bind().engine) as tick, tick.begin():
            clock.advance_clock(tick)
    else:
        clock.advance_clock(session)
    batch = IngestBatch(
        source=options.source,
        file_name=source.path.name,
        sha256="",
        actor=options.actor,
        started_at=_utcnow(),
        file_format=source.format,
        encoding=source.encoding,
        input_crs=result.crs,
        file_bytes=source.size,
    )
    session.add(batch)
    session.flush()
    return batch


def close_batch(batch: IngestBatch, result: IngestResult) -> None:
    """Record what the ingest did on its batch row."""
    batch.sha256 = result.sha256
    batch.input_crs = result.crs
    batch.rows_total = result.rows
    batch.accepted = result.accepted
    batch.rejected = result.rejected
    batch.duplicates = result.duplicates
    batch.outside = result.outside
    batch.linked = result.linked
    batch.visits = result.visits
    # Stored batch metadata keeps its format: each reason's two languages in one key.
    batch.reject_reasons = {
        f"{in_lang(k, 'zh')} / {in_lang(k, 'en')}": n
        for k, n in result.rejected_by_reason().items()
    }
    batch.finished_at = _utcnow()


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def problem_frame(
    rows: pd.DataFrame, units: dict[str, int], source: str, batch_id: int
) -> pd.DataFrame:
    """Validated, assigned rows as the problems table stores them (one batch's)."""
    found = rows["found_at"]
    return pd.DataFrame(
        {
            "source": source,
            "external_id": rows["external_id"],
            "category": rows["category"],
            "description": rows["description"].fillna(""),
            "lon": rows["lon"].astype(float),
            "lat": rows["lat"].astype(float),
            "outside": rows["outside"].astype(bool),
            **{c: rows[c].astype("Int64") for c in ANCESTRY_COLUMNS},
            "point_id": rows["point_id"].astype("Int64"),
            "status": rows["status"],
            "unit_id": rows["unit"].map(units).astype("Int64"),
            "found_at": found,
            "assigned_at": found.where(rows["status"] != "found"),
            "deadline": rows["deadline"],
            "rectified_at": rows["rectified_at"],
            "closed_at": rows["closed_at"],
            "reopen_count": rows["reopened"].astype(np.int64),
            "campaign": rows["campaign"],
            "batch_id": batch_id,
            "version": 1,
            "extension_count": 0,
        }
    )
