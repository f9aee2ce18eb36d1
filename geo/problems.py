"""One problem at a time: create it from JSON, list with filters and paging, read it.

``create_problem`` validates a JSON object exactly as one survey row (geo/survey.py) and
writes it through the ingest path (duplicate check, point link, area assignment, bulk
insert, per-area summary counts), as a batch of one. Every read is limited to the
caller's scope (geo/access.py); a problem out of scope is "not found", never "forbidden",
so ids reveal nothing. Coordinates are WGS-84 lon/lat degrees; times are naive UTC in
the database and ISO 8601 with ``Z`` in the JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo import ingest, summary
from geo.access import Principal, Scope, require, scoped
from geo.assign import ANCESTRY_COLUMNS
from geo.audit import utcnow
from geo.db import backend_name
from geo.errors import (
    AlreadyExistsError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from geo.models import Area, IngestBatch, InspectionPoint, Problem, ResponsibleUnit
from geo.problem_filters import ProblemFilter
from geo.sqltypes import geometry_to_db
from geo.survey import ALIASES, canonical_columns, parse_survey
from geo.taxonomy import Taxonomy, default_taxonomy
from geo.units import unit_ids

FIELDS: tuple[str, ...] = ("id", *(name for name in ALIASES if name != "external_id"))
"""Keys a created problem may have: the survey columns (``id`` is the external id)."""

MAX_ID = 2**31 - 1
"""Largest id a database integer column holds; larger ones are simply not found."""


def create_problem(
    session: so.Session,
    data: Mapping[str, Any],
    actor: Principal,
    source: str,
    taxonomy: Taxonomy | None = None,
    tz: str = "Asia/Shanghai",
) -> int:
    """Create one problem from ``data`` (survey column names) in ``actor``'s scope.

    Steps: check the permission → validate as a survey row → refuse a duplicate
    (``source`` + ``id``) → link its point and assign its areas → refuse it when out of
    ``actor``'s scope → insert it and update the summary counts, as an ingest batch of
    one. Returns the new problem id; the caller commits.
    """
    require(actor, "report")
    taxonomy = taxonomy or default_taxonomy()
    rows = _validated_row(data, taxonomy, tz)
    result = ingest.IngestResult(file_name="api")
    external_id = str(rows["external_id"].iloc[0])
    rows = ingest._new_rows(session, rows, source, result)
    if result.duplicates:
        raise AlreadyExistsError(_duplicate_message(session, source, external_id))
    rows = ingest._link_points(session, rows, result)
    if result.rejects:
        raise ValidationError(result.rejects[0].reason)
    ingest._assign(session, rows, result)
    _check_in_scope(actor.scope, rows.iloc[0])
    return _write_one(session, rows, source, actor, data)


def get_problem(
    session: so.Session, scope: Scope, problem_id: int, taxonomy: Taxonomy, lang: str = "zh"
) -> dict[str, Any]:
    """Problem ``problem_id`` as JSON-ready data with its history, if ``scope`` sees it.

    Raises ``NotFoundError`` when it does not exist *or* is out of scope.
    """
    row = None
    if 0 < problem_id <= MAX_ID:
        row = session.execute(_select(scope).where(Problem.id == problem_id)).first()
    if row is None:
        raise NotFoundError(f"没有这个问题 / no problem {problem_id}")
    item = _as_json(row, taxonomy, lang)
    problem = session.get(Problem, problem_id)
    assert problem is not None
    item["events"] = [
        {
            "at": _iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "note": e.note,
        }
        for e in problem.events
    ]
    return item


@dataclass(frozen=True)
class ProblemPage:
    """One page of a filtered, scoped problem list; ``total`` counts the whole list."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


def list_problems(
    session: so.Session,
    scope: Scope,
    filters: ProblemFilter,
    taxonomy: Taxonomy,
    lang: str = "zh",
) -> ProblemPage:
    """Problems in ``scope`` matching ``filters``, by id, one page (limit/offset)."""
    stmt = filters.apply(_select(scope))
    total = session.scalar(
        filters.apply(scoped(sa.select(sa.func.count(Problem.id)), scope, Problem))
    )
    rows = session.execute(stmt.order_by(Problem.id).limit(filters.limit).offset(filters.offset))
    return ProblemPage(
        [_as_json(r, taxonomy, lang) for r in rows], total or 0, filters.limit, filters.offset
    )


# --- create ----------------------------------------------------------------------------


def _validated_row(data: Mapping[str, Any], taxonomy: Taxonomy, tz: str) -> pd.DataFrame:
    if not isinstance(data, Mapping):
        raise ValidationError("请求体必须是 JSON 对象 / the body must be a JSON object")
    unknown = sorted(str(k) for k in data if k not in FIELDS)
    if unknown:
        raise ValidationError(
            f"未知的字段 / unknown field(s): {', '.join(unknown)[:200]}; "
            f"可用 / accepted: {', '.join(FIELDS)}"
        )
    values = {key: _cell(key, value) for key, value in data.items()}
    table = canonical_columns(pd.DataFrame([values], dtype=object), "request body")
    parsed = parse_survey(table, taxonomy, tz)
    if parsed.rejects:
        raise ValidationError(parsed.rejects[0].reason)
    return parsed.rows


def _cell(key: str, value: Any) -> str:
    """A JSON value as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError(f"字段 {key} 必须是文本或数字 / field {key} must be text or a number")
    if isinstance(value, str) and len(value) > 10_000:
        raise ValidationError(f"字段 {key} 太长 / field {key} is too long")
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(f"字段 {key} 含有空字符 / field {key} contains a NUL character")
    return repr(value) if isinstance(value, float) else str(value)


def _duplicate_message(session: so.Session, source: str, external_id: str) -> str:
    existing = session.scalar(
        sa.select(Problem.id).where(Problem.source == source, Problem.external_id == external_id)
    )
    return (
        f"问题已存在 / problem exists already: source '{source}', id '{external_id[:80]}'"
        f" (problem {existing})"
    )


def _check_in_scope(scope: Scope, row: pd.Series) -> None:
    ids = [None if pd.isna(row[c]) else int(row[c]) for c in ANCESTRY_COLUMNS]
    if not scope.contains(*ids):
        raise ForbiddenError("位置不在您的管辖范围内 / the location is outside your scope")


def _write_one(
    session: so.Session,
    rows: pd.DataFrame,
    source: str,
    actor: Principal,
    data: Mapping[str, Any],
) -> int:
    body = json.dumps(dict(data), sort_keys=True, ensure_ascii=False, default=str)
    now = utcnow()
    batch = IngestBatch(
        source=source,
        file_name="api:problem",
        sha256=hashlib.sha256(body.encode()).hexdigest(),
        actor=actor.actor,
        started_at=now,
        finished_at=now,
        rows_total=1,
        accepted=1,
        outside=int(rows["outside"].sum()),
    )
    session.add(batch)
    session.flush()
    units = unit_ids(session, rows["unit"])
    geoms = geometry_to_db(
        shapely.points(rows["lon"].to_numpy(), rows["lat"].to_numpy()), backend_name(session)
    )
    records = ingest._problem_records(rows, units, geoms, source, batch.id)
    new_id = session.execute(sa.insert(Problem).returning(Problem.id), records[0]).scalar_one()
    summary.apply_changes(session, None, rows)
    return int(new_id)


# --- read ------------------------------------------------------------------------------

_AREA_LEVELS = ("district", "street", "community", "grid")


def _select(scope: Scope) -> sa.Select[Any]:
    areas = {level: so.aliased(Area, name=f"{level}_area") for level in _AREA_LEVELS}
    stmt = sa.select(
        Problem,
        ResponsibleUnit.name.label("unit_name"),
        InspectionPoint.code.label("point_code"),
        *(areas[level].code.label(f"{level}_code") for level in _AREA_LEVELS),
    )
    stmt = stmt.outerjoin(ResponsibleUnit, ResponsibleUnit.id == Problem.unit_id)
    stmt = stmt.outerjoin(InspectionPoint, InspectionPoint.id == Problem.point_id)
    for level in _AREA_LEVELS:
        stmt = stmt.outerjoin(areas[level], areas[level].id == getattr(Problem, f"{level}_id"))
    return scoped(stmt, scope, Problem)


def _as_json(row: Any, taxonomy: Taxonomy, lang: str) -> dict[str, Any]:
    p: Problem = row.Problem
    return {
        "id": p.id,
        "source": p.source,
        "external_id": p.external_id,
        "category": p.category,
        "category_label": taxonomy.category_label(p.category, lang),
        "status": p.status,
        "status_label": taxonomy.status_label(p.status, lang),
        "description": p.description,
        "lon": p.lon,
        "lat": p.lat,
        "outside": p.outside,
        "district": row.district_code,
        "street": row.street_code,
        "community": row.community_code,
        "grid": row.grid_code,
        "point_code": row.point_code,
        "unit": row.unit_name,
        "campaign": p.campaign,
        "found_at": _iso(p.found_at),
        "assigned_at": _iso(p.assigned_at),
        "deadline": _iso(p.deadline),
        "rectified_at": _iso(p.rectified_at),
        "closed_at": _iso(p.closed_at),
        "reopen_count": p.reopen_count,
        "version": p.version,
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"
