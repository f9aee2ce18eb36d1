"""The survey ingest pipeline: read → normalise → validate → assign → link → write.

``ingest_file`` is the one entry point, shared by the CLI and (later) the HTTP upload.
A batch is one transaction: either every accepted row is written together with its
batch record, or nothing is. Rows already stored (same source and external id) are
skipped, so re-running a file adds nothing. Coordinates are WGS-84 lon/lat degrees.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.engine import Engine

from geo import summary
from geo.assign import ANCESTRY_COLUMNS, assign_lonlat, load_area_index
from geo.db import backend_name, transaction
from geo.errors import IngestError
from geo.models import IngestBatch, InspectionPoint, Problem
from geo.sqltypes import geometry_to_db
from geo.survey import Reject, canonical_columns, parse_survey, read_csv_table
from geo.taxonomy import Taxonomy, default_taxonomy
from geo.units import unit_ids

_WRITE_CHUNK = 5_000


@dataclass(frozen=True)
class IngestOptions:
    """How to ingest: the source that scopes external ids, who does it, the local time
    zone for times without offset, and whether any bad row refuses the whole file."""

    source: str = "survey"
    actor: str = "cli"
    tz: str = "Asia/Shanghai"
    strict: bool = True
    dry_run: bool = False


@dataclass
class IngestResult:
    """What a batch did; ``rejects`` carry row numbers and reasons."""

    file_name: str
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    outside: int = 0
    batch_id: int | None = None
    rejects: list[Reject] = field(default_factory=list)


def ingest_file(
    engine: Engine,
    path: str | Path,
    options: IngestOptions | None = None,
    taxonomy: Taxonomy | None = None,
) -> IngestResult:
    """Ingest a survey CSV of problems into the database.

    Parameters: ``engine``; ``path`` of a UTF-8 CSV with lon/lat (WGS-84 degrees),
    category, found time and optionally id, description and lifecycle columns;
    ``options``; ``taxonomy`` (default: data/taxonomy.toml).
    Returns an ``IngestResult``. Raises ``IngestError`` when the file is unreadable, or,
    in strict mode, when any row is bad; the database is then unchanged.
    """
    options = options or IngestOptions()
    path = Path(path)
    table = canonical_columns(read_csv_table(path), path)
    parsed = parse_survey(table, taxonomy or default_taxonomy(), options.tz)
    result = IngestResult(file_name=path.name, rows=len(table), rejects=parsed.rejects)
    if options.strict and parsed.rejects:
        raise IngestError(_strict_message(path, parsed.rejects))
    with transaction(engine) as session:
        rows = _new_rows(session, parsed.rows, options.source, result)
        rows = _link_points(session, rows, result)
        if options.strict and result.rejects:
            raise IngestError(_strict_message(path, result.rejects))
        _assign(session, rows, result)
        if not options.dry_run:
            result.batch_id = _write(session, rows, path, options, result)
        else:
            session.rollback()
    return result


def _strict_message(path: Path, rejects: list[Reject]) -> str:
    first = sorted(rejects, key=lambda r: r.row)[0]
    more = (
        f" (共 {len(rejects)} 行有误 / {len(rejects)} bad rows in all)" if len(rejects) > 1 else ""
    )
    return f"{path}: 第 {first.row} 行 / row {first.row}: {first.reason}{more}"


def _new_rows(
    session: so.Session, rows: pd.DataFrame, source: str, result: IngestResult
) -> pd.DataFrame:
    """Drop rows whose (source, external id) is already stored."""
    ids = rows["external_id"].tolist()
    known: set[str] = set()
    for start in range(0, len(ids), 10_000):
        known.update(
            session.scalars(
                sa.select(Problem.external_id).where(
                    Problem.source == source,
                    Problem.external_id.in_(ids[start : start + 10_000]),
                )
            )
        )
    fresh = ~rows["external_id"].isin(known)
    result.duplicates = int((~fresh).sum())
    return rows.loc[fresh].reset_index(drop=True)


def _link_points(session: so.Session, rows: pd.DataFrame, result: IngestResult) -> pd.DataFrame:
    """Link rows naming a point code to that inspection point; unknown codes are rejected."""
    codes = sorted({c for c in rows["point_code"] if isinstance(c, str)})
    known = dict(
        session.execute(
            sa.select(InspectionPoint.code, InspectionPoint.id).where(
                InspectionPoint.code.in_(codes)
            )
        ).all()
    )
    rows["point_id"] = rows["point_code"].map(known).astype("Int64")
    unknown = rows["point_code"].notna() & rows["point_id"].isna()
    for row, code, eid in rows.loc[unknown, ["row", "point_code", "external_id"]].itertuples(
        index=False
    ):
        result.rejects.append(
            Reject(int(row), "未知的点位编码", f"unknown point code '{code}'", eid)
        )
    return rows.loc[~unknown].reset_index(drop=True)


def _assign(session: so.Session, rows: pd.DataFrame, result: IngestResult) -> None:
    assigned = assign_lonlat(load_area_index(session), rows["lon"], rows["lat"])
    for column in (*ANCESTRY_COLUMNS, "outside"):
        rows[column] = assigned[column].to_numpy()
    result.outside = int(rows["outside"].sum())
    result.accepted = len(rows)


def _write(
    session: so.Session,
    rows: pd.DataFrame,
    path: Path,
    options: IngestOptions,
    result: IngestResult,
) -> int:
    summary.advance_clock(session)  # before writing: see geo/summary.py
    batch = _batch_record(path, options, result)
    session.add(batch)
    session.flush()
    units = unit_ids(session, rows["unit"])
    geoms = geometry_to_db(
        shapely.points(rows["lon"].to_numpy(), rows["lat"].to_numpy()), backend_name(session)
    )
    records = _problem_records(rows, units, geoms, options.source, batch.id)
    for start in range(0, len(records), _WRITE_CHUNK):
        session.execute(sa.insert(Problem), records[start : start + _WRITE_CHUNK])
    summary.apply_changes(session, None, rows)
    batch.finished_at = _utcnow()
    return batch.id


def _batch_record(path: Path, options: IngestOptions, result: IngestResult) -> IngestBatch:
    return IngestBatch(
        source=options.source,
        file_name=path.name,
        sha256=_sha256(path),
        actor=options.actor,
        started_at=_utcnow(),
        rows_total=result.rows,
        accepted=result.accepted,
        rejected=len(result.rejects),
        duplicates=result.duplicates,
        outside=result.outside,
    )


def _problem_records(
    rows: pd.DataFrame, units: dict[str, int], geoms: np.ndarray, source: str, batch_id: int
) -> list[dict[str, object]]:
    frame = pd.DataFrame(
        {
            "source": source,
            "external_id": rows["external_id"],
            "category": rows["category"],
            "description": rows["description"].fillna(""),
            "lon": rows["lon"],
            "lat": rows["lat"],
            "geom": geoms,
            "outside": rows["outside"].astype(bool),
            "point_id": rows["point_id"],
            "status": rows["status"],
            "unit_id": rows["unit"].map(units).astype("Int64"),
            "found_at": rows["found_at"],
            "assigned_at": rows["found_at"].where(rows["status"] != "found", None),
            "deadline": rows["deadline"],
            "rectified_at": rows["rectified_at"],
            "closed_at": rows["closed_at"],
            "reopen_count": rows["reopened"].astype(int),
            "campaign": rows["campaign"],
            "batch_id": batch_id,
            "version": 1,
            **{c: rows[c] for c in ANCESTRY_COLUMNS},
        }
    ).astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
