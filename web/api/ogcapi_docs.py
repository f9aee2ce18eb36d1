"""The OGC API's JSON documents and HTML pages: links, content negotiation, templates.

geo/protocols/ogcapi.py knows the collections and parameters; this module adds what only the web
layer knows: absolute URLs, the chosen format and language, and the page templates.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy.orm as so
from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from geo.core.errors import InvalidParameterError
from geo.core.text import tr
from geo.export.fields import FIELDS, ID_FIELD
from geo.protocols.ogc_crs import CRS84, OFFERED
from geo.protocols.ogc_items import ItemsPage
from geo.protocols.ogcapi import COLLECTIONS, Collection, spatial_extent, temporal_extent
from geo.reports import maps, queries
from geo.reports.filters import allowed_keys_message
from web import database
from web.assets import configured_basemap, map_assets
from web.i18n import current_lang, translate
from web.security.guard import csp_nonce, current_scope

OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"
_FORMATS = ("json", "html")
ITEM_KEYS = ("f", "lang", "crs")
"""What a single item accepts."""


def title() -> str:
    """The service title in the current language."""
    return translate("文明城市创建网格化管理 · 要素服务", "civicgrid · OGC API – Features")


def wants_html() -> bool:
    """HTML when ``f=html``, or when no ``f`` is given and the client prefers HTML."""
    f = request.args.get("f")
    if f is not None:
        if f not in _FORMATS:
            raise InvalidParameterError(
                tr(
                    f"不支持的格式 '{f}'; 可选: {', '.join(_FORMATS)}",
                    f"unsupported f '{f}'; one of: {', '.join(_FORMATS)}",
                )
            )
        return f == "html"
    best = request.accept_mimetypes.best_match(
        ["application/json", GEOJSON, "text/html"], default="application/json"
    )
    return best == "text/html"


def self_url(fmt: str, **changes: Any) -> str:
    """This request's URL with ``f=fmt`` and the given argument changes."""
    args: dict[str, Any] = request.args.to_dict(flat=False)
    args["f"] = [fmt]
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    values: dict[str, Any] = {**(request.view_args or {}), **args}
    return url_for(request.endpoint or "ogcapi.landing", _external=True, **values)


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _link(href: str, rel: str, media: str, link_title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media, "title": link_title}


def _self_links(media: str) -> list[dict[str, str]]:
    fmt = "html" if wants_html() else "json"
    other = "json" if fmt == "html" else "html"
    other_media = media if other == "json" else "text/html"
    return [
        _link(
            self_url(fmt),
            "self",
            media if fmt == "json" else "text/html",
            translate("本页", "this document"),
        ),
        _link(self_url(other), "alternate", other_media, translate("其他格式", "other format")),
    ]


def landing() -> dict[str, Any]:
    """The landing page document."""
    return {
        "title": title(),
        "description": translate(
            "问题、点位和各级区域，以 OGC API – Features 标准提供，"
            "可在 QGIS、ArcGIS、GDAL 中直接使用。",
            "Problems, inspection points and areas of every level as OGC API – Features, "
            "usable directly in QGIS, ArcGIS and GDAL.",
        ),
        "links": [
            *_self_links("application/json"),
            _link(_url("ogcapi.api"), "service-desc", OPENAPI, "OpenAPI 3.0"),
            _link(_url("ogcapi.api", f="html"), "service-doc", "text/html", "API"),
            _link(
                _url("ogcapi.conformance"),
                "conformance",
                "application/json",
                translate("符合的标准", "conformance"),
            ),
            _link(
                _url("ogcapi.collections"),
                "data",
                "application/json",
                translate("要素集合", "collections"),
            ),
        ],
    }


def collections(session: so.Session) -> dict[str, Any]:
    """The collections document."""
    return {
        "links": _self_links("application/json"),
        "collections": [collection(session, c, nested=True) for c in COLLECTIONS.values()],
    }


def collection(session: so.Session, coll: Collection, nested: bool = False) -> dict[str, Any]:
    """One collection's description: title, extent, links to its items."""
    lang = current_lang()
    items = _url("ogcapi.items", collection_id=coll.id)
    links = [] if nested else _self_links("application/json")
    links += [
        _link(items, "items", GEOJSON, translate("要素", "items")),
        _link(
            _url("ogcapi.queryables", collection_id=coll.id),
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "application/schema+json",
            translate("可查询的属性", "queryables"),
        ),
        _link(
            _url("ogcapi.items", collection_id=coll.id, f="html"),
            "items",
            "text/html",
            translate("要素（网页）", "items (HTML)"),
        ),
    ]
    if nested:
        href = _url("ogcapi.collection", collection_id=coll.id)
        links.append(_link(href, "self", "application/json", coll.title(lang)))
    doc: dict[str, Any] = {
        "id": coll.id,
        "title": coll.title(lang),
        "description": coll.description(lang),
        "itemType": "feature",
        "crs": list(OFFERED),
        "storageCrs": CRS84,
        "links": links,
        "extent": _extent(session, coll),
    }
    return doc


def _extent(session: so.Session, coll: Collection) -> dict[str, Any]:
    extent: dict[str, Any] = {}
    scope = current_scope()  # extents of what the caller may see, never the whole city
    bbox = spatial_extent(session, coll, scope)
    if bbox is not None:
        extent["spatial"] = {"bbox": [bbox], "crs": CRS84}
    if coll.temporal:
        first, last = temporal_extent(session, scope)
        interval = [_iso(first), _iso(last)]
        extent["temporal"] = {
            "interval": [interval],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return extent


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _page_links(coll: Collection, page: ItemsPage) -> list[dict[str, str]]:
    links = _self_links(GEOJSON)
    next_url, prev_url = _next_url("json", page), _prev_url("json", page)
    if next_url is not None:
        links.append(
            _link(
                next_url,
                "next",
                GEOJSON,
                translate("下一页", "next page"),
            )
        )
    if prev_url is not None:  # a cursor page has no offset to go back to
        links.append(
            _link(
                prev_url,
                "prev",
                GEOJSON,
                translate("上一页", "previous page"),
            )
        )
    href = url_for("ogcapi.collection", collection_id=coll.id, _external=True)
    links.append(_link(href, "collection", "application/json", coll.title(current_lang())))
    return links


def items_json(coll: Collection, page: ItemsPage) -> str:
    """The items page as a GeoJSON FeatureCollection text with OGC members."""
    head: dict[str, Any] = {"type": "FeatureCollection"}
    if page.matched is not None:  # optional in the spec: left out when too dear to count
        head["numberMatched"] = page.matched
    head |= {
        "numberReturned": page.returned,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": _page_links(coll, page),
    }
    text = json.dumps(head, ensure_ascii=False)[:-1]
    return text + ',"features":[' + ",".join(page.features) + "]}"


def item_json(coll: Collection, feature_id: str, text: str) -> str:
    """One Feature text with its links."""
    links = [
        *_self_links(GEOJSON),
        _link(
            url_for("ogcapi.collection", collection_id=coll.id, _external=True),
            "collection",
            "application/json",
            coll.title(current_lang()),
        ),
    ]
    return text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}"


def check_item_args() -> None:
    """A single item takes only ``f``, ``lang`` and ``crs``."""
    unknown = [k for k in request.args if k not in ITEM_KEYS]
    if unknown:
        raise InvalidParameterError(
            tr(
                f"未知的参数: {', '.join(unknown)}; ",
                f"unknown parameter(s): {', '.join(unknown)}; ",
            )
            + allowed_keys_message(ITEM_KEYS)
        )


def items_html(coll: Collection, page: ItemsPage) -> ResponseReturnValue:
    """The items page as HTML: a map of the page's features and a table."""
    features = [json.loads(text) for text in page.features]
    return render_template(
        "ogcapi/items.html",
        coll=coll,
        page=page,
        features=features,
        columns=_table_columns(coll),
        id_field=ID_FIELD[coll.target],
        map=_map(coll, self_url("json")),
        json_url=self_url("json"),
        next_url=_next_url("html", page),
        prev_url=_prev_url("html", page),
    )


def _next_url(fmt: str, page: ItemsPage) -> str | None:
    return self_url(fmt, cursor=page.next_cursor, offset=None) if page.has_next else None


def _prev_url(fmt: str, page: ItemsPage) -> str | None:
    if page.offset == 0 or page.cursor is not None:
        return None
    return self_url(fmt, offset=max(0, page.offset - page.limit))


def item_html(coll: Collection, feature_id: str, text: str) -> ResponseReturnValue:
    """One feature as HTML: its map and every property."""
    feature = json.loads(text)
    fields = FIELDS[coll.target]
    return render_template(
        "ogcapi/item.html",
        coll=coll,
        feature_id=feature_id,
        feature=feature,
        fields=fields,
        map=_map(coll, self_url("json")),
        json_url=self_url("json"),
    )


def _table_columns(coll: Collection) -> list[tuple[str, str]]:
    names = {
        "problems": (
            "id",
            "category_label",
            "status_label",
            "description",
            "found_at",
            "grid_name",
        ),
        "points": ("code", "name", "kind_label", "address", "street_name"),
        "areas": ("code", "name", "parent_name", "area_km2", "problems_unresolved"),
    }[coll.target]
    fields = {f.name: f for f in FIELDS[coll.target]}
    return [(n, fields[n].label(current_lang())) for n in names]


def _map(coll: Collection, url: str) -> dict[str, str]:
    kind = "areas" if coll.target == "areas" else "points"
    style = {"color": "#c0392b", "weight": 1.5, "fillOpacity": 0.1}
    layer = maps.LayerSpec(coll.id, coll.title(current_lang()), url, kind, style=style)
    extent = queries.city_extent(database.session(), scope=current_scope())
    fmap = maps.city_map(map_assets(), [layer], extent, basemap(), None, current_lang())
    return maps.render_parts(fmap, nonce=csp_nonce())


def basemap() -> maps.Basemap | None:
    """The configured basemap (as on the overview page)."""
    return configured_basemap()
