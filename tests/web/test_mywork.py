"""The phone app (issue 17): the header menu, /my, /report and its intake, the manifest
and the service worker; every bad report is refused with its reason and writes nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.core.text import tr
from geo.storage.models import Problem, ProblemEvent
from tests.helpers import csrf_token, ensure_user, login_client, table_counts
from tests.lifecycle_data import load_lifecycle_city, problem_id

GRID = "grid:329901001001001"  # 东门一网格: problems A1-A3 and C1 lie in it


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    app.config["PHOTO_DIR"] = str(tmp_path / "photos")
    app.config["PHOTO_MAX_MB"] = 0.05
    with app.app_context():
        load_lifecycle_city(database.engine(), tmp_path)
    return app


def _engine(app: Flask):
    from web import database

    with app.app_context():
        return database.engine()


def _as(app: Flask, role: str, scope: list[str] | None = None):
    client = app.test_client()
    login_client(client, ensure_user(app, role, scope))
    return client


def _png(size: int = 8) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def _noise_png() -> bytes:
    """A PNG of random pixels: about 120 kB, more than the tests' 50 kB limit."""
    import os

    from PIL import Image

    buffer = io.BytesIO()
    Image.frombytes("RGB", (200, 200), os.urandom(120_000)).save(buffer, format="PNG")
    return buffer.getvalue()


def _report(client, client_id: str = "c1-0000-aaaa", **fields):
    data = {"client_id": client_id, "category": "litter", "lon": "120.81", "lat": "32.011"}
    data.update(fields)
    return client.post(
        "/api/v1/reports",
        data=data,
        headers={"X-CSRFToken": csrf_token(client, "/my")},
        content_type="multipart/form-data",
    )


def _mobile_problems(app: Flask) -> list[tuple[int, str]]:
    with _engine(app).connect() as conn:
        stmt = sa.select(Problem.id, Problem.status).where(Problem.source == "mobile")
        return [tuple(r) for r in conn.execute(stmt)]


# --- the header menu -------------------------------------------------------------------


def _menu(html: str) -> list[str]:
    import re

    nav = html.split('class="cg-menu-list"', 1)[1].split("</nav>", 1)[0]
    return [h for h in re.findall(r'href="([^"]+)"', nav) if not h.startswith("?")]


def test_menu_shows_only_what_the_role_may_see(city_app: Flask) -> None:
    grid = _menu(_as(city_app, "grid_manager", [GRID]).get("/rankings").get_data(as_text=True))
    assert grid == [
        "/",
        "/my",
        "/report",
        "/inbox",
        "/rankings",
        "/scores",
        "/rounds",
        "/bulletins",
        "/dashboard",
        "/hotspots",
        "/ogcapi/",
    ]
    planner = _menu(_as(city_app, "planner").get("/").get_data(as_text=True))
    assert "/report" not in planner and "/my" in planner


def test_menu_leaves_out_pages_the_app_does_not_have(
    city_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from web.pages import nav

    ghost = nav.NavEntry("nowhere.index", tr("不存在", "Nowhere"))
    monkeypatch.setattr(nav, "ENTRIES", (*nav.ENTRIES, ghost))
    html = _as(city_app, "city_officer").get("/my").get_data(as_text=True)
    assert "不存在" not in html and "/bulletins" in _menu(html)
    assert 'action="/search"' in html and 'name="q"' in html


# --- /my ---------------------------------------------------------------------------------


def test_a_grid_manager_lands_on_my_work(city_app: Flask) -> None:
    client = city_app.test_client()
    response = login_client(client, ensure_user(city_app, "grid_manager", [GRID]))
    assert response.status_code == 302 and response.headers["Location"] == "/my"
    assert client.get("/login").headers["Location"] == "/my"  # already logged in
    assert client.get("/login?next=/rankings").headers["Location"] == "/rankings"
    other = city_app.test_client()
    login_client(other, ensure_user(city_app, "planner"))
    assert other.get("/login").headers["Location"] == "/"  # the desk roles: the overview


def test_my_work_counts_and_lists_the_grid_managers_problems(city_app: Flask) -> None:
    client = _as(city_app, "grid_manager", [GRID])
    html = client.get("/my").get_data(as_text=True)
    assert 'data-testid="count-overdue">1<' in html  # C1, due 11 Nov 2026
    assert 'data-testid="count-found">3<' in html  # A1-A3
    assert f"/problems/{problem_id(_engine(city_app), 'C1')}" in html
    markers = client.get("/api/v1/my/markers").get_json()
    states = sorted(f["properties"]["state"] for f in markers["features"])
    assert states == ["found", "found", "found", "overdue"]  # nothing of the other grids


# --- /report -----------------------------------------------------------------------------


def test_a_report_sent_three_times_after_lost_responses_creates_one_problem(
    city_app: Flask,
) -> None:
    client = _as(city_app, "grid_manager", [GRID])
    first = _report(client, description="垃圾堆", point_code="")
    assert first.status_code == 201, first.get_data(as_text=True)
    again = [_report(client, description="垃圾堆") for _ in range(3)]
    assert [r.status_code for r in again] == [200, 200, 200]
    assert {r.get_json()["id"] for r in again} == {first.get_json()["id"]}
    assert _mobile_problems(city_app) == [(first.get_json()["id"], "found")]


def test_fixed_on_the_spot_is_found_and_rectified_with_both_photos(city_app: Flask) -> None:
    client = _as(city_app, "grid_manager", [GRID])
    response = _report(
        client,
        fixed="1",
        note="当场清理",
        photo=(io.BytesIO(_png()), "before.png"),
        after=(io.BytesIO(_png()), "after.png"),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    pid = response.get_json()["id"]
    with _engine(city_app).connect() as conn:
        events = conn.execute(
            sa.select(ProblemEvent.action, ProblemEvent.to_status, ProblemEvent.photo)
            .where(ProblemEvent.problem_id == pid)
            .order_by(ProblemEvent.id)
        ).all()
    assert [(a, s) for a, s, _ in events] == [("report", "found"), ("rectify", "rectified")]
    assert all(photo for _, _, photo in events)
    page = client.get(f"/problems/{pid}").get_data(as_text=True)
    assert "当场清理" in page and 'data-testid="before-after"' in page
    assert "测试grid_manager" in page and "user:test-grid-manager" not in page  # display name
    assert "等待创建办核查销号" in page  # the grid manager is told who acts next
    timeline = page.split('data-testid="timeline"', 1)[1].split("</ol>", 1)[0]
    assert timeline.count("<li") == 2  # the report is the finding: no second "found" row
    assert "<b>上报</b>" in timeline and "<b>整改</b>" in timeline and ">report<" not in timeline


def test_a_grid_manager_on_a_found_problem_is_told_what_happens_next(city_app: Flask) -> None:
    client = _as(city_app, "grid_manager", [GRID])
    page = client.get(f"/problems/{problem_id(_engine(city_app), 'A1')}").get_data(as_text=True)
    assert "等待创建办交办" in page and "即查即改" in page


def test_a_phone_report_reads_as_such_without_its_client_id(city_app: Flask) -> None:
    client = _as(city_app, "grid_manager", [GRID])
    created = _report(client, client_id="c1-label-0001")
    assert created.status_code == 201, created.get_data(as_text=True)
    [(pid, _)] = _mobile_problems(city_app)
    page = client.get(f"/problems/{pid}").get_data(as_text=True)
    source = page.split('data-testid="source">', 1)[1].split("</dd>", 1)[0]
    assert source == "手机上报"
    assert "c1-label-0001" not in page and "mobile" not in source
    english = client.get(f"/problems/{pid}?lang=en").get_data(as_text=True)
    assert 'data-testid="source">Phone report</dd>' in english
    # the API and exports keep the internal source and id
    api = client.get(f"/api/v1/problems/{pid}").get_json()
    assert api["source"] == "mobile" and api["external_id"] == "c1-label-0001"
    # a survey's own source name is shown as it is
    other = problem_id(_engine(city_app), "A1")
    with _engine(city_app).begin() as conn:
        conn.execute(sa.update(Problem).where(Problem.id == other).values(source="team-a"))
    page = client.get(f"/problems/{other}").get_data(as_text=True)
    assert 'data-testid="source">team-a</dd>' in page


BAD_REPORTS = [
    ({"photo": lambda: (io.BytesIO(b"%PDF-1.4 not an image"), "x.jpg")}, 400, "not a valid image"),
    ({"photo": lambda: (io.BytesIO(_noise_png()), "big.png")}, 400, "too large"),
    ({"lon": "120.96", "lat": "32.02"}, 403, "outside your scope"),
    ({"client_id": "bad id!"}, 400, "client_id"),
    ({"fixed": "1", "note": " "}, 400, "note is required"),
    ({"category": "no_such"}, 400, "category"),
]


@pytest.mark.parametrize(("fields", "status", "message"), BAD_REPORTS)
def test_a_bad_report_is_refused_with_its_reason_and_writes_nothing(
    city_app: Flask, fields: dict, status: int, message: str
) -> None:
    client = _as(city_app, "grid_manager", [GRID])
    token = csrf_token(client, "/my")  # /my also files the inbox's notices: before counting
    before = table_counts(_engine(city_app))
    fields = {k: v() if callable(v) else v for k, v in fields.items()}
    client_id = fields.pop("client_id", "c1-bad-0001")
    response = client.post(
        "/api/v1/reports?lang=en",
        data={"client_id": client_id, "category": "litter", "lon": "120.81", "lat": "32.011"}
        | fields,
        headers={"X-CSRFToken": token, "Accept-Language": "en"},
        content_type="multipart/form-data",
    )
    assert response.status_code == status
    assert message in response.get_json()["error"]["message"]
    assert table_counts(_engine(city_app)) == before
    photos = Path(city_app.config["PHOTO_DIR"])
    assert not photos.exists() or not any(p.is_file() for p in photos.rglob("*"))


def test_a_report_after_the_session_expired_asks_to_log_in(city_app: Flask) -> None:
    client = _as(city_app, "grid_manager", [GRID])
    token = csrf_token(client, "/my")
    client.post("/logout", data={"csrf_token": token})
    response = client.post(
        "/api/v1/reports", data={"client_id": "c1-late-0001"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 401
    assert _mobile_problems(city_app) == []


def test_nearby_points_come_nearest_first_within_scope(city_app: Flask) -> None:
    client = _as(city_app, "grid_manager", [GRID])
    body = client.get("/api/v1/reports/points?lon=120.82&lat=32.01").get_json()
    distances = [p["distance_m"] for p in body["points"]]
    assert distances == sorted(distances) and all(d <= 500 for d in distances)
    assert body["in_scope"] and not body["outside"]
    elsewhere = client.get("/api/v1/reports/points?lon=120.92&lat=32.01").get_json()
    assert elsewhere == {"points": [], "outside": False, "in_scope": False}
    assert client.get("/api/v1/reports/points?lon=125&lat=32").get_json()["outside"]
    bad = client.get("/api/v1/reports/points?lon=abc&lat=32")
    assert bad.status_code == 400 and "lon" in bad.get_json()["error"]["message"]


def test_the_planner_may_not_report(city_app: Flask) -> None:
    client = _as(city_app, "planner")
    assert client.get("/report").status_code == 403
    assert _report(client).status_code == 403


def test_manifest_and_service_worker_come_from_the_app_origin(client) -> None:
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.get_json()["start_url"] == "/my"
    worker = client.get("/sw.js")
    assert worker.mimetype == "text/javascript" and b'addEventListener("fetch"' in worker.data


# --- the inbox ---------------------------------------------------------------------------


def _inbox_rows(app: Flask) -> list[tuple]:
    from geo.storage.access_models import InboxItem

    with _engine(app).connect() as conn:
        stmt = sa.select(InboxItem.user_id, InboxItem.kind, InboxItem.problem_id, InboxItem.read_at)
        return sorted(conn.execute(stmt).all(), key=str)


def test_inbox_notices_arrive_once_and_are_read_per_user(city_app: Flask) -> None:
    from geo.lifecycle import transitions as lifecycle
    from geo.lifecycle.changes import Change
    from geo.lifecycle.selection import Selection

    engine = _engine(city_app)
    a1 = problem_id(engine, "A1")
    lifecycle.apply(
        engine, Selection(ids=(a1,)), Change("assign", "user:someone", unit="东门街道办事处")
    )
    client = _as(city_app, "grid_manager", [GRID])
    html = client.get("/my").get_data(as_text=True)
    assert 'data-testid="unread">3<' in html  # A1 assigned and due tomorrow, C1 overdue
    client.get("/my")
    client.get("/inbox")
    assert len(_inbox_rows(city_app)) == 3  # refreshed three times, stored once
    page = client.get("/inbox").get_data(as_text=True)
    assert "辖区问题已交办 · #" + str(a1) in page and "已超期" in page

    other = _as(city_app, "district_officer")
    other.get("/inbox")
    token = csrf_token(client, "/inbox")
    before = _inbox_rows(city_app)
    bad = client.post("/inbox/read", data={"csrf_token": token, "id": "abc"})
    assert bad.status_code == 400 and _inbox_rows(city_app) == before

    client.post("/inbox/read", data={"csrf_token": token})  # all of mine
    html = client.get("/my").get_data(as_text=True)
    assert 'data-testid="unread"' not in html
    mine_read = [r for r in _inbox_rows(city_app) if r[3] is not None]
    assert len(mine_read) == 3  # the district officer's notices stay unread
    assert any(r[3] is None for r in _inbox_rows(city_app))


def test_points_nearby_and_round_visits_to_do(city_app: Flask, tmp_path: Path) -> None:
    from datetime import date, timedelta

    from geo.areas.points import load_points
    from geo.rounds.rounds import RoundSpec, create_round
    from geo.storage.db import transaction
    from tests.helpers import POINTS, write_geojson
    from web import database

    engine = _engine(city_app)
    load_points(engine, write_geojson(tmp_path / "points.geojson", POINTS))
    today = date.today()
    with city_app.app_context(), transaction(engine) as session:
        spec = RoundSpec("十二月暗访", today - timedelta(days=1), today + timedelta(days=9))
        create_round(session, spec, database.taxonomy())
    client = _as(city_app, "grid_manager", [GRID])
    near = client.get("/api/v1/reports/points?lon=120.8205&lat=32.0105").get_json()["points"]
    assert [p["code"] for p in near] == ["P1"] and 0 < near[0]["distance_m"] < 100
    assert near[0]["kind"] == "market"  # the form lists the market's categories first
    html = client.get("/my").get_data(as_text=True)
    assert 'data-testid="rounds-to-do"' in html and "十二月暗访" in html
    assert "待走访 1 / 1" in html  # only P1 lies in the grid manager's grid


def test_two_sends_of_one_report_at_once_make_one_problem(city_app: Flask, monkeypatch) -> None:
    """The second send looked before the first committed: the intake refuses the
    duplicate, and the answer is the problem the first send made."""
    from geo.ingest import fieldreport

    client = _as(city_app, "grid_manager", [GRID])
    first = _report(client, client_id="c1-race-0001")
    real = fieldreport.existing_report
    calls: list[int] = []

    def late_look(*args, **kwargs):
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(fieldreport, "existing_report", late_look)
    second = _report(client, client_id="c1-race-0001")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json()["id"] == first.get_json()["id"]
    assert len(_mobile_problems(city_app)) == 1
