"""The offline vector basemap file (/basemap.pmtiles): the PMTiles archive named by
CIVICGRID_PMTILES_PATH, served with HTTP range requests (206 Partial Content), which is
how the browser's PMTiles reader fetches its header, directories and single tiles.

It needs a login like every map page: the basemap carries the names of every area."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file
from flask.typing import ResponseReturnValue

from web.assets import pmtiles_problem
from web.security.guard import requires

bp = Blueprint("basemap", __name__)


@bp.get("/basemap.pmtiles")
@requires("view")
def pmtiles_file() -> ResponseReturnValue:
    """The whole file, or the byte range asked for (werkzeug answers Range and If-Range)."""
    path = current_app.config["PMTILES_PATH"]
    if current_app.config["BASEMAP"] != "pmtiles" or pmtiles_problem(path):
        abort(404)
    return send_file(
        path, mimetype="application/vnd.pmtiles", conditional=True, etag=True, max_age=3600
    )
