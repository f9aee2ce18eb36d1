"""The survey ingest pipeline: read → map columns → validate → dedupe → assign → link → write.

``ingest_file`` is the one entry point, shared by the CLI and the HTTP upload. The file
is read in chunks (geo/ingest/sources/survey.py); each chunk is validated vectorised
(geo/ingest/rows.py),
its rows already stored (same source and external id) or met earlier in the file are
skipped, the rest are assigned to areas, linked to inspection points and bulk-written
(geo/storage/bulk.py). A batch is one transaction: every accepted row is written together with
its batch record and the per-area summary counts, or nothing is. Coordinates are stored
as WGS-84 lon/lat degrees.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.engine import Engine

from geo.access.audit import utcnow
from geo.areas.assign import load_area_index
from geo.areas.link import PointLinker, point_ids_by_code
from geo.areas.units import unit_ids
from geo.core.crs import normalise_crs_name
from geo.core.errors import IngestError
from geo.core.taxonomy import Taxonomy
from geo.core.taxonomy_file import default_taxonomy
from geo.core.text import en, tr
from geo.ingest.batches import (
    close_batch,
    open_batch,
    problem_frame,
    source_has_rows,
    stored_ids,
)
from geo.ingest.columns import ColumnPlan, default_found_at, plan_columns
from geo.ingest.coordinates import city_extent
from geo.ingest.crs_check import CodeSamples
from geo.ingest.result import IngestOptions, IngestResult, refusal, write_rejects
from geo.ingest.rows import Reject, SeenIds, duplicate_reject, parse_survey
from geo.ingest.sources.survey import READ_ERROR, ROW, SurveySource, open_survey
from geo.ingest.sources.vector_file import LAT, LON
from geo.ingest.visits import VisitRounds, fill_point_locations
from geo.storage.bulk import (
    ProblemWriter,
    Suspended,
    begin_bulk_load,
    end_bulk_load,
    is_bulk_load,
)
from geo.storage.db import transaction
from geo.storage.models import ANCESTRY_COLUMNS, Problem
from geo.summary import counts as summary
from geo.summary.batch import BatchCounts

__all__ = ["IngestOptions", "IngestResult", "ingest_file"]

_MAX_FAR_ROWS = 1_000


def ingest_file(
    engine: Engine,
    path: str | Path,
    options: IngestOptions | None = None,
    taxonomy: Taxonomy | None = None,
) -> IngestResult:
    """Ingest a survey file of problems (CSV, XLSX, GeoJSON, GeoPackage, Shapefile;
    KoboToolbox and ODK Central exports) into the database.

    ``options`` say how (see ``IngestOptions``); ``taxonomy`` defaults to
    data/taxonomy.toml. Coordinates are converted from the input CRS to WGS-84.
    Returns an ``IngestResult`` (``to_dict()`` for JSON). Raises ``IngestError`` when the
    file is unreadable, when no row is usable, or in strict mode when any row is bad;
    the database is then unchanged. The reject report is written in every case.
    """
    options = options or IngestOptions()
    started = time.perf_counter()
    source = open_survey(
        path, options.format, options.encoding, options.sheet, options.max_bytes, options.chunk_rows
    )
    result = IngestResult(
        file_name=source.path.name,
        format=source.format,
        encoding=source.encoding,
        row_label=source.row_label,
        dry_run=options.dry_run,
        notes=list(source.notes),
    )
    try:
        with transaction(engine) as session:
            run = _Run(session, source, options, taxonomy or default_taxonomy(), result)
            try:
                for chunk in source.chunks():
                    run.chunk(chunk)
                run.finish()
            except BaseException as exc:
                # A failed background COPY aborts the transaction; the statement that
                # found it aborted is only a symptom: report the COPY's own error.
                cause = run.close(quiet=True)
                if cause is not None and cause is not exc:
                    raise cause from exc
                raise
    except (sa.exc.IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError) as exc:
        raise IngestError(
            tr(
                f"{source.path}: 另一个导入同时写入了相同的问题，已回滚，请重新运行",
                (
                    f"{source.path}: another ingest wrote the same problems at "
                    "the same time; nothing was written, run it again"
                ),
            )
        ) from exc
    finally:
        result.seconds = time.perf_counter() - started
        if options.rejects_path is not None:
            write_rejects(options.rejects_path, result)
    return result


class _Run:
    """The state of one ingest while its chunks stream through."""

    def __init__(
        self,
        session: so.Session,
        source: SurveySource,
        options: IngestOptions,
        taxonomy: Taxonomy,
        result: IngestResult,
    ) -> None:
        self.session, self.source, self.options = session, source, options
        self.taxonomy, self.result = taxonomy, result
        self.crs = normalise_crs_name(options.crs)  # the file's own CRS is known once read
        result.crs = self.crs
        self.index = load_area_index(session)
        self.city = city_extent(session, self.index)
        self.linker = PointLinker.load(session, options.link_distance_m)
        self.seen = SeenIds()
        self.code_samples = CodeSamples()
        self.stored_source = source_has_rows(session, options.source)
        self.plan: ColumnPlan | None = None
        self.default_found_at: datetime | None = None
        self.suspended: Suspended | None = None
        self.writer: ProblemWriter | None = None
        self.counts: BatchCounts | None = None
        self.points = np.empty(0, dtype=object)
        self.visits = VisitRounds(session, options.round, options.tz)
        self.batch = None if options.dry_run else open_batch(session, source, options, result)

    @property
    def writing(self) -> bool:
        return self.batch is not None and not (self.options.strict and self.result.rejects)

    def chunk(self, raw: pd.DataFrame) -> None:
        """Validate, dedupe, assign, link and (unless dry-run or refused) write one chunk."""
        self.result.rows += len(raw)
        parsed = parse_survey(
            self._canonical(raw),
            self.taxonomy,
            self.options.tz,
            crs=self.crs,
            city=self.city,
            fix_swapped=self.options.fix_swapped,
            utc_columns=self._plan(raw).utc,
            default_found_at=self.default_found_at,
        )
        self.result.swapped_fixed += parsed.swapped_fixed
        rejects = list(parsed.rejects)
        rows = self._dedupe(parsed.rows, rejects)
        rows = self._link_codes(rows, rejects)
        self.code_samples.add(rows)
        rows = self.visits.mark(rows, rejects)
        self._reject(rejects, raw)
        self._assign(rows)
        self._link_nearest(rows)
        self.result.accepted += len(rows)
        self.result.found_at_defaulted += int(rows["found_at_defaulted"].sum())
        if self.writing:
            self._write(rows)
        if self.options.progress is not None and self.source.bytes_read:
            self.options.progress(self.source.bytes_read, self.source.size)

    def finish(self) -> None:
        """Refuse the batch (strict, or nothing usable) or record it with its counts."""
        result = self.result
        hint = self.code_samples.hint(self.session, self.crs)
        if hint is not None and self.options.strict:
            message = hint.message()
            raise IngestError(
                tr(f"{self.source.path}: {message}", f"{self.source.path}: {en(message)}")
            )
        result.crs_hint = None if hint is None else hint.message()
        if self.options.strict and result.rejects:
            raise IngestError(
                refusal(self.source.path, self.source.row_label, result.rejects, strict=True)
            )
        if result.rejects and not result.accepted and not result.duplicates:
            raise IngestError(
                refusal(self.source.path, self.source.row_label, result.rejects, strict=False)
            )
        result.sha256 = self.source.sha256()
        if self.batch is None:
            return
        self.close()
        if self.suspended is not None:
            end_bulk_load(self.session, self.suspended)
        if self.counts is not None:
            # Last, so that a bulk load's lock on the summary table is held briefly.
            bulk = self.suspended is not None and bool(self.suspended.indexes)
            own = Problem.batch_id == self.batch.id
            self.counts.flush(self.session, bulk=bulk, own=own)
        result.visits = self.visits.new_visits
        close_batch(self.batch, result)
        result.batch_id = self.batch.id

    def close(self, quiet: bool = False) -> Exception | None:
        """Wait for the rows still being written; raise their error, or with ``quiet``
        return it."""
        writer, self.writer = self.writer, None
        if writer is None:
            return None
        try:
            writer.close()
        except Exception as exc:
            if not quiet:
                raise
            return exc
        return None

    # --- steps --------------------------------------------------------------------------

    def _plan(self, raw: pd.DataFrame) -> ColumnPlan:
        if self.plan is None:
            explicit = dict(self.options.mapping)
            if LON in raw.columns and "lon" not in explicit and "lat" not in explicit:
                explicit.update(lon=LON, lat=LAT)
            if self.options.crs is None and self.source.crs is not None:
                self.crs = self.result.crs = normalise_crs_name(self.source.crs)
            headers = [c for c in raw.columns if c != ROW]
            where = f"{self.source.path}: "
            self.plan = plan_columns(headers, explicit, where=where)
            self.default_found_at, note = default_found_at(
                self.plan, self.options.found_at, self.options.strict, utcnow(), where
            )
            self.result.notes += [note] if note else []
            if self.source.layout and self.plan.flavour == "plain":
                self.result.notes.append(
                    tr(
                        f"--format {self.source.layout}: 未发现该格式的列",
                        (
                            f"--format {self.source.layout}: no {self.source.layout} "
                            "columns found; read as a plain table"
                        ),
                    )
                )
        return self.plan

    def _canonical(self, raw: pd.DataFrame) -> pd.DataFrame:
        plan = self._plan(raw)
        table = pd.DataFrame({name: raw[header] for name, header in plan.columns.items()})
        table["row"] = raw[ROW].to_numpy()
        self.visits.visit_file = "result" in plan.columns or "round" in plan.columns
        if self.visits.visit_file or self.options.round:
            fill_point_locations(self.session, table, self.crs)
        if READ_ERROR in raw.columns:
            table["read_error"] = raw[READ_ERROR].to_numpy()
        return table

    def _dedupe(self, rows: pd.DataFrame, rejects: list[Reject]) -> pd.DataFrame:
        """Refuse ids met earlier in the file; skip ids already stored for the source."""
        earlier = self.seen.earlier_rows(rows["external_id"])
        for i in np.flatnonzero(earlier):
            rejects.append(duplicate_reject(rows, int(i), int(earlier[i])))
        rows = rows.loc[earlier == 0].reset_index(drop=True)
        with_id = [r for r in rejects if r.external_id]
        self.seen.add(
            pd.concat([rows["external_id"], pd.Series([r.external_id for r in with_id])]),
            pd.concat([rows["row"], pd.Series([r.row for r in with_id], dtype="int64")]),
        )
        if not self.stored_source or rows.empty:
            return rows
        stored = stored_ids(self.session, self.options.source, rows["external_id"])
        fresh = ~rows["external_id"].isin(stored)
        self.result.duplicates += int((~fresh).sum())
        return rows.loc[fresh].reset_index(drop=True)

    def _link_codes(self, rows: pd.DataFrame, rejects: list[Reject]) -> pd.DataFrame:
        """Rows naming a point code are linked to that point; unknown codes are refused."""
        rows["point_id"] = point_ids_by_code(self.session, rows["point_code"])
        unknown = (rows["point_code"].notna() & rows["point_id"].isna()).to_numpy()
        for i in np.flatnonzero(unknown):
            code = rows["point_code"].iloc[i]
            rejects.append(
                Reject(
                    int(rows["row"].iloc[i]),
                    "未知的点位编码",
                    f"unknown point code '{code}'",
                    rows["external_id"].iloc[i],
                )
            )
        return rows.loc[~unknown].reset_index(drop=True)

    def _reject(self, rejects: list[Reject], raw: pd.DataFrame) -> None:
        """Keep the refused rows with their own cells for the reject report."""
        if not rejects:
            return
        headers = [c for c in raw.columns if c != ROW and not c.startswith("__")]
        cells = raw.set_index(ROW)[headers].astype(str)
        cells = cells[~cells.index.duplicated()]
        wanted = cells.reindex([r.row for r in rejects]).fillna("").to_numpy().tolist()
        for reject, values in zip(rejects, wanted, strict=True):
            pairs = tuple(zip(headers, values, strict=True))
            self.result.rejects.append(dataclasses.replace(reject, values=pairs))

    def _assign(self, rows: pd.DataFrame) -> None:
        self.points = shapely.points(rows["lon"].to_numpy(float), rows["lat"].to_numpy(float))
        assigned = self.index.assign(self.points)
        for column in (*ANCESTRY_COLUMNS, "outside"):
            rows[column] = assigned[column].to_numpy()
        outside = rows["outside"].to_numpy(bool)
        self.result.outside += int(outside.sum())
        if self.city is None or not outside.any():
            return
        km = self.city.km_outside(rows["lon"].to_numpy()[outside], rows["lat"].to_numpy()[outside])
        far = rows["row"].to_numpy()[outside][km > self.options.far_km]
        self.result.far_outside += len(far)
        room = _MAX_FAR_ROWS - len(self.result.far_rows)
        self.result.far_rows.extend(int(r) for r in far[:room])

    def _link_nearest(self, rows: pd.DataFrame) -> None:
        if self.linker is not None:
            todo = rows["point_id"].isna().to_numpy()
            if todo.any():
                near = self.linker.nearest(
                    rows["lon"].to_numpy()[todo], rows["lat"].to_numpy()[todo], self.points[todo]
                )
                ids = rows["point_id"].to_numpy(dtype="float64", na_value=np.nan)
                ids[np.flatnonzero(todo)] = np.where(near >= 0, near, np.nan)
                rows["point_id"] = pd.array(ids, dtype="Float64").astype("Int64")
        self.result.linked += int(rows["point_id"].notna().sum())

    def _write(self, rows: pd.DataFrame) -> None:
        assert self.batch is not None
        if self.suspended is None:
            expected = self._expected_rows()
            self.suspended = begin_bulk_load(self.session, is_bulk_load(self.session, expected))
            self.writer = ProblemWriter(self.session)
            self.counts = BatchCounts(self.session)
        assert self.writer is not None
        links = self.visits.write(rows, self.batch.id, self.options.actor)
        rows = rows[rows["category"].notna()]  # visit-only rows hold no problem
        units = unit_ids(self.session, rows["unit"].dropna().unique())
        frame = problem_frame(rows, units, self.options.source, self.batch.id)
        self.writer.write(frame)
        if not links.empty:
            self.writer.wait()  # the visits link to problems that must be stored first
            self.visits.link(self.options.source, links)
        # Counted in pandas while the COPY runs; merged once when the batch ends.
        assert self.counts is not None
        self.counts.add(frame[list(summary.SOURCE_COLUMNS)])

    def _expected_rows(self) -> int:
        """Rows the whole file will give, estimated from what was read so far."""
        read = self.source.bytes_read
        if not read or read >= self.source.size:
            return self.result.rows
        return int(self.result.rows * self.source.size / read)
