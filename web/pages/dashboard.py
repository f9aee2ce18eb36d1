"""The dashboard (/dashboard): trends and breakdowns drawn with ECharts, each chart also a
table and a CSV download (/dashboard.csv?chart=…), with the map's filters in the URL plus
?period= (the last period shown) and ?every=week|month. A thin route over
geo/reports/dashboard.py, scoped to the caller."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from geo.core.errors import InvalidParameterError
from geo.core.periods import Period, current_period, parse_period, period_containing
from geo.core.text import in_lang, tr
from geo.reports.dashboard import Chart, DashboardQuery, chart_csv, dashboard
from geo.reports.heat_filters import HeatFilters, parse_filters_strict
from web import database
from web.i18n import current_lang
from web.pages import heatview
from web.security.guard import current_scope, requires

bp = Blueprint("dashboard", __name__)
KINDS = ("week", "month")


@bp.get("/dashboard")
@requires("view")
def index() -> ResponseReturnValue:
    """Every chart, with its table and CSV link."""
    query = _query()
    charts = dashboard(database.session(), current_scope(), query)
    lang = current_lang()
    return render_template(
        "dashboard/index.html",
        charts=charts,
        query=query,
        kinds=KINDS,
        choices=heatview.filter_choices(),
        data_json=json.dumps([_plain(c, lang) for c in charts], ensure_ascii=False).replace(
            "</", "<\\/"
        ),
        csv_url=lambda chart_id: url_for(
            "dashboard.csv", **{**request.args.to_dict(), "chart": chart_id}
        ),
        text=lambda value: in_lang(value, lang),
        all_empty=all(c.empty for c in charts),
    )


@bp.get("/dashboard.csv")
@requires("view")
def csv() -> ResponseReturnValue:
    """One chart's data as CSV (?chart=flow|backlog|ontime|districts|categories|streets|rounds)."""
    wanted = request.args.get("chart", "")
    charts = dashboard(database.session(), current_scope(), _query())
    chart = next((c for c in charts if c.id == wanted), None)
    if chart is None:
        abort(404)
    body = "\ufeff" + chart_csv(chart, current_lang())  # BOM: Excel on Chinese Windows
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=dashboard-{chart.id}.csv"},
    )


def _query() -> DashboardQuery:
    tax = database.taxonomy()
    view = parse_filters_strict(request.args, tax, HeatFilters())
    kind = request.args.get("every", "week")
    if kind not in KINDS:
        raise InvalidParameterError(tr("every 应为 week 或 month", "every must be week or month"))
    text = request.args.get("period", "")
    tz = current_app.config["TIMEZONE"]
    # Like /rankings: the last complete period by default (a running one has barely begun).
    period: Period = parse_period(text) if text else current_period(kind, tz).previous()
    if "every" in request.args and period.kind != kind:  # "month" asked with a week given
        period = period_containing(period.end - timedelta(days=1), kind)
    lang = current_lang()
    categories = tuple((c.code, c.label(lang)) for c in tax.categories.values())
    return DashboardQuery(view, period, categories, tz, taxonomy=database.taxonomy())


def _plain(chart: Chart, lang: str) -> dict[str, Any]:
    return {
        "id": chart.id,
        "title": in_lang(chart.title, lang),
        "labels": chart.labels,
        "target": chart.target,
        "empty": chart.empty,
        "series": [
            {
                "name": in_lang(s.name, lang),
                "values": s.values,
                "kind": s.kind,
                "percent": s.percent,
                "texts": s.texts,  # a rate's values as shown (rounded once, from the counts)
            }
            for s in chart.series
        ],
    }
