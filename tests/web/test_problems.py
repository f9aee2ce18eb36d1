"""The problem page, its lifecycle forms (CSRF, notes, versions, photos) and bulk assign."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.storage.models import Problem, ProblemEvent
from tests.helpers import XSS, signed_in, table_counts
from tests.lifecycle_data import load_lifecycle_city, problem_id


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    app.config["PHOTO_DIR"] = str(tmp_path / "photos")
    app.config["PHOTO_MAX_MB"] = 0.05
    with app.app_context():
        engine = database.engine()
        load_lifecycle_city(engine, tmp_path)
        with engine.begin() as conn:
            conn.execute(
                sa.update(Problem).where(Problem.external_id == "A1").values(description=XSS)
            )
    return app


def _engine(app: Flask):
    from web import database

    with app.app_context():
        return database.engine()


def _token(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _state(app: Flask):
    engine = _engine(app)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Problem.id, Problem.status, Problem.version)).all()
    return table_counts(engine), sorted(rows)


def _png(size: int = 8) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_found_problem_page_offers_assign_only_and_escapes_text(city_app: Flask) -> None:
    pid = problem_id(_engine(city_app), "A1")
    html = signed_in(city_app).get(f"/problems/{pid}").get_data(as_text=True)
    assert 'data-testid="form-assign"' in html and 'data-testid="form-rectify"' not in html
    assert XSS not in html and "&lt;img src=x" in html
    assert "暴露垃圾" in html and "东门街道" in html and "/vendor/leaflet/leaflet.js" in html
    assert "东门街道办事处" in html  # unit choices


def test_walk_found_to_closed_through_forms(city_app: Flask) -> None:
    client = signed_in(city_app)
    pid = problem_id(_engine(city_app), "A1")
    url = f"/problems/{pid}"
    steps = [
        ("assign", {"unit": "东门街道办事处", "version": "1"}),
        ("rectify", {"note": "已清理", "version": "2"}),
        ("close", {"note": "复核通过", "version": "3"}),
    ]
    for action, data in steps:
        response = client.post(f"{url}/{action}", data={**data, "csrf_token": _token(client, url)})
        assert response.status_code == 302, response.get_data(as_text=True)
    html = client.get(url).get_data(as_text=True)
    assert "已销号" in html and "复核通过" in html
    # who acted: the signed-in user (no form field), shown by display name (issue 17)
    assert "测试city_officer" in html and "user:test-city-officer" not in html
    assert 'data-testid="form-reopen"' in html


def test_reopen_sets_the_deadline_asked_for(city_app: Flask) -> None:
    client = signed_in(city_app)
    pid = problem_id(_engine(city_app), "C2")
    url = f"/problems/{pid}"
    html = client.get(url).get_data(as_text=True)
    form = html[html.index('data-testid="form-reopen"') :]
    assert 'name="deadline"' in form.split("</form>")[0] and "required" in form.split("</form>")[0]
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=9)).date()
    data = {"note": "复核不合格", "deadline": day.isoformat(), "version": "1"}
    response = client.post(f"{url}/reopen", data={**data, "csrf_token": _token(client, url)})
    assert response.status_code == 302, response.get_data(as_text=True)
    shown = client.get(url).get_data(as_text=True)
    assert f'data-testid="deadline">{day.isoformat()} 23:59' in shown


EN = {"Accept-Language": "en"}
CJK = re.compile(r"[\u4e00-\u9fff]")
BAD_FORMS = [
    ("C1", "rectify", {"version": "1"}, 400, "note is required"),
    ("C1", "rectify", {"note": "x", "version": "9"}, 409, "reload"),
    ("A1", "close", {"note": "x", "version": "1"}, 409, "cannot close"),
    (
        "A1",
        "assign",
        {"unit": "无此单位", "version": "1"},
        400,
        "unknown responsible unit",
    ),
    (
        "A1",
        "assign",
        {"unit": "东门街道办事处", "deadline": "2020-01-01", "version": "1"},
        400,
        "in the past",
    ),
    (
        "A1",
        "assign",
        {"unit": "东门街道办事处", "deadline": "2026-02-30", "version": "1"},
        400,
        "deadline",
    ),
    ("A1", "explode", {"version": "1"}, 404, "未知的操作：explode"),
    # a reopen asks for the new deadline: required, a real date, not before today
    ("C3", "reopen", {"note": "反弹", "version": "1"}, 400, "返工需要填写新的整改时限"),
    (
        "C3",
        "reopen",
        {"note": "反弹", "deadline": "2026-02-30", "version": "1"},
        400,
        "新的整改时限",
    ),
    (
        "C3",
        "reopen",
        {"note": "反弹", "deadline": "2020-01-01", "version": "1"},
        400,
        "新的整改时限 2020-01-01 早于今天",
    ),
]


def test_bad_form_input_is_refused_and_changes_nothing(city_app) -> None:
    client = signed_in(city_app)
    before = _state(city_app)
    for external, action, data, status, message in BAD_FORMS:
        pid = problem_id(_engine(city_app), external)
        token = _token(client, f"/problems/{pid}")
        form = {**data, "csrf_token": token}
        headers = {} if CJK.search(message) else EN  # the message's language
        response = client.post(f"/problems/{pid}/{action}", data=form, headers=headers)
        assert response.status_code == status, (action, data)
        assert message in response.get_data(as_text=True)
        assert _state(city_app) == before


def test_missing_csrf_token_is_refused(city_app: Flask) -> None:
    pid = problem_id(_engine(city_app), "C1")
    client = signed_in(city_app)
    before = _state(city_app)
    response = client.post(f"/problems/{pid}/rectify", data={"note": "x", "version": "1"})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert _state(city_app) == before


def test_unknown_problem_is_404(city_app: Flask) -> None:
    assert signed_in(city_app).get("/problems/424242").status_code == 404
    assert signed_in(city_app).get("/api/v1/problems/424242/location").status_code == 404


def test_photo_is_stored_shown_and_served(city_app: Flask, tmp_path: Path) -> None:
    client = signed_in(city_app)
    pid = problem_id(_engine(city_app), "C1")
    data = {
        "actor": "网格员",
        "note": "已整改",
        "version": "1",
        "photo": (io.BytesIO(_png()), "a.png"),
    }
    data["csrf_token"] = _token(client, f"/problems/{pid}")
    assert client.post(f"/problems/{pid}/rectify", data=data).status_code == 302
    html = client.get(f"/problems/{pid}").get_data(as_text=True)
    src = re.search(r'<img class="cg-photo" src="([^"]+)"', html).group(1)
    served = client.get(src)
    assert served.status_code == 200 and served.data == _png()
    # Only for whoever may see the problem: the browser's cache, never a shared one.
    assert served.headers["Cache-Control"] == "private, max-age=3600"
    assert {"Authorization", "Cookie"} <= set(served.vary)
    assert len(list((tmp_path / "photos" / str(pid)).iterdir())) == 1
    assert client.get(f"/problems/{pid}/photos/{pid}/../../secret.png").status_code == 404


BAD_PHOTOS = [
    (b"%PDF-1.4 not an image at all", "not a valid image"),
    (b"GIF89a" + b"\x00" * 20, "not a valid image"),
    (None, "photo too large"),
]


def test_bad_photos_are_refused_and_leave_nothing(city_app, tmp_path) -> None:
    client = signed_in(city_app)
    pid = problem_id(_engine(city_app), "C1")
    before = _state(city_app)
    for payload, message in BAD_PHOTOS:
        body = payload if payload is not None else _png(400) + b"\x00" * 60_000
        data = {"note": "x", "version": "1", "photo": (io.BytesIO(body), "x.png")}
        data["csrf_token"] = _token(client, f"/problems/{pid}")
        response = client.post(f"/problems/{pid}/rectify", data=data, headers=EN)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
        assert _state(city_app) == before
        photos = tmp_path / "photos"
        assert not photos.exists() or not any(photos.rglob("*.*"))


def test_bulk_assign_from_the_area_page(city_app: Flask) -> None:
    client = signed_in(city_app)
    page = "/areas/street/329901001/assign"
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="bulk-assign"' in html and "暴露垃圾/环境卫生差 2" in html
    data = {
        "level": "street",
        "code": "329901001",
        "category": "litter",
        "unit": "东门街道办事处",
        "actor": "街道创建办",
        "next": page,
        "csrf_token": _token(client, page),
    }
    response = client.post("/problems/bulk-assign", data=data, follow_redirects=True)
    assert "已交办 2 个问题" in response.get_data(as_text=True)
    with _engine(city_app).connect() as conn:
        events = conn.execute(sa.select(sa.func.count(ProblemEvent.id))).scalar_one()
    assert events == 2


def test_bulk_assign_with_unknown_unit_changes_nothing(city_app: Flask) -> None:
    client = signed_in(city_app)
    page = "/areas/street/329901001/assign"
    before = _state(city_app)
    data = {
        "level": "street",
        "code": "329901001",
        "unit": "无此单位",
        "actor": "甲",
        "next": page,
        "csrf_token": _token(client, page),
    }
    response = client.post("/problems/bulk-assign", data=data, follow_redirects=True)
    assert "未知的责任单位" in response.get_data(as_text=True)
    data["csrf_token"] = _token(client, page)
    response = client.post("/problems/bulk-assign?lang=en", data=data, follow_redirects=True)
    assert "unknown responsible unit" in response.get_data(as_text=True)
    assert _state(city_app) == before


def test_area_page_errors(city_app: Flask) -> None:
    client = signed_in(city_app)
    assert client.get("/areas/street/000/assign").status_code == 404
    assert client.get("/areas/planet/1/assign").status_code == 400


def _unit_options(html: str, testid: str) -> list[str]:
    form = html[html.index(f'data-testid="{testid}"') :]
    select = form[form.index('name="unit"') :].split("</select>")[0]
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_assign_forms_list_the_areas_units_first_and_suggest_from_past_assignments(
    city_app: Flask,
) -> None:
    client = signed_in(city_app)
    a1, a2 = (problem_id(_engine(city_app), e) for e in ("A1", "A2"))
    html = client.get(f"/problems/{a1}").get_data(as_text=True)
    options = _unit_options(html, "form-assign")
    # street 东门街道 of district 云溪区: its street office and district department first
    assert options[1:3] == ["东门街道办事处（本区域）", "云溪区城管局（本区域）"] or options[
        1:3
    ] == [
        "云溪区城管局（本区域）",
        "东门街道办事处（本区域）",
    ]
    assert options[3:] == ["枫桥区市场监管局"]
    url = f"/problems/{a1}"
    data = {"unit": "云溪区城管局", "version": "1", "csrf_token": _token(client, url)}
    assert client.post(f"{url}/assign", data=data).status_code == 302
    html = client.get(f"/problems/{a2}").get_data(as_text=True)  # litter, same street
    hint = html[html.index('data-testid="unit-suggestion"') :].split("</small>")[0]
    assert "建议：云溪区城管局" in hint and "本区域此类问题有 1 次" in hint
    assert "类别目录未指定责任单位" in hint
    assert re.search(r'<option selected value="云溪区城管局">', html)
    bulk = client.get("/areas/street/329901001/assign").get_data(as_text=True)
    assert _unit_options(bulk, "bulk-assign")[1].endswith("（本区域）")
    assert "本区域问题有 1 次" in bulk
