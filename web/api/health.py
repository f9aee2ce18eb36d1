"""Health checks for the production server and load balancers (public, no login).

``/healthz``: the process is up and answers (never touches the database).
``/readyz``: the database answers and its schema is at the newest revision: 200, else
503 with ``Retry-After``; the reason is logged, not shown.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from geo.storage.schema import readiness
from web import database
from web.security.guard import public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """The process is up."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@public
def readyz() -> ResponseReturnValue:
    """The database is reachable and migrated to head."""
    state = readiness(database.engine())
    detail = state.pop("detail", None)
    if detail:
        current_app.logger.warning("not ready: %s", detail)
    return jsonify(state), 200 if state["ready"] else 503
