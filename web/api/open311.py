"""Open311 GeoReport v2 at /open311/v2: thin routes over geo/protocols/open311.py.

``services``, ``requests`` and ``requests/<id>`` in ``.json`` and ``.xml``; POST
``requests.json|xml`` creates a problem through geo/ingest/intake.py. Open311's ``api_key``
is a civicgrid API token (``civicgrid tokens create``; web/security/guard.py also takes it
as ``Authorization: Bearer``): reads need the ``view`` right and see the token's (or
the signed-in user's) scope, POST needs ``report`` and a location in that scope.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from geo.core.errors import CivicgridError, NotFoundError
from geo.core.text import tr
from geo.ingest.intake import create_problem
from geo.protocols import open311
from geo.reports.filters import ProblemFilter
from web import database
from web.api.filtering import restrict
from web.errors import open311_error
from web.i18n import current_lang
from web.security.guard import authenticated_principal, requires

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORMATS = ("json", "xml")


@bp.errorhandler(CivicgridError)
def _error(exc: CivicgridError) -> ResponseReturnValue:
    fmt = (request.view_args or {}).get("fmt", "json")
    return open311_error(exc, fmt if fmt in FORMATS else "json")


@bp.get("/services.<fmt>")
@requires("view")
def services(fmt: str) -> Response:
    """The service list: the problem categories."""
    records = open311.services(database.taxonomy(), current_lang())
    return _respond(fmt, records, "services", "service")


@bp.get("/services/<code>.<fmt>")
@requires("view")
def service_definition(code: str, fmt: str) -> Response:
    """A service definition (no extra attributes are asked for)."""
    definition = open311.service_definition(database.taxonomy(), code)
    if _format(fmt) == "xml":
        return _xml(open311.to_xml("service_definition", "attributes", [{"service_code": code}]))
    return _json(definition)


@bp.get("/requests.<fmt>")
@requires("view")
def requests_list(fmt: str) -> Response:
    """Service requests: service_code, status, start_date/end_date, page/page_size."""
    _format(fmt)
    tz = current_app.config["TIMEZONE"]
    query = open311.parse_requests(request.args, database.taxonomy(), tz)
    records = open311.service_requests(
        database.session(),
        query,
        restrict(ProblemFilter()),
        database.taxonomy(),
        current_lang(),
        tz,
    )
    return _respond(fmt, records, "service_requests", "request")


@bp.get("/requests/<request_id>.<fmt>")
@requires("view")
def request_one(request_id: str, fmt: str) -> Response:
    """One service request (a list of one)."""
    _format(fmt)
    tz = current_app.config["TIMEZONE"]
    records = open311.service_request(
        database.session(),
        request_id,
        restrict(ProblemFilter()),
        database.taxonomy(),
        current_lang(),
        tz,
    )
    return _respond(fmt, records, "service_requests", "request")


@bp.post("/requests.<fmt>")
@requires("report")
def request_create(fmt: str) -> Response:
    """Create a service request (a problem) with an API key."""
    _format(fmt)
    form = request.form if request.form else request.args
    data = open311.problem_data(form)
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
