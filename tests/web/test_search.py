"""/search: grouped, linked, scoped results; a problem number jumps to it; odd input is
never an error."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.helpers import XSS, load_heat_city, signed_in, table_counts


@pytest.fixture
def heat_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        load_heat_city(database.engine(), tmp_path)
    return app


def test_a_problem_number_jumps_to_the_problem(heat_app: Flask) -> None:
    response = signed_in(heat_app).get("/search?q=5")
    assert response.status_code == 302 and response.headers["Location"].endswith("/problems/5")


def test_results_are_grouped_and_linked(heat_app: Flask) -> None:
    html = signed_in(heat_app).get("/search?q=329901001000001").get_data(as_text=True)
    assert 'data-testid="group-areas"' in html
    assert 'href="/grids/329901001000001"' in html and "&lt;b&gt;网格&lt;/b&gt;1" in html
    points = signed_in(heat_app).get("/search?q=%E5%86%9C%E8%B4%B8").get_data(as_text=True)  # 农贸
    assert 'data-testid="group-points"' in points and XSS not in points
    assert 'href="/grids/329901001000001"' in points  # the point's grid


def test_a_grid_manager_sees_only_their_scope(heat_app: Flask) -> None:
    client = signed_in(heat_app, "grid_manager")
    html = client.get("/search?q=%E6%9E%AB%E6%A1%A5").get_data(as_text=True)  # 枫桥
    assert 'data-testid="search-none"' in html and "枫桥区" not in html.split("search-none")[0]
    assert "/districts/329902" not in html
    out_of_scope = client.get("/search?q=6")  # problem 6 is in the other district
    assert out_of_scope.status_code == 200 and "/problems/6" not in out_of_scope.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "query",
    ["", "q=", "q=%27%20OR%201%3D1%20--", "q=.*%5B", "q=%25", "q=" + "x" * 10_000, "q=%ED%A0%80"],
)
def test_odd_queries_answer_200_and_write_nothing(heat_app: Flask, query: str) -> None:
    from web import database

    client = signed_in(heat_app)
    with heat_app.app_context():
        engine = database.engine()
    before = table_counts(engine)
    response = client.get(f"/search?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Traceback" not in html
    assert 'data-testid="search-empty"' in html or 'data-testid="search-none"' in html
    assert table_counts(engine) == before


def test_a_long_query_says_it_was_cut_in_english(heat_app: Flask) -> None:
    html = signed_in(heat_app).get("/search?lang=en&q=" + "y" * 5000).get_data(as_text=True)
    assert "only its first 100 characters were searched" in html


def test_a_group_with_more_hits_says_only_the_first_are_shown(
    heat_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from web.pages import search as search_page

    monkeypatch.setattr(search_page, "PER_GROUP", 1)
    html = signed_in(heat_app).get("/search?q=P").get_data(as_text=True)
    assert 'data-testid="more-points"' in html and "只显示前 1 条" in html
    exact = signed_in(heat_app).get("/search?q=p2").get_data(as_text=True)
    assert 'data-testid="group-points"' in exact and 'data-testid="more-points"' not in exact
