"""HTML pages: thin routes that build a folium map and render a template."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for

from geo import maps, queries
from web import database
from web.assets import map_assets
from web.i18n import current_lang, translate
from web.security import csp_nonce, current_scope, requires

bp = Blueprint("pages", __name__)


@bp.get("/")
@requires("view")
def index() -> str:
    """The overview map of the caller's scope: district and grid outlines, points."""
    session = database.session()
    extent = queries.city_extent(session, scope=current_scope())
    fmap = maps.city_map(
        map_assets(), _overview_layers(), extent, _basemap(), _kind_legend(), current_lang()
    )
    return render_template(
        "pages/index.html",
        map=maps.render_parts(fmap, nonce=csp_nonce()),
        counts=queries.counts(session, scope=current_scope()),
        empty=extent is None,
    )


def _overview_layers() -> list[maps.LayerSpec]:
    return [
        maps.LayerSpec(
            "grids",
            translate("网格", "Grids"),
            url_for("api.areas", level="grid"),
            "areas",
            style={"color": "#7f8c8d", "weight": 0.7, "fill": True, "fillOpacity": 0.02},
        ),
        maps.LayerSpec(
            "districts",
            translate("区界", "Districts"),
            url_for("api.areas", level="district"),
            "areas",
            style={"color": "#c0392b", "weight": 3, "fill": False},
        ),
        maps.LayerSpec(
            "points", translate("点位", "Inspection points"), url_for("api.points"), "points"
        ),
    ]


def _kind_legend() -> dict[str, object]:
    lang = current_lang()
    kinds = database.taxonomy().point_kinds.values()
    return {
        "title": translate("点位类型", "Point kinds"),
        "items": [{"label": k.label(lang), "color": k.color} for k in kinds],
    }


def _basemap() -> maps.Basemap | None:
    cfg = current_app.config
    return maps.basemap_for(cfg["BASEMAP"], cfg["TILE_URL"], cfg["TIANDITU_KEY"])
