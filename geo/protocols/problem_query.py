"""Filters and paging for problem lists, parsed from query parameters.

Every value becomes a bound parameter of a ``select()``; nothing is pasted into SQL.
Area filters take area codes and can only narrow what the caller's scope already
allows (geo/access/scope.py applies the scope separately). bbox is WGS-84 lon/lat degrees.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from geo.access.audit import utcnow
from geo.core.errors import InvalidParameterError, TaxonomyError
from geo.core.params import int_param
from geo.core.taxonomy import Taxonomy
from geo.core.text import en, tr
from geo.core.timeparse import parse_time
from geo.storage.models import Area, Problem
from geo.storage.statuses import ALL_STATUSES, RESOLVED, map_overdue_sql

AREA_PARAMS: tuple[str, ...] = ("district", "street", "community", "grid")
PARAMS: tuple[str, ...] = (
    "status",
    "category",
    *AREA_PARAMS,
    "bbox",
    "found_from",
    "found_before",
    "overdue",
    "campaign",
    "source",
    "limit",
    "offset",
    "lang",
)
"""Accepted query parameters (``lang`` is the page language, handled elsewhere)."""

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True)
class ProblemQuery:
    """What to keep and which page to return. Times are naive UTC."""

    status: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    areas: tuple[tuple[str, str], ...] = ()  # (level, code)
    bbox: tuple[float, float, float, float] | None = None
    found_from: datetime | None = None
    found_before: datetime | None = None
    overdue: bool | None = None
    campaign: str | None = None
    source: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    @classmethod
    def from_args(cls, args: Mapping[str, str], taxonomy: Taxonomy, tz: str) -> ProblemQuery:
        """Parse query parameters; raise ``InvalidParameterError`` naming the bad one."""
        unknown = sorted(k for k in args if k not in PARAMS)
        if unknown:
            raise InvalidParameterError(
                tr(
                    f"未知的参数: {', '.join(unknown)[:200]}; 可用: {', '.join(PARAMS)}",
                    (
                        f"unknown parameter(s): {', '.join(unknown)[:200]}; accepted: "
                        f"{', '.join(PARAMS)}"
                    ),
                )
            )
        return cls(
            status=_statuses(args.get("status", "")),
            category=_categories(args.get("category", ""), taxonomy),
            areas=tuple((p, args[p].strip()) for p in AREA_PARAMS if args.get(p, "").strip()),
            bbox=_bbox(args["bbox"]) if args.get("bbox") else None,
            found_from=_time(args, "found_from", tz),
            found_before=_time(args, "found_before", tz),
            overdue=_bool(args["overdue"], "overdue") if "overdue" in args else None,
            campaign=args.get("campaign") or None,
            source=args.get("source") or None,
            limit=int_param("limit", args.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT),
            offset=int_param("offset", args.get("offset"), 0, 0, 10**9),
        )

    def apply(self, stmt: Any) -> Any:
        """``stmt`` (a select over Problem) with these filters (not the paging) added."""
        if self.status:
            stmt = stmt.where(Problem.status.in_(self.status))
        if self.category:
            stmt = stmt.where(Problem.category.in_(self.category))
        for level, code in self.areas:
            ids = sa.select(Area.id).where(Area.level == level, Area.code == code)
            stmt = stmt.where(getattr(Problem, f"{level}_id").in_(ids))
        if self.bbox:
            min_lon, min_lat, max_lon, max_lat = self.bbox
            stmt = stmt.where(Problem.lon.between(min_lon, max_lon))
            stmt = stmt.where(Problem.lat.between(min_lat, max_lat))
        if self.found_from:
            stmt = stmt.where(Problem.found_at >= self.found_from)
        if self.found_before:
            stmt = stmt.where(Problem.found_at < self.found_before)
        if self.overdue is not None:
            now = utcnow()
            late = map_overdue_sql(now)
            resolved = Problem.status.in_(RESOLVED)
            on_time = sa.or_(resolved, Problem.deadline.is_(None), Problem.deadline >= now)
            stmt = stmt.where(late if self.overdue else on_time)
        if self.campaign:
            stmt = stmt.where(Problem.campaign == self.campaign)
        if self.source:
            stmt = stmt.where(Problem.source == self.source)
        return stmt


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _statuses(text: str) -> tuple[str, ...]:
    values = _split(text)
    bad = [v for v in values if v not in ALL_STATUSES]
    if bad:
        raise InvalidParameterError(
            tr(
                f"未知的状态 '{bad[0][:60]}'; 可选: {', '.join(ALL_STATUSES)}",
                f"unknown status '{bad[0][:60]}'; one of: {', '.join(ALL_STATUSES)}",
            )
        )
    return tuple(values)


def _categories(text: str, taxonomy: Taxonomy) -> tuple[str, ...]:
    try:
        return tuple(taxonomy.resolve_category(v).code for v in _split(text))
    except TaxonomyError as exc:
        raise InvalidParameterError(tr(f"category: {exc}", f"category: {en(exc)}")) from exc


def _bbox(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    ok = len(values) == 4 and all(math.isfinite(v) for v in values)
    if ok:
        min_lon, min_lat, max_lon, max_lat = values
        ok = -180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90
    if not ok:
        raise InvalidParameterError(
            tr(
                "bbox 应为 最小经度,最小纬度,最大经度,最大纬度",
                "bbox must be min_lon,min_lat,max_lon,max_lat in degrees",
            )
        )
    return values[0], values[1], values[2], values[3]


def _time(args: Mapping[str, str], name: str, tz: str) -> datetime | None:
    text = args.get(name, "").strip()
    if not text:
        return None
    value = parse_time(text, tz)
    if not isinstance(value, datetime):
        raise InvalidParameterError(
            tr(f"{name}: 时间格式错误", f"{name}: not an ISO 8601 date or time")
        )
    return value


def _bool(text: str, name: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise InvalidParameterError(tr(f"{name}: 应为 true 或 false", f"{name}: must be true or false"))
