"""The HTTP API for scripts: tokens, survey upload, problems, errors, the OpenAPI document."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.access.audit import entries, utcnow
from geo.access.tokens import revoke_token
from geo.export import query as export_query
from geo.storage.access_models import ApiToken
from geo.storage.db import transaction
from geo.storage.models import IngestBatch
from tests.helpers import (
    HIDDEN_FROM,
    add_token,
    load_scoped_city,
    table_counts,
)
from web import create_app, database

SURVEY = (
    "id,lon,lat,category,found_at,description\n"
    "S1,120.82,32.01,litter,2024-06-01 10:00,菜场门口\n"
    'S2,120.92,32.01,illegal_ads,2024-06-01 10:00,=HYPERLINK("http://x")\n'
)
NEW = {"lon": 120.821, "lat": 32.011, "category": "litter", "found_at": "2024-06-01 10:00"}


@pytest.fixture
def city(app: Flask, tmp_path: Path):
    with app.app_context():
        engine = database.engine()
    ids = load_scoped_city(engine, tmp_path)
    tokens = {
        "city": add_token(engine, "nightly", "city_officer"),
        "district": add_token(engine, "district-app", "district_officer"),
        "grid": add_token(engine, "grid-app", "grid_manager"),
        "planner": add_token(engine, "planner-app", "planner"),
    }
    return app, engine, ids, tokens


@pytest.fixture
def light(app: Flask):
    """The app with one city-wide token and no areas: for refusals that come first."""
    with app.app_context():
        engine = database.engine()
    return app, engine, add_token(engine, "light", "city_officer")


def _upload(client, headers, text=SURVEY, name="survey.csv", **form):
    data = {"file": (io.BytesIO(text.encode("utf-8")), name), **form}
    return client.post("/api/v1/surveys", data=data, headers=headers)


def test_upload_survey_with_a_token(city) -> None:
    app, engine, _, tokens = city
    client = app.test_client()
    response = _upload(client, tokens["city"], source="team-a")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["batch"]["accepted"] == 2 and body["batch"]["written"] is True
    assert body["batch"]["file_name"] == "survey.csv" and body["rejects"] == []
    again = _upload(client, tokens["city"], source="team-a").get_json()
    assert again["batch"]["duplicates"] == 2 and again["batch"]["accepted"] == 0
    dry = _upload(client, tokens["city"], SURVEY.replace("S1", "S9"), dry_run="true")
    assert dry.status_code == 200 and dry.get_json()["batch"]["written"] is False
    with transaction(engine, write=False) as s:
        batch = s.scalar(sa.select(IngestBatch).where(IngestBatch.source == "team-a").limit(1))
        assert batch.actor == "token:nightly"
        assert [e.action for e in entries(s, "survey_upload")] and entries(s, "token_use")


def test_strict_upload_lists_every_bad_row_and_writes_nothing(city) -> None:
    app, engine, _, tokens = city
    bad = SURVEY + "S3,abc,32.0,litter,2024-06-01,\nS4,120.8,32.0,乱扔东西,2024-06-01,\n"
    before = table_counts(engine)
    response = _upload(app.test_client(), tokens["city"], bad)
    assert response.status_code == 422
    assert "第 4 行" in response.get_json()["error"]["message"]
    response = _upload(app.test_client(), {**tokens["city"], "Accept-Language": "en"}, bad)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "IngestError" and "row 4" in error["message"]
    assert [(r["row"], r["reason_en"]) for r in error["rejects"]] == [
        (4, "non-numeric lon"),
        (
            5,
            "unknown category '乱扔东西', did you mean: Exposed litter / poor sanitation (litter)?",
        ),
    ]
    assert "/tmp" not in response.get_data(as_text=True)  # no server paths
    counts = table_counts(engine)
    assert {k: v for k, v in counts.items() if k != "audit_log"} == {
        k: v for k, v in before.items() if k != "audit_log"
    }
    lenient = _upload(app.test_client(), tokens["city"], bad, strict="false")
    assert lenient.status_code == 201 and lenient.get_json()["batch"]["accepted"] == 2
    assert len(lenient.get_json()["rejects"]) == 2


@pytest.mark.parametrize(
    ("name", "content", "status", "fragment"),
    [
        ("survey.exe", SURVEY.encode(), 415, "unsupported file type '.exe'"),
        ("survey.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", 415, "content is not a .csv"),
        ("survey.csv", b"", 400, "empty file"),
        ("survey.csv", "编号,经度\n".encode("gb18030"), 400, "header only"),  # GBK is read
    ],
)
def test_bad_upload_types(light, name, content, status, fragment) -> None:
    app, engine, header = light
    before = table_counts(engine)["problems"]
    data = {"file": (io.BytesIO(content), name)}
    headers = {**header, "Accept-Language": "en"}
    response = app.test_client().post("/api/v1/surveys", data=data, headers=headers)
    assert response.status_code == status, response.get_json()
    assert fragment in response.get_json()["error"]["message"]
    assert table_counts(engine)["problems"] == before


def test_path_traversal_in_upload_name(city, tmp_path) -> None:
    app, engine, _, tokens = city
    target = Path("/tmp/civicgrid-traversal-test.csv")
    target.unlink(missing_ok=True)
    for name in ("../../../../tmp/civicgrid-traversal-test.csv", "..\\..\\evil.csv", "/etc/x.csv"):
        response = _upload(app.test_client(), tokens["city"], SURVEY, name=name, source=name[-5:])
        assert response.status_code in (201, 400), response.get_json()
    assert not target.exists()
    with transaction(engine, write=False) as s:
        names = set(s.scalars(sa.select(IngestBatch.file_name)))
    assert names <= {"scoped.csv", "civicgrid-traversal-test.csv", "evil.csv", "x.csv"}
    assert not any("/" in n or "\\" in n for n in names)


def test_oversized_upload_is_413_and_nothing_written(app: Flask, engine, tmp_path) -> None:
    small = create_app(
        {"DATABASE_URL": engine.url.render_as_string(False), "TESTING": True, "MAX_UPLOAD_MB": 1}
    )
    load_scoped_city(engine, tmp_path)
    header = add_token(engine, "big", "city_officer")
    before = table_counts(engine)
    rows = "".join(f"B{i},120.82,32.01,litter,2024-06-01,{'x' * 40}\n" for i in range(25_000))
    response = _upload(
        small.test_client(), header, "id,lon,lat,category,found_at,description\n" + rows
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"
    assert table_counts(engine)["problems"] == before["problems"]


def test_upload_needs_ingest_and_a_whole_city_scope(city) -> None:
    app, engine, _, tokens = city
    before = table_counts(engine)["problems"]
    for who in ("district", "grid", "planner"):
        response = _upload(app.test_client(), tokens[who])
        assert response.status_code == 403, who
        assert response.get_json()["error"]["code"] == "ForbiddenError"
    assert _upload(app.test_client(), {}).status_code == 401
    assert table_counts(engine)["problems"] == before


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ({"Authorization": "Bearer cg_notatoken"}, "invalid token"),
        ({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, "Bearer <token>"),
        ({"Authorization": "Bearer "}, "Bearer <token>"),
        ({"Authorization": "Bearer ' OR '1'='1"}, "invalid token"),
    ],
)
def test_bad_tokens_are_401(light, header, fragment) -> None:
    app, *_ = light
    response = app.test_client().get("/api/v1/problems?lang=en", headers=header)
    assert response.status_code == 401
    assert fragment in response.get_json()["error"]["message"]


def test_expired_and_revoked_tokens(city) -> None:
    app, engine, _, tokens = city
    client = app.test_client()
    assert client.get("/api/v1/problems", headers=tokens["city"]).status_code == 200
    with transaction(engine) as s:
        revoke_token(s, "nightly", "test")
        s.execute(
            sa.update(ApiToken)
            .where(ApiToken.name == "district-app")
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    revoked = client.get("/api/v1/problems?lang=en", headers=tokens["city"])
    expired = client.get("/api/v1/problems?lang=en", headers=tokens["district"])
    assert (revoked.status_code, expired.status_code) == (401, 401)
    assert "revoked" in revoked.get_json()["error"]["message"]
    assert "expired" in expired.get_json()["error"]["message"]
    with transaction(engine, write=False) as s:
        reasons = [e.detail for e in entries(s, "token_rejected")]
    assert any("revoked" in r for r in reasons) and any("expired" in r for r in reasons)


def test_tokens_do_not_open_pages(light) -> None:
    app, _, header = light
    assert app.test_client().get("/", headers=header).status_code == 302


def test_create_and_read_problems(city) -> None:
    app, _, _, tokens = city
    client = app.test_client()
    response = client.post(
        "/api/v1/problems", json={**NEW, "external_id": "N1"}, headers=tokens["grid"]
    )
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert item["grid"] == "329901001000001" and item["source"] == "api"
    assert response.headers["Location"] == f"/api/v1/problems/{item['id']}"
    again = client.post(
        "/api/v1/problems", json={**NEW, "external_id": "N1"}, headers=tokens["grid"]
    )
    assert again.status_code == 409
    read = client.get(response.headers["Location"], headers=tokens["grid"]).get_json()
    assert read["external_id"] == "N1"
    assert [(e["action"], e["actor"]) for e in read["events"]] == [("report", "token:grid-app")]
    page = client.get("/api/v1/problems?limit=1", headers=tokens["grid"]).get_json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["next"] == "/api/v1/problems?limit=1&offset=1"
    last = client.get(page["next"], headers=tokens["grid"]).get_json()
    assert last["next"] is None and last["items"][0]["external_id"] == "N1"


def test_token_with_a_narrower_scope_than_the_request(city) -> None:
    app, engine, ids, tokens = city
    client = app.test_client()
    before = table_counts(engine)["problems"]
    outside = client.post(
        "/api/v1/problems", json={**NEW, "lon": 120.92}, headers=tokens["district"]
    )
    assert outside.status_code == 403
    assert table_counts(engine)["problems"] == before
    for key in ("OUT1", "FAR1"):
        response = client.get(f"/api/v1/problems/{ids[key]}", headers=tokens["district"])
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "NotFoundError"
    for query in ("district=329902", "bbox=120.9,32.0,121.0,32.04", "grid=329902001000001", ""):
        body = client.get(f"/api/v1/problems?{query}", headers=tokens["district"])
        text = body.get_data(as_text=True)
        assert not [m for m in HIDDEN_FROM["district_officer"] if m in text], query
    assert (
        client.get("/api/v1/problems?district=329902", headers=tokens["district"]).get_json()[
            "total"
        ]
        == 0
    )


@pytest.mark.parametrize(
    "query",
    [
        "status=found'%20OR%20'1'='1",
        "district=329901'%20OR%201=1--",
        "category=litter;DROP%20TABLE%20problems",
        "bbox=1,2,3,4);--",
        "limit=10;DELETE",
        "offset=1%20OR%201=1",
    ],
)
def test_sql_metacharacters_in_filters(city, query) -> None:
    app, engine, _, tokens = city
    before = table_counts(engine)["problems"]
    response = app.test_client().get(f"/api/v1/problems?{query}", headers=tokens["city"])
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.get_json()["total"] == 0
    else:
        assert set(response.get_json()["error"]) == {"code", "message"}
    assert table_counts(engine)["problems"] == before


@pytest.mark.parametrize(
    ("body", "kwargs", "status"),
    [
        (None, {"data": "not json", "content_type": "application/json"}, 400),
        (None, {"json": [1, 2]}, 422),
        (None, {"json": {**NEW, "lat": "north"}}, 400),
        (None, {"json": {**NEW, "source": "../x"}}, 400),
        (None, {"json": {**NEW, "source": {"a": 1}}}, 400),
    ],
)
def test_bad_problem_bodies_give_json_errors(light, body, kwargs, status) -> None:
    app, _, header = light
    response = app.test_client().post("/api/v1/problems", headers=header, **kwargs)
    assert response.status_code == status
    assert set(response.get_json()["error"]) == {"code", "message"}


def test_json_404_and_405(light) -> None:
    app, _, header = light
    client = app.test_client()
    missing = client.get("/api/v1/nothing-here", headers=header)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong = client.delete("/api/v1/problems", headers=header)
    assert wrong.status_code == 405 and "error" in wrong.get_json()


def test_nul_characters_never_reach_the_database(city) -> None:
    """PostgreSQL refuses NUL in text: every entry point must refuse it first (found by
    schemathesis on PostGIS)."""
    app, engine, _, tokens = city
    client = app.test_client()
    before = table_counts(engine)["problems"]
    response = client.get("/api/v1/problems?campaign=a%00b", headers=tokens["city"])
    assert response.status_code == 400 and "'campaign'" in response.get_json()["error"]["message"]
    english = {**tokens["city"], "Accept-Language": "en"}
    response = client.get("/api/v1/problems?campaign=a%00b", headers=english)
    assert response.status_code == 400 and "NUL" in response.get_json()["error"]["message"]
    body = {**NEW, "description": "a\x00b"}
    assert client.post("/api/v1/problems", json=body, headers=tokens["city"]).status_code == 400
    late_nul = SURVEY + "S3,120.82,32.01,litter,2024-06-01," + "x" * 9000 + "\x00\n"
    response = _upload(client, tokens["city"], late_nul)
    assert response.status_code == 415 and "空字符" in response.get_json()["error"]["message"]
    response = _upload(client, english, late_nul)
    assert response.status_code == 415 and "NUL" in response.get_json()["error"]["message"]
    assert table_counts(engine)["problems"] == before
    login = client.post("/login", data={"username": "a\x00b", "password": "x"})
    assert login.status_code == 400


def test_a_total_beyond_the_cap_is_not_counted(city, monkeypatch: pytest.MonkeyPatch) -> None:
    """Totals are counted up to COUNT_CAP (an exact count of millions costs more than the
    page): beyond, null with total_more_than, and a full page still has a next link."""
    app, _, _, tokens = city
    client = app.test_client()
    exact = client.get("/api/v1/problems?limit=2", headers=tokens["city"]).get_json()
    assert exact["total"] > 3 and "total_more_than" not in exact
    monkeypatch.setattr(export_query, "COUNT_CAP", 3)
    capped = client.get("/api/v1/problems?limit=2", headers=tokens["city"]).get_json()
    assert capped["total"] is None and capped["total_more_than"] == 3
    assert capped["items"] == exact["items"]
    assert capped["next"] == "/api/v1/problems?limit=2&offset=2"
    last = f"/api/v1/problems?limit=2&offset={exact['total'] - 1}"
    assert client.get(last, headers=tokens["city"]).get_json()["next"] is None  # not full
