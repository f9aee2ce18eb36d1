"""OGC API – Features (Part 1: Core): collections, request parameters and documents.

Collections: ``problems`` (temporal: found time), ``points`` (inspection points, any
geometry; ``points_point``, ``points_linestring`` and ``points_polygon`` split them by
geometry type for GDAL/QGIS, whose layers have one) and one
per area level (``grids``, ``communities``, ``streets``, ``districts``). Items take
``bbox`` (lon/lat CRS84, or ``bbox-crs``), ``crs`` (Part 2, geo/protocols/ogc_crs.py),
``datetime`` (problems; accepted and ignored elsewhere), ``limit`` (default 100, clamped to
``MAX_LIMIT`` = 10,000), ``offset`` or ``cursor`` (a ``next`` link's key,
geo/protocols/ogc_paging.py) and the map's filters as property filters. Times
in ``datetime`` without an offset are local (the configured time zone).
This module builds plain dicts; web/api/ogcapi.py renders them as JSON or HTML.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, scoped
from geo.core.errors import InvalidParameterError, NotFoundError
from geo.core.geojson import outward_bbox
from geo.core.params import as_int
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.core.timeparse import range_bound
from geo.protocols.ogc_crs import CRS84, OFFERED, Crs, parse_crs
from geo.protocols.ogc_filter import CONFORMANCE as FILTER_CONFORMANCE
from geo.protocols.ogc_filter import parse_filter, parse_flag, parse_properties, parse_sortby
from geo.protocols.ogc_paging import Key, decode_cursor
from geo.reports.filters import FILTER_KEYS, ProblemFilter, Target, allowed_keys_message
from geo.reports.queries import city_extent
from geo.storage.models import Area, Problem

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
MAX_OFFSET = 10**9
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    *FILTER_CONFORMANCE,
]
FORMAT_KEYS = ("f", "lang")
PAGING_KEYS = (
    *("bbox", "bbox-crs", "crs", "limit", "offset", "cursor"),
    *("filter", "filter-lang", "filter-crs"),
)
SHAPE_KEYS = ("properties", "skipGeometry", "sortby")


@dataclass(frozen=True)
class Collection:
    """One feature collection: what it holds (target, area level) and its titles."""

    id: str
    target: Target
    level: str | None
    zh: str
    en: str
    description_zh: str
    description_en: str
    geometry: str | None = None
    """Only features of this GeoJSON geometry type (and its Multi- form), for clients
    such as GDAL that give a layer one geometry type; None: any."""

    @property
    def temporal(self) -> bool:
        return self.target == "problems"

    def title(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    def description(self, lang: str = "zh") -> str:
        return self.description_en if lang == "en" else self.description_zh

    def filter_keys(self) -> tuple[str, ...]:
        """Property filters of this collection's items."""
        return ("area",) if self.target == "areas" else FILTER_KEYS[self.target]

    def item_keys(self) -> tuple[str, ...]:
        """Every query argument its items accept."""
        return (*PAGING_KEYS, *SHAPE_KEYS, "datetime", *self.filter_keys(), *FORMAT_KEYS)


def _area(id_: str, level: str, zh: str, en: str) -> Collection:
    return Collection(
        id_,
        "areas",
        level,
        zh,
        en,
        f"{zh}边界，含编码、名称、上级和问题数量。",
        f"{en} boundaries with code, name, parents and problem counts.",
    )


COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection(
            "problems",
            "problems",
            None,
            "问题",
            "Problems",
            "发现的问题及其状态、类别、责任单位和所属区域。时间为发现时间。",
            "Problems found, with status, category, unit and areas; time is the found time.",
        ),
        Collection(
            "points",
            "points",
            None,
            "点位",
            "Inspection points",
            "检查点位（农贸市场、背街小巷、学校周边…）及其类型和所属区域。",
            "Inspection points (markets, back alleys, school surroundings…) with kind and areas.",
        ),
        *(
            Collection(
                f"points_{kind.lower()}",
                "points",
                None,
                f"点位（{zh}）",
                f"Inspection points ({en})",
                f"几何为{zh}的检查点位（与 points 相同，供每层只有一种几何类型的 GIS 软件使用）。",
                f"Inspection points whose geometry is a {en.lower()} (as in points, for GIS "
                "software that gives a layer one geometry type).",
                kind,
            )
            for kind, zh, en in (
                ("Point", "点", "Point"),
                ("LineString", "线", "Line"),
                ("Polygon", "面", "Polygon"),
            )
        ),
        _area("grids", "grid", "网格", "Grids"),
        _area("communities", "community", "社区/村", "Communities and villages"),
        _area("streets", "street", "街道/镇", "Streets and towns"),
        _area("districts", "district", "区", "Districts"),
    )
}


@dataclass(frozen=True)
class ItemsQuery:
    """A parsed items request: filter, bbox (CRS84 degrees), found-time interval
    (naive UTC, end exclusive), and paging."""

    collection: Collection
    filter: ProblemFilter
    bbox: tuple[float, float, float, float] | None = None
    interval: tuple[datetime | None, datetime | None] | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    crs: Crs = OFFERED[CRS84]
    cql: dict[str, Any] | None = None
    """The CQL2 filter as a CQL2-JSON tree (geo/protocols/ogc_filter.py)."""
    filter_crs: Crs = OFFERED[CRS84]
    properties: tuple[str, ...] | None = None
    """Only these properties in the answer (None: all)."""
    skip_geometry: bool = False
    sortby: tuple[tuple[str, bool], ...] = ()
    """(queryable, descending) pairs to order by; ties and the default by id."""
    cursor: Key | None = None
    """Start after this key (sort values, id) instead of at ``offset``."""
    cursor_text: str | None = None


def collection(collection_id: str) -> Collection:
    """The collection ``collection_id``, or ``NotFoundError`` naming the existing ones."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFoundError(
            tr(
                f"没有这个集合 '{collection_id}'; 可用: {', '.join(COLLECTIONS)}",
                f"no collection '{collection_id}'; available: {', '.join(COLLECTIONS)}",
            )
        )
    return found


def parse_items(
    coll: Collection, args: Mapping[str, Any], taxonomy: Taxonomy, tz: str
) -> ItemsQuery:
    """Validate the query arguments of ``/collections/{id}/items``.

    Raises ``InvalidParameterError`` (400) for unknown arguments (listing the allowed
    ones), a malformed bbox or datetime, or a bad limit/offset. A limit above
    ``MAX_LIMIT`` is clamped, not refused.
    """
    unknown = [k for k in args if k not in coll.item_keys()]
    if unknown:
        raise InvalidParameterError(
            tr(
                f"未知的参数: {', '.join(sorted(unknown))}; ",
                f"unknown parameter(s): {', '.join(sorted(unknown))}; ",
            )
            + allowed_keys_message(coll.item_keys())
        )
    filter_args = {k: args.getlist(k) if hasattr(args, "getlist") else args[k] for k in args}
    filter_args = {k: v for k, v in filter_args.items() if k in coll.filter_keys()}
    filt = ProblemFilter.from_args(filter_args, taxonomy, coll.target, tz)
    if coll.level is not None:
        filt = dataclasses.replace(filt, levels=(coll.level,))
    bbox_crs = parse_crs(args.get("bbox-crs"), "bbox-crs")
    bbox = parse_bbox(args.get("bbox"))
    # Core accepts datetime on every collection; one without times has nothing to match
    # against, so a well-formed value leaves it unfiltered (a malformed one is still 400).
    interval = parse_datetime(args.get("datetime"), tz)
    sortby = parse_sortby(coll.target, args.get("sortby"))
    cursor = _cursor(coll, sortby, args)
    return ItemsQuery(
        coll,
        filt,
        None if bbox is None else _checked_lon_lat(bbox_crs.to_lon_lat(bbox), args["bbox"]),
        interval if coll.temporal else None,
        _int_arg(args.get("limit"), "limit", DEFAULT_LIMIT, minimum=1, clamp=MAX_LIMIT),
        _int_arg(args.get("offset"), "offset", 0, minimum=0),
        parse_crs(args.get("crs")),
        parse_filter(args.get("filter"), args.get("filter-lang")),
        parse_crs(args.get("filter-crs"), "filter-crs"),
        parse_properties(coll.target, args.get("properties")),
        parse_flag(args.get("skipGeometry"), "skipGeometry"),
        sortby,
        cursor,
        args.get("cursor"),
    )


def _cursor(
    coll: Collection, sortby: tuple[tuple[str, bool], ...], args: Mapping[str, Any]
) -> Key | None:
    """The key of a ``cursor`` argument (a ``next`` link's), which replaces ``offset``."""
    text = args.get("cursor")
    if text is None:
        return None
    if args.get("offset") is not None:
        raise InvalidParameterError(
            tr("cursor 与 offset 不能同时使用", "cursor and offset cannot be used together")
        )
    return decode_cursor(coll.target, sortby, text)


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """Four numbers (or 6 with heights, which are ignored) in the ``bbox-crs`` axis order:
    ``minlon,minlat,maxlon,maxlat`` for CRS84. Checked against the globe once in lon/lat."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(map(_finite, numbers)):
        raise InvalidParameterError(
            tr(
                f"bbox 须为 4 个数字: '{text}'",
                f"bbox must be 4 numbers minlon,minlat,maxlon,maxlat: '{text}'",
            )
        )
    x0, y0, x1, y1 = numbers
    return x0, y0, x1, y1


def _checked_lon_lat(
    box: tuple[float, float, float, float], text: str
) -> tuple[float, float, float, float]:
    """``box`` (minlon,minlat,maxlon,maxlat) within the globe, minimum below maximum."""
    x0, y0, x1, y1 = box
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise InvalidParameterError(
            tr(f"bbox 超出经纬度范围: '{text}'", f"bbox outside lon −180…180, lat −90…90: '{text}'")
        )
    if y0 > y1 or x0 > x1:
        raise InvalidParameterError(
            tr(
                f"bbox 最小值大于最大值: '{text}'",
                (
                    "bbox minimum above maximum (or crossing the antimeridian, "
                    f"not supported): '{text}'"
                ),
            )
        )
    return x0, y0, x1, y1


def parse_datetime(text: str | None, tz: str) -> tuple[datetime | None, datetime | None] | None:
    """An RFC 3339 instant, date or interval (``start/end``, ``../end``, ``start/..``)
    as naive-UTC (start, exclusive end). A date means the whole local day."""
    if text is None:
        return None
    if "/" not in text:
        return _bound(text, tz, end=False), _bound(text, tz, end=True)
    start_text, _, end_text = text.partition("/")
    start = _bound(start_text, tz, end=False)
    end = _bound(end_text, tz, end=True)
    if start is None and end is None:
        raise InvalidParameterError(
            tr("datetime 区间两端都为空", "datetime interval open at both ends")
        )
    if start is not None and end is not None and start >= end:
        raise InvalidParameterError(
            tr(
                f"datetime 区间起点晚于终点: '{text}'",
                f"datetime interval starts after it ends: '{text}'",
            )
        )
    return start, end


def _bound(text: str, tz: str, end: bool) -> datetime | None:
    if text in ("", ".."):
        return None
    malformed = tr(
        f"datetime 格式错误 '{text}'",
        (
            f"malformed datetime '{text}' (RFC 3339, e.g. "
            "2024-05-01T00:00:00Z, 2024-05-01, 2024-05-01/2024-06-01, "
            "../2024-06-01)"
        ),
    )
    return range_bound(text, tz, end=end, malformed=malformed)


def time_conditions(query: ItemsQuery) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions for the query's found-time interval (problems only)."""
    if query.interval is None:
        return []
    start, end = query.interval
    conds = []
    if start is not None:
        conds.append(Problem.found_at >= start)
    if end is not None:
        conds.append(Problem.found_at < end)
    return conds


def spatial_extent(session: so.Session, coll: Collection, scope: Scope) -> list[float] | None:
    """[minlon, minlat, maxlon, maxlat] (EPSG:4326, degrees, rounded outward to 6 decimals)
    of the collection within ``scope``: of the areas in scope for problems and points
    (which lie inside them); of the level's areas in scope otherwise. A scoped caller
    never learns the extent of what it may not see."""
    if coll.level is None:
        extent = city_extent(session, scope=scope)
        if extent is None:
            return None
        return outward_bbox([extent.min_lon, extent.min_lat, extent.max_lon, extent.max_lat])
    stmt = sa.select(
        sa.func.min(Area.min_lon),
        sa.func.min(Area.min_lat),
        sa.func.max(Area.max_lon),
        sa.func.max(Area.max_lat),
    ).where(Area.level == coll.level)
    row = session.execute(scoped(stmt, scope, Area)).one()
    return None if row[0] is None else outward_bbox(row)


def temporal_extent(session: so.Session, scope: Scope) -> tuple[datetime | None, datetime | None]:
    """First and last found time (naive UTC) of the problems ``scope`` may see."""
    stmt = sa.select(sa.func.min(Problem.found_at), sa.func.max(Problem.found_at))
    first, last = session.execute(scoped(stmt, scope, Problem)).one()
    return first, last


def _int_arg(
    text: str | None, name: str, default: int, minimum: int, clamp: int | None = None
) -> int:
    if text is None:
        return default
    value = as_int(text, minimum, MAX_OFFSET)
    if value is None:
        raise InvalidParameterError(
            tr(
                f"{name} 须为 {minimum}–{MAX_OFFSET} 的整数: '{text[:40]}'",
                f"{name} must be an integer from {minimum} to {MAX_OFFSET}: '{text[:40]}'",
            )
        )
    return min(value, clamp) if clamp is not None else value


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")
