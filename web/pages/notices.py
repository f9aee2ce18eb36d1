"""Notices (抄告单): a street's draft for a round with the issue form
(/rounds/<id>/notices/<street>), an issued notice (/notices/<id>) and its PDF
(/notices/<id>.pdf). Thin routes over geo/rounds/notices.py and geo/rounds/notice_render.py.

Issuing needs the ``issue_notice`` right (the city office); a street outside the
caller's scope, and its notices, are "not found"."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from geo.access.scope import area_in_scope
from geo.core.errors import CivicgridError, InvalidParameterError, NotFoundError
from geo.core.text import tr
from geo.lifecycle import problems as geoproblems
from geo.reports import maps
from geo.rounds import notice_render, notices
from geo.rounds import rounds as georounds
from geo.storage.db import transaction
from geo.storage.round_models import Notice
from web import database
from web.i18n import current_lang, translate
from web.pages.forms import NoticeIssueForm
from web.security.guard import authenticated_principal, csp_nonce, current_scope, requires

bp = Blueprint("notices", __name__)


@bp.get("/rounds/<int:round_id>/notices/<street>")
@requires("view")
def draft(round_id: int, street: str) -> ResponseReturnValue:
    """The draft notice of a street for a round, with the form that issues it."""
    geoproblems.area_ref(database.session(), "street", street, current_scope())
    may_issue = authenticated_principal().can("issue_notice")
    return _render_draft(round_id, street, NoticeIssueForm(formdata=None) if may_issue else None)


@bp.post("/rounds/<int:round_id>/notices/<street>")
@requires("issue_notice")
def issue(round_id: int, street: str) -> ResponseReturnValue:
    """Number and record the notice (assigning its found problems when a unit is chosen)."""
    geoproblems.area_ref(database.session(), "street", street, current_scope())
    form = NoticeIssueForm()
    try:
        notice_id, number = _issue(round_id, street, form)
    except CivicgridError as exc:
        return _render_draft(round_id, street, form, exc.message(current_lang()), exc.http_status)
    flash(translate(f"已签发抄告单 {number}", f"Notice {number} issued"))
    return redirect(url_for("notices.page", notice_id=notice_id))


@bp.get("/notices/<int:notice_id>")
@requires("view")
def page(notice_id: int) -> ResponseReturnValue:
    """An issued notice as recorded, with its PDF link."""
    _check_visible(notice_id)
    doc = notices.issued_notice(
        database.session(), notice_id, database.taxonomy(), _settings(), current_lang()
    )
    body = _fragment(doc)
    return render_template("notices/page.html", doc=doc, body=body, form=None, error=None)


@bp.get("/notices/<int:notice_id>.pdf")
@requires("view")
def pdf(notice_id: int) -> Response:
    """The issued notice as a PDF (WeasyPrint, photos embedded)."""
    _check_visible(notice_id)
    doc = notices.issued_notice(
        database.session(), notice_id, database.taxonomy(), _settings(), current_lang()
    )
    from weasyprint import HTML

    html = notice_render.render_document(
        doc, notice_render.embedded_photos(_photo_dir()), current_lang()
    )
    data = HTML(string=html).write_pdf()
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="notice-{notice_id}.pdf"'},
    )


def _issue(round_id: int, street: str, form: NoticeIssueForm) -> tuple[int, str]:
    """Validate the form and issue the notice in one transaction: (id, number)."""
    if not form.validate():
        raise InvalidParameterError(
            "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
        )
    with transaction(database.engine()) as session:
        rnd = georounds.find_round(session, round_id)
        notice = notices.issue_notice(
            session,
            rnd,
            street,
            _issuer(),
            database.taxonomy(),
            _settings(),
            form.unit.data or None,
            database.rules(),
        )
        return notice.id, notice.number


def _check_visible(notice_id: int) -> None:
    db = database.session()
    notice = db.get(Notice, notice_id) if 0 < notice_id < 2**31 else None
    if notice is None or not area_in_scope(db, current_scope(), notice.area_id):
        raise NotFoundError(tr(f"抄告单不存在: {notice_id}", f"no notice {notice_id}"))


def _issuer() -> str:
    """The signed-in issuer as printed on the notice: display name, else user name."""
    principal = authenticated_principal()
    return principal.display_name or principal.name


def _render_draft(
    round_id: int,
    street: str,
    form: NoticeIssueForm | None,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    db = database.session()
    rnd = georounds.find_round(db, round_id)
    doc = notices.build_notice(
        db, rnd, street, database.taxonomy(), _settings(), lang=current_lang()
    )
    if form is not None:
        form.unit.choices = [("", translate("不交办（仅抄告）", "Do not assign (notify only)"))] + [
            (u.name, u.name) for u in geoproblems.units(db)
        ]
    body = _fragment(doc)
    page = render_template("notices/page.html", doc=doc, body=body, form=form, error=error)
    return page, status


def _fragment(doc: notices.NoticeDoc) -> str:
    """The notice's HTML for a page; its own <style> gets the page's CSP nonce."""
    html = notice_render.render_fragment(doc, _photo_url, current_lang())
    return maps.with_nonce(html, csp_nonce())


def _settings() -> notices.NoticeSettings:
    cfg = current_app.config
    return notices.NoticeSettings(
        database.calendar(),
        cfg["NOTICE_PREFIX"],
        int(cfg["NOTICE_WARNING_DAYS"]),
        cfg["TIMEZONE"],
    )


def _photo_url(problem_id: int, name: str) -> str | None:
    folder, _, file = name.partition("/")
    if not folder.isdigit() or not file:
        return None
    return url_for("problems.photo", problem_id=problem_id, folder=int(folder), name=file)


def _photo_dir() -> Path:
    return Path(current_app.config["PHOTO_DIR"] or Path(current_app.instance_path) / "photos")
