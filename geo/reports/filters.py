"""The filters of the map, in one place: parsed from query arguments, applied to selects.

Exports, the OGC API, the map pages and later surfaces all filter problems the same way:

======== ==========================================================================
key      meaning (a value may be repeated or comma-separated; alternatives are ORed)
======== ==========================================================================
status   ``all``, ``unresolved`` (neither closed nor voided), ``overdue`` (unresolved past its
         deadline) or a status code (found, assigned, rectified, closed)
category problem category: code, zh-CN or English label
kind     point kind of the problem's linked inspection point (of the point itself
         for points)
campaign campaign: code or label
from     found on or after: a date (local, CIVICGRID_TIMEZONE) or ISO 8601 time
to       found on or before: a date (the whole day counts) or ISO 8601 time
area     area code at any level (district, street, community, grid, city); prefix
         with the level to disambiguate, e.g. ``grid:320602001001001``
level    areas only: the level(s) of the areas to list
======== ==========================================================================

Access control: a ``geo.access.scope.Scope`` (the caller's areas) restricts every statement
the filter touches to what the caller may see; ``ProblemFilter.within(scope)`` adds it,
and every builder honours it. Times are naive UTC (as stored).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, visible
from geo.core.errors import InvalidParameterError, TaxonomyError
from geo.core.taxonomy import Taxonomy
from geo.core.text import en, tr
from geo.core.timeparse import range_bound
from geo.storage.models import LEVELS, Area, InspectionPoint, Problem
from geo.storage.statuses import STATUSES, map_overdue_sql, unresolved_sql

Target = Literal["problems", "points", "areas"]
TARGETS: tuple[Target, ...] = ("problems", "points", "areas")

FILTER_KEYS: dict[str, tuple[str, ...]] = {
    "problems": ("status", "category", "kind", "campaign", "from", "to", "area"),
    "points": ("kind", "area"),
    "areas": ("level", "area"),
}
"""Filter keys each target accepts."""

STATUS_WORDS: tuple[str, ...] = ("all", "unresolved", "overdue")
ANCESTRY: tuple[str, ...] = ("district", "street", "community", "grid")

S = TypeVar("S", bound=sa.Select[Any])  # any select over the filtered table


@dataclass(frozen=True)
class ProblemFilter:
    """A validated filter. Empty tuples mean "no restriction"; times are naive UTC."""

    status: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    found_from: datetime | None = None
    found_to: datetime | None = None  # exclusive
    areas: tuple[str, ...] = ()  # "code" or "level:code"
    levels: tuple[str, ...] = ()
    scope: Scope | None = None
    as_of: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    raw: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @classmethod
    def from_args(
        cls,
        args: Mapping[str, Any],
        taxonomy: Taxonomy,
        target: Target = "problems",
        tz: str = "Asia/Shanghai",
        extra: Iterable[str] = (),
    ) -> ProblemFilter:
        """Parse query arguments (a dict or a werkzeug MultiDict) for ``target``.

        ``extra`` names further keys the caller handles itself (``f``, ``limit``...).
        Raises ``InvalidParameterError`` (zh / en, listing the allowed values) for an
        unknown key or value, or a ``from`` later than ``to``.
        """
        allowed = FILTER_KEYS[target]
        _check_keys(args, (*allowed, *extra))
        values = {key: _values(args, key) for key in allowed}
        found_from, found_to = _date_range(values.get("from", ()), values.get("to", ()), tz)
        return cls(
            status=_statuses(values.get("status", ()), taxonomy),
            categories=_resolve(values.get("category", ()), taxonomy.resolve_category),
            kinds=_resolve(values.get("kind", ()), taxonomy.resolve_kind),
            campaigns=_resolve(values.get("campaign", ()), taxonomy.resolve_campaign),
            found_from=found_from,
            found_to=found_to,
            areas=_area_specs(values.get("area", ())),
            levels=_levels(values.get("level", ())),
            raw=tuple((k, ",".join(v)) for k, v in values.items() if v),
        )

    def within(self, scope: Scope | None) -> ProblemFilter:
        """This filter, further restricted to ``scope`` (None leaves it unchanged)."""
        return self if scope is None else dataclasses.replace(self, scope=scope)

    def query_args(self) -> dict[str, str]:
        """The filter as query arguments (for links that keep it), as the user gave it."""
        return dict(self.raw)

    def validate(self, session: so.Session) -> None:
        """Raise ``InvalidParameterError`` when an ``area`` code names no loaded area."""
        for spec in self.areas:
            level, code = _split_area(spec)
            stmt = sa.select(Area.id).where(Area.code == code).limit(1)
            if level:
                stmt = stmt.where(Area.level == level)
            if session.scalar(stmt) is None:
                raise InvalidParameterError(
                    tr(
                        f"未知的区域编码 '{spec}'(可加层级前缀",
                        f"unknown area code '{spec}' (you may prefix the level, e.g. grid:CODE)",
                    )
                )

    def apply(self, stmt: S) -> S:
        """Restrict a select over ``Problem`` to the problems this filter lets through."""
        return stmt.where(*self.problem_conditions())

    def problem_conditions(self) -> list[sa.ColumnElement[bool]]:
        """The WHERE conditions for ``Problem`` rows."""
        conds: list[sa.ColumnElement[bool]] = []
        if self.status:
            conds.append(sa.or_(*(self._status_condition(s) for s in self.status)))
        if self.categories:
            conds.append(Problem.category.in_(self.categories))
        if self.campaigns:
            conds.append(Problem.campaign.in_(self.campaigns))
        if self.kinds:
            kinds = sa.select(InspectionPoint.id).where(InspectionPoint.kind.in_(self.kinds))
            conds.append(Problem.point_id.in_(kinds))
        if self.found_from is not None:
            conds.append(Problem.found_at >= self.found_from)
        if self.found_to is not None:
            conds.append(Problem.found_at < self.found_to)
        conds += _area_conditions(Problem, self.areas, self.scope)
        return conds

    def apply_points(self, stmt: S) -> S:
        """Restrict a select over ``InspectionPoint`` (kind, area, scope)."""
        conds: list[sa.ColumnElement[bool]] = []
        if self.kinds:
            conds.append(InspectionPoint.kind.in_(self.kinds))
        conds += _area_conditions(InspectionPoint, self.areas, self.scope)
        return stmt.where(*conds)

    def apply_areas(self, stmt: S) -> S:
        """Restrict a select over ``Area``: levels, areas inside ``area`` codes, scope."""
        conds: list[sa.ColumnElement[bool]] = []
        if self.levels:
            conds.append(Area.level.in_(self.levels))
        if self.areas:
            ids = sa.select(Area.id).where(sa.or_(*(_area_match(s) for s in self.areas)))
            conds.append(_area_inside(ids.scalar_subquery()))
        if self.scope is not None:
            conds.append(visible(self.scope, Area))
        return stmt.where(*conds)

    def _status_condition(self, status: str) -> sa.ColumnElement[bool]:
        if status == "unresolved":
            return unresolved_sql()
        if status == "overdue":
            return map_overdue_sql(self.as_of)
        return Problem.status == status


def allowed_keys_message(allowed: Iterable[str]) -> str:
    """ "可用参数 / allowed parameters: a, b, c" for error messages."""
    return tr("可用参数: ", "allowed parameters: ") + ", ".join(allowed)


def _check_keys(args: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = [key for key in args if key not in allowed]
    if unknown:
        raise InvalidParameterError(
            tr(
                f"未知的参数: {', '.join(sorted(unknown))}; ",
                f"unknown parameter(s): {', '.join(sorted(unknown))}; ",
            )
            + allowed_keys_message(allowed)
        )


def _values(args: Mapping[str, Any], key: str) -> tuple[str, ...]:
    getlist = getattr(args, "getlist", None)
    raw = getlist(key) if getlist is not None else args.get(key)
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else list(raw)
    parts = [p.strip() for item in items for p in str(item).split(",")]
    return tuple(dict.fromkeys(p for p in parts if p))


def _statuses(values: tuple[str, ...], taxonomy: Taxonomy) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys((*STATUSES, *taxonomy.statuses)))
    allowed = (*STATUS_WORDS, *codes)
    for value in values:
        if value not in allowed:
            raise InvalidParameterError(
                tr(
                    f"未知的状态 '{value}'; 可选: {', '.join(allowed)}",
                    f"unknown status '{value}'; one of: {', '.join(allowed)}",
                )
            )
    return () if "all" in values else values


def _resolve(values: tuple[str, ...], resolve: Any) -> tuple[str, ...]:
    codes = []
    for value in values:
        try:
            codes.append(resolve(value).code)
        except TaxonomyError as exc:
            section = resolve.__name__.removeprefix("resolve_")
            raise InvalidParameterError(
                tr(
                    f"{exc}; 可选: {_choices(resolve, section)}",
                    f"{en(exc)}; one of: {_choices(resolve, section)}",
                )
            ) from None
    return tuple(dict.fromkeys(codes))


def _choices(resolve: Any, section: str) -> str:
    taxonomy: Taxonomy = resolve.__self__
    names = {"category": "categories", "kind": "point_kinds", "campaign": "campaigns"}
    return ", ".join(getattr(taxonomy, names[section]))


def _levels(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if value not in LEVELS:
            raise InvalidParameterError(
                tr(
                    f"未知的区域层级 '{value}'; 可选: {', '.join(LEVELS)}",
                    f"unknown level '{value}'; one of: {', '.join(LEVELS)}",
                )
            )
    return values


def _area_specs(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        _level, code = _split_area(value)
        if not code:
            raise InvalidParameterError(
                tr(f"区域编码为空 '{value}'", f"empty area code in '{value}'")
            )
    return values


def _split_area(spec: str) -> tuple[str | None, str]:
    level, sep, code = spec.partition(":")
    if not sep:
        return None, spec
    if level not in LEVELS:
        raise InvalidParameterError(
            tr(
                f"未知的区域层级 '{level}' '{spec}'; 可选: {', '.join(LEVELS)}",
                f"unknown level '{level}' in area '{spec}'; one of: {', '.join(LEVELS)}",
            )
        )
    return level, code.strip()


def _date_range(
    starts: tuple[str, ...], ends: tuple[str, ...], tz: str
) -> tuple[datetime | None, datetime | None]:
    start = _parse_bound(starts, "from", tz, end=False)
    end = _parse_bound(ends, "to", tz, end=True)
    if start is not None and end is not None and start >= end:
        raise InvalidParameterError(
            tr(
                f"起始时间 ({starts[0]}) 晚于结束时间 ({ends[0]})",
                f"'from' ({starts[0]}) is after 'to' ({ends[0]})",
            )
        )
    return start, end


def _parse_bound(values: tuple[str, ...], key: str, tz: str, end: bool) -> datetime | None:
    if not values:
        return None
    if len(values) > 1:
        raise InvalidParameterError(
            tr(f"参数 {key} 只能有一个值 '{key}'", f"'{key}' takes one value")
        )
    text = values[0]
    malformed = tr(
        (
            f"时间格式错误 '{key}': '{text}'（YYYY-MM-DD 或 ISO 8601，例如"
            " 2024-05-01 或 2024-05-01T08:00:00+08:00）"
        ),
        (
            f"malformed time in '{key}': '{text}' (YYYY-MM-DD or ISO "
            "8601, e.g. 2024-05-01 or 2024-05-01T08:00:00+08:00)"
        ),
    )
    return range_bound(text, tz, end=end, malformed=malformed)


def _area_match(spec: str) -> sa.ColumnElement[bool]:
    level, code = _split_area(spec)
    cond = Area.code == code
    return sa.and_(cond, Area.level == level) if level else cond


def _area_conditions(
    model: type[Problem] | type[InspectionPoint], specs: tuple[str, ...], scope: Scope | None
) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = []
    if specs:
        conds.append(sa.or_(*(_inside_spec(model, spec) for spec in specs)))
    if scope is not None:
        conds.append(visible(scope, model))
    return conds


def _inside_spec(model: type[Problem] | type[InspectionPoint], spec: str) -> sa.ColumnElement[bool]:
    """Rows inside the area(s) named by ``spec`` ("code" at any level, or "level:code")."""
    level, code = _split_area(spec)
    conds = []
    for lv in (level,) if level else (*ANCESTRY, "city"):
        ids = sa.select(Area.id).where(Area.code == code, Area.level == lv)
        if lv == "city":
            districts = sa.select(Area.id).where(Area.level == "district", Area.parent_id.in_(ids))
            conds.append(model.district_id.in_(districts))
        else:
            conds.append(getattr(model, f"{lv}_id").in_(ids))
    return sa.or_(*conds)


def _area_inside(ids: Any) -> sa.ColumnElement[bool]:
    """An area that is one of ``ids`` or lies inside one of them (any depth)."""
    city_districts = sa.select(Area.id).where(Area.level == "district", Area.parent_id.in_(ids))
    return sa.or_(
        Area.id.in_(ids),
        Area.parent_id.in_(ids),
        Area.district_id.in_(ids),
        Area.street_id.in_(ids),
        Area.community_id.in_(ids),
        Area.district_id.in_(city_districts),
    )
