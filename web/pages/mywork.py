"""The field worker's phone app: "my work" (/my), reporting a problem (/report, also
fixed on the spot 即查即改), and what makes it installable and usable offline: the web
app manifest and the service worker, both served from the app's own origin.

Thin routes over geo/reports/mywork.py and geo/ingest/fieldreport.py. A report is a
multipart POST to /api/v1/reports with the phone's client id; sent again (a retry, the
offline queue) it answers with the problem it already created.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from geo.core.errors import AlreadyExistsError, DatabaseUnavailableError, InvalidParameterError
from geo.core.params import check_text, record_id
from geo.ingest import fieldreport
from geo.ingest.intake import locate
from geo.lifecycle import photos
from geo.reports import inbox, mywork, queries
from geo.storage.db import quick_transaction, transaction
from geo.storage.models import ANCESTRY_COLUMNS
from web import database
from web.assets import configured_basemap, map_assets
from web.i18n import current_lang, pick, translate
from web.security.guard import authenticated_principal, current_scope, public, requires

bp = Blueprint("mywork", __name__)

STATIC = Path(__file__).resolve().parents[1] / "static"
REPORT_FIELDS = ("category", "lon", "lat", "description", "point_code")


@bp.get("/my")
@requires("view")
def my() -> str:
    """What needs the signed-in person now, in their scope, and the map of it."""
    now = datetime.now(UTC).replace(tzinfo=None)
    lists = mywork.work_lists(
        database.session(), current_scope(), now, database.calendar(), database.taxonomy(),
        current_lang(), current_app.config["TIMEZONE"],
    )  # fmt: skip
    unread, _ = _refresh_inbox(now)
    map_data, count = _map_data(now)
    return render_template(
        "mywork/my.html",
        lists=lists,
        names=mywork.LISTS,
        basemap=_basemap(),
        unread=unread,
        map_data=map_data,
        rounds=mywork.rounds_to_do(
            database.session(), current_scope(), _local_today(now), database.taxonomy()
        ),
        cluster=count >= mywork.CLUSTER_MIN,
        cluster_min=mywork.CLUSTER_MIN,
    )


@bp.get("/inbox")
@requires("view")
def inbox_page() -> str:
    """The signed-in user's notices, unread first; opening the page does not mark them."""
    _, items = _refresh_inbox(datetime.now(UTC).replace(tzinfo=None))
    kinds = {k: pick(v) for k, v in inbox.KINDS.items()}
    return render_template("mywork/inbox.html", items=items, kinds=kinds)


@bp.post("/inbox/read")
@requires("view")
def inbox_read() -> ResponseReturnValue:
    """Mark notices read (form field ``id``, repeated; none: all) and go back to /inbox."""
    principal = authenticated_principal()
    ids = [_notice_id(v) for v in request.form.getlist("id")] or None
    if principal.id:
        with transaction(database.engine()) as session:
            inbox.mark_read(session, principal.id, ids, datetime.now(UTC).replace(tzinfo=None))
    return redirect(url_for("mywork.inbox_page"))


@bp.get("/api/v1/my/markers")
@requires("view")
def markers() -> Response:
    """The open problems of the caller's scope as coloured markers (GeoJSON, WGS-84)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    body = mywork.marker_geojson(
        database.session(), current_scope(), now, database.calendar(),
        current_app.config["TIMEZONE"],
    )  # fmt: skip
    return Response(body, mimetype="application/geo+json")


@bp.get("/report")
@requires("report")
def report() -> str:
    """The report form: location, nearby point, category, description, photos."""
    lang = current_lang()
    categories = [
        {"code": c.code, "label": c.label(lang), "kinds": list(c.point_kinds)}
        for c in database.taxonomy().categories.values()
    ]
    limit = float(current_app.config["PHOTO_MAX_MB"])
    return render_template(
        "mywork/report.html", categories=categories, photo_max_mb=limit, basemap=_basemap()
    )


@bp.get("/api/v1/reports/points")
@requires("report")
def nearby() -> Response:
    """Inspection points in scope near ``lon``/``lat`` (WGS-84), nearest first, metres;
    whether the place lies outside every area, and whether in the caller's scope."""
    lon = _coordinate("lon", 180)
    lat = _coordinate("lat", 90)
    points = fieldreport.nearby_points(database.session(), current_scope(), lon, lat)
    kinds = database.taxonomy().point_kinds
    for p in points:
        kind = kinds.get(p["kind"])
        p["kind_label"] = kind.label(current_lang()) if kind else p["kind"]
    where = locate(database.session(), lon, lat)
    in_scope = current_scope().contains(*(where[c] for c in ANCESTRY_COLUMNS))
    return jsonify(points=points, outside=where["outside"], in_scope=in_scope)


@bp.post("/api/v1/reports")
@requires("report")
def submit() -> ResponseReturnValue:
    """Create the problem of one report (multipart: ``client_id``, the intake fields,
    ``photo``, and ``fixed``/``note``/``after`` for a fix on the spot); 201 the first
    time, 200 with the same problem when the report is sent again."""
    principal = authenticated_principal()
    client_id = request.form.get("client_id", "")
    done = fieldreport.existing_report(database.session(), client_id, principal.scope)
    if done is None:
        try:
            done = _create(client_id, principal)
        except (AlreadyExistsError, sa.exc.IntegrityError):
            # The same report sent twice at once (two tabs replaying the queue): the other
            # send made the problem first; answer with it.
            with transaction(database.engine(), write=False) as session:
                done = fieldreport.existing_report(session, client_id, principal.scope)
            if done is None:
                raise
    return _answer(done)


@bp.get("/manifest.webmanifest")
@public
def manifest() -> Response:
    """The web app manifest: name, icon, start page (/my), standalone display."""
    body = {
        "name": translate("文明城市创建 · 网格化管理", "Civilized city · grid management"),
        "short_name": translate("创文网格", "civicgrid"),
        "start_url": url_for("mywork.my"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#c0392b",
        "icons": [
            {
                "src": url_for("static", filename="favicon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
            }
        ],
    }
    return Response(_json(body), mimetype="application/manifest+json")


@bp.get("/sw.js")
@public
def service_worker() -> Response:
    """The service worker, from the origin's root so that it may control every page."""
    response = Response((STATIC / "civicgrid-sw.js").read_bytes(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"  # a new version is picked up at once
    return response


def _notice_id(value: str) -> int:
    found = record_id(value)
    if found is None:
        raise InvalidParameterError(
            translate(f"无效的通知编号 {value[:20]!r}", f"invalid notice id {value[:20]!r}")
        )
    return found


def _refresh_inbox(now: datetime) -> tuple[int, list[dict[str, Any]]]:
    """Store the user's new notices; return the unread count and the latest notices
    (none for tokens and the public demo visitor, who have no inbox). Nothing new, no
    write; a busy database only delays the news (a short wait, as for bookkeeping)."""
    principal = authenticated_principal()
    if principal.kind != "user" or principal.id is None:
        return 0, []
    db, tz = database.session(), current_app.config["TIMEZONE"]
    new = inbox.new_notices(db, principal.id, principal.actor, principal.scope, now, tz)
    if new:
        try:
            with quick_transaction(database.engine()) as session:
                inbox.store(session, principal.id, new)
                # Read here: the request's session holds the snapshot from before the write.
                return inbox.unread_count(session, principal.id), inbox.notices(
                    session, principal.id
                )
        except (DatabaseUnavailableError, sa.exc.OperationalError):
            current_app.logger.info("inbox not refreshed: the database is busy")
    return inbox.unread_count(db, principal.id), inbox.notices(db, principal.id)


def _create(client_id: str, principal: Any) -> fieldreport.Outcome:
    """The report's problem, its photos and (fixed on the spot) its rectification, in
    one transaction: a refused report leaves neither rows nor files behind."""
    data = {k: request.form.get(k) for k in REPORT_FIELDS}
    fixed = request.form.get("fixed") == "1"
    before, after = _upload("photo"), _upload("after") if fixed else None
    folder, limit = _photo_dir(), int(float(current_app.config["PHOTO_MAX_MB"]) * 1_000_000)
    for upload in (before, after):
        if upload:
            photos.check_photo(upload, limit)  # refused before anything is written
    taxonomy, tz = database.taxonomy(), current_app.config["TIMEZONE"]
    with transaction(database.engine()) as session:
        problem = fieldreport.create_report(
            session, client_id, data, principal.actor, taxonomy, tz, principal.scope
        )
        with photos.staged_photo(folder, problem.id, before, limit) as name:
            if name:
                fieldreport.attach_photo(session, problem.id, name)
            with photos.staged_photo(folder, problem.id, after, limit) as after_name:
                if fixed:
                    note = check_text("note", request.form.get("note", ""), 2000)
                    fieldreport.fix_on_spot(session, problem, principal.actor, note, after_name)
                session.flush()
        return fieldreport.Outcome(problem.id, created=True)


def _answer(done: fieldreport.Outcome) -> ResponseReturnValue:
    url = url_for("problems.detail", problem_id=done.problem_id)
    body = {"id": done.problem_id, "created": done.created, "url": url}
    return jsonify(body), 201 if done.created else 200


def _local_today(now: datetime) -> date:
    return now.replace(tzinfo=UTC).astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _map_data(now: datetime) -> tuple[str, int]:
    """The small map's markers and grid outlines, in the page itself: on a slow phone
    connection one round trip fewer (bench/mobile.py), and offline they come with the
    cached page. ``</`` is escaped so that no name can end the <script> early. Also
    returns the number of markers."""
    db, scope = database.session(), current_scope()
    cfg = current_app.config
    markers = mywork.marker_geojson(db, scope, now, database.calendar(), cfg["TIMEZONE"])
    areas = queries.areas_geojson(db, "grid", scope=scope)
    body = f'{{"markers":{markers},"areas":{areas}}}'.replace("</", "<\\/")
    return body, markers.count('"Feature"')


def _basemap() -> dict[str, Any]:
    """The basemap of every map page (web.assets.configured_basemap) for the phone maps'
    script (web/static/civicgrid-phonemap.js), and the scripts it needs: the PMTiles
    style for the vector basemap, civicgrid-map.js for GCJ-02's shift (only then, so the
    usual page stays light)."""
    basemap = configured_basemap()
    if basemap is None:
        return {"spec": {"kind": "none"}, "scripts": []}
    spec = {
        "kind": basemap.kind,
        "url": basemap.url,
        "attribution": basemap.attribution,
        "maxZoom": basemap.max_zoom,
        "subdomains": basemap.subdomains,
        "gcj02": basemap.gcj02,
        "notice": basemap.notice,
        "texts": basemap.texts,
    }
    needs_map_js = basemap.gcj02 or basemap.kind == "pmtiles"
    scripts = [map_assets().map_js] if needs_map_js else []
    scripts += [url for _, url in basemap.scripts]
    return {"spec": spec, "scripts": scripts}


def _upload(field: str) -> bytes | None:
    upload = request.files.get(field)
    return upload.read() if upload else None


def _coordinate(name: str, limit: float) -> float:
    try:
        value = float(request.args.get(name, ""))
    except ValueError:
        value = float("nan")
    if not -limit <= value <= limit:
        raise InvalidParameterError(
            translate(f"坐标 {name} 无效", f"invalid {name}: a number in -{limit}…{limit}")
        )
    return value


def _photo_dir() -> Path:
    return Path(current_app.config["PHOTO_DIR"] or Path(current_app.instance_path) / "photos")


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)
