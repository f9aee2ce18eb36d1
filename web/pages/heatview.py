"""The heat map views shared by the overview and the area pages: filters from the URL,
the folium map with its layers and the texts the page script needs, in the request's
language. Routes call these and render a template."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for

from geo.reports import maps, queries
from geo.reports.heat_filters import HEAT_LEVELS, FilterError, HeatFilters, parse_filters
from geo.reports.problem_list import AreaInfo, area_choices
from geo.summary import counts as summary
from web import database
from web.assets import configured_basemap, map_assets
from web.i18n import current_lang, translate
from web.security.guard import csp_nonce, current_scope

DEFAULT = HeatFilters()
PLURALS = {
    "district": "districts",
    "street": "streets",
    "community": "communities",
    "grid": "grids",
}


@dataclass
class View:
    """The parsed filters of a page and the notices about bad ones."""

    filters: HeatFilters
    errors: list[FilterError] = field(default_factory=list)

    def notices(self) -> list[str]:
        """Messages about ignored filter values, in the request's language."""
        return [e.text(current_lang()) for e in self.errors]


def view_from_request(base: HeatFilters | None = None) -> View:
    """Filters from the query string; bad values are dropped and reported."""
    filters, errors = parse_filters(request.args, database.taxonomy(), base)
    return View(filters, errors)


def heat_map(view: HeatFilters, area: AreaInfo | None = None) -> dict[str, str]:
    """The rendered folium map (head, body, script) for ``view``, zoomed to ``area`` or
    to the city."""
    session = database.session()
    if area is not None:
        extent: queries.Extent | None = queries.Extent(*area.bbox)
    else:
        extent = queries.city_extent(session, scope=current_scope())
    fmap = maps.city_map(
        heat_assets(),
        _layers(area),
        extent,
        page_basemap(),
        _kind_legend(),
        current_lang(),
        extra={"heat": _heat_config(view, area)},
    )
    return maps.render_parts(fmap, nonce=csp_nonce())


def heat_assets() -> maps.Assets:
    """Leaflet, leaflet.heat and civicgrid's map scripts, all served by this origin."""
    base = map_assets()
    heat_js = url_for("vendor", package="leaflet.heat", filename="leaflet-heat.js")
    return maps.Assets(
        leaflet_js=base.leaflet_js,
        leaflet_css=base.leaflet_css,
        map_js=base.map_js,
        map_css=base.map_css,
        extra_js=(
            ("leaflet_heat", heat_js),
            ("civicgrid_shapes", url_for("static", filename="civicgrid-shapes.js")),
            ("civicgrid_heat", url_for("static", filename="civicgrid-heat.js")),
        ),
    )


def page_basemap() -> maps.Basemap | None:
    """The configured basemap (web.assets.configured_basemap)."""
    return configured_basemap()


def filter_choices() -> dict[str, Any]:
    """Options of the filter form, labelled in the request's language."""
    lang, tax = current_lang(), database.taxonomy()
    districts = area_choices(database.session(), "district", current_scope())
    return {
        "levels": [(lvl, tax.level_label(lvl, lang)) for lvl in HEAT_LEVELS],
        "metrics": [
            ("count", translate("问题数", "Number of problems")),
            ("density", translate("密度（个/平方公里）", "Density (per km²)")),
            ("ontime", translate("按期结案率", "Share closed on time")),
        ],
        "statuses": [
            ("unresolved", translate("未销号", "Unresolved")),
            ("overdue", translate("超期未整改", "Overdue")),
            ("all", translate("全部", "All")),
        ],
        "categories": [(c.code, c.label(lang)) for c in tax.categories.values()],
        "kinds": [(k.code, k.label(lang)) for k in tax.point_kinds.values()],
        "campaigns": [(c.code, c.label(lang)) for c in tax.campaigns.values()],
        "districts": districts,
    }


def area_url(level: str, code: str, args: dict[str, str] | None = None) -> str:
    """The page of an area, with filter arguments."""
    values: dict[str, Any] = {"plural": PLURALS[level], "code": code, **(args or {})}
    return url_for("area_pages.area_page", **values)


EXPORTED_FILTERS = ("category", "kind", "campaign", "from", "to")


def export_args(view: HeatFilters) -> dict[str, str]:
    """The problem-export arguments (geo/reports/filters.py) of the filters on screen: the
    status always (the map's default, unresolved, is not the export's), the district as
    ``area``."""
    args = {k: v for k, v in view.query_args().items() if k in EXPORTED_FILTERS}
    args["status"] = view.status
    if view.district:
        args["area"] = f"district:{view.district}"
    return args


def district_outlines() -> maps.LayerSpec:
    """The district outlines layer (drawn over the other areas, never catching the mouse)."""
    return maps.LayerSpec(
        "districts",
        translate("区界", "District outlines"),
        url_for("api.areas", level="district"),
        "areas",
        style={"color": "#444", "weight": 2.5, "fill": False, "interactive": False},
    )


def _layers(area: AreaInfo | None) -> list[maps.LayerSpec]:
    layers = [
        maps.LayerSpec(
            "heat",
            translate("问题热力（按区域）", "Problem heat by area"),
            url_for("heat_api.area_heat"),
            "choropleth",
        ),
        district_outlines(),
        maps.LayerSpec(
            "density",
            translate("问题点密度", "Problem point density"),
            url_for("heat_api.point_density"),
            "density",
            show=False,  # over the choropleth it washes both out: the user turns it on
        ),
        maps.LayerSpec(
            "points",
            translate("点位", "Inspection points"),
            url_for("api.points"),
            "points",
            show=area is not None and area.level in ("community", "grid"),
        ),
    ]
    if area is not None:
        layers.append(
            maps.LayerSpec(
                "problems",
                translate("问题", "Problems"),
                url_for("heat_api.area_problems"),
                "problems",
                show=area.level in ("community", "grid"),
            )
        )
    return layers


def _kind_legend() -> dict[str, object]:
    lang = current_lang()
    kinds = database.taxonomy().point_kinds.values()
    return {
        "title": translate("点位类型", "Point kinds"),
        "items": [{"label": k.label(lang), "color": k.color} for k in kinds],
    }


def _heat_config(view: HeatFilters, area: AreaInfo | None) -> dict[str, Any]:
    meta = summary.read_meta(database.session())
    return {
        "filters": view.query_args(),
        "defaults": {"level": DEFAULT.level, "metric": DEFAULT.metric, "status": DEFAULT.status},
        "within": f"{area.level}:{area.code}" if area else None,
        "shapesUrl": url_for("heat_api.area_shapes"),
        "areasVersion": meta.areas_version,
        "pages": {lvl: f"/{plural}/" for lvl, plural in PLURALS.items()},
        "problemUrl": "/problems/",
        "text": _texts(),
    }


def _texts() -> dict[str, str]:
    tax, lang = database.taxonomy(), current_lang()
    pairs = {
        "count_unresolved": ("未销号问题数", "Unresolved problems"),
        "count_overdue": ("超期未整改问题数", "Overdue problems"),
        "count_all": ("问题总数", "All problems"),
        "density_unresolved": ("未销号问题密度（个/km²）", "Unresolved problems per km²"),
        "density_overdue": ("超期问题密度（个/km²）", "Overdue problems per km²"),
        "density_all": ("问题密度（个/km²）", "Problems per km²"),
        "ontime": ("按期结案率", "Share closed on time"),
        "unresolved": ("未销号", "Unresolved"),
        "overdue": ("超期", "Overdue"),
        "closed": ("已结案", "Closed"),
        "closed_on_time": ("按期结案", "Closed on time"),
        "density": ("密度", "Density"),
        "per_km2": ("个/km²", "per km²"),
        "zero": ("无", "none"),
        "no_data": ("无到期问题", "nothing due"),
        "total": ("合计", "Total"),
        "list": ("查看问题清单", "List of problems"),
        "loading": ("加载中…", "Loading…"),
        "failed": ("加载失败：", "Could not load: "),
        "as_of": ("统计时间", "As of"),
        "found": ("发现", "Found"),
        "deadline": ("整改时限", "Deadline"),
        "status": ("状态", "Status"),
        "shown_of": ("显示最新 {shown} 个，共 {total} 个", "showing the newest {shown} of {total}"),
        "details": ("详情", "Details"),
    }
    texts = {k: (en if lang == "en" else zh) for k, (zh, en) in pairs.items()}
    texts.update({f"level_{lvl}": tax.level_label(lvl, lang) for lvl in HEAT_LEVELS})
    return texts
