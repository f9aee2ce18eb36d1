"""Login, logout, sessions, CSRF, rate limit, secret key, public demo, security headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from geo.access.users import set_disabled, set_password
from geo.core.errors import ConfigError
from geo.storage.db import transaction
from tests.helpers import (
    TEST_PASSWORD,
    XSS,
    add_user,
    csrf_token,
    load_tiny_city_with_points,
    login_client,
    raises_msg,
    table_counts,
)
from web import create_app, database


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    with app.app_context():
        load_tiny_city_with_points(database.engine(), tmp_path)
        add_user(database.engine(), "alice", "city_officer")
    return app


def _engine(app: Flask):
    with app.app_context():
        return database.engine()


def test_anonymous_users_see_only_the_login_page(city_app: Flask) -> None:
    client = city_app.test_client()
    response = client.get("/?lang=en")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/?lang%3Den"
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "登录" in html and "用户名" in html  # Chinese default
    assert "Username" in client.get("/login?lang=en").get_data(as_text=True)
    for path in ("/api/v1/areas", "/api/v1/points", "/api/v1/problems", "/api/v1/problems/1"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "AuthenticationError"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/static/civicgrid.css").status_code == 200
    assert client.get("/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_login_and_logout(city_app: Flask) -> None:
    client = city_app.test_client()
    response = login_client(client, "ALICE")  # usernames are case-insensitive
    assert response.status_code == 302 and response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert "测试city_officer" in html and "市创建办" in html and "退出" in html
    assert client.get("/login").status_code == 302  # already logged in
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    actions = _audit_actions(city_app)
    assert actions[:2] == ["logout", "login"]


def _audit_actions(app: Flask) -> list[str]:
    from geo.access.audit import entries

    with transaction(_engine(app), write=False) as s:
        return [e.action for e in entries(s)]


def test_login_keeps_next_but_never_redirects_off_site(city_app: Flask) -> None:
    for target, expected in [
        ("/api/v1/points?lang=en", "/api/v1/points?lang=en"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ]:
        client = city_app.test_client()
        token = csrf_token(client)
        response = client.post(
            "/login",
            data={
                "username": "alice",
                "password": TEST_PASSWORD,
                "next": target,
                "csrf_token": token,
            },
        )
        assert response.headers["Location"] == expected, target


def test_wrong_password_and_unknown_user_look_the_same(city_app: Flask) -> None:
    client = city_app.test_client()
    wrong = login_client(client, "alice", "not-the-password")
    unknown = login_client(client, "nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 200
    for response in (wrong, unknown):
        assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert _audit_actions(city_app)[:2] == ["login_failed", "login_failed"]


def test_disabled_user_cannot_log_in_and_is_logged_out(city_app: Flask) -> None:
    client = city_app.test_client()
    login_client(client, "alice")
    assert client.get("/").status_code == 200
    with transaction(_engine(city_app)) as s:
        set_disabled(s, "alice", True, "test")
    assert client.get("/").status_code == 302  # the running session ends at once
    response = login_client(city_app.test_client(), "alice")
    assert response.status_code == 200 and "账号已停用" in response.get_data(as_text=True)
    english = city_app.test_client()
    english.get("/login?lang=en")
    response = login_client(english, "alice")
    assert response.status_code == 200 and "this account is disabled" in response.get_data(
        as_text=True
    )


def test_password_change_ends_other_sessions(city_app: Flask) -> None:
    client = city_app.test_client()
    login_client(client, "alice")
    with transaction(_engine(city_app)) as s:
        set_password(s, "alice", "a-brand-new-password", "test")
    assert client.get("/").status_code == 302


def test_login_rate_limited(city_app: Flask) -> None:
    client = city_app.test_client()
    for _ in range(5):
        assert login_client(client, "alice", "guess-guess").status_code == 200
    blocked = login_client(client, "alice")  # right password, still refused
    assert blocked.status_code == 429
    assert "15 分钟" in blocked.get_data(as_text=True)
    other = city_app.test_client()  # same address, other user: not limited
    add_user(_engine(city_app), "bob", "planner")
    assert login_client(other, "bob").status_code == 302
    assert "login_blocked" in _audit_actions(city_app)


def test_login_limit_setting(engine, tmp_path) -> None:
    app = create_app(
        {"DATABASE_URL": engine.url.render_as_string(False), "TESTING": True, "LOGIN_ATTEMPTS": 2}
    )
    add_user(engine, "carol", "planner")
    client = app.test_client()
    for _ in range(2):
        login_client(client, "carol", "wrong-wrong")
    assert login_client(client, "carol").status_code == 429


def test_csrf_less_posts_are_refused(city_app: Flask) -> None:
    client = city_app.test_client()
    response = client.post("/login", data={"username": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in
    login_client(client, "alice")
    before = table_counts(_engine(city_app))
    body = {"lon": 120.82, "lat": 32.01, "category": "litter", "found_at": "2024-05-01"}
    response = client.post("/api/v1/problems", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    forged = client.post("/api/v1/problems", json=body, headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still logged in: logout needs the token too
    assert table_counts(_engine(city_app)) == before
    ok = client.post(
        "/api/v1/problems", json=body, headers={"X-CSRFToken": csrf_token(client, "/")}
    )
    assert ok.status_code == 201


def test_session_cookie_flags(city_app: Flask, engine) -> None:
    response = login_client(city_app.test_client(), "alice")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    https = create_app(
        {"DATABASE_URL": engine.url.render_as_string(False), "TESTING": True, "HTTPS": True}
    )
    client = https.test_client()
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"username": "alice", "password": TEST_PASSWORD, "csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_security_headers_on_every_response(city_app: Flask) -> None:
    client = city_app.test_client()
    login_client(client, "alice")
    for path in ("/", "/login", "/api/v1/points", "/static/civicgrid.css", "/nope"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self' 'nonce-" in csp and "unsafe-inline' " not in csp.split(";")[1]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert client.get("/api/v1/points").headers["Cache-Control"] == "no-store"


def test_every_inline_script_carries_this_requests_nonce(city_app: Flask) -> None:
    client = city_app.test_client()
    login_client(client, "alice")
    response = client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    html = response.get_data(as_text=True)
    tags = re.findall(r"<(?:script|style)\b[^>]*>", html)
    assert tags and all(f'nonce="{nonce}"' in tag for tag in tags), tags
    assert nonce not in client.get("/").headers["Content-Security-Policy"]  # fresh each time


def test_tile_host_allowed_for_images(engine) -> None:
    from web.security.guard import tile_source

    assert tile_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == (
        "https://tile.openstreetmap.org"
    )
    assert tile_source("https://webrd0{s}.is.autonavi.com/x?z={z}") == "https://*.is.autonavi.com"
    assert tile_source("http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png") == "http://10.1.2.3:8080"
    app = create_app(
        {
            "DATABASE_URL": engine.url.render_as_string(False),
            "TESTING": True,
            "BASEMAP": "custom",
            "TILE_URL": "https://tiles.example.gov.cn/{z}/{x}/{y}.png",
        }
    )
    csp = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tiles.example.gov.cn;" in csp
    assert "script-src 'self' 'nonce-" in csp  # scripts never from the tile host


def test_secret_key_is_required_outside_debug_tests_and_demo(engine, monkeypatch) -> None:
    url = engine.url.render_as_string(False)
    monkeypatch.delenv("CIVICGRID_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="CIVICGRID_SECRET_KEY"):
        create_app({"DATABASE_URL": url})
    for weak in ("dev-only-insecure-key", "short"):
        with pytest.raises(ConfigError, match="16"):
            create_app({"DATABASE_URL": url, "SECRET_KEY": weak})
    ok = create_app({"DATABASE_URL": url, "SECRET_KEY": "x" * 32})
    assert ok.config["SECRET_KEY"] == "x" * 32
    for flag in ("DEBUG", "TESTING", "DEMO"):
        app = create_app({"DATABASE_URL": url, flag: True})
        assert len(app.config["SECRET_KEY"]) >= 32  # random, never a known default
    assert (
        create_app({"DATABASE_URL": url, "DEMO": True}).config["SECRET_KEY"]
        != (create_app({"DATABASE_URL": url, "DEMO": True}).config["SECRET_KEY"])
    )


def test_public_demo_mode(engine, tmp_path) -> None:
    url = engine.url.render_as_string(False)
    with raises_msg(ConfigError, "only allowed for the demo"):
        create_app({"DATABASE_URL": url, "SECRET_KEY": "y" * 32, "PUBLIC_DEMO": True})
    load_tiny_city_with_points(engine, tmp_path)
    app = create_app({"DATABASE_URL": url, "DEMO": True, "PUBLIC_DEMO": True})
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200 and "公开演示访客" in page.get_data(as_text=True)
    assert len(client.get("/api/v1/points").get_json(force=True)["features"]) == 3
    token = csrf_token(client, "/")
    body = {"lon": 120.82, "lat": 32.01, "category": "litter", "found_at": "2024-05-01"}
    response = client.post("/api/v1/problems", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 403  # read-only
    off = create_app({"DATABASE_URL": url, "DEMO": True})
    assert off.test_client().get("/").status_code == 302  # off by default


def test_xss_in_login_form_is_escaped(city_app: Flask) -> None:
    client = city_app.test_client()
    response = login_client(client, XSS)
    html = response.get_data(as_text=True)
    assert XSS not in html and "&lt;img src=x" in html


def test_login_is_throttled_per_address_too(engine) -> None:
    """Many usernames from one address: blocked after LOGIN_ADDRESS_ATTEMPTS failures,
    with the same 429 and audit entries; another address is not affected."""
    app = create_app(
        {
            "DATABASE_URL": engine.url.render_as_string(False),
            "TESTING": True,
            "LOGIN_ADDRESS_ATTEMPTS": 3,
        }
    )
    add_user(engine, "carol", "planner")
    client = app.test_client()
    for name in ("u1", "u2", "u3"):
        assert login_client(client, name, "wrong-wrong-wrong").status_code == 200
    blocked = login_client(client, "carol")  # a right password, still refused
    assert blocked.status_code == 429
    assert "login_blocked" in _audit_actions(app)
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert login_client(elsewhere, "carol").status_code == 302
