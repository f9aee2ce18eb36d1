"""Creating one problem from a report (Open311 POST and ``POST /api/v1/problems``).

``create_problem`` validates the report, assigns it to its areas (the same rule as bulk
ingest: finest area containing it, lowest code on a shared edge), records who reported
it and updates the per-area summary counts, all in the caller's transaction.
Coordinates are WGS-84 lon/lat degrees; times are stored as naive UTC.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope
from geo.areas.assign import AreaIndex
from geo.core.errors import AlreadyExistsError, ForbiddenError, InvalidParameterError, TaxonomyError
from geo.core.params import check_text
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.core.timeparse import parse_time
from geo.storage.models import ANCESTRY_COLUMNS, Area, InspectionPoint, Problem, ProblemEvent
from geo.summary import clock
from geo.summary import counts as summary

MAX_DESCRIPTION = 2_000
FIELDS = (
    "category",
    "lon",
    "lat",
    "description",
    "found_at",
    "source",
    "external_id",
    "campaign",
    "point_code",
)
TEXT_LIMITS = {
    "category": 100,
    "description": MAX_DESCRIPTION,
    "found_at": 64,
    "source": 100,
    "external_id": 200,
    "campaign": 100,
    "point_code": 100,
}
"""Longest text of each text field; JSON numbers, lists and objects are refused there
(never stored as their Python repr)."""


def create_problem(
    session: so.Session,
    data: Mapping[str, Any],
    actor: str,
    taxonomy: Taxonomy,
    tz: str = "Asia/Shanghai",
    scope: Scope | None = None,
) -> Problem:
    """Create a problem (status ``found``) from ``data`` and return it (flushed, with id).

    ``data`` keys: ``category`` (code or label), ``lon``, ``lat`` (WGS-84 degrees),
    optional ``description``, ``found_at`` (ISO 8601; local ``tz`` without offset;
    default now), ``source`` (default ``api``), ``external_id`` (default a new UUID),
    ``campaign``, ``point_code``. Raises ``InvalidParameterError`` naming the field, or
    ``ForbiddenError`` when the location lies outside ``scope`` (the reporter's areas);
    nothing is written then.
    """
    values = _validated(session, data, taxonomy, tz)
    values.update(_assignment(session, values["lon"], values["lat"]))
    if scope is not None and not scope.contains(*(values[c] for c in ANCESTRY_COLUMNS)):
        raise ForbiddenError(tr("位置不在您的管辖范围内", "the location is outside your scope"))
    clock.advance_clock(session)  # before writing: see geo/summary/clock.py
    problem = Problem(**values, status="found", reopen_count=0, version=1)
    problem.geom = shapely.Point(values["lon"], values["lat"])
    session.add(problem)
    session.flush()
    session.add(
        ProblemEvent(
            problem_id=problem.id,
            at=_utcnow(),
            actor=actor,
            action="report",
            from_status=None,
            to_status="found",
            note="",
        )
    )
    summary.apply_changes(session, None, pd.DataFrame([_summary_row(problem)]))
    return problem


def _validated(
    session: so.Session, data: Mapping[str, Any], taxonomy: Taxonomy, tz: str
) -> dict[str, Any]:
    unknown = [str(k)[:40] for k in data if k not in FIELDS]
    if unknown:
        raise InvalidParameterError(
            tr(
                f"未知字段: {', '.join(unknown)}; 可用: {', '.join(FIELDS)}",
                f"unknown field(s): {', '.join(unknown)}; accepted: {', '.join(FIELDS)}",
            )
        )
    _check_types(data)
    for key, value in data.items():
        if isinstance(value, str) and "\x00" in value:
            # PostgreSQL text cannot hold NUL, and no real report needs one.
            raise InvalidParameterError(
                tr(f"字段 {key} 含有空字符", f"{key} contains a NUL character")
            )
    lon, lat = _coordinate(data, "lon", 180), _coordinate(data, "lat", 90)
    if lon == 0 and lat == 0:
        raise InvalidParameterError(tr("坐标为 0,0", "coordinates are 0,0"))
    description = str(data.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidParameterError(
            tr(
                f"问题描述超过 {MAX_DESCRIPTION} 个字符",
                f"description longer than {MAX_DESCRIPTION} characters",
            )
        )
    source = str(data.get("source") or "api").strip()[:100]
    external_id = str(data.get("external_id") or uuid.uuid4().hex).strip()[:200]
    _check_new(session, source, external_id)
    return {
        "category": _resolve(taxonomy.resolve_category, data.get("category"), "category"),
        "campaign": _resolve(taxonomy.resolve_campaign, data.get("campaign"), "campaign")
        if data.get("campaign")
        else None,
        "lon": lon,
        "lat": lat,
        "description": description,
        "found_at": _found_at(data.get("found_at"), tz),
        "source": source,
        "external_id": external_id,
        "point_id": _point_id(session, data.get("point_code")),
    }


def _check_types(data: Mapping[str, Any]) -> None:
    """Text fields are text within their limits and coordinates numbers (or numeric
    text), each refused by name otherwise."""
    for key, limit in TEXT_LIMITS.items():
        if data.get(key) is not None:
            check_text(key, data[key], limit)
    for key in ("lon", "lat"):
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int | float | None):
            raise InvalidParameterError(
                tr(f"{key} 必须是数字", f"{key} must be a number (WGS-84 degrees)")
            )
        if isinstance(value, str):
            check_text(key, value, 40)


def _coordinate(data: Mapping[str, Any], key: str, limit: float) -> float:
    raw = data.get(key)
    try:
        value = float(str(raw).strip())
    except (ValueError, OverflowError):
        value = float("nan")
    if raw is None or str(raw).strip() == "":
        raise InvalidParameterError(tr(f"缺少坐标 {key}", f"missing {key}"))
    if value != value or not -limit <= value <= limit:
        raise InvalidParameterError(
            tr(
                f"坐标无效 '{raw}': a number in −{limit}…{limit} (WGS-84 degrees)",
                f"invalid {key} '{raw}': a number in −{limit}…{limit} (WGS-84 degrees)",
            )
        )
    return value


def _resolve(resolve: Any, value: Any, field: str) -> str:
    if value is None or str(value).strip() == "":
        raise InvalidParameterError(tr(f"缺少字段 {field}", f"missing {field}"))
    try:
        return str(resolve(str(value)).code)
    except TaxonomyError as exc:
        raise InvalidParameterError(exc.bilingual) from None


def _found_at(value: Any, tz: str) -> datetime:
    if value is None or str(value).strip() == "":
        return _utcnow()
    parsed = parse_time(str(value).strip(), tz)
    if not isinstance(parsed, datetime):
        raise InvalidParameterError(
            tr(f"时间格式错误 '{value}'", f"malformed found_at '{value}' (ISO 8601)")
        )
    return parsed


def _check_new(session: so.Session, source: str, external_id: str) -> None:
    exists = session.scalar(
        sa.select(Problem.id).where(Problem.source == source, Problem.external_id == external_id)
    )
    if exists is not None:
        raise AlreadyExistsError(
            tr(
                f"问题已存在: source '{source}', id '{external_id}'",
                f"problem already exists: source '{source}', id '{external_id}'",
            )
        )


def _point_id(session: so.Session, code: Any) -> int | None:
    if code is None or str(code).strip() == "":
        return None
    found = session.scalar(sa.select(InspectionPoint.id).where(InspectionPoint.code == str(code)))
    if found is None:
        raise InvalidParameterError(tr(f"未知的点位编码 '{code}'", f"unknown point code '{code}'"))
    return int(found)


def locate(session: so.Session, lon: float, lat: float) -> dict[str, Any]:
    """Where a report at (``lon``, ``lat``) (WGS-84 degrees) would be assigned: the
    ancestry ids (``district_id`` … ``grid_id``, None where none) and ``outside``."""
    return _assignment(session, lon, lat)


def _assignment(session: so.Session, lon: float, lat: float) -> dict[str, Any]:
    """Ancestry ids and ``outside`` of one location, reading only the areas around it."""
    rows = session.execute(
        sa.select(
            Area.id,
            Area.level,
            Area.code,
            Area.district_id,
            Area.street_id,
            Area.community_id,
            Area.geom,
        ).where(Area.min_lon <= lon, Area.max_lon >= lon, Area.min_lat <= lat, Area.max_lat >= lat)
    ).all()
    columns = ["id", "level", "code", "district_id", "street_id", "community_id", "geom"]
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geom", crs=4326)
    assigned = AreaIndex.from_frame(frame).assign(shapely.points([lon], [lat]))
    out: dict[str, Any] = {c: _int_or_none(assigned[c].iloc[0]) for c in ANCESTRY_COLUMNS}
    out["outside"] = bool(assigned["outside"].iloc[0])
    return out


def _summary_row(problem: Problem) -> dict[str, Any]:
    return {c: getattr(problem, c) for c in summary.SOURCE_COLUMNS}


def _int_or_none(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
