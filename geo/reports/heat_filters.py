"""Heat map filters: what a map or list shows, parsed from URL query arguments.

One ``HeatFilters`` describes a view (area level, the value to colour by, which problems:
status, categories, point kinds, campaigns, found-date range, district). It is parsed
from query arguments by ``parse_filters``, which checks every value against the taxonomy
and reports bad ones with a message in Chinese and English; ``query_args`` turns it back
into canonical arguments, so a view can be shared as a URL.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from geo.core.errors import InvalidParameterError, TaxonomyError
from geo.core.params import as_int
from geo.core.taxonomy import Taxonomy
from geo.core.text import Text

HEAT_LEVELS: tuple[str, ...] = ("district", "street", "community", "grid")
METRICS: tuple[str, ...] = ("count", "density", "ontime")
STATUS_FILTERS: tuple[str, ...] = ("unresolved", "overdue", "all")
MIN_YEAR, MAX_YEAR = 2000, 2100


class FilterError(InvalidParameterError):
    """A filter value is not allowed; ``field`` names the argument."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(Text(zh, en))
        self.field, self.zh, self.en = field, zh, en

    def text(self, lang: str) -> str:
        """The message in ``lang`` (en, else zh)."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class HeatFilters:
    """A view of the problems: level and value of the choropleth, and which problems.

    Dates are local calendar days (inclusive), at the summary's day offset.
    """

    level: str = "grid"
    metric: str = "count"
    status: str = "unresolved"
    categories: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    found_from: date | None = None
    found_to: date | None = None
    district: str | None = None

    @property
    def has_attributes(self) -> bool:
        """True when categories, kinds or campaigns are filtered."""
        return bool(self.categories or self.kinds or self.campaigns)

    @property
    def has_dates(self) -> bool:
        """True when a found-date bound is set."""
        return self.found_from is not None or self.found_to is not None

    def found_bounds(self, offset_minutes: int) -> tuple[datetime | None, datetime | None]:
        """The found-date range as naive UTC [start, end) instants."""
        shift = timedelta(minutes=offset_minutes)
        start = datetime.combine(self.found_from, time()) - shift if self.found_from else None
        end = (
            datetime.combine(self.found_to + timedelta(days=1), time()) - shift
            if self.found_to
            else None
        )
        return start, end

    def query_args(self, **overrides: Any) -> dict[str, str]:
        """Canonical query arguments (defaults left out), after ``overrides``."""
        view = replace(self, **overrides) if overrides else self
        default = HeatFilters()
        args: dict[str, str] = {}
        for f in fields(self):
            value = getattr(view, f.name)
            if value == getattr(default, f.name):
                continue
            name = _ARG_NAMES.get(f.name, f.name)
            args[name] = ",".join(value) if isinstance(value, tuple) else str(value)
        return args


_ARG_NAMES = {
    "categories": "category",
    "kinds": "kind",
    "campaigns": "campaign",
    "found_from": "from",
    "found_to": "to",
}


def parse_filters(
    args: Mapping[str, Any], taxonomy: Taxonomy, base: HeatFilters | None = None
) -> tuple[HeatFilters, list[FilterError]]:
    """Parse query arguments into filters; bad values keep ``base``'s and are returned.

    ``args`` maps names to a string or a list of strings (repeated arguments); list
    values may also be comma-separated. Never raises for bad input.
    """
    view = base or HeatFilters()
    errors: list[FilterError] = []
    parsers: dict[str, tuple[str, Callable[[list[str]], Any]]] = {
        "level": ("level", lambda v: _choice("level", v, HEAT_LEVELS)),
        "metric": ("metric", lambda v: _choice("metric", v, METRICS)),
        "status": ("status", lambda v: _choice("status", v, STATUS_FILTERS)),
        "category": ("categories", lambda v: _codes("category", v, taxonomy)),
        "kind": ("kinds", lambda v: _codes("kind", v, taxonomy)),
        "campaign": ("campaigns", lambda v: _codes("campaign", v, taxonomy)),
        "from": ("found_from", lambda v: _date("from", v)),
        "to": ("found_to", lambda v: _date("to", v)),
        "district": ("district", lambda v: _district(v)),
    }
    for name, (attr, parse) in parsers.items():
        values = _values(args, name)
        if not values:
            continue
        try:
            view = replace(view, **{attr: parse(values)})
        except FilterError as exc:
            errors.append(exc)
    if view.found_from and view.found_to and view.found_from > view.found_to:
        errors.append(
            FilterError(
                "from",
                f"日期范围颠倒：{view.found_from} 晚于 {view.found_to}",
                f"reversed date range: {view.found_from} is after {view.found_to}",
            )
        )
        view = replace(view, found_from=base.found_from if base else None)
    return view, errors


def parse_filters_strict(
    args: Mapping[str, Any], taxonomy: Taxonomy, base: HeatFilters | None = None
) -> HeatFilters:
    """Like ``parse_filters`` but raises the first ``FilterError`` (for the JSON API)."""
    view, errors = parse_filters(args, taxonomy, base)
    if errors:
        raise errors[0]
    return view


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` (EPSG:4326 degrees) → tuple, or None when empty.

    Raises ``FilterError`` for malformed, non-finite, out-of-range or reversed boxes.
    """
    if not text:
        return None
    parts = text.split(",")
    try:
        box = tuple(float(p) for p in parts)
    except ValueError:
        box = ()
    if len(box) != 4 or not all(math.isfinite(v) for v in box):
        raise FilterError("bbox", f"范围格式错误：{text!r}", f"malformed bbox {text!r}")
    x0, y0, x1, y1 = box
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise FilterError(
            "bbox",
            f"范围超出经纬度或颠倒：{text!r}",
            f"bbox {text!r} is outside lon -180..180 / lat -90..90 or reversed",
        )
    return x0, y0, x1, y1


def parse_int(name: str, text: str | None, default: int, low: int, high: int) -> int:
    """An integer argument within [low, high]; raises ``FilterError`` otherwise."""
    if text is None or text == "":
        return default
    value = as_int(text, low, high)
    if value is None:
        raise FilterError(
            name,
            f"参数 {name} 应为 {low}–{high} 的整数：{text!r}",
            f"{name} must be an integer from {low} to {high}, got {text!r}",
        )
    return value


def _values(args: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(args, "getlist", None)
    raw = getlist(name) if getlist else args.get(name)
    items: Sequence[Any] = raw if isinstance(raw, list | tuple) else ([] if raw is None else [raw])
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def _choice(name: str, values: list[str], options: tuple[str, ...]) -> str:
    if len(values) != 1 or values[0] not in options:
        shown = ",".join(values)
        raise FilterError(
            name,
            f"参数 {name} 的值无效：{shown!r}；可选：{'、'.join(options)}",
            f"bad {name} {shown!r}; one of: {', '.join(options)}",
        )
    return values[0]


def _codes(name: str, values: list[str], taxonomy: Taxonomy) -> tuple[str, ...]:
    resolve = {
        "category": taxonomy.resolve_category,
        "kind": taxonomy.resolve_kind,
        "campaign": taxonomy.resolve_campaign,
    }[name]
    codes = []
    for value in values:
        try:
            codes.append(resolve(value).code)
        except TaxonomyError:
            zh = {"category": "问题类别", "kind": "点位类型", "campaign": "专项行动"}[name]
            raise FilterError(name, f"未知的{zh}：{value!r}", f"unknown {name} {value!r}") from None
    return tuple(sorted(set(codes)))


def _date(name: str, values: list[str]) -> date:
    try:
        if len(values) != 1:
            raise ValueError
        day = date.fromisoformat(values[0])
        if len(values[0]) != 10 or not MIN_YEAR <= day.year <= MAX_YEAR:
            raise ValueError
    except ValueError:
        shown = ",".join(values)
        raise FilterError(
            name,
            f"日期格式错误（应为 YYYY-MM-DD，{MIN_YEAR}–{MAX_YEAR} 年）：{shown!r}",
            f"malformed date {shown!r}: use YYYY-MM-DD, years {MIN_YEAR}-{MAX_YEAR}",
        ) from None
    return day


def _district(values: list[str]) -> str:
    if len(values) != 1 or len(values[0]) > 32:
        raise FilterError("district", "区代码无效", f"bad district code {','.join(values)!r}")
    return values[0]
