"""Area pages name the grids of their problems (issue 18, item 6): a 15-digit code alone
tells a district officer nothing."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.helpers import load_heat_city, signed_in


def test_a_street_page_shows_each_problem_grid_by_name_with_its_code(
    app: Flask, tmp_path: Path
) -> None:
    from web import database

    with app.app_context():
        load_heat_city(database.engine(), tmp_path)
    html = signed_in(app).get("/streets/329901001").get_data(as_text=True)
    link = '<a href="/grids/329901001000001">&lt;b&gt;网格&lt;/b&gt;1</a>'
    assert link in html and '<small class="cg-muted">329901001000001</small>' in html
