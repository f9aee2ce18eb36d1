"""OGC API – Features at /ogcapi: thin routes over geo/protocols/ogcapi.py and
geo/protocols/ogc_items.py.

Every resource comes as JSON and as HTML (Chinese by default, ``lang=en``): ``f=json``
or ``f=html`` choose, otherwise the Accept header does (browsers get HTML, clients
such as QGIS and GDAL get JSON). Errors use the OGC exception format (web/errors.py).
"""

from __future__ import annotations

import dataclasses
import json

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from geo.core.errors import CivicgridError
from geo.protocols import ogc_items, ogcapi
from geo.protocols.ogc_crs import content_crs, parse_crs, reproject_features
from geo.protocols.ogc_filter import GEOMETRY_TYPES, queryables_schema
from geo.protocols.openapi import openapi_document
from geo.reports.filters import ProblemFilter
from web import database
from web.api import ogcapi_docs
from web.api.filtering import restrict
from web.errors import ogc_error
from web.i18n import current_lang, translate
from web.security.guard import requires

bp = Blueprint("ogcapi", __name__, url_prefix="/ogcapi")
bp.register_error_handler(CivicgridError, ogc_error)

GEOJSON = "application/geo+json"


@bp.get("")
@bp.get("/")
@requires("view")
def landing() -> ResponseReturnValue:
    """Landing page: what this service is and where its parts are."""
    doc = ogcapi_docs.landing()
    return _respond(doc, "ogcapi/landing.html")


@bp.get("/conformance")
@requires("view")
def conformance() -> ResponseReturnValue:
    """The conformance classes implemented."""
    return _respond({"conformsTo": ogcapi.CONFORMANCE}, "ogcapi/conformance.html")


@bp.get("/api")
@requires("view")
def api() -> ResponseReturnValue:
    """The OpenAPI 3.0 definition."""
    doc = openapi_document(
        url_for("ogcapi.landing", _external=True), database.taxonomy(), ogcapi_docs.title()
    )
    if ogcapi_docs.wants_html():
        return render_template("ogcapi/api.html", doc=doc, json_url=ogcapi_docs.self_url("json"))
    return Response(json.dumps(doc, ensure_ascii=False), mimetype=ogcapi_docs.OPENAPI)


@bp.get("/collections")
@requires("view")
def collections() -> ResponseReturnValue:
    """All feature collections with their extents."""
    return _respond(ogcapi_docs.collections(database.session()), "ogcapi/collections.html")


@bp.get("/collections/<collection_id>")
@requires("view")
def collection(collection_id: str) -> ResponseReturnValue:
    """One collection's description."""
    coll = ogcapi.collection(collection_id)
    doc = ogcapi_docs.collection(database.session(), coll)
    return _respond(doc, "ogcapi/collection.html", coll=coll)


@bp.get("/collections/<collection_id>/queryables")
@requires("view")
def queryables(collection_id: str) -> ResponseReturnValue:
    """The properties a CQL2 filter may name (JSON Schema), from the exports' fields."""
    coll = ogcapi.collection(collection_id)
    url = url_for("ogcapi.queryables", collection_id=coll.id, _external=True)
    geometry = GEOMETRY_TYPES[coll.target]
    doc = queryables_schema(coll.target, geometry, url, current_lang())
    return Response(json.dumps(doc, ensure_ascii=False), mimetype="application/schema+json")


@bp.get("/collections/<collection_id>/items")
@requires("view")
def items(collection_id: str) -> ResponseReturnValue:
    """A page of features: bbox, datetime, limit/offset and property filters."""
    coll = ogcapi.collection(collection_id)
    query = ogcapi.parse_items(
        coll, request.args, database.taxonomy(), current_app.config["TIMEZONE"]
    )
    query = dataclasses.replace(query, filter=restrict(query.filter))
    page = ogc_items.items_page(
        database.session(),
        query,
        database.taxonomy(),
        current_lang(),
        current_app.config["TIMEZONE"],
    )
    if ogcapi_docs.wants_html():
        return ogcapi_docs.items_html(coll, page)
    features = reproject_features(page.features, query.crs, query.properties, query.skip_geometry)
    page = dataclasses.replace(page, features=features)
    headers = {"Content-Crs": content_crs(query.crs)}
    return Response(ogcapi_docs.items_json(coll, page), mimetype=GEOJSON, headers=headers)


@bp.get("/collections/<collection_id>/items/<feature_id>")
@requires("view")
def item(collection_id: str, feature_id: str) -> ResponseReturnValue:
    """One feature by its id (problem number, point or area code)."""
    coll = ogcapi.collection(collection_id)
    ogcapi_docs.check_item_args()
    crs = parse_crs(request.args.get("crs"))
    text = ogc_items.item(
        database.session(),
        coll,
        feature_id,
        restrict(ProblemFilter()),
        database.taxonomy(),
        current_lang(),
        current_app.config["TIMEZONE"],
    )
    if ogcapi_docs.wants_html():
        return ogcapi_docs.item_html(coll, feature_id, text)
    [text] = reproject_features([text], crs)
    headers = {"Content-Crs": content_crs(crs)}
    return Response(
        ogcapi_docs.item_json(coll, feature_id, text), mimetype=GEOJSON, headers=headers
    )


def _respond(doc: dict[str, object], template: str, **context: object) -> ResponseReturnValue:
    if ogcapi_docs.wants_html():
        return render_template(
            template, doc=doc, json_url=ogcapi_docs.self_url("json"), t=translate, **context
        )
    return Response(json.dumps(doc, ensure_ascii=False), mimetype="application/json")
