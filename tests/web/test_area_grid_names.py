"""Map usability (issue 18, item 6): area pages name the grids of their problems (a
15-digit code alone tells a district officer nothing); the overview's export links carry
the filters on screen."""

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


def test_the_overview_export_links_carry_the_filters_on_screen(app: Flask, tmp_path: Path) -> None:
    from web import database

    with app.app_context():
        load_heat_city(database.engine(), tmp_path)
    client = signed_in(app)
    html = client.get("/?category=litter&status=overdue&district=329901").get_data(as_text=True)
    link = html[html.index('data-testid="exports"') :].split('href="')[1].split('"')[0]
    link = link.replace("&amp;", "&")
    assert "category=litter" in link and "status=overdue" in link
    assert "area=district:329901" in link
    plain = client.get("/").get_data(as_text=True)
    first = plain[plain.index('data-testid="exports"') :].split('href="')[1].split('"')[0]
    assert "status=unresolved" in first  # what the map shows by default
    body = client.get(link).get_data(as_text=True)
    assert '"features"' in body and "2020-01-01" in body  # #1, the overdue litter in 云溪区
