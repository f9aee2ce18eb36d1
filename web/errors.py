"""Domain errors → HTTP responses, in one place.

JSON under /api/, an HTML page elsewhere; the message is the error's own (zh / en).
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from geo.errors import CivicgridError


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(CivicgridError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _domain_error(exc: CivicgridError) -> ResponseReturnValue:
    return _respond(exc.http_status, type(exc).__name__, str(exc))


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    return _respond(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or "")


def _respond(status: int, code: str, message: str) -> ResponseReturnValue:
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("error.html", status=status, message=message), status


def error_response(status: int, code: str, message: str) -> ResponseReturnValue:
    """An error in the usual shape (JSON under /api/, else the error page)."""
    return _respond(status, code, message)
