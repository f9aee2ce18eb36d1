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
    assert "全国文明城市测评" in html and "93.0" in html and "(−7)" in html
    assert signed_in(stats_app).get("/scores?period=2026-Q9").status_code == 400
