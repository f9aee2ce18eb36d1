"""HTML pages: thin routes that build a folium map and render a template."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from geo.reports import queries
from web import database
from web.pages import heatview
from web.security.guard import current_scope, requires

bp = Blueprint("pages", __name__)


@bp.get("/")
@requires("view")
def index() -> ResponseReturnValue:
    """The city overview: heat of unresolved problems by area, point density, district
    outlines and inspection points, with the filters of the URL (400 if some are bad)."""
    session = database.session()
    view = heatview.view_from_request()
    html = render_template(
        "pages/index.html",
        map=heatview.heat_map(view.filters),
        counts=queries.counts(session, scope=current_scope()),
        empty=queries.city_extent(session, scope=current_scope()) is None,
        view=view,
        choices=heatview.filter_choices(),
        export_args=heatview.export_args(view.filters),
    )
    return html, 400 if view.errors else 200
