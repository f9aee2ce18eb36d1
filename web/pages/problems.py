"""The problem page (/problems/<id>): location, details, history, lifecycle forms
(main path, extension, hold, send back, void); photos; the area assignment page with the
reusable bulk-assign form. Thin routes over geo/lifecycle/transitions.py and
geo/lifecycle/problems.py.

Who acts is the signed-in user: their role decides which forms the page offers and
which actions are accepted (geo/access/scope.py), their scope which problems and areas exist
for them (others are "not found")."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue

from geo.access.actions import REQUEST_KINDS
from geo.access.scope import require
from geo.access.users import actor_names
from geo.core.errors import CivicgridError, InvalidParameterError
from geo.core.params import int_param
from geo.core.workcal import end_of_local_day
from geo.lifecycle import photos
from geo.lifecycle import problems as geoproblems
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import Change
from geo.lifecycle.selection import Selection
from geo.reports import maps
from geo.reports.queries import Extent
from web import database
from web.assets import configured_basemap, map_assets
from web.i18n import current_lang, pick, translate
from web.pages.forms import (
    AssignForm,
    BulkAssignForm,
    DeadlineForm,
    ReopenForm,
    TransitionForm,
    unit_field,
)
from web.security.guard import authenticated_principal, csp_nonce, current_scope, requires

bp = Blueprint("problems", __name__)

GEOJSON = "application/geo+json"
OPEN_STATUSES = ("found", "assigned", "rectified")


@bp.record_once
def _upload_limit(state: Any) -> None:
    # Requests far larger than a photo are cut off by Werkzeug (413) before being read.
    config = state.app.config
    if config.get("MAX_CONTENT_LENGTH") is None:
        config["MAX_CONTENT_LENGTH"] = int((float(config["PHOTO_MAX_MB"]) + 1) * 1_000_000)


@bp.app_template_filter("localtime")
def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A naive UTC datetime shown in the configured time zone."""
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return value.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).strftime(fmt)


@bp.get("/problems/<int:problem_id>")
@requires("view")
def detail(problem_id: int) -> ResponseReturnValue:
    """One problem: map, details, history timeline and the forms its state allows."""
    return _render_detail(problem_id)


@bp.post("/problems/<int:problem_id>/<action>")
@requires("view")  # and the action itself, checked below once it is known to exist
def act(problem_id: int, action: str) -> ResponseReturnValue:
    """Apply one lifecycle action from the problem page's form."""
    if action not in lifecycle.ACTIONS:
        abort(404, description=translate(f"未知的操作：{action}", f"unknown action {action!r}"))
    require(authenticated_principal(), action)
    geoproblems.get_problem(database.session(), problem_id, current_scope())
    form = _form_class(action)()
    try:
        change = _change_from(form, action)
        _apply_with_photo(problem_id, change, form.photo.data)
    except CivicgridError as exc:
        return _render_detail(
            problem_id,
            error=exc.message(current_lang()),
            status=exc.http_status,
            form=form,
            action=action,
        )
    done = lifecycle.ACTIONS[action]
    flash(translate(f"已{done.zh}", f"Done: {done.en.lower()}"))  # versions stay internal
    return redirect(url_for("problems.detail", problem_id=problem_id))


@bp.get("/problems/<int:problem_id>/photos/<int:folder>/<name>")
@requires("view")
def photo(problem_id: int, folder: int, name: str) -> Response:
    """A stored rectification photo, to signed-in users who may see the problem."""
    geoproblems.get_problem(database.session(), problem_id, current_scope())
    path = photos.photo_path(_photo_dir(), f"{folder}/{name}")
    if path is None or folder != problem_id:
        abort(404)
    return send_file(path, max_age=3600)


@bp.get("/api/v1/problems/<int:problem_id>/location")
@requires("view")
def location(problem_id: int) -> Response:
    """The problem's point as GeoJSON, for the page's map."""
    body = geoproblems.problem_geojson(
        database.session(), problem_id, database.taxonomy(), current_lang(), current_scope()
    )
    return Response(body, mimetype=GEOJSON)


@bp.get("/api/v1/problems/<int:problem_id>/area")
@requires("view")
def area_outline(problem_id: int) -> Response:
    """The outline of the problem's grid as GeoJSON, for the page's map."""
    body = geoproblems.problem_area_geojson(database.session(), problem_id, current_scope())
    return Response(body, mimetype=GEOJSON)


@bp.get("/areas/<level>/<code>/assign")
@requires("assign")
def area_assign(level: str, code: str) -> str:
    """An area's unresolved problems and the bulk-assign form."""
    db = database.session()
    area_id, area = geoproblems.area_ref(db, level, code, current_scope())
    page = int_param("page", request.args.get("page"), 1, 1, 1_000_000)
    rows, total = geoproblems.open_problems(db, level, area_id, page)
    return render_template(
        "problems/area_assign.html",
        area=area,
        problems=rows,
        total=total,
        page=page,
        page_size=geoproblems.PAGE_SIZE,
        bulk_form=bulk_assign_form(level, code, area_id),
        found=geoproblems.found_by_category(db, level, area_id),
        tax=database.taxonomy(),
        now=datetime.now(UTC).replace(tzinfo=None),
    )


@bp.post("/problems/bulk-assign")
@requires("assign")
def bulk_assign() -> ResponseReturnValue:
    """Assign every found problem of an area (and category) to a unit; back to ``next``."""
    form = BulkAssignForm()
    back = _safe_next(
        url_for(
            "problems.area_assign", level=form.level.data or "street", code=form.code.data or "-"
        )
    )
    try:
        change = _change_from(form, "assign")
        geoproblems.area_ref(
            database.session(), form.level.data or "", form.code.data or "", current_scope()
        )
        selection = Selection(
            level=form.level.data,
            area_code=form.code.data,
            category=form.category.data or None,
            scope=current_scope(),
        )
        result = lifecycle.apply(
            database.engine(),
            selection,
            change,
            database.taxonomy(),
            current_app.config["TIMEZONE"],
            database.rules(),
        )
    except CivicgridError as exc:
        flash(exc.message(current_lang()), "error")
        return redirect(back)
    flash(translate(f"已交办 {result.changed} 个问题", f"Assigned {result.changed} problems"))
    return redirect(back)


def bulk_assign_form(level: str, code: str, area_id: int) -> BulkAssignForm:
    """A bulk-assign form for an area, for templates/problems/_bulk_assign.html."""
    form = BulkAssignForm(formdata=None, level=level, code=code)
    lang = current_lang()
    form.category.choices = [("", translate("全部类别", "All categories"))] + [
        (c.code, c.label(lang)) for c in database.taxonomy().categories.values()
    ]
    unit_field(form, level, area_id, None)
    return form


def _render_detail(
    problem_id: int,
    error: str | None = None,
    status: int = 200,
    form: Any = None,
    action: str | None = None,
) -> ResponseReturnValue:
    db = database.session()
    problem = geoproblems.get_problem(db, problem_id, current_scope())
    forms = _forms(problem, form if error else None, action)
    page = render_template(
        "problems/detail.html",
        problem=problem,
        error=error,
        forms=forms,
        areas=geoproblems.problem_areas(db, problem),
        map=_map(problem),
        overdue=geoproblems.is_overdue(problem),
        groups=_groups(forms),
        actions=lifecycle.ACTIONS,
        request_kinds=REQUEST_KINDS,
        max_extension_days=current_app.config["MAX_EXTENSION_DAYS"],
        point=geoproblems.point_label(problem.point, database.taxonomy(), current_lang()),
        source=geoproblems.source_label(problem.source, current_lang()),
        tax=database.taxonomy(),
        heat=_heat(problem),
        may_act=any(authenticated_principal().can(a) for a in lifecycle.ACTIONS),
        actor_names=actor_names(db, [e.actor for e in problem.events]),
        before_after=_before_after(problem),
        today_local=datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date().isoformat(),
    )
    return page, status


def _before_after(problem: Any) -> tuple[Any, Any] | None:
    """The first photo and the latest rectification photo, for verifying side by side."""
    shots = [e for e in problem.events if e.photo]
    after = [e for e in shots if e.action == "rectify"]
    if not after or shots[0] is after[-1]:
        return None
    return shots[0], after[-1]


def _heat(problem: Any) -> dict[str, Any] | None:
    """Unresolved problems of the problem's grid (else street), from the summary counts."""
    for level in ("grid", "street"):
        area_id = getattr(problem, f"{level}_id")
        if area_id is not None:
            n = geoproblems.unresolved_count(database.session(), area_id)
            return {"level": level, "n": n}
    return None


def _forms(problem: Any, failed: Any, failed_action: str | None) -> dict[str, Any]:
    forms: dict[str, Any] = {}
    principal = authenticated_principal()
    for name in geoproblems.allowed_actions(problem.status, problem.pending):
        if not principal.can(name):
            continue  # the page offers only what this user's role may do
        form = failed if name == failed_action and failed is not None else None
        if form is None:
            form = _form_class(name)(formdata=None)
        form.version.data = problem.version if failed is None else form.version.data
        if name == "assign":
            level = "street" if problem.street_id else "district"
            unit_field(form, level, getattr(problem, f"{level}_id"), problem.category)
        forms[name] = form
    return forms


def _apply_with_photo(problem_id: int, change: Change, upload: Any) -> int | None:
    """Store the photo (if any), then apply the change; the photo goes if the change fails."""
    data = upload.read() if upload else None
    with photos.staged_photo(_photo_dir(), problem_id, data, _photo_limit()) as name:
        result = lifecycle.apply(
            database.engine(),
            Selection(ids=(problem_id,), scope=current_scope()),
            replace(change, photo=name),
            database.taxonomy(),
            current_app.config["TIMEZONE"],
            database.rules(),
        )
    return result.version


def _change_from(form: Any, action: str) -> Change:
    if not form.validate():
        raise InvalidParameterError(  # each field by its label in the page's language
            "; ".join(f"{pick(form[k].label.text)}: {', '.join(v)}" for k, v in form.errors.items())
        )
    principal = authenticated_principal()
    deadline = getattr(form, "deadline", None)
    tz = current_app.config["TIMEZONE"]
    return Change(
        action=action,
        actor=principal.actor,
        note=form.note.data or "",
        unit=getattr(form, "unit", None) and form.unit.data,
        deadline=end_of_local_day(deadline.data, tz) if deadline and deadline.data else None,
        version=getattr(form, "version", None) and form.version.data,
        role=principal.role,
    )


def _groups(forms: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The allowed actions grouped for the page: decisions, main path, requests, others."""
    order = ("decision", "main", "request", "other")
    return [
        (g, names)
        for g in order
        if (names := [n for n in forms if lifecycle.ACTIONS[n].group == g])
    ]


def _form_class(action: str) -> type[TransitionForm]:
    if action == "assign":
        return AssignForm
    if action in ("request_extension", "approve_extension"):
        return DeadlineForm
    if action == "reopen":
        return ReopenForm
    return TransitionForm


def _map(problem: Any) -> dict[str, str]:
    extent = Extent(*geoproblems.problem_extent(database.session(), problem))
    grid_style = {"color": "#7f8c8d", "weight": 2, "fill": True, "fillOpacity": 0.05}
    layers = [
        maps.LayerSpec(
            "area",
            translate("所在网格", "Grid"),
            url_for("problems.area_outline", problem_id=problem.id),
            "areas",
            style=grid_style,
        ),
        maps.LayerSpec(
            "problem",
            translate("问题位置", "Problem location"),
            url_for("problems.location", problem_id=problem.id),
            "points",
        ),
    ]
    basemap = configured_basemap()
    return maps.render_parts(
        maps.city_map(map_assets(), layers, extent, basemap, None, current_lang()),
        nonce=csp_nonce(),
    )


def _photo_dir() -> Path:
    return Path(current_app.config["PHOTO_DIR"] or Path(current_app.instance_path) / "photos")


def _photo_limit() -> int:
    return int(float(current_app.config["PHOTO_MAX_MB"]) * 1_000_000)


def _safe_next(default: str) -> str:
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default
