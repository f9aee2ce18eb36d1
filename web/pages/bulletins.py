"""The bulletin archive (/bulletins, issue 18 item 5): the issued weekly bulletins and the
published monthly rankings by period, each as HTML and PDF, from the stored publications
(geo/reports/publications.py) — the same figures, and for a bulletin the same bytes, as
the CLI writes.

Scoped like /rankings: a bulletin (city-wide, with every unit's overdue problems) and a
unit ranking need a whole-city scope; an area ranking shows a scoped user the rows of
their areas only."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for
from flask.typing import ResponseReturnValue

from geo.access.scope import require_whole_city, visible_area_ids
from geo.core.errors import NotFoundError
from geo.core.text import tr
from geo.reports import publications
from geo.reports.bulletin import pdf_bytes
from geo.storage.publication_models import Publication
from web import database
from web.security.guard import authenticated_principal, csp_nonce, current_scope, requires

bp = Blueprint("bulletins", __name__)


@bp.get("/bulletins")
@requires("view")
def index() -> ResponseReturnValue:
    """Issued weekly bulletins and monthly rankings, newest period first."""
    items = publications.archive(database.session())
    return render_template(
        "bulletins/index.html",
        items=items,
        whole_city=current_scope().whole_city,
        tax=database.taxonomy(),
    )


PHONE_CSS = (
    # On a phone the stored document (written for A4) fits the screen: its wide tables
    # scroll in their own box, the figure boxes and red/black lists stack. Only this page
    # view gets it: the stored bytes, their download and the PDF stay as issued.
    "@media screen and (max-width: 700px) {"
    # ("html …": the document's own rules come later and would win a tie)
    " html body { margin: 0 8px; }"
    " html .kpis, html .lists { flex-wrap: wrap; }"
    " html .kpi { flex: 1 1 40%; }"
    " html .lists > div { flex: 1 1 100%; min-width: 0; }"
    " html table { display: block; overflow-x: auto; width: auto; max-width: 100%; }"
    " }"
)


@bp.get("/bulletins/<int:publication_id>")
@requires("view")
def document(publication_id: int) -> ResponseReturnValue:
    """One publication as its HTML document (the stored bulletin's text; its one style
    sheet gets this response's CSP nonce, and the app's icon is linked)."""
    html = _html(_readable(publication_id))
    icon = url_for("static", filename="favicon.svg")  # else the browser asks /favicon.ico
    nonce = csp_nonce()
    head = (
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<link rel="icon" href="{icon}">\n<style nonce="{nonce}">{PHONE_CSS}</style>\n'
        f'<style nonce="{nonce}">'
    )
    return html.replace("<style>", head, 1)


@bp.get("/bulletins/<int:publication_id>.html")
@requires("view")
def download(publication_id: int) -> ResponseReturnValue:
    """The HTML document as a file, byte for byte as issued."""
    publication = _readable(publication_id)
    return _file(_html(publication).encode("utf-8"), publication, "html", "text/html")


@bp.get("/bulletins/<int:publication_id>.pdf")
@requires("view")
def pdf(publication_id: int) -> ResponseReturnValue:
    """The document as PDF (WeasyPrint; the same bytes for the same stored figures)."""
    publication = _readable(publication_id)
    return _file(pdf_bytes(_html(publication)), publication, "pdf", "application/pdf")


def _readable(publication_id: int) -> Publication:
    publication = publications.get(database.session(), publication_id)
    if publication.kind not in ("bulletin", "ranking"):  # published scores: on /scores
        raise NotFoundError(
            tr(f"没有编号为 {publication_id} 的通报", f"no publication {publication_id}")
        )
    if publication.kind == "bulletin" or publication.level == "unit":
        require_whole_city(authenticated_principal(), "view")
    return publication


def _html(publication: Publication) -> str:
    if publication.kind == "bulletin":
        return publication.html or ""
    visible = visible_area_ids(database.session(), current_scope(), publication.level)
    label = (
        database.taxonomy().level_label(publication.level)
        if publication.level != "unit"
        else "责任单位"
    )
    return publications.ranking_html(publication, label, visible)


def _file(body: bytes, publication: Publication, suffix: str, mimetype: str) -> Response:
    name = f"{publication.kind}-{publication.level or 'city'}-{publication.period}.{suffix}"
    response = Response(body, mimetype=mimetype)
    disposition = "inline" if suffix == "pdf" else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response
