"""Serving npm-installed front-end files under /vendor/ (no CDN, works offline)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, current_app, send_from_directory, url_for
from flask.typing import ResponseReturnValue

from geo.reports.maps import Assets

# package → folder inside it that may be served; nothing else under node_modules is.
VENDOR_DIRS = {
    "leaflet": "dist",
    "leaflet.heat": "dist",
    "leaflet.markercluster": "dist",
    "protomaps-leaflet": "dist",
    "pmtiles": "dist",
    "echarts": "dist",
}
_MISSING_HINT = "front-end assets missing: run `npm ci` (or `make demo`) in the repository root"


def init_app(app: Flask) -> None:
    """Add the /vendor/<package>/<path> route."""
    app.add_url_rule("/vendor/<package>/<path:filename>", "vendor", _vendor_file)


def _vendor_file(package: str, filename: str) -> ResponseReturnValue:
    if package not in VENDOR_DIRS:
        abort(404)
    folder = Path(current_app.config["ASSETS_DIR"]) / package / VENDOR_DIRS[package]
    if not folder.is_dir():
        current_app.logger.error(_MISSING_HINT)
        abort(404)
    return send_from_directory(folder, filename, max_age=86400)


def map_assets() -> Assets:
    """URLs of Leaflet and civicgrid's map script and style, all on this origin."""
    return Assets(
        leaflet_js=url_for("vendor", package="leaflet", filename="leaflet.js"),
        leaflet_css=url_for("vendor", package="leaflet", filename="leaflet.css"),
        map_js=url_for("static", filename="civicgrid-map.js"),
        map_css=url_for("static", filename="civicgrid.css"),
    )
