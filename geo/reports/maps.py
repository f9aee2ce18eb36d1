"""Folium map builders.

Maps carry no data in bulk: layers are fetched by the browser from JSON endpoints
(``LayerSpec.url``) by web/static/civicgrid-map.js. Leaflet comes from locally served
npm files, never a CDN. Extents are EPSG:4326 lon/lat degrees.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import folium
from branca.element import MacroElement
from jinja2 import Template

from geo.reports.queries import Extent

# Default view when nothing is loaded yet: central Jiangsu.
FALLBACK_EXTENT = Extent(120.8, 31.95, 121.0, 32.1)


@dataclass(frozen=True)
class Basemap:
    """A tile layer: URL template, attribution, and whether its tiles are GCJ-02.

    ``kind`` "raster" is a z/x/y image URL template; "pmtiles" is one PMTiles file of
    vector tiles at ``url`` (same origin), drawn by ``script`` (protomaps-leaflet and
    civicgrid's basemap style); "none" draws nothing and ``notice`` says why.
    """

    url: str
    attribution: str
    gcj02: bool = False
    max_zoom: int = 18
    subdomains: str = "abc"
    kind: str = "raster"
    scripts: tuple[tuple[str, str], ...] = ()
    notice: str = ""
    texts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LayerSpec:
    """One layer the browser fetches: what, from where, and how to draw it."""

    id: str
    label: str
    url: str
    kind: str  # "areas" or "points"
    show: bool = True
    style: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Assets:
    """URLs of the locally served front-end files."""

    leaflet_js: str
    leaflet_css: str
    map_js: str
    map_css: str
    extra_js: tuple[tuple[str, str], ...] = ()  # (name, url) loaded after map_js


def basemap_for(
    name: str, tile_url: str = "", tianditu_key: str = "", custom_gcj02: bool = False
) -> Basemap | None:
    """The basemap for a CIVICGRID_BASEMAP value, or None for ``none``."""
    if name == "osm":
        return Basemap(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors"
        )
    if name == "amap":
        return Basemap(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            "© 高德地图 AutoNavi",
            gcj02=True,
            subdomains="1234",
        )
    if name == "tianditu":
        return Basemap(
            "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}"
            f"&TILEROW={{y}}&TILECOL={{x}}&tk={tianditu_key}",
            "© 天地图 Tianditu",
            subdomains="01234567",
        )
    if name == "custom" and tile_url:
        return Basemap(tile_url, "", gcj02=custom_gcj02)
    return None


def city_map(
    assets: Assets,
    layers: list[LayerSpec],
    extent: Extent | None,
    basemap: Basemap | None = None,
    legend: dict[str, Any] | None = None,
    lang: str = "zh",
    extra: dict[str, Any] | None = None,
) -> folium.Map:
    """A folium map fitted to ``extent`` whose layers are fetched from ``layers`` URLs.

    ``legend`` is handed to the page script (title and items with colours); ``extra``
    adds keys to the page script's config (e.g. ``heat`` for web/static/civicgrid-heat.js).
    """
    extent = extent or FALLBACK_EXTENT
    fmap = folium.Map(
        location=[(extent.min_lat + extent.max_lat) / 2, (extent.min_lon + extent.max_lon) / 2],
        zoom_start=12,
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
    )
    _use_local_assets(fmap, assets)
    fmap.fit_bounds([[extent.min_lat, extent.min_lon], [extent.max_lat, extent.max_lon]])
    if basemap is not None and basemap.kind == "raster":
        folium.TileLayer(
            basemap.url,
            attr=basemap.attribution,
            max_zoom=basemap.max_zoom,
            name="basemap",
            subdomains=basemap.subdomains,
        ).add_to(fmap)
    config = {
        "layers": [asdict(layer) for layer in layers],
        "legend": legend,
        "lang": lang,
        "gcj02": bool(basemap and basemap.gcj02),
        **_vector_basemap(fmap, basemap),
        **(extra or {}),
    }
    fmap.add_child(_RemoteLayers(config))
    return fmap


def _vector_basemap(fmap: folium.Map, basemap: Basemap | None) -> dict[str, Any]:
    """The page-script config of a PMTiles basemap (its scripts join the map's), or the
    notice that explains why there is no basemap."""
    if basemap is None:
        return {}
    config: dict[str, Any] = {"basemapNotice": basemap.notice} if basemap.notice else {}
    if basemap.kind == "pmtiles":
        fmap.default_js = [*fmap.default_js, *basemap.scripts]
        config["basemap"] = {
            "kind": "pmtiles",
            "url": basemap.url,
            "attribution": basemap.attribution,
            "maxZoom": basemap.max_zoom,
            "texts": basemap.texts,
        }
    return config


def render_parts(fmap: folium.Map, nonce: str | None = None) -> dict[str, str]:
    """The map's head, body and script HTML, to place inside a page template.

    With ``nonce``, every <script> and <style> element folium wrote gets that CSP
    nonce, so a Content-Security-Policy without 'unsafe-inline' lets them run. (The
    page template must put the same nonce on the <script> wrapping ``script``.)
    """
    root = fmap.get_root()
    root.render()
    parts = {
        "head": root.header.render(),  # type: ignore[attr-defined]
        "body": root.html.render(),  # type: ignore[attr-defined]
        "script": root.script.render(),  # type: ignore[attr-defined]
    }
    if nonce is not None:
        parts = {key: with_nonce(html, nonce) for key, html in parts.items()}
    return parts


_OPEN_TAG = re.compile(r"<(script|style)(?=[\s>])", re.IGNORECASE)


def with_nonce(html: str, nonce: str) -> str:
    """``html`` (markup we generated) with ``nonce`` on its <script> and <style> tags."""
    # Only markup we generate: folium's parts (user data never reaches them: layers are
    # fetched as JSON and escaped in the browser) and autoescaped templates (user text
    # arrives as &lt;script), so no injected tag can get the nonce.
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", nonce):
        raise ValueError("a CSP nonce is URL-safe base64")
    return _OPEN_TAG.sub(lambda m: f'<{m.group(1)} nonce="{nonce}"', html)


def _use_local_assets(fmap: folium.Map, assets: Assets) -> None:
    # Folium links CDNs by default; government intranets cannot reach them.
    fmap.default_js = [
        ("leaflet", assets.leaflet_js),
        ("civicgrid_map", assets.map_js),
        *assets.extra_js,
    ]
    fmap.default_css = [("leaflet_css", assets.leaflet_css), ("civicgrid_css", assets.map_css)]


class _RemoteLayers(MacroElement):
    """Calls civicgridMap.init(map, config) once the map exists."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        civicgridMap.init({{ this._parent.get_name() }}, {{ this.config_json }});
        {% endmacro %}"""
    )

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "CivicgridLayers"
        # JSON inside <script>: "</" must not close the element.
        self.config_json = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
