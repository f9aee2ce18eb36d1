"""JSON API (/api/v1): thin routes over geo/."""

from __future__ import annotations

from flask import Blueprint, Response, request

from geo.reports import queries
from web import database
from web.i18n import current_lang
from web.security.guard import current_scope, requires

bp = Blueprint("api", __name__, url_prefix="/api/v1")

GEOJSON = "application/geo+json"


@bp.get("/areas")
@requires("view")
def areas() -> Response:
    """Areas of one level (?level=district|street|community|grid) in scope, as GeoJSON."""
    level = request.args.get("level", "district")
    body = queries.areas_geojson(database.session(), level, scope=current_scope())
    return Response(body, mimetype=GEOJSON)


@bp.get("/points")
@requires("view")
def points() -> Response:
    """Inspection points in scope as GeoJSON, kind labels in the current language."""
    body = queries.points_geojson(
        database.session(), database.taxonomy(), current_lang(), scope=current_scope()
    )
    return Response(body, mimetype=GEOJSON)
