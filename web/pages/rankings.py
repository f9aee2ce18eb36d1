"""Rankings (/rankings, /api/v1/rankings) and quarterly scores (/api/v1/scores):
thin routes over geo/reports/rankings.py and geo/reports/scores.py.

Ranks are the city's (a published red/black list ranks everyone), but a scoped user
sees only the rows of the areas in their scope; unit rankings, which mix every area's
problems, need a whole-city scope."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

import pandas as pd
import sqlalchemy.exc
from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from geo.access.actions import APPROVER_ROLES
from geo.access.scope import require_whole_city, visible_area_ids
from geo.core import rounding
from geo.core.errors import InvalidParameterError
from geo.core.params import int_param
from geo.core.periods import Period, current_period, parse_period
from geo.core.text import tr
from geo.reports import publications, ranking_cache, score_publications
from geo.reports import rankings as georankings
from geo.reports.stats import check_rate_level
from geo.storage.db import quick_transaction
from geo.storage.publication_models import Publication
from web import database
from web.httpcache import cached_response
from web.i18n import current_lang, pick
from web.security.guard import authenticated_principal, current_scope, requires

bp = Blueprint("rankings", __name__)
# The one rounding (geo/core/rounding.py) for every template: exact counts in, text out.
bp.add_app_template_global(rounding.percent, "pct")
bp.add_app_template_global(rounding.points, "pts")
bp.add_app_template_global(rounding.number, "num")

PAGE_SIZE = 200


@bp.get("/rankings")
@requires("view")
def page() -> ResponseReturnValue:
    """Sorted ranking table with the red and black lists highlighted."""
    level, period, top = _args()
    shown = _ranking(level, period, top)
    ranking, rows, published = shown.ranking, shown.rows, shown.published
    page_no = int_param("page", request.args.get("page"), 1, 1, 1_000_000)
    office = authenticated_principal().role in APPROVER_ROLES
    comparison = None
    if published is not None and office and request.args.get("recomputed"):
        comparison = publications.compare_ranking(
            database.session(), published, current_app.config["TIMEZONE"]
        )
        ids = shown.ids
        comparison.changes = [c for c in comparison.changes if ids is None or c["id"] in ids]
    red, black = shown.kept.derived(("lists", shown.ids), lambda: _lists(rows))
    return render_template(
        "rankings/page.html",
        ranking=ranking,
        table=_table(shown, page_no),
        total=len(rows),
        page=page_no,
        page_size=PAGE_SIZE,
        red=red,
        black=black,
        tax=database.taxonomy(),
        publication=published,
        can_recompute=office,
        comparison=comparison,
    )


@bp.get("/api/v1/rankings")
@requires("view")
def api() -> ResponseReturnValue:
    """?level=district|street|community|grid|unit&period=2026-W47|2026-11|2026-Q4&top=3"""
    level, period, top = _args()
    shown = _ranking(level, period, top)

    def body() -> str:
        ranking, published = shown.ranking, shown.published
        rows = _displayed(shown.rows)
        red, black = _lists(rows)
        return current_app.json.dumps(
            {
                "level": level,
                "period": period.code,
                "previous_period": ranking.previous.code,
                "top": ranking.top,
                "published_at": None if published is None else published.computed_at.isoformat(),
                "notes": [pick(n) for n in ranking.notes],
                "red": red,
                "black": black,
                "rows": rows,
            }
        )

    if shown.kept.key is None:  # not kept (unit rankings): nothing to name it by
        return current_app.response_class(body(), mimetype=JSON)
    published = shown.published
    stamp = None if published is None else (published.id, published.computed_at)
    scope = None if shown.ids is None else tuple(sorted(shown.ids))
    # Built and gzipped once while the ranking is kept; an ETag for revalidation.
    key = ("rankings", shown.kept.key, stamp, current_lang(), scope)
    return cached_response(key, body, JSON)


JSON = "application/json"


def _lists(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The red and the black list's rows, in rank order."""
    return [r for r in rows if r["list"] == "red"], [r for r in rows if r["list"] == "black"]


def _displayed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of the rows with ``display``: each rate as shown (the one rounding, from the
    exact counts). Copies: the rows may be kept for other requests."""
    return [
        {
            **r,
            "display": {rate: rounding.percent(r[p], r["due"]) for rate, p in _RATE_PARTS.items()},
        }
        for r in rows
    ]


_RATE_PARTS = {
    "closure_rate": "closed",
    "on_time_rate": "closed_on_time",
    "rework_rate": "reworked",
    "extension_rate": "extended",
}


@bp.get("/scores")
@requires("view")
def scores_page() -> ResponseReturnValue:
    """Quarterly scores per area, one column per evaluation scheme (三标融合)."""
    level, period, frame, published = _scores()
    return render_template(
        "rankings/scores.html",
        level=level,
        period=period,
        rows=frame.to_dict(orient="records"),
        tax=database.taxonomy(),
        publication=published,
    )


@bp.get("/api/v1/scores")
@requires("view")
def scores_api() -> ResponseReturnValue:
    """?level=district|street|community|grid&period=2026-Q4: one score per scheme."""
    level, period, frame, published = _scores()
    return jsonify(
        {
            "level": level,
            "period": period.code,
            "published_at": None if published is None else published.computed_at.isoformat(),
            "schemes": list(database.taxonomy().schemes),
            "rows": frame.to_dict(orient="records"),
        }
    )


def _scores() -> tuple[str, Period, Any, Publication | None]:
    """The scores asked for, as published when the quarter is closed (published now if
    they never were; geo/reports/score_publications.py), in the caller's scope."""
    level = request.args.get("level", "district")
    period = parse_period(request.args.get("period", "") or _default("quarter").code)
    tz = current_app.config["TIMEZONE"]
    frame, published = score_publications.frozen_scores(
        database.session(), level, period, database.taxonomy(), tz
    )
    if published is None and publications.is_closed(period, tz):
        try:
            with quick_transaction(database.engine()) as session:
                actor = authenticated_principal().actor
                published = score_publications.publish_scores(
                    session, level, period, frame, tz, issued_by=actor
                )
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.IntegrityError):
            published = None  # the database is busy or another request stored it first
    return level, period, _in_scope(frame, level), published


def _args() -> tuple[str, Period, int | None]:
    level = check_rate_level(request.args.get("level", "district"))
    text = request.args.get("period", "")
    period = parse_period(text) if text else _default("week")
    if request.args.get("top", "") == "":
        return level, period, None  # the level's list size (data/rankings.toml)
    top = request.args.get("top", type=int)
    if top is None or not 1 <= top <= 100:
        raise InvalidParameterError(tr("top 应为 1–100", "top must be 1–100"))
    return level, period, top


class _Shown(NamedTuple):
    ranking: georankings.Ranking
    rows: list[dict[str, Any]]  # records, in the caller's scope
    published: Publication | None
    kept: ranking_cache.Kept
    ids: frozenset[int] | None  # the caller's scope (None: the whole city)


def _ranking(level: str, period: Period, top: int | None) -> _Shown:
    """The ranking as published when the period is closed (published now if it never
    was), else computed; its rows (records) limited to the caller's scope. A list size
    given in the query (``top``) is a what-if: computed, never published. Rankings are
    kept per worker (geo/reports/ranking_cache.py); the kept rows are the city's."""
    if level == "unit":
        require_whole_city(authenticated_principal(), "view")
    tz = current_app.config["TIMEZONE"]
    session, cache = database.session(), _cache()
    now = datetime.now(UTC).replace(tzinfo=None)
    frozen = top is None and publications.is_closed(period, tz, now)
    found = ranking_cache.published(cache, session, level, period) if frozen else None
    published: Publication | None = None
    if found is not None:
        kept, published = found
    else:
        kept = ranking_cache.computed(cache, session, level, period, tz, top, now, frozen)
        published = _publish(kept.ranking) if frozen else None
    ids = visible_area_ids(session, current_scope(), level)
    if ids is None:
        return _Shown(kept.ranking, kept.records, published, kept, ids)
    ranking = replace(kept.ranking, rows=kept.ranking.rows[kept.ranking.rows["id"].isin(ids)])
    rows = [r for r in kept.records if r["id"] in ids]
    return _Shown(ranking, rows, published, kept, ids)


def _table(shown: _Shown, page_no: int) -> Markup:
    """The page's rows as HTML, rendered once per page, language and scope while the
    ranking is kept: rendering 200 rows was most of a kept ranking's page."""
    rows = shown.rows[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE]
    key = ("table", page_no, current_lang(), shown.ids, request.script_root)
    return shown.kept.derived(
        key,
        lambda: Markup(render_template("rankings/_table.html", ranking=shown.ranking, rows=rows)),
    )


def _cache() -> ranking_cache.RankingCache:
    """This app's kept rankings (one cache per app and worker process)."""
    return current_app.extensions.setdefault(_CACHE, ranking_cache.RankingCache())


_CACHE = "civicgrid_rankings"


def _publish(ranking: georankings.Ranking) -> Publication | None:
    """Store the first showing of a closed period's ranking; if the database is busy (an
    ingest holds the write lock) or another request stored it first, show it unstored."""
    try:
        with quick_transaction(database.engine()) as session:
            return publications.publish_ranking(
                session, ranking, issued_by=authenticated_principal().actor
            )
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.IntegrityError):
        return None


def _in_scope(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """The rows of ``frame`` (one per area, column ``id``) the caller may see."""
    ids = visible_area_ids(database.session(), current_scope(), level)
    return frame if ids is None else frame[frame["id"].isin(ids)]


def _default(kind: str) -> Period:
    """The last complete period of ``kind``: a running one has barely any figures."""
    return current_period(kind, current_app.config["TIMEZONE"]).previous()
