"""Hot spots and rebounds (/hotspots, /api/v1/hotspots, /api/v1/rebounds): a map layer and
tables over geo/reports/hotspots.py and geo/reports/rebounds.py, with the map's filters
(status, category, kind, campaign, found dates, district) plus ?days= and ?by=grid|point
for rebounds; everything scoped to the caller."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue

from geo.core.errors import InvalidParameterError
from geo.core.params import int_param
from geo.core.text import in_lang, tr
from geo.reports import hotspot_layers, maps, queries
from geo.reports.heat_filters import HeatFilters, parse_filters_strict
from geo.reports.hotspots import HotSpotResult, hotspots
from geo.reports.rebounds import BY, DEFAULT_DAYS, MAX_DAYS, ReboundPlace, rebounds
from web import database
from web.assets import map_assets
from web.i18n import current_lang, translate
from web.pages import heatview
from web.security.guard import csp_nonce, current_scope, requires

bp = Blueprint("hotspots", __name__)
GEOJSON = "application/geo+json"
TABLE_PLACES = 50
"""Rebound places in the page's table (most rebounds first): a city's 120 days can have
thousands of pairs, a page of every one is megabytes. /api/v1/rebounds has them all."""
PLACE_PAIRS = 5
"""Pairs shown per place in the table (the newest); the rest are counted."""


@bp.get("/hotspots")
@requires("view")
def index() -> ResponseReturnValue:
    """Map of significant grids and rebound places, the two tables below it."""
    view, days, by = _args()
    spots, places = _hotspots(view), _rebounds(view, days, by)
    return render_template(
        "hotspots/index.html",
        view=view,
        days=days,
        by=by,
        max_days=MAX_DAYS,
        spots=spots,
        places=places[:TABLE_PLACES],
        place_pairs=PLACE_PAIRS,
        places_total=len(places),
        rebounds_cut=len(places) > TABLE_PLACES or any(len(p.pairs) > PLACE_PAIRS for p in places),
        pairs_total=sum(len(p.pairs) for p in places),
        rebounds_url=url_for("hotspots.rebounds_api", **_map_args(view, days, by)),
        spot_label=lambda s: in_lang(hotspot_layers.spot_label(s), current_lang()),
        choices=heatview.filter_choices(),
        map=_map(view, days, by),
        area_url=heatview.area_url,
        category_label=lambda c: database.taxonomy().category_label(c, current_lang()),
    )


@bp.get("/api/v1/hotspots")
@requires("view")
def hotspots_api() -> Response:
    """Significant grids as GeoJSON polygons, coloured by kind and confidence."""
    view, _, _ = _args()
    body = hotspot_layers.hotspots_geojson(database.session(), _hotspots(view), current_lang())
    return Response(body, mimetype=GEOJSON)


@bp.get("/api/v1/rebounds")
@requires("view")
def rebounds_api() -> Response:
    """Places where problems came back (?days=1–365, ?by=grid|point) as GeoJSON points."""
    view, days, by = _args()
    return Response(
        hotspot_layers.rebounds_geojson(_rebounds(view, days, by), current_lang()),
        mimetype=GEOJSON,
    )


def _args() -> tuple[HeatFilters, int, str]:
    view = parse_filters_strict(request.args, database.taxonomy(), HeatFilters(status="all"))
    days = int_param("days", request.args.get("days"), DEFAULT_DAYS, 1, MAX_DAYS)
    by = request.args.get("by", "grid")
    if by not in BY:
        raise InvalidParameterError(tr("by 应为 grid 或 point", "by must be grid or point"))
    return view, days, by


def _hotspots(view: HeatFilters) -> HotSpotResult:
    return hotspots(database.session(), view, current_scope())


def _rebounds(view: HeatFilters, days: int, by: str) -> list[ReboundPlace]:
    return rebounds(database.session(), current_scope(), days, by, view.categories, view.found_from)


def _map_args(view: HeatFilters, days: int, by: str) -> dict[str, Any]:
    return {**view.query_args(), "status": view.status, "days": days, "by": by}


def _map(view: HeatFilters, days: int, by: str) -> dict[str, str]:
    args = _map_args(view, days, by)
    layers = [
        heatview.district_outlines(),
        maps.LayerSpec(
            "hotspots",
            translate("热点与冷点", "Hot and cold spots"),
            url_for("hotspots.hotspots_api", **args),
            "points",
        ),
        maps.LayerSpec(
            "rebounds",
            translate("反弹地点", "Rebound places"),
            url_for("hotspots.rebounds_api", **args),
            "points",
            show=False,  # a busy city has hundreds: they would bury the hot spots
        ),
    ]
    extent = queries.city_extent(database.session(), scope=current_scope())
    fmap = maps.city_map(
        map_assets(),
        layers,
        extent,
        heatview.page_basemap(),
        hotspot_layers.legend(current_lang()),
        current_lang(),
    )
    return maps.render_parts(fmap, nonce=csp_nonce())
