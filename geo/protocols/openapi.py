"""The OpenAPI 3.0 document of civicgrid's OGC API – Features (/ogcapi/api).

Each collection gets its own items path with its property filters spelled out (enums
from the taxonomy), so that clients such as QGIS and GDAL know what they can ask for;
``limit`` declares the maximum the server clamps to.
"""

from __future__ import annotations

from typing import Any

from geo.core.taxonomy import Taxonomy
from geo.export.fields import FIELDS, Field
from geo.protocols.ogc_crs import CRS84, OFFERED
from geo.protocols.ogc_filter import DRAFT_LANGS, LANGS, queryables
from geo.protocols.ogcapi import COLLECTIONS, DEFAULT_LIMIT, MAX_LIMIT, Collection
from geo.storage.statuses import ALL_STATUSES

_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "str": "string"}


def openapi_document(base_url: str, taxonomy: Taxonomy, title: str) -> dict[str, Any]:
    """The document for the API served at ``base_url`` (e.g. ``http://host/ogcapi``)."""
    paths: dict[str, Any] = {
        "/": _get("landing", "着陆页 / landing page", "application/json"),
        "/conformance": _get("conformance", "符合的标准 / conformance classes", "application/json"),
        "/api": _get(
            "api", "本文档 / this API definition", "application/vnd.oai.openapi+json;version=3.0"
        ),
        "/collections": _get("collections", "要素集合 / feature collections", "application/json"),
    }
    for coll in COLLECTIONS.values():
        paths.update(_collection_paths(coll, taxonomy))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": title,
            "version": "1.0.0",
            "description": "OGC API – Features (Parts 1–3: Core, CRS, Filtering). "
            "中文为默认语言 (lang=en for English). "
            f"limit 默认 {DEFAULT_LIMIT}，超过 {MAX_LIMIT} 按 {MAX_LIMIT} 处理 / "
            f"limit defaults to {DEFAULT_LIMIT}; values above {MAX_LIMIT} are clamped.",
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "parameters": _common_parameters(),
            "schemas": {"exception": _EXCEPTION, "link": _LINK},
            "responses": {
                "400": _error("请求参数无效 / invalid parameter (OGC exception)"),
                "404": _error("没有该资源 / not found (OGC exception)"),
            },
        },
    }


_LINK = {
    "type": "object",
    "required": ["href"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "title": {"type": "string"},
    },
}
_EXCEPTION = {
    "type": "object",
    "required": ["code"],
    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
}
_CONTENT_CRS = {
    "Content-Crs": {
        "description": "坐标系 / the CRS of the coordinates, as <URI> (JSON answers)",
        "schema": {"type": "string"},
    }
}
_ERRORS = {"400": {"$ref": "#/components/responses/400"}}
_NOT_FOUND = {"404": {"$ref": "#/components/responses/404"}}


def _error(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/exception"}
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}, "text/html": {}},
    }


def _get(op_id: str, summary: str, media: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "parameters": [{"$ref": "#/components/parameters/f"}],
            "responses": {
                "200": {"description": "OK", "content": {media: {}, "text/html": {}}},
                **_ERRORS,
            },
        }
    }


def _collection_paths(coll: Collection, taxonomy: Taxonomy) -> dict[str, Any]:
    base = f"/collections/{coll.id}"
    feature = {"application/geo+json": {"schema": _feature_schema(coll)}, "text/html": {}}
    described = _get(
        f"describe_{coll.id}", coll.title("zh") + " / " + coll.title("en"), "application/json"
    )
    described["get"]["responses"].update(_NOT_FOUND)
    queryables = {"application/schema+json": {"schema": {"type": "object"}}}
    return {
        base: described,
        f"{base}/items": _items_path(coll, taxonomy, feature),
        f"{base}/queryables": {
            "get": {
                "operationId": f"queryables_{coll.id}",
                "summary": f"{coll.zh}可查询的属性 / {coll.en} queryables",
                "responses": {
                    "200": {"description": "JSON Schema", "content": queryables},
                    **_NOT_FOUND,
                },
            }
        },
        f"{base}/items/{{featureId}}": _item_path(coll, feature),
    }


def _items_path(coll: Collection, taxonomy: Taxonomy, feature: dict[str, Any]) -> dict[str, Any]:
    # limit inline, not a $ref: GDAL's OAPIF driver reads its maximum from the items
    # path and does not follow references (it would page 10 at a time)
    params: list[dict[str, Any]] = [_common_parameters()["limit"]]
    params += [
        {"$ref": f"#/components/parameters/{name}"}
        for name in (
            *("bbox", "bbox-crs", "crs", "offset", "cursor", "datetime"),
            *("filter", "filter-lang", "filter-crs", "f"),
        )
    ]
    params += _shape_parameters(coll)
    params += [_filter_parameter(key, taxonomy) for key in coll.filter_keys()]
    schema = _collection_schema(feature["application/geo+json"]["schema"])
    page = {"application/geo+json": {"schema": schema}, "text/html": {}}
    return {
        "get": {
            "operationId": f"items_{coll.id}",
            "summary": f"{coll.zh}要素 / {coll.en} features",
            "parameters": params,
            "responses": {
                "200": {
                    "description": "GeoJSON FeatureCollection",
                    "content": page,
                    "headers": _CONTENT_CRS,
                },
                **_ERRORS,
            },
        }
    }


def _shape_parameters(coll: Collection) -> list[dict[str, Any]]:
    names = [f.name for f in FIELDS[coll.target]]
    return [
        {
            "name": "properties",
            "in": "query",
            "required": False,
            "description": "只返回这些属性 / only these properties",
            "style": "form",
            "explode": False,
            "schema": {"type": "array", "items": {"type": "string", "enum": names}},
        },
        {
            "name": "sortby",
            "in": "query",
            "required": False,
            "description": "排序 / sort by queryables, e.g. -found_at,category ('-' descending)",
            "style": "form",
            "explode": False,
            "schema": {
                "type": "array",
                "items": {"type": "string", "pattern": _sort_pattern(coll)},
            },
        },
        {
            "name": "skipGeometry",
            "in": "query",
            "required": False,
            "description": "不返回几何 / leave the geometry out (null)",
            "schema": {"type": "boolean", "default": False},
        },
    ]


def _sort_pattern(coll: Collection) -> str:
    names = "|".join(queryables(coll.target))
    return f"^[+-]?({names})$"


def _item_path(coll: Collection, feature: dict[str, Any]) -> dict[str, Any]:
    feature_id = {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "get": {
            "operationId": f"item_{coll.id}",
            "summary": f"单个{coll.zh} / one {coll.en} feature",
            "parameters": [
                feature_id,
                {"$ref": "#/components/parameters/crs"},
                {"$ref": "#/components/parameters/f"},
            ],
            "responses": {
                "200": {
                    "description": "GeoJSON Feature",
                    "content": feature,
                    "headers": _CONTENT_CRS,
                },
                **_ERRORS,
                **_NOT_FOUND,
            },
        }
    }


def _filter_parameter(key: str, taxonomy: Taxonomy) -> dict[str, Any]:
    enums: dict[str, list[str]] = {
        "status": ["all", "unresolved", "overdue", *ALL_STATUSES],
        "category": list(taxonomy.categories),
        "kind": list(taxonomy.point_kinds),
        "campaign": list(taxonomy.campaigns),
    }
    texts = {
        "status": "状态 / status",
        "category": "问题类别 / category (code or label)",
        "kind": "点位类型 / point kind",
        "campaign": "攻坚行动 / campaign",
        "from": "发现时间起 / found on or after (date or RFC 3339)",
        "to": "发现时间止 / found on or before",
        "area": "区域编码（任一层级）/ area code at any level, or LEVEL:CODE",
    }
    schema: dict[str, Any] = {"type": "string"}
    if key in enums:
        schema = {"type": "string", "enum": enums[key]}
    return {
        "name": key,
        "in": "query",
        "required": False,
        "description": texts.get(key, key) + "; 多个值用逗号分隔 / comma-separated values are ORed",
        "schema": schema,
        "style": "form",
        "explode": False,
    }


def _feature_schema(coll: Collection) -> dict[str, Any]:
    props = {f.name: _property(f) for f in FIELDS[coll.target]}
    return {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "geometry": {"type": "object", "nullable": True},  # null with skipGeometry
            "properties": {"type": "object", "properties": props},
        },
    }


def _collection_schema(feature: dict[str, Any]) -> dict[str, Any]:
    """An items page: a GeoJSON FeatureCollection with the OGC paging members."""
    return {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": feature},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
            "timeStamp": {"type": "string", "format": "date-time"},
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
        },
    }


def _property(f: Field) -> dict[str, Any]:
    if f.type == "time":
        return {"type": "string", "format": "date-time", "description": f.zh, "nullable": True}
    return {"type": _TYPES[f.type], "description": f.zh, "nullable": True}


def _common_parameters() -> dict[str, Any]:
    return {**_core_parameters(), **_crs_and_filter_parameters()}


def _crs_and_filter_parameters() -> dict[str, Any]:
    """Parameters of Part 2 (crs, bbox-crs) and Part 3 (filter, filter-lang, filter-crs)."""
    return {
        "crs": {
            "name": "crs",
            "in": "query",
            "required": False,
            "description": "坐标系 / CRS of the answer (OGC API Features Part 2); the "
            "Content-Crs header names it. EPSG:4490 is CGCS2000 (lat/lon).",
            "schema": {"type": "string", "enum": list(OFFERED), "default": CRS84},
        },
        "bbox-crs": {
            "name": "bbox-crs",
            "in": "query",
            "required": False,
            "description": "bbox 的坐标系 / CRS of bbox",
            "schema": {"type": "string", "enum": list(OFFERED), "default": CRS84},
        },
        "filter": {
            "name": "filter",
            "in": "query",
            "required": False,
            "description": "CQL2 过滤 / CQL2 filter (Part 3) over the collection's queryables: "
            "comparisons, AND/OR/NOT, LIKE, IN, BETWEEN, IS NULL, S_INTERSECTS, T_INTERSECTS",
            "schema": {"type": "string"},
        },
        "filter-lang": {
            "name": "filter-lang",
            "in": "query",
            "required": False,
            "description": "cql-text: 草案中的名称, 同 cql2-text / the drafts' name for "
            "cql2-text, which GDAL 3.6 looks for before it sends an ogrinfo -where as a filter",
            "schema": {
                "type": "string",
                "enum": [*LANGS, *DRAFT_LANGS],
                "default": "cql2-text",
            },
        },
        "filter-crs": {
            "name": "filter-crs",
            "in": "query",
            "required": False,
            "description": "filter 中几何的坐标系 / CRS of the filter's geometries",
            "schema": {"type": "string", "enum": list(OFFERED), "default": CRS84},
        },
    }


def _core_parameters() -> dict[str, Any]:
    return {
        "f": {
            "name": "f",
            "in": "query",
            "required": False,
            "description": "格式 / format: json or html (default from the Accept header)",
            "schema": {"type": "string", "enum": ["json", "html"]},
        },
        "bbox": {
            "name": "bbox",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": "minlon,minlat,maxlon,maxlat in CRS84; in bbox-crs's axis order "
            "otherwise (EPSG:4326 and EPSG:4490: minlat,minlon,maxlat,maxlon)",
            "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        },
        "datetime": {
            "name": "datetime",
            "in": "query",
            "required": False,
            "description": "发现时间 / found time: instant or interval (RFC 3339, '..' open)",
            "schema": {"type": "string"},
        },
        "limit": {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": f"每页要素数 / features per page; above {MAX_LIMIT} is clamped",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            },
        },
        "offset": {
            "name": "offset",
            "in": "query",
            "required": False,
            "description": "跳过的要素数 / features to skip",
            "schema": {"type": "integer", "minimum": 0, "default": 0},
        },
        "cursor": {
            "name": "cursor",
            "in": "query",
            "required": False,
            "description": (
                "下一页的位置(取自 next 链接, 不与 offset 同用) / where the next page starts"
                " (from a next link; not with offset)"
            ),
            "schema": {"type": "string"},
        },
    }
