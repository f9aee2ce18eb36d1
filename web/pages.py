"""HTML pages: thin routes that build a folium map and render a template."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from geo import queries
from web import database, heatview

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """The city overview: heat of unresolved problems by area, point density, district
    outlines and inspection points, with the filters of the URL (400 if some are bad)."""
    session = database.session()
    view = heatview.view_from_request()
    html = render_template(
        "pages/index.html",
        map=heatview.heat_map(view.filters),
        counts=queries.counts(session),
        empty=queries.city_extent(session) is None,
        view=view,
        choices=heatview.filter_choices(),
    )
    return html, 400 if view.errors else 200
