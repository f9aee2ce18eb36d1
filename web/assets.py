"""Serving npm-installed front-end files under /vendor/ (no CDN, works offline)."""

from __future__ import annotations

import functools
from pathlib import Path

from flask import Flask, abort, current_app, send_from_directory, url_for
from flask.typing import ResponseReturnValue

from geo.core.text import Text, in_lang, tr
from geo.reports.maps import Assets, Basemap, basemap_for
from web.i18n import current_lang, translate

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


def configured_basemap() -> Basemap | None:
    """The basemap every map page uses (CIVICGRID_BASEMAP and its settings), or None.

    ``pmtiles``: the file at CIVICGRID_PMTILES_PATH, served by this app at
    /basemap.pmtiles and drawn in the browser with protomaps-leaflet (tiles in
    CIVICGRID_TILE_CRS). A missing or unreadable file gives a basemap of kind "none"
    whose notice the map shows: the layers still draw, on a plain background.
    """
    cfg = current_app.config
    if cfg["BASEMAP"] != "pmtiles":
        return basemap_for(
            cfg["BASEMAP"], cfg["TILE_URL"], cfg["TIANDITU_KEY"], cfg["TILE_CRS"] == "gcj02"
        )
    problem = pmtiles_problem(cfg["PMTILES_PATH"])
    if problem:
        current_app.logger.warning("basemap unavailable: %s", problem.en)
        return Basemap("", "", kind="none", notice=in_lang(problem, current_lang()))
    return Basemap(
        url_for("basemap.pmtiles_file"),
        translate("示例城市底图（虚构）", "Demo city basemap (fictional)")
        if cfg.get("DEMO")
        else "",
        gcj02=cfg["TILE_CRS"] == "gcj02",
        max_zoom=19,
        kind="pmtiles",
        scripts=(
            (
                "protomaps_leaflet",
                url_for("vendor", package="protomaps-leaflet", filename="protomaps-leaflet.js"),
            ),
            ("civicgrid_basemap", url_for("static", filename="civicgrid-basemap.js")),
        ),
        texts={
            "failed": translate(
                "底图加载失败，地图图层不受影响",
                "The basemap could not be loaded; the map layers are unaffected",
            )
        },
    )


def pmtiles_problem(path: str) -> Text | None:
    """Why the PMTiles file at ``path`` cannot be used (missing, unreadable, not PMTiles
    v3 vector tiles, shorter than its header says), or None when it can."""
    if not path:
        return tr(
            "未设置 CIVICGRID_PMTILES_PATH，底图不可用",
            "CIVICGRID_PMTILES_PATH is not set: no basemap",
        )
    file = Path(path)
    try:
        stat = file.stat()
    except OSError:
        return tr(f"底图文件不存在：{file.name}", f"basemap file missing: {file.name}")
    return _header_problem(str(file), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _header_problem(path: str, mtime_ns: int, size: int) -> Text | None:
    # Keyed by modification time and size: a replaced file is checked again.
    from pmtiles.tile import TileType, deserialize_header

    name = Path(path).name
    try:
        with open(path, "rb") as handle:
            header = deserialize_header(handle.read(127))
        # Every section inside the file: one cut short (a copy that stopped early) has a
        # good header but tiles the browser's range requests cannot reach (416).
        end = max(
            header["root_offset"] + header["root_length"],
            header["metadata_offset"] + header["metadata_length"],
            header["leaf_directory_offset"] + header["leaf_directory_length"],
            header["tile_data_offset"] + header["tile_data_length"],
        )
        if header["tile_type"] != TileType.MVT or end > size:
            raise ValueError("not a vector tile archive, or cut short")
    except Exception:  # any bad header: the file is unusable, whatever the reason
        return tr(
            f"底图文件损坏或不是 PMTiles 矢量瓦片：{name}",
            f"basemap file corrupt or not PMTiles vector tiles: {name}",
        )
    return None
