"""Search (/search?q=): problems by number or external id, inspection points by code or
name, areas by code, name or pinyin initials, addresses of points; a thin route over
geo/reports/search.py, scoped to the caller. A problem number jumps to its page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from geo.reports.search import DEFAULT_LIMIT, MAX_QUERY, search
from web import database
from web.i18n import current_lang
from web.pages import heatview
from web.security.guard import current_scope, requires

bp = Blueprint("search", __name__)
PER_GROUP = DEFAULT_LIMIT
"""Hits shown per group; a group with more says so."""


@bp.get("/search")
@requires("view")
def index() -> ResponseReturnValue:
    """Grouped results for ?q= (empty, huge or odd input finds nothing, never fails)."""
    results = search(
        database.session(), current_scope(), request.args.get("q", ""), limit=PER_GROUP
    )
    if results.exact_problem is not None:
        return redirect(url_for("problems.detail", problem_id=results.exact_problem))
    lang, tax = current_lang(), database.taxonomy()
    return render_template(
        "search/index.html",
        results=results,
        max_query=MAX_QUERY,
        area_url=lambda level, code: heatview.area_url(level, code) if level and code else "",
        level_label=lambda level: tax.level_label(level, lang) if level else "",
        category_label=lambda c: tax.category_label(c, lang),
        status_label=lambda s: tax.status_label(s, lang) if s in tax.statuses else s,
        kind_label=lambda k: tax.kind_label(k, lang),
    )
