"""Area pages and the overview's handling of filters, without a browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.helpers import XSS, load_heat_city, signed_in


@pytest.fixture
def heat_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        load_heat_city(database.engine(), tmp_path)
    return app


def test_grid_page_lists_its_unresolved_problems(heat_app: Flask) -> None:
    response = signed_in(heat_app).get("/grids/329901001000001")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/problems/1"' in html and 'href="/problems/2"' in html
    assert 'href="/problems/3"' not in html  # closed
    assert XSS not in html and "&lt;img src=x" in html  # description shown as text
    assert "&lt;b&gt;网格&lt;/b&gt;1" in html  # the grid's name too
    assert "超期" in html and "云溪区" in html and "东门街道" in html  # breadcrumb


@pytest.mark.parametrize(
    ("sort", "first"),
    [("age", "/problems/1"), ("-age", "/problems/2"), ("-deadline", "/problems/2")],
)
def test_table_sorts_by_age_and_deadline(heat_app: Flask, sort: str, first: str) -> None:
    html = signed_in(heat_app).get(f"/streets/329901001?sort={sort}").get_data(as_text=True)
    rows = [line for line in html.splitlines() if 'href="/problems/' in line]
    assert first in rows[0]


def test_district_page_with_filters_and_english(heat_app: Flask) -> None:
    client = signed_in(heat_app)
    html = client.get("/districts/329902?status=all&category=litter&lang=en").get_data(as_text=True)
    assert "All problems" in html and "Exposed litter" in html
    assert 'href="/problems/6"' in html and 'href="/problems/5"' not in html  # not litter


def test_unknown_area_is_a_404_in_the_chosen_language(heat_app: Flask) -> None:
    client = signed_in(heat_app)
    zh = client.get("/grids/000")
    en = client.get("/communities/000?lang=en")
    assert zh.status_code == 404 and "没有编码为 000 的网格" in zh.get_data(as_text=True)
    assert en.status_code == 404 and "No community 000." in en.get_data(as_text=True)
    assert client.get("/planets/1").status_code == 404


@pytest.mark.parametrize(
    ("url", "notice"),
    [
        ("/?category=nope", "未知的问题类别"),
        ("/?from=2026-11-09&to=2026-11-01", "日期范围颠倒"),
        ("/?from=20261101&lang=en", "malformed date"),
        ("/grids/329901001000001?sort=sideways", "未知的排序"),
        ("/grids/329901001000001?page=-3", "page"),
        ("/streets/329901001?level=district", "比本区域更粗"),
    ],
)
def test_bad_filters_show_a_notice_with_status_400(heat_app: Flask, url: str, notice: str) -> None:
    response = signed_in(heat_app).get(url)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-testid="notice"' in html and notice in html


def test_overview_keeps_the_filters_in_the_form(heat_app: Flask) -> None:
    html = signed_in(heat_app).get("/?category=litter&level=street").get_data(as_text=True)
    assert '<option value="litter" selected>' in html
    assert '<option value="street" selected>' in html
    assert "/vendor/leaflet.heat/leaflet-heat.js" in html and "civicgrid-heat.js" in html
    assert "https://" not in html
