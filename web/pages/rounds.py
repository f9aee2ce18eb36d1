"""Rounds of field evaluation: the list (/rounds), a round's coverage page with the map
of its points coloured by latest result (/rounds/<id>), and the JSON API
(/api/v1/rounds, /api/v1/rounds/<id>?level=&area=, /api/v1/rounds/<id>/points?visited=).
Thin routes over geo/rounds/rounds.py and geo/rounds/coverage.py."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from geo.access.scope import visible_area_ids
from geo.core.errors import InvalidParameterError
from geo.core.text import tr
from geo.reports import maps, queries
from geo.rounds import coverage
from geo.rounds import rounds as georounds
from geo.rounds.notices import list_notices
from web import database
from web.assets import configured_basemap, map_assets
from web.i18n import current_lang, translate
from web.security.guard import csp_nonce, current_scope, requires

bp = Blueprint("rounds", __name__)

GEOJSON = "application/geo+json"


@bp.get("/rounds")
@requires("view")
def index() -> ResponseReturnValue:
    """Every round with its period, scope and coverage, and the notices issued (coverage
    and notices limited to the caller's scope)."""
    db, tax, lang = database.session(), database.taxonomy(), current_lang()
    rows = [
        (rnd, georounds.scope_label(rnd, tax, lang), _coverage(rnd).total)
        for rnd in georounds.list_rounds(db)
    ]
    return render_template("rounds/list.html", rows=rows, notices=_notices())


@bp.get("/rounds/<int:round_id>")
@requires("view")
def detail(round_id: int) -> ResponseReturnValue:
    """A round: map of its points by latest result, totals, by kind, by area, notices."""
    db, tax, lang = database.session(), database.taxonomy(), current_lang()
    rnd = georounds.find_round(db, round_id)
    level = request.args.get("level", "street")
    figures = _coverage(rnd, level)
    return render_template(
        "rounds/detail.html",
        rnd=rnd,
        scope=georounds.scope_label(rnd, tax, lang),
        cov=figures,
        level=level,
        levels=coverage.COVERAGE_LEVELS,
        map=_map(round_id),
        notices=_notices(round_id),
        tax=tax,
    )


@bp.get("/api/v1/rounds")
@requires("view")
def api_list() -> ResponseReturnValue:
    """Every round: id, name, period, scope, coverage totals (of the caller's scope)."""
    db = database.session()
    return jsonify(
        {
            "rounds": [
                {**_round_json(rnd), **_coverage(rnd).total.to_dict()}
                for rnd in georounds.list_rounds(db)
            ]
        }
    )


@bp.get("/api/v1/rounds/<int:round_id>")
@requires("view")
def api_detail(round_id: int) -> ResponseReturnValue:
    """?level=district|street|community|grid[&area=CODE]: the round, its coverage
    (totals, by point kind, by area of the level; only that area with ``area``) and the
    notices issued for it."""
    db = database.session()
    rnd = georounds.find_round(db, round_id)
    area = request.args.get("area") or None
    figures = _coverage(rnd, request.args.get("level", "street"), area)
    notices = [
        {
            "id": n.id,
            "number": n.number,
            "street": n.area.code,
            "issued_at": n.issued_at.isoformat() + "Z",
            "issued_by": n.issued_by,
            "problems": len(n.problem_ids),
        }
        for n in _notices(round_id)
    ]
    return jsonify(
        {"round": _round_json(rnd), "coverage": figures.to_dict(), "area": area, "notices": notices}
    )


@bp.get("/api/v1/rounds/<int:round_id>/points")
@requires("view")
def api_points(round_id: int) -> Response:
    """The round's points as GeoJSON coloured by latest result; ?visited=1|0 filters."""
    db = database.session()
    rnd = georounds.find_round(db, round_id)
    body = coverage.round_points_geojson(
        db,
        rnd,
        database.taxonomy(),
        current_lang(),
        _visited_arg(request.args.get("visited")),
        current_app.config["TIMEZONE"],
        current_scope(),
    )
    return Response(body, mimetype=GEOJSON)


def _coverage(rnd: Any, level: str = "street", area: str | None = None) -> coverage.Coverage:
    """The round's coverage over the points the caller may see."""
    return coverage.round_coverage(
        database.session(), rnd, database.taxonomy(), level, current_lang(), area, current_scope()
    )


def _notices(round_id: int | None = None) -> list[Any]:
    """The notices issued (for one round), to streets the caller may see."""
    visible = visible_area_ids(database.session(), current_scope(), "street")
    found = list_notices(database.session(), round_id)
    return [n for n in found if visible is None or n.area_id in visible]


def _visited_arg(value: str | None) -> bool | None:
    if value in (None, ""):
        return None
    if value not in ("0", "1", "true", "false"):
        raise InvalidParameterError(tr("visited 应为 0 或 1", "visited must be 0 or 1"))
    return value in ("1", "true")


def _round_json(rnd: Any) -> dict[str, Any]:
    return {
        "id": rnd.id,
        "name": rnd.name,
        "starts_on": rnd.starts_on.isoformat(),
        "ends_on": rnd.ends_on.isoformat(),
        "point_kinds": list(rnd.point_kinds),
        "areas": [{"level": a.level, "code": a.code, "name": a.name} for a in rnd.areas],
        "description": rnd.description,
    }


def _map(round_id: int) -> dict[str, str]:
    layers = [
        maps.LayerSpec(
            "streets",
            translate("街道", "Streets"),
            url_for("api.areas", level="street"),
            "areas",
            style={"color": "#7f8c8d", "weight": 1.2, "fill": True, "fillOpacity": 0.03},
        ),
        maps.LayerSpec(
            "visited",
            translate("已测评点位", "Visited points"),
            url_for("rounds.api_points", round_id=round_id, visited=1),
            "points",
            # results listed and drawn before (over) the points still to visit; both
            # clustered (a city round has thousands of points)
            style={"cluster": True, "clusterColor": "#455a64", "above": True},
        ),
        maps.LayerSpec(
            "unvisited",
            translate("未测评点位（待安排）", "Not visited yet (to plan)"),
            url_for("rounds.api_points", round_id=round_id, visited=0),
            "points",
            style={"cluster": True, "clusterColor": "#1565c0"},
        ),
    ]
    basemap = configured_basemap()
    extent = queries.city_extent(database.session(), scope=current_scope())
    legend = coverage.result_legend(current_lang())
    return maps.render_parts(
        maps.city_map(map_assets(), layers, extent, basemap, legend, current_lang()),
        nonce=csp_nonce(),
    )
