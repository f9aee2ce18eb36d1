"""/dashboard: the rankings' figures, the map's filters, tables and CSV, empty and bad input."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.helpers import load_heat_city, signed_in, table_counts

PERIOD = "2026-11"  # heat city: problems found and due in October and November 2026


@pytest.fixture
def heat_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        load_heat_city(database.engine(), tmp_path)
    return app


def _charts(html: str) -> dict[str, dict]:
    match = re.search(
        r'<script type="application/json" id="cg-dashboard-data">(.*?)</script>', html, re.S
    )
    assert match
    return {c["id"]: c for c in json.loads(match.group(1).replace("<\\/", "</"))}


def test_district_rates_equal_the_rankings_of_the_same_period(heat_app: Flask) -> None:
    client = signed_in(heat_app)
    charts = _charts(client.get(f"/dashboard?period={PERIOD}").get_data(as_text=True))
    ranking = client.get(f"/api/v1/rankings?level=district&period={PERIOD}").get_json()
    by_name = {r["name"]: r for r in ranking["rows"]}
    chart = charts["districts"]
    for i, name in enumerate(chart["labels"]):
        closure, on_time = chart["series"][0]["values"][i], chart["series"][1]["values"][i]
        expected = by_name[name]
        assert (closure, on_time) == (expected["closure_rate"], expected["on_time_rate"])
        # The table and tooltips show the rankings' texts: one rounding, from the counts.
        texts = (chart["series"][0]["texts"][i], chart["series"][1]["texts"][i])
        display = expected["display"]
        assert texts == (display["closure_rate"], display["on_time_rate"])
    # the trend's last period sums the same rows
    flow = charts["flow"]
    assert flow["labels"][-1] == PERIOD
    assert flow["series"][0]["values"][-1] == sum(r["found"] for r in ranking["rows"])
    assert flow["series"][1]["values"][-1] == sum(r["closed"] for r in ranking["rows"])


def test_category_and_street_charts_follow_the_map_filters(heat_app: Flask) -> None:
    client = signed_in(heat_app)
    everything = _charts(client.get("/dashboard?status=all").get_data(as_text=True))
    litter = _charts(client.get("/dashboard?status=all&category=litter").get_data(as_text=True))
    assert sum(everything["categories"]["series"][0]["values"]) == 7  # 8 minus one outside
    labels = everything["categories"]["labels"]  # 17 categories: the top 8, the rest folded
    assert len(labels) == 9 and labels[-1] == "其余 9 类" and labels[0] == "暴露垃圾/环境卫生差"
    assert everything["categories"]["series"][0]["values"][0] == 4
    assert litter["categories"]["labels"] == ["暴露垃圾/环境卫生差"]
    assert litter["categories"]["series"][0]["values"] == [4]
    assert sum(litter["streets"]["series"][0]["values"]) == 4


def test_each_chart_downloads_as_csv_with_its_table(heat_app: Flask) -> None:
    client = signed_in(heat_app)
    html = client.get(f"/dashboard?period={PERIOD}&lang=en").get_data(as_text=True)
    assert 'data-testid="table-districts"' in html and "Download CSV" in html
    response = client.get(f"/dashboard.csv?chart=districts&period={PERIOD}&lang=zh")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["项目", "结案率", "按期结案率"] and {r[0] for r in rows[1:]} == {
        "云溪区",
        "枫桥区",
    }
    assert client.get("/dashboard.csv?chart=nope").status_code == 404


def test_filters_that_select_nothing_give_empty_charts_and_a_message(heat_app: Flask) -> None:
    html = (
        signed_in(heat_app).get("/dashboard?period=2019-W10&from=2030-01-01").get_data(as_text=True)
    )
    assert 'data-testid="dashboard-empty"' in html
    assert all(chart["empty"] for chart in _charts(html).values())


@pytest.mark.parametrize(
    "query", ["period=2026-W99", "every=day", "category=nope", "from=yesterday", "district=000"]
)
def test_bad_arguments_are_a_400_and_write_nothing(heat_app: Flask, query: str) -> None:
    from web import database

    client = signed_in(heat_app)
    with heat_app.app_context():
        engine = database.engine()
    before = table_counts(engine)
    response = client.get(f"/dashboard?{query}")
    assert response.status_code == 400 and "Traceback" not in response.get_data(as_text=True)
    assert client.get(f"/dashboard.csv?chart=flow&{query}").status_code == 400
    assert table_counts(engine) == before


def test_a_district_officer_sees_only_their_district(heat_app: Flask) -> None:
    html = (
        signed_in(heat_app, "district_officer")
        .get(f"/dashboard?period={PERIOD}")
        .get_data(as_text=True)
    )
    charts = _charts(html)
    assert charts["districts"]["labels"] == ["云溪区"]
    assert "枫桥区" not in json.dumps(charts, ensure_ascii=False)


def test_backlog_chart_takes_overdue_from_the_rankings_and_unresolved_from_the_bulletin_rule(
    heat_app: Flask,
) -> None:
    from geo.core.periods import parse_period
    from geo.reports.stats import period_cutoff
    from geo.storage.models import Problem
    from geo.storage.statuses import open_at_sql
    from web import database

    client = signed_in(heat_app)
    charts = _charts(client.get(f"/dashboard?period={PERIOD}").get_data(as_text=True))
    backlog = charts["backlog"]
    assert backlog["labels"] == charts["flow"]["labels"]
    ranking = client.get(f"/api/v1/rankings?level=district&period={PERIOD}").get_json()
    assert backlog["series"][1]["values"][-1] == sum(r["overdue"] for r in ranking["rows"])
    with heat_app.app_context():
        cutoff = period_cutoff(parse_period(PERIOD), "Asia/Shanghai")[1]
        expected = database.session().scalar(
            sa.select(sa.func.count()).select_from(Problem).where(open_at_sql(cutoff))
        )
    assert backlog["series"][0]["values"][-1] == expected > 0
    text = client.get(f"/dashboard.csv?chart=backlog&period={PERIOD}").get_data(as_text=True)
    assert text.splitlines()[0] == "\ufeff项目,未销号（期末）,超期未整改（期末）"


def test_rounds_chart_shows_each_round_as_its_page_does(app: Flask, tmp_path: Path) -> None:
    from tests.rounds_data import load_round_city
    from web import database

    with app.app_context():
        load_round_city(database.engine(), tmp_path)
    client = signed_in(app)
    chart = _charts(client.get("/dashboard?period=2026-11").get_data(as_text=True))["rounds"]
    assert chart["labels"] == ["2026年第四季度实地测评"]
    page = client.get("/api/v1/rounds/1").get_json()["coverage"]
    coverage, fail = (s["values"][0] for s in chart["series"])
    assert (coverage, fail) == (page["coverage"], page["fail_rate"]) == (0.75, 1 / 3)
    text = client.get("/dashboard.csv?chart=rounds&period=2026-11").get_data(as_text=True)
    assert text.splitlines()[1].startswith("2026年第四季度实地测评,0.75,")
    before = _charts(client.get("/dashboard?period=2026-08").get_data(as_text=True))
    assert before["rounds"]["labels"] == [] and before["rounds"]["empty"]


def test_opens_on_the_last_complete_period_like_the_rankings(heat_app: Flask) -> None:
    from geo.core.periods import current_period

    client = signed_in(heat_app, "city_officer")
    tz = heat_app.config["TIMEZONE"]
    html = client.get("/dashboard").get_data(as_text=True)
    last_week = current_period("week", tz).previous().code
    assert f'value="{last_week}"' in html
    assert f'value="{current_period("week", tz).code}"' not in html
