"""Heat map API (/api/v1): area heat, area outlines, binned point density.

Every response is compressed and cacheable: its ETag is derived from the data versions
of the summary (problems, areas), the minute (overdue counts move with the clock) and
the canonical filters; see web/httpcache.py.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, request

from geo.access.scope import area_in_scope
from geo.reports import density, heat, heat_io, problem_list, shapes
from geo.reports.heat_filters import (
    HEAT_LEVELS,
    FilterError,
    HeatFilters,
    parse_bbox,
    parse_filters_strict,
    parse_int,
)
from geo.summary import counts as summary
from web import database
from web.httpcache import cached_response
from web.i18n import current_lang
from web.security.guard import current_scope, requires

bp = Blueprint("heat_api", __name__, url_prefix="/api/v1")

JSON = "application/json"


@bp.get("/heat")
@requires("view")
def area_heat() -> Response:
    """Figures per area of ?level= for the filters in the query (see geo/reports/heat_io.py)."""
    session = database.session()
    view = _view()
    within = _within(view.level)
    meta = summary.read_meta(session)
    now = _minute()
    scope = current_scope()
    key = ("heat", meta.problems_version, meta.areas_version, now, within, view, scope)
    return cached_response(
        key,
        lambda: heat_io.heat_json(heat.area_heat(session, view, within, now, scope), view),
        JSON,
    )


@bp.get("/shapes")
@requires("view")
def area_shapes() -> Response:
    """Outlines of the areas of ?level= in the compact cg-rings-1 encoding (geo/reports/shapes.py);
    immutable when ?v= names the current areas version."""
    session = database.session()
    level = _view().level
    within = _within(level)
    version = summary.read_meta(session).areas_version
    scope = current_scope()
    return cached_response(
        ("shapes", version, level, within, scope),
        lambda: shapes.encode_shapes(session, level, within, scope),
        JSON,
        immutable=request.args.get("v") == str(version),
        level=6,
    )


@bp.get("/heat/points")
@requires("view")
def point_density() -> Response:
    """Unresolved (or ?status=) problems binned into weighted cells over ?bbox= at ?zoom=."""
    session = database.session()
    view = _view()
    bbox = parse_bbox(request.args.get("bbox")) or (-180.0, -90.0, 180.0, 90.0)
    zoom = parse_int("zoom", request.args.get("zoom"), 12, 0, 22)
    within = _within(None)
    meta = summary.read_meta(session)
    now = _minute()
    scope = current_scope()
    key = ("density", meta.problems_version, meta.points_version, now, within, view, bbox, zoom)
    return cached_response(
        (*key, scope),
        lambda: heat_io.density_json(
            density.density(session, view, bbox, zoom, within, now, scope)
        ),
        JSON,
    )


@bp.get("/heat/problems")
@requires("view")
def area_problems() -> Response:
    """The newest problems inside ?within=<level>:<code> matching the filters, as GeoJSON
    points (capped; the collection's ``total`` says how many matched)."""
    session = database.session()
    view = _view()
    within = _within(None)
    if within is None:
        raise FilterError("within", "缺少参数 within", "within=<level>:<code> is required")
    meta = summary.read_meta(session)
    now = _minute()
    lang = current_lang()
    key = ("problems", meta.problems_version, meta.points_version, now, within, view, lang)
    return cached_response(
        key,
        lambda: problem_list.problems_geojson(session, within, view, _labels(lang), now),
        "application/geo+json",
    )


def _labels(lang: str) -> dict[str, dict[str, str]]:
    tax = database.taxonomy()
    return {
        "categories": {c: tax.category_label(c, lang) for c in tax.categories},
        "statuses": {s: tax.status_label(s, lang) for s in tax.statuses},
    }


def _view() -> HeatFilters:
    return parse_filters_strict(request.args, database.taxonomy())


def _within(level: str | None) -> heat.AreaRef | None:
    """?within=<level>:<code> restricts to one area (area pages)."""
    text = request.args.get("within")
    if not text:
        return None
    area_level, _, code = text.partition(":")

    if area_level not in HEAT_LEVELS or not code:
        raise FilterError("within", f"参数 within 无效：{text!r}", f"bad within {text!r}")
    session = database.session()
    area = problem_list.find_area(session, area_level, code)
    if area is None or not area_in_scope(session, current_scope(), area.ref.id):
        # Out of scope reads exactly like unknown: codes reveal nothing.
        raise FilterError("within", f"未知的区域：{text!r}", f"unknown area {text!r}")
    if level is not None and HEAT_LEVELS.index(level) < HEAT_LEVELS.index(area_level):
        raise FilterError(
            "within",
            f"层级 {level} 比区域 {text} 更粗",
            f"level {level} is coarser than the area {text}",
        )
    return area.ref


def _minute() -> datetime:
    return summary.utcnow().replace(second=0, microsecond=0)
