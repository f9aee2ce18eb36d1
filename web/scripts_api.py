"""HTTP API for scripts (/api/v1): survey upload, problems, the OpenAPI description.

Scripts authenticate with ``Authorization: Bearer <token>``; logged-in browsers may use
the same routes with their session (and a CSRF token for POST). Errors are always
``{"error": {"code": ..., "message": ...}}`` (web/errors.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from geo.audit import audit
from geo.db import transaction
from geo.errors import ValidationError
from geo.ingest import IngestOptions
from geo.problem_filters import ProblemFilter
from geo.problems import create_problem, get_problem, list_problems
from geo.uploads import check_source, ingest_upload
from web import database
from web.i18n import current_lang
from web.openapi import document
from web.security import authenticated_principal, client_ip, current_scope, public, requires

bp = Blueprint("scripts_api", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
@public
def openapi() -> Response:
    """The OpenAPI 3 description of /api/v1."""
    return jsonify(document(database.taxonomy()))


@bp.post("/surveys")
@requires("ingest")
def upload_survey() -> ResponseReturnValue:
    """Upload a survey file (multipart field ``file``): the batch summary and rejects."""
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError("缺少文件字段 file / missing multipart field 'file'")
    options = IngestOptions(
        source=check_source(request.form.get("source")),
        actor=authenticated_principal().actor,
        tz=current_app.config["TIMEZONE"],
        strict=_flag("strict", True),
        dry_run=_flag("dry_run", False),
    )
    outcome = ingest_upload(
        database.engine(), upload.filename, upload.stream, options,
        authenticated_principal(), database.taxonomy(),
    )  # fmt: skip
    status = 422 if outcome.message else (201 if outcome.written else 200)
    return jsonify(outcome.as_json()), status


@bp.post("/problems")
@requires("report")
def create() -> ResponseReturnValue:
    """Create one problem from a JSON object with survey columns; 201 and the problem."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("请求体必须是 JSON 对象 / the body must be a JSON object")
    source = check_source(data.pop("source", None), default="api")
    principal = authenticated_principal()
    taxonomy, tz = database.taxonomy(), current_app.config["TIMEZONE"]
    with transaction(database.engine()) as session:
        problem_id = create_problem(session, data, principal, source, taxonomy, tz)
        audit(session, principal.actor, "problem_created", str(problem_id), ip=client_ip())
        item = get_problem(session, principal.scope, problem_id, taxonomy, current_lang())
    location = url_for("scripts_api.problem", problem_id=problem_id)
    return jsonify(item), 201, {"Location": location}


@bp.get("/problems")
@requires("view")
def problems() -> Response:
    """Problems in scope with filters and paging (see the OpenAPI description)."""
    taxonomy = database.taxonomy()
    filters = ProblemFilter.from_args(request.args, taxonomy, current_app.config["TIMEZONE"])
    page = list_problems(database.session(), current_scope(), filters, taxonomy, current_lang())
    more = page.offset + len(page.items) < page.total
    args: dict[str, str] = {**request.args, "offset": str(page.offset + page.limit)}
    args["limit"] = str(page.limit)
    return jsonify(
        items=page.items,
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next=url_for("scripts_api.problems", **args) if more else None,  # type: ignore[arg-type]
    )


@bp.get("/problems/<int:problem_id>")
@requires("view")
def problem(problem_id: int) -> Response:
    """One problem with its history; 404 when it does not exist or is out of scope."""
    item = get_problem(
        database.session(), current_scope(), problem_id, database.taxonomy(), current_lang()
    )
    return jsonify(item)


def _flag(name: str, default: bool) -> bool:
    value = request.form.get(name, "").strip().lower()
    if not value:
        return default
    if value not in ("true", "false", "1", "0"):
        raise ValidationError(f"{name} 应为 true 或 false / {name} must be true or false")
    return value in ("true", "1")
