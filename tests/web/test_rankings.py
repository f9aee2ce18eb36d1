"""/rankings page and /api/v1/rankings, /api/v1/scores."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.helpers import signed_in
from tests.stats_data import load_stats_city


@pytest.fixture
def stats_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        load_stats_city(database.engine(), tmp_path)
    return app


def test_rankings_api_gives_rates_change_and_lists(stats_app: Flask) -> None:
    data = signed_in(stats_app).get("/api/v1/rankings?level=street&period=2026-W47").get_json()
    assert data["period"] == "2026-W47" and data["previous_period"] == "2026-W46"
    rows = data["rows"]
    assert [r["code"] for r in rows[:2]] == ["329902001", "329901001"]
    east = rows[1]
    assert east["closure_rate"] == 0.5 and east["on_time_rate"] == 0.25
    assert east["rank_change"] == -1 and east["list"] == "black"
    assert [r["code"] for r in data["red"]] == ["329902001"]


def test_rankings_by_unit_and_month(stats_app: Flask) -> None:
    data = signed_in(stats_app).get("/api/v1/rankings?level=unit&period=2026-11").get_json()
    names = [r["name"] for r in data["rows"] if r["rank"] is not None]
    assert names == ["枫桥区市场监管局", "东门街道办事处"]


BAD_QUERIES = [
    ("level=street&period=2026-W60", "2026-W60"),
    ("level=street&period=2026-13", "month must be 1"),
    ("level=planet&period=2026-W47", "unknown level"),
    ("level=street&period=2026-W47&top=0", "top must be"),
]


def test_bad_ranking_parameters_are_400_json(stats_app: Flask) -> None:
    for query, message in BAD_QUERIES:
        response = signed_in(stats_app).get(f"/api/v1/rankings?{query}&lang=en")
        assert response.status_code == 400
        assert message in response.get_json()["error"]["message"]


def test_rankings_page_highlights_lists(stats_app: Flask) -> None:
    html = signed_in(stats_app).get("/rankings?level=street&period=2026-W47").get_data(as_text=True)
    assert "红榜" in html and "黑榜" in html and "cg-red" in html and "cg-black" in html
    assert "50.0%" in html and "2026年第47周" in html
    assert "/areas/street/329901001/assign" in html
    english = signed_in(stats_app).get("/rankings?level=street&period=2026-W47&lang=en")
    assert "Red list" in english.get_data(as_text=True)


def test_scores_api(stats_app: Flask) -> None:
    data = signed_in(stats_app).get("/api/v1/scores?level=street&period=2026-Q4").get_json()
    east = next(r for r in data["rows"] if r["code"] == "329901001")
    assert east["civilized_city"] == 93.0 and east["urban_management"] == 92.5
    bad = signed_in(stats_app).get("/api/v1/scores?level=street&period=2026-11")
    assert bad.status_code == 400


def test_scores_page(stats_app: Flask) -> None:
    html = signed_in(stats_app).get("/scores?level=street&period=2026-Q4").get_data(as_text=True)
    assert "全国文明城市测评" in html and "93.0" in html and "(−7.0)" in html  # rounded once
    assert "不适用" in html and "扣分明细" in html  # rural scheme: streets not covered
    assert signed_in(stats_app).get("/scores?period=2026-Q9").status_code == 400


def _publications(app: Flask) -> list[tuple[str, str, str]]:
    import sqlalchemy as sa

    from geo.storage.publication_models import Publication
    from web import database

    with app.app_context(), database.engine().connect() as conn:
        stmt = sa.select(Publication.kind, Publication.level, Publication.period)
        return [tuple(r) for r in conn.execute(stmt)]


def test_a_closed_period_is_published_when_first_shown(stats_app: Flask) -> None:
    client = signed_in(stats_app)
    first = client.get("/api/v1/rankings?level=street&period=2026-W47").get_json()
    assert first["published_at"] and _publications(stats_app) == [("ranking", "street", "2026-W47")]
    east = next(r for r in first["rows"] if r["code"] == "329901001")
    assert east["display"] == {
        "closure_rate": "50.0%",
        "on_time_rate": "25.0%",
        "rework_rate": "25.0%",
        "extension_rate": "0.0%",
    }
    # A what-if list size is computed, not published again.
    client.get("/api/v1/rankings?level=street&period=2026-W47&top=1")
    assert len(_publications(stats_app)) == 1
    html = client.get("/rankings?level=street&period=2026-W47").get_data(as_text=True)
    assert 'data-testid="published"' in html and "与今日重算对比" in html
    compared = client.get("/rankings?level=street&period=2026-W47&recomputed=1")
    assert "今日重算与发布的数据一致" in compared.get_data(as_text=True)


def test_only_the_city_office_gets_the_recomputed_view(stats_app: Flask) -> None:
    client = signed_in(stats_app, "planner", ["329901"])
    html = client.get("/rankings?level=street&period=2026-W47&recomputed=1").get_data(as_text=True)
    assert 'data-testid="published"' in html and 'data-testid="recomputed"' not in html


def test_the_page_explains_the_list_rule_and_marks_unranked(stats_app: Flask) -> None:
    html = signed_in(stats_app).get("/rankings?level=street&period=2026-W47").get_data(as_text=True)
    assert "按期结案率 ≥ 90.0%" in html and "结案率 &lt; 80.0%" in html
    assert "不参与排名" in html  # 329902101 had nothing due


def test_a_reopen_after_publication_leaves_the_recomputed_view_equal(stats_app: Flask) -> None:
    import sqlalchemy as sa

    from geo.lifecycle import transitions as lifecycle
    from geo.lifecycle.changes import Change
    from geo.lifecycle.selection import Selection
    from geo.storage.models import Problem
    from web import database

    client = signed_in(stats_app)
    client.get("/rankings?level=street&period=2026-W47")  # published on first showing
    with stats_app.app_context():
        engine = database.engine()
        with engine.connect() as conn:
            pid = conn.scalar(sa.select(Problem.id).where(Problem.external_id == "P1"))
        lifecycle.apply(engine, Selection(ids=(pid,)), Change("reopen", "市创建办", "反弹"))
    html = client.get("/rankings?level=street&period=2026-W47&recomputed=1").get_data(as_text=True)
    # Reopened today, after W47 ended: listed, but W47 stands as it was at its end.
    assert "1 返工重开" in html and "今日重算与发布的数据一致" in html
    assert "本期数据按期末状态计算" in html


def test_a_closed_quarters_scores_are_published_when_first_shown(
    stats_app: Flask, tmp_path: Path
) -> None:
    from geo.ingest.pipeline import IngestOptions, ingest_file
    from tests.helpers import write_csv
    from web import database

    client = signed_in(stats_app)
    running = client.get("/api/v1/scores?level=street&period=2026-Q4").get_json()
    assert running["published_at"] is None and _publications(stats_app) == []
    # 2026-Q3 is over: stored on first showing (nothing was found in it: 100 everywhere).
    html = client.get("/scores?level=street&period=2026-Q3").get_data(as_text=True)
    assert 'data-testid="published"' in html and "本季度得分已于" in html
    assert _publications(stats_app) == [("scores", "street", "2026-Q3")]
    first = client.get("/api/v1/scores?level=street&period=2026-Q3").get_json()
    # A Q3 problem of 东门 filed after publication (a file: no events) leaves them as stored.
    late = write_csv(
        tmp_path / "late.csv",
        "id,lon,lat,category,found_at,status\nP9,120.82,32.01,unsafe_charging,"
        "2026-09-10T09:00+08:00,found\n",
    )
    with stats_app.app_context():
        ingest_file(database.engine(), late, IngestOptions(source="late"))
    again = client.get("/api/v1/scores?level=street&period=2026-Q3").get_json()
    assert again == first and first["published_at"]
    east = next(r for r in again["rows"] if r["code"] == "329901001")
    assert (east["civilized_city"], east["indicators"]) == (100.0, 0)
    # Recomputed today 东门 loses unsafe_charging's weight 2.0 (one location): 98.0.
    from geo.core.periods import parse_period
    from geo.reports.scores import quarterly_scores

    with stats_app.app_context():
        today = quarterly_scores(
            database.session(), "street", parse_period("2026-Q3"), database.taxonomy()
        )
    assert today.set_index("code").loc["329901001"].civilized_city == 98.0
    # The CLI publishes a level's closed quarter too, and says so.
    scores = stats_app.test_cli_runner().invoke(
        args=["scores", "--level", "community", "--period", "2026-Q3"]
    )
    assert scores.exit_code == 0 and "发布于" in scores.output.splitlines()[0]
    assert len(_publications(stats_app)) == 2
