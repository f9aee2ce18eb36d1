"""HTTP API for scripts (/api/v1): survey upload, problems (create, list, read,
transition), the OpenAPI description.

Scripts authenticate with ``Authorization: Bearer <token>``; logged-in browsers may use
the same routes with their session (and a CSRF token for POST). Errors are always
``{"error": {"code": ..., "message": ...}}`` (web/errors.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from geo.access.audit import audit
from geo.access.scope import require
from geo.core.errors import InvalidParameterError, ValidationError
from geo.core.params import MAX_ID, check_text, load_json
from geo.core.text import tr
from geo.core.timeparse import parse_time
from geo.export import query as export_query
from geo.ingest.intake import create_problem
from geo.ingest.pipeline import IngestOptions
from geo.ingest.uploads import check_source, ingest_upload
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import Change
from geo.lifecycle.selection import Selection
from geo.protocols.problem_api import get_problem, list_problems
from geo.protocols.problem_query import ProblemQuery
from geo.storage.db import transaction
from web import database
from web.api.openapi import document
from web.i18n import current_lang
from web.security.guard import authenticated_principal, client_ip, current_scope, public, requires

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
        raise ValidationError(tr("缺少文件字段 file", "missing multipart field 'file'"))
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
    return jsonify(outcome.as_json(current_lang())), status


@bp.post("/problems")
@requires("report")
def create() -> ResponseReturnValue:
    """Create one problem from a JSON object (geo/ingest/intake.py fields); 201 and the problem."""
    data = _json_object()
    _json_numbers(data, ("lon", "lat"))
    data["source"] = check_source(data.get("source"), default="api")
    principal = authenticated_principal()
    taxonomy, tz = database.taxonomy(), current_app.config["TIMEZONE"]
    with transaction(database.engine()) as session:
        problem = create_problem(session, data, principal.actor, taxonomy, tz, principal.scope)
        problem_id = problem.id
        audit(session, principal.actor, "problem_created", str(problem_id), ip=client_ip())
        item = get_problem(session, principal.scope, problem_id, taxonomy, current_lang())
    location = url_for("scripts_api.problem", problem_id=problem_id)
    return jsonify(item), 201, {"Location": location}


def _json_numbers(data: dict[str, Any], keys: tuple[str, ...]) -> None:
    """The JSON API takes coordinates as JSON numbers, as its OpenAPI document says: text
    such as ``"-1"`` is refused naming the field (forms and Open311 still send text)."""
    for key in keys:
        if isinstance(data.get(key), str):
            raise InvalidParameterError(
                tr(
                    f"{key} 必须是 JSON 数字，不能是文本: {data[key][:40]!r}",
                    f"{key} must be a JSON number (WGS-84 degrees), not text: {data[key][:40]!r}",
                )
            )


@bp.get("/problems")
@requires("view")
def problems() -> Response:
    """Problems in scope with filters and paging (see the OpenAPI description)."""
    taxonomy = database.taxonomy()
    filters = ProblemQuery.from_args(request.args, taxonomy, current_app.config["TIMEZONE"])
    page = list_problems(database.session(), current_scope(), filters, taxonomy, current_lang())
    if page.total is None:  # more than COUNT_CAP match: a full page may have a next one
        more = len(page.items) == page.limit
    else:
        more = page.offset + len(page.items) < page.total
    args: dict[str, str] = {**request.args, "offset": str(page.offset + page.limit)}
    args["limit"] = str(page.limit)
    body = {
        "items": page.items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next": url_for("scripts_api.problems", **args) if more else None,  # type: ignore[arg-type]
    }
    if page.total is None:
        body["total_more_than"] = export_query.COUNT_CAP
    return jsonify(body)


@bp.get("/problems/<int:problem_id>")
@requires("view")
def problem(problem_id: int) -> Response:
    """One problem with its history; 404 when it does not exist or is out of scope."""
    item = get_problem(
        database.session(), current_scope(), problem_id, database.taxonomy(), current_lang()
    )
    return jsonify(item)


@bp.post("/problems/<int:problem_id>")
@requires("view")  # and the action itself, checked once the body names it
def transition(problem_id: int) -> ResponseReturnValue:
    """Apply one lifecycle action: ``{"action", "version", "note"?, "unit"?, "deadline"?}``.

    ``version`` is the one the client read (409 when someone changed the problem since);
    the answer is the problem as it is now.
    """
    data = _json_object()
    principal = authenticated_principal()
    action: str = data["action"] if isinstance(data.get("action"), str) else ""
    if action not in lifecycle.ACTIONS:
        raise ValidationError(
            tr(
                f"未知的操作 '{action[:40]}'; 可选: {', '.join(lifecycle.ACTIONS)}",
                f"unknown action '{action[:40]}'; one of: {', '.join(lifecycle.ACTIONS)}",
            )
        )
    require(principal, action)
    change = _change(data, action, principal.actor, principal.role)
    taxonomy, tz = database.taxonomy(), current_app.config["TIMEZONE"]
    with transaction(database.engine()) as session:
        get_problem(session, principal.scope, problem_id, taxonomy)  # 404 when out of scope
        selection = Selection(ids=(problem_id,), scope=principal.scope)
        lifecycle.bulk_transition(session, selection, change, taxonomy, tz, database.rules())
        item = get_problem(session, principal.scope, problem_id, taxonomy, current_lang())
    return jsonify(item)


def _change(data: dict[str, Any], action: str, actor: str, role: str) -> Change:
    unknown = sorted(set(data) - {"action", "version", "note", "unit", "deadline"})
    if unknown:
        raise ValidationError(
            tr(
                f"未知的字段: {', '.join(unknown)[:200]}",
                f"unknown field(s): {', '.join(unknown)[:200]}",
            )
        )
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_ID:
        raise ValidationError(tr("version 必须是正整数", "version must be a positive integer"))
    deadline = None
    if data.get("deadline") not in (None, ""):
        text = check_text("deadline", data["deadline"], 64)
        deadline = parse_time(text, current_app.config["TIMEZONE"])
        if deadline is None:
            raise ValidationError(
                tr(f"时间格式错误 '{data['deadline']}'", f"malformed deadline '{data['deadline']}'")
            )
    return Change(
        action=action,
        actor=actor,
        note=_text(data, "note", 2000),
        unit=_text(data, "unit", 200) or None,
        deadline=deadline,
        version=version,
        role=role,
    )


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    if value is None:
        return ""
    return check_text(key, value, limit)


def _json_object() -> dict[str, Any]:
    """The body as a JSON object: depth capped before parsing, strings valid Unicode."""
    if not request.is_json:
        raise ValidationError(tr("请求体必须是 JSON 对象", "the body must be a JSON object"))
    data = load_json(request.get_data(cache=True))
    if not isinstance(data, dict):
        raise ValidationError(tr("请求体必须是 JSON 对象", "the body must be a JSON object"))
    return data


def _flag(name: str, default: bool) -> bool:
    value = request.form.get(name, "").strip().lower()
    if not value:
        return default
    if value not in ("true", "false", "1", "0"):
        raise ValidationError(tr(f"{name} 应为 true 或 false", f"{name} must be true or false"))
    return value in ("true", "1")
