"""Area pages: /districts/<code>, /streets/<code>, /communities/<code>, /grids/<code>.

The map zoomed to the area (heat of the areas inside it, its problems) and the table of
its problems matching the filters, sortable by age or deadline, each linking to
/problems/<id>.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue

from geo.access.scope import area_in_scope
from geo.reports import heat
from geo.reports.heat_filters import HEAT_LEVELS, FilterError, HeatFilters, parse_int
from geo.reports.problem_list import SORTS, AreaInfo, area_problems, find_area
from web import database
from web.i18n import current_lang, translate
from web.pages import heatview
from web.security.guard import current_scope, requires

bp = Blueprint("area_pages", __name__)
LEVEL_OF = {plural: level for level, plural in heatview.PLURALS.items()}


@bp.get("/<any(districts, streets, communities, grids):plural>/<code>")
@requires("view")
def area_page(plural: str, code: str) -> ResponseReturnValue:
    """One area: map, figures and its problems (?sort=age|-age|deadline|-deadline&page=).

    An area outside the caller's scope is "not found", exactly like an unknown code."""
    session, level = database.session(), LEVEL_OF[plural]
    area = find_area(session, level, code)
    if area is None or not area_in_scope(session, current_scope(), area.id):
        label = database.taxonomy().level_label(level, current_lang())
        abort(404, description=translate(f"没有编码为 {code} 的{label}。", f"No {level} {code}."))
    view = heatview.view_from_request(HeatFilters(level="grid"))
    _check_level(view, area)
    sort, page = _sort_and_page(view)
    problems = area_problems(session, area.ref, view.filters, sort, page)
    here = replace(view.filters, level=area.level, metric="count")
    figures = _figures(heat.area_heat(session, here, within=area.ref))
    return render_template(
        "heat/area.html",
        **_context(area, view, sort, figures, problems),
        map=heatview.heat_map(view.filters, area),
    ), (400 if view.errors else 200)


def _check_level(view: heatview.View, area: AreaInfo) -> None:
    if HEAT_LEVELS.index(view.filters.level) < HEAT_LEVELS.index(area.level):
        view.errors.append(
            FilterError(
                "level",
                f"层级 {view.filters.level} 比本区域更粗，已改为网格",
                f"level {view.filters.level} is coarser than this area; showing grids",
            )
        )
        view.filters = replace(view.filters, level="grid")


def _sort_and_page(view: heatview.View) -> tuple[str, int]:
    sort = request.args.get("sort", "age")
    if sort not in SORTS:
        view.errors.append(FilterError("sort", f"未知的排序：{sort!r}", f"unknown sort {sort!r}"))
        sort = "age"
    try:
        page = parse_int("page", request.args.get("page"), 1, 1, 1_000_000)
    except FilterError as exc:
        view.errors.append(exc)
        page = 1
    return sort, page


def _figures(h: heat.AreaHeat) -> dict[str, float | None]:
    closed = int(h.n.sum() - h.unresolved.sum())
    due = closed + int(h.overdue.sum())
    km2 = float(h.catalog.km2.sum())
    return {
        "unresolved": int(h.unresolved.sum()),
        "overdue": int(h.overdue.sum()),
        "ontime": int(h.closed_on_time.sum()) / due if due else None,
        "density": int(h.count.sum()) / km2 if km2 else 0.0,
    }


def _context(
    area: AreaInfo,
    view: heatview.View,
    sort: str,
    figures: dict[str, float | None],
    problems: object,
) -> dict[str, object]:
    tax, lang = database.taxonomy(), current_lang()
    args = view.filters.query_args()
    args.pop("district", None)
    status_titles = {
        "unresolved": translate("未销号问题", "Unresolved problems"),
        "overdue": translate("超期未整改问题", "Overdue problems"),
        "all": translate("全部问题", "All problems"),
    }

    def sort_link(key: str, text: str) -> object:
        from markupsafe import Markup, escape

        new = f"-{key}" if sort == key else key
        arrow = {key: " ↑", f"-{key}": " ↓"}.get(sort, "")
        values: dict[str, Any] = {**(request.view_args or {}), **args, "sort": new}
        href = url_for(request.endpoint or "", **values)
        return Markup(f'<a href="{escape(href)}">{escape(text)}{arrow}</a>')

    def page_url(page: int) -> str:
        values: dict[str, Any] = {**(request.view_args or {}), **args, "sort": sort, "page": page}
        return url_for(request.endpoint or "", **values)

    return {
        "area": area,
        "level_label": tax.level_label(area.level, lang),
        "view": view,
        "args": args,
        "choices": heatview.filter_choices(),
        "levels": [
            (lvl, tax.level_label(lvl, lang))
            for lvl in HEAT_LEVELS[HEAT_LEVELS.index(area.level) :]
        ],
        "figures": figures,
        "problems": problems,
        "status_title": status_titles[view.filters.status],
        "sort_link": sort_link,
        "page_url": page_url,
        "area_url": heatview.area_url,
        "category_label": lambda c: tax.category_label(c, lang) if c in tax.categories else c,
        "status_label": lambda s: tax.status_label(s, lang) if s in tax.statuses else s,
    }


def _finer(level: str) -> tuple[str, ...]:
    return HEAT_LEVELS[HEAT_LEVELS.index(level) :]
