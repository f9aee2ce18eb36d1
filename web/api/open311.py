"""Open311 GeoReport v2 at /open311/v2: thin routes over geo/protocols/open311.py.

``discovery`` (at /open311 and /open311/v2), ``services``, ``services/<code>``,
``requests`` and ``requests/<id>`` in ``.json`` and ``.xml``; POST ``requests.json|xml``
(a form, or a JSON object with the same fields) creates a problem through
geo/ingest/intake.py. Every answer carries CORS headers (``Access-Control-Allow-Origin:
*``, no credentials: browsers send the key, never a cookie), and preflights are answered.
Open311's ``api_key`` is a civicgrid API token (``civicgrid tokens create``;
web/security/guard.py also takes it as ``Authorization: Bearer``): reads need the ``view``
right and see the token's (or the signed-in user's) scope, POST needs ``report`` and a
location in that scope.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from flask.typing import ResponseReturnValue

from geo.access.scope import Scope, require
from geo.core.errors import (
    AuthenticationError,
    CivicgridError,
    InvalidParameterError,
    NotFoundError,
)
from geo.core.params import load_json
from geo.core.text import tr
from geo.ingest.intake import create_problem
from geo.protocols import open311, open311_docs
from geo.reports.filters import ProblemFilter
from web import database
from web.api.filtering import restrict
from web.errors import open311_error
from web.i18n import current_lang
from web.security.guard import authenticated_principal, current_principal, public, requires

bp = Blueprint("open311", __name__, url_prefix="/open311")
FORMATS = ("json", "xml")
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "86400",
}


@bp.after_request
def _cors(response: Response) -> Response:
    response.headers.update(CORS)
    return response


@bp.route("/<path:anything>", methods=["OPTIONS"])
@public
def preflight(anything: str) -> Response:
    """CORS preflight of any Open311 URL: browsers send it without a key, so it is
    public (the routes below leave OPTIONS to this rule); it only lists the CORS
    headers added to every answer."""
    return Response(status=204)


@bp.get("/discovery.<fmt>")
@bp.get("/v2/discovery.<fmt>")
@public
def discovery(fmt: str) -> Response:
    """The discovery document: where the endpoint is and what it speaks (public)."""
    doc = open311_docs.discovery(url_for("open311.services", fmt="json", _external=True))
    if _format(fmt) == "xml":
        return _xml(open311_docs.discovery_xml(doc))
    return _json(doc)


@bp.errorhandler(CivicgridError)
def _error(exc: CivicgridError) -> ResponseReturnValue:
    fmt = (request.view_args or {}).get("fmt", "json")
    return open311_error(exc, fmt if fmt in FORMATS else "json")


@bp.get("/v2/services.<fmt>", provide_automatic_options=False)
@public  # a key with the view right, or CIVICGRID_OPEN311_PUBLIC_READ (see _reader)
def services(fmt: str) -> Response:
    """The service list: the problem categories."""
    _reader()
    records = open311.services(database.taxonomy(), current_lang())
    return _respond(fmt, records, "services", "service")


@bp.get("/v2/services/<code>.<fmt>", provide_automatic_options=False)
@public  # see _reader
def service_definition(code: str, fmt: str) -> Response:
    """A service definition (no extra attributes are asked for)."""
    _reader()
    definition = open311.service_definition(database.taxonomy(), code)
    if _format(fmt) == "xml":
        return _xml(open311_docs.service_definition_xml(definition))
    return _json(definition)


@bp.get("/v2/requests.<fmt>", provide_automatic_options=False)
@public  # see _reader
def requests_list(fmt: str) -> Response:
    """Service requests: service_code, status, start_date/end_date, page/page_size."""
    _format(fmt)
    filt, keyless = _reader()
    tz = current_app.config["TIMEZONE"]
    query = open311.parse_requests(request.args, database.taxonomy(), tz)
    records = open311.service_requests(
        database.session(), query, filt, database.taxonomy(), current_lang(), tz, keyless
    )
    return _respond(fmt, _shown(records, keyless), "service_requests", "request")


@bp.get("/v2/requests/<request_id>.<fmt>", provide_automatic_options=False)
@public  # see _reader
def request_one(request_id: str, fmt: str) -> Response:
    """One service request (a list of one)."""
    _format(fmt)
    filt, keyless = _reader()
    tz = current_app.config["TIMEZONE"]
    records = open311.service_request(
        database.session(), request_id, filt, database.taxonomy(), current_lang(), tz, keyless
    )
    return _respond(fmt, _shown(records, keyless), "service_requests", "request")


@bp.post("/v2/requests.<fmt>", provide_automatic_options=False)
@requires("report")
def request_create(fmt: str) -> Response:
    """Create a service request (a problem) with an API key."""
    _format(fmt)
    data = open311.problem_data(_post_fields())
    principal = authenticated_principal()
    session = database.session()
    problem = create_problem(
        session,
        data,
        principal.actor,
        database.taxonomy(),
        current_app.config["TIMEZONE"],
        principal.scope,
    )
    session.commit()
    record = {"service_request_id": str(problem.id), "service_notice": None, "account_id": None}
    return _respond(fmt, [record], "service_requests", "request")


def _reader() -> tuple[ProblemFilter, bool]:
    """Who may read, and what: a login or key with the ``view`` right sees its scope;
    without one, CIVICGRID_OPEN311_PUBLIC_READ lets anyone see the city's public data
    (the second value says so); otherwise 401, as for every other API."""
    principal = current_principal()
    if principal is not None:
        require(principal, "view")
        return restrict(ProblemFilter()), False
    if current_app.config["OPEN311_PUBLIC_READ"]:
        return ProblemFilter().within(Scope.city()), True
    raise AuthenticationError(tr("需要登录或令牌", "login or a bearer token required"))


def _shown(records: list[dict[str, Any]], keyless: bool) -> list[dict[str, Any]]:
    if not keyless:
        return records
    return open311.public_records(records, current_app.config["OPEN311_PUBLIC_DECIMALS"])


def _post_fields() -> Mapping[str, Any]:
    """The POST's fields: a JSON object, a form, or (as some clients send) the query."""
    if request.mimetype == "application/json":
        fields = load_json(request.get_data())
        if not isinstance(fields, dict):
            raise InvalidParameterError(
                tr("JSON 请求体须为一个对象", "the JSON body must be an object")
            )
        return {k: v for k, v in fields.items() if v is not None}
    return request.form if request.form else request.args


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise NotFoundError(
            tr(
                f"不支持的格式 '.{fmt}'：请用 .json 或 .xml",
                f"unsupported format '.{fmt}': use .json or .xml",
            )
        )
    return fmt


def _respond(fmt: str, records: list[dict[str, Any]], root: str, item: str) -> Response:
    if _format(fmt) == "xml":
        return _xml(open311.to_xml(root, item, records))
    return _json(records)


def _json(body: object) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def _xml(body: bytes) -> Response:
    return Response(body, content_type="text/xml; charset=utf-8")
