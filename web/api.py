"""JSON API (/api/v1): thin routes over geo/."""

from __future__ import annotations

from flask import Blueprint, Response, request

from geo import queries
from web import database
from web.i18n import current_lang

bp = Blueprint("api", __name__, url_prefix="/api/v1")

GEOJSON = "application/geo+json"


@bp.get("/areas")
def areas() -> Response:
    """Areas of one level (?level=district|street|community|grid) as GeoJSON."""
    level = request.args.get("level", "district")
    body = queries.areas_geojson(database.session(), level)
    return Response(body, mimetype=GEOJSON)


@bp.get("/points")
def points() -> Response:
    """All inspection points as GeoJSON, kind labels in the current language."""
    body = queries.points_geojson(database.session(), database.taxonomy(), current_lang())
    return Response(body, mimetype=GEOJSON)
