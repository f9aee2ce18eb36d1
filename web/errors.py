"""Domain errors → HTTP responses, in one place.

JSON under /api/, an HTML page elsewhere. The message is the error's own, in the
request's language (``?lang=``, the session, ``Accept-Language``; Chinese by default);
the machine-readable code (the error's class name, the OGC/Open311 code) never changes.
"""

from __future__ import annotations

import json

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import AnonymousUserMixin
from werkzeug.exceptions import HTTPException, NotFound

from geo.core.errors import CivicgridError, DatabaseUnavailableError
from geo.core.text import in_lang, tr
from geo.storage.faults import FAULTS, is_fault, unavailable
from web.i18n import current_lang

RETRY_AFTER_SECONDS = 5
"""``Retry-After`` of a 503: how long a client should wait before trying again."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(CivicgridError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    for fault in FAULTS:
        app.register_error_handler(fault, _database_fault)
    app.after_request(_retry_after)


def _database_fault(exc: Exception) -> ResponseReturnValue:
    """A busy, full or unreachable database: 503 in the shape of the API that was asked
    (blueprints with their own error format handle the typed error), never a 500."""
    if not is_fault(exc):
        raise exc  # a bug (IntegrityError...): the usual 500
    error = unavailable(exc)
    current_app.logger.warning("database unavailable (%s): %s", error.kind, error.detail)
    if "_login_user" not in g:
        # Flask-Login would load the session's user again to render the error page.
        g._login_user = AnonymousUserMixin()
    if request.method not in SAFE_METHODS:
        error = DatabaseUnavailableError(
            tr(
                f"{str.__str__(error.bilingual)}。本次修改未保存，可用同一版本重试",
                f"{error.bilingual.en}; nothing was changed: retry with the same version",
            ),
            kind=error.kind,
            detail=error.detail,
        )
    return current_app.handle_user_exception(error)


def _retry_after(response: Response) -> Response:
    if response.status_code == 503 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _wants_json() -> bool:
    """JSON under /api/, and for /export/ when a script asks: a bearer token, or JSON
    preferred to HTML in ``Accept``; a browser's download link keeps the error page."""
    if request.path.startswith("/api/"):
        return True
    if not request.path.startswith("/export/"):
        return False
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return True
    accept = request.accept_mimetypes
    return accept["application/json"] > accept["text/html"]


def _domain_error(exc: CivicgridError) -> ResponseReturnValue:
    code = "ServiceUnavailable" if isinstance(exc, DatabaseUnavailableError) else None
    return _respond(exc.http_status, code or type(exc).__name__, exc.message(current_lang()))


class IdNotFound(NotFound):
    """A 404 for an id no record can have (``web.IdConverter``): answered like a missing
    record's ``NotFoundError``, its two-language description in the request's language."""


_DEFAULT_MESSAGES = {
    404: tr("未找到该页面或记录", "The page or record was not found"),
    405: tr("此地址不接受该请求方法", "The method is not allowed for this URL"),
}


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    code = exc.name.lower().replace(" ", "_")
    if isinstance(exc, IdNotFound):
        code = "NotFoundError"
    message: object = exc.description or ""
    if message == type(exc).description and status in _DEFAULT_MESSAGES:
        message = _DEFAULT_MESSAGES[status]  # Werkzeug's English sentence
    return _respond(status, code, in_lang(message, current_lang()))


def _respond(status: int, code: str, message: str) -> ResponseReturnValue:
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("error.html", status=status, message=message), status


def error_response(status: int, code: str, message: str) -> ResponseReturnValue:
    """An error in the usual shape (JSON under /api/, else the error page)."""
    return _respond(status, code, message)


def ogc_error(exc: CivicgridError) -> ResponseReturnValue:
    """An error of the OGC API: JSON ``{"code", "description"}`` (OGC exception), or the
    HTML error page when the client asked for HTML."""
    status, message = exc.http_status, exc.message(current_lang())
    codes = {400: "InvalidParameterValue", 404: "NotFound", 503: "ServiceUnavailable"}
    offered = ["application/json", "application/geo+json", "text/html"]
    best = request.accept_mimetypes.best_match(offered, default="application/json")
    if request.args.get("f") == "html" or ("f" not in request.args and best == "text/html"):
        return render_template("error.html", status=status, message=message), status
    body = {"code": codes.get(status, type(exc).__name__), "description": message}
    return _json(body, status)


def open311_error(exc: CivicgridError, fmt: str) -> ResponseReturnValue:
    """An error of the Open311 API: ``[{"code", "description"}]`` as JSON or XML."""
    from geo.protocols.open311 import errors_xml

    status, message = exc.http_status, exc.message(current_lang())
    if fmt == "xml":
        return errors_xml(status, message), status, {"Content-Type": "text/xml; charset=utf-8"}
    return _json([{"code": status, "description": message}], status)


def _json(body: object, status: int) -> ResponseReturnValue:
    text = json.dumps(body, ensure_ascii=False)
    return text, status, {"Content-Type": "application/json; charset=utf-8"}
