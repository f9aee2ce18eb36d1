"""Rounds, coverage and notices over HTTP: API figures, pages, issuing a notice through its
form (CSRF, bad input), its PDF; approvals on the problem page need the right."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.areas.units import unit_ids
from geo.storage.db import transaction
from geo.storage.models import Problem
from tests.helpers import XSS, csrf_token, signed_in, table_counts
from tests.lifecycle_data import load_lifecycle_city, problem_id
from tests.rounds_data import load_round_city


def _engine(app: Flask):
    from web import database

    with app.app_context():
        return database.engine()


@pytest.fixture
def round_app(app: Flask, tmp_path: Path) -> Flask:
    engine = _engine(app)
    app.config["ROUND_ID"] = load_round_city(engine, tmp_path)
    with transaction(engine) as session:
        unit_ids(session, ["东门街道办事处"])
    return app


def _token(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def test_api_gives_rounds_coverage_and_points(round_app: Flask) -> None:
    client, rid = signed_in(round_app), round_app.config["ROUND_ID"]
    rounds = client.get("/api/v1/rounds").get_json()["rounds"]
    assert [(r["name"], r["points"], r["visited"]) for r in rounds] == [
        ("2026年第四季度实地测评", 4, 3)
    ]
    body = client.get(f"/api/v1/rounds/{rid}?level=district").get_json()
    assert body["coverage"]["fail_rate"] == pytest.approx(1 / 3)
    assert [a["key"] for a in body["coverage"]["by_area"]] == ["329901", "329902"]
    one = client.get(f"/api/v1/rounds/{rid}?level=street&area=329901001").get_json()
    assert (one["coverage"]["points"], one["coverage"]["failed"], one["area"]) == (
        2,
        1,
        "329901001",
    )
    layer = client.get(f"/api/v1/rounds/{rid}/points?visited=0")
    assert layer.mimetype == "application/geo+json"
    assert [f["properties"]["code"] for f in layer.get_json()["features"]] == ["A2"]
    bad = client.get(f"/api/v1/rounds/{rid}/points?visited=maybe&lang=en")
    assert bad.status_code == 400 and "visited must be 0 or 1" in bad.get_json()["error"]["message"]
    assert client.get(f"/api/v1/rounds/{rid}?level=planet").status_code == 400
    missing = client.get("/api/v1/rounds/999", headers={"Accept-Language": "en"})
    assert missing.status_code == 404 and "no round '999'" in missing.get_json()["error"]["message"]


def test_round_pages(round_app: Flask) -> None:
    client, rid = signed_in(round_app), round_app.config["ROUND_ID"]
    listing = client.get("/rounds").get_data(as_text=True)
    assert f'href="/rounds/{rid}"' in listing and "75.0%" in listing
    page = client.get(f"/rounds/{rid}").get_data(as_text=True)
    assert 'data-testid="kpi-not-visited">1<' in page and "33.3%" in page
    assert "/vendor/leaflet/leaflet.js" in page and f"/api/v1/rounds/{rid}/points?visited=0" in page
    assert 'data-testid="notice-link-329901001"' in page  # 东门 failed
    assert 'data-testid="notice-link-329902001"' not in page  # 南湖 not visited
    english = client.get(f"/rounds/{rid}?lang=en&level=district").get_data(as_text=True)
    assert "Not visited" in english and "云溪区" in english
    assert client.get("/rounds/999").status_code == 404


def test_issue_a_notice_through_the_page(round_app: Flask) -> None:
    client, rid = signed_in(round_app), round_app.config["ROUND_ID"]
    url = f"/rounds/{rid}/notices/329901001"
    draft = client.get(url).get_data(as_text=True)
    assert "草稿 · 未编号" in draft and 'data-testid="issue-form"' in draft
    assert XSS not in draft and "&lt;img src=x" in draft
    engine = _engine(round_app)
    planner = signed_in(round_app, "planner")  # may read the draft, not issue it
    before = table_counts(engine)
    assert client.post(url, data={}).status_code == 400  # no CSRF token
    assert 'data-testid="issue-form"' not in planner.get(url).get_data(as_text=True)
    refused = planner.post(url, data={"csrf_token": csrf_token(planner, url)})
    assert refused.status_code == 403
    assert table_counts(engine) == before
    response = client.post(url, data={"unit": "东门街道办事处", "csrf_token": _token(client, url)})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "文明创建督查〔2026〕第1号" in page and "已签发抄告单" in page
    assert "测试city_officer" in page  # the issuer: the signed-in user's display name
    assert "已交办" in page and 'data-testid="pdf-link"' in page
    listed = client.get(f"/api/v1/rounds/{rid}").get_json()["notices"]
    assert [(n["number"], n["street"], n["problems"]) for n in listed] == [
        ("文明创建督查〔2026〕第1号", "329901001", 2)
    ]
    pdf = client.get("/notices/1.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get("/notices/9.pdf").status_code == 404


def test_nothing_to_notify_is_shown_without_a_form(round_app: Flask) -> None:
    client, rid = signed_in(round_app), round_app.config["ROUND_ID"]
    page = client.get(f"/rounds/{rid}/notices/329902001").get_data(as_text=True)
    assert 'data-testid="notice-empty"' in page and 'data-testid="issue-form"' not in page
    assert client.get(f"/rounds/{rid}/notices/999").status_code == 404


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    engine = _engine(app)
    load_lifecycle_city(engine, tmp_path)
    with engine.begin() as conn:  # deadlines in the future, whenever the test runs
        conn.execute(sa.update(Problem).values(deadline=datetime(2030, 1, 1)))
    return app


def _state(app: Flask):
    with _engine(app).connect() as conn:
        rows = conn.execute(
            sa.select(Problem.id, Problem.version, Problem.deadline, Problem.pending)
        ).all()
    return table_counts(_engine(app)), sorted(rows)


def test_approval_on_the_problem_page_needs_the_right(city_app: Flask) -> None:
    client = signed_in(city_app)
    pid = problem_id(_engine(city_app), "C1")
    url = f"/problems/{pid}"
    asked = {"deadline": "2030-01-10", "note": "材料未到", "version": "1"}
    response = client.post(
        f"{url}/request_extension", data={**asked, "csrf_token": _token(client, url)}
    )
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="decision"' in page and "延期申请" in page and "2030-01-10" in page
    planner = signed_in(city_app, "planner")  # reads everything, decides nothing
    assert 'data-testid="decision"' not in planner.get(url).get_data(as_text=True)
    before = _state(city_app)
    denied = planner.post(
        f"{url}/approve_extension", data={"version": "2", "csrf_token": csrf_token(planner, url)}
    )
    assert denied.status_code == 403
    assert "不能执行 approve_extension" in denied.get_data(as_text=True)
    denied = planner.post(
        f"{url}/approve_extension?lang=en",
        data={"version": "2", "csrf_token": csrf_token(planner, url)},
    )
    assert denied.status_code == 403
    assert "cannot approve_extension" in denied.get_data(as_text=True)
    assert _state(city_app) == before
    granted = client.post(
        f"{url}/approve_extension", data={"version": "2", "csrf_token": _token(client, url)}
    )
    assert granted.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="extensions">1<' in page and "2030-01-10 23:59" in page
    assert "批准延期" in page  # in the history


def test_request_extension_form_refuses_beyond_the_maximum(city_app: Flask) -> None:
    city_app.config["MAX_EXTENSION_DAYS"] = 5
    client = signed_in(city_app)
    pid = problem_id(_engine(city_app), "C1")
    url = f"/problems/{pid}"
    before = _state(city_app)
    response = client.post(
        f"{url}/request_extension",
        data={
            "deadline": "2030-01-10",
            "note": "x",
            "actor": "东门",
            "version": "1",
            "csrf_token": _token(client, url),
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "maximum of 5 days" in response.get_data(as_text=True)
    assert _state(city_app) == before
