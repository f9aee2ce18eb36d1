"""The authorisation matrix: every route × every principal × in-scope / out-of-scope object.

ROUTES has one entry per (rule, method) of ``app.url_map``: two probes ("in": an object
or view inside every scoped principal's areas, "out": one outside the district officer's
and grid manager's), the expected status per principal and probe, and the markers a
200 must show. Every response is also checked for markers its principal must never see
(tests.helpers.HIDDEN_FROM), whatever its status. ``test_every_route_is_in_the_matrix``
fails when a route is added without an entry here — add one entry per new route.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import (
    HIDDEN_FROM,
    IN_MARKERS,
    OUT_OF_DISTRICT,
    OUT_OF_GRIDS,
    TEST_PASSWORD,
    add_token,
    add_user,
    csrf_token,
    load_scoped_city,
    login_client,
)
from web import database

USER_ROLES = ("admin", "city_officer", "district_officer", "grid_manager", "planner")
PRINCIPALS = ("anonymous", *USER_ROLES, "token_city", "token_district")
SCOPED_AS = {"token_district": "district_officer"}  # whose hidden markers a token shares
EVERYTHING = IN_MARKERS + OUT_OF_DISTRICT + OUT_OF_GRIDS


def statuses(default: int, **overrides: int) -> dict[str, int]:
    """Expected status for every principal: ``default`` unless overridden."""
    unknown = set(overrides) - set(PRINCIPALS)
    assert not unknown, unknown
    return {p: overrides.get(p, default) for p in PRINCIPALS}


@dataclass(frozen=True)
class Probe:
    """One request: ``path`` may hold {IN1}/{OUT1}; ``body`` names a payload below."""

    path: str
    body: str | None = None


@dataclass(frozen=True)
class Entry:
    probes: dict[str, Probe]  # "in" and "out"
    expect: dict[str, dict[str, int]]  # probe → principal → status
    shows: dict[str, list[str]] = field(default_factory=dict)  # probe → markers a 200 shows


def same(probe_in: Probe, probe_out: Probe, expect: dict[str, int], **shows) -> Entry:
    return Entry({"in": probe_in, "out": probe_out}, {"in": expect, "out": expect}, shows)


READ_API = statuses(200, anonymous=401)
PAGE = statuses(200, anonymous=302, token_city=302, token_district=302)  # tokens: API only
EVERYONE = statuses(200)
SCOPED_OUT = {"district_officer": 404, "grid_manager": 404, "token_district": 404}
REPORTERS_IN = statuses(201, anonymous=401, planner=403)
REPORTERS_OUT = statuses(
    201, anonymous=401, planner=403, district_officer=403, grid_manager=403, token_district=403
)
INGESTERS = statuses(
    201, anonymous=401, planner=403, district_officer=403, grid_manager=403, token_district=403
)

ROUTES: dict[tuple[str, str], Entry] = {
    ("/", "GET"): same(Probe("/"), Probe("/?lang=en"), PAGE),
    ("/api/v1/areas", "GET"): same(
        Probe("/api/v1/areas?level=grid"),
        Probe("/api/v1/areas?level=district"),
        READ_API,
        **{"in": ["329901001000001"], "out": ["枫桥区"]},
    ),
    ("/api/v1/points", "GET"): same(
        Probe("/api/v1/points"),
        Probe("/api/v1/points?lang=en"),
        READ_API,
        **{"in": ["云溪农贸市场"], "out": ["枫桥路", "临江实验小学"]},
    ),
    ("/api/v1/problems", "GET"): same(
        Probe("/api/v1/problems?grid=329901001000001"),
        Probe("/api/v1/problems?bbox=120.9,31.9,125.1,32.1"),  # the other district and beyond
        READ_API,
        **{"in": ["IN-GRID-MARKER"], "out": ["OUT-CITY-MARKER", "OUTSIDE-MARKER"]},
    ),
    ("/api/v1/problems/<int:problem_id>", "GET"): Entry(
        {"in": Probe("/api/v1/problems/{IN1}"), "out": Probe("/api/v1/problems/{OUT1}")},
        {"in": READ_API, "out": {**READ_API, **SCOPED_OUT}},
        {"in": ["IN-GRID-MARKER"], "out": ["OUT-CITY-MARKER"]},
    ),
    ("/api/v1/problems", "POST"): Entry(
        {
            "in": Probe("/api/v1/problems", "problem_in"),
            "out": Probe("/api/v1/problems", "problem_out"),
        },
        {"in": REPORTERS_IN, "out": REPORTERS_OUT},
    ),
    ("/api/v1/surveys", "POST"): same(
        Probe("/api/v1/surveys", "survey_in"), Probe("/api/v1/surveys", "survey_out"), INGESTERS
    ),
    ("/api/v1/openapi.json", "GET"): same(
        Probe("/api/v1/openapi.json"), Probe("/api/v1/openapi.json?lang=en"), EVERYONE
    ),
    ("/login", "GET"): same(
        Probe("/login"),
        Probe("/login?next=//evil.example/"),
        statuses(302, anonymous=200, token_city=200, token_district=200),
    ),
    ("/login", "POST"): Entry(
        {"in": Probe("/login", "login_ok"), "out": Probe("/login", "login_bad")},
        {"in": statuses(302), "out": statuses(200)},
    ),
    ("/logout", "POST"): same(
        Probe("/logout", "csrf_form"), Probe("/logout", "csrf_form"), statuses(302)
    ),
    ("/static/<path:filename>", "GET"): Entry(
        {"in": Probe("/static/civicgrid.css"), "out": Probe("/static/../README.md")},
        {"in": EVERYONE, "out": statuses(404)},
    ),
    ("/vendor/<package>/<path:filename>", "GET"): Entry(
        {
            "in": Probe("/vendor/leaflet/leaflet.js"),
            "out": Probe("/vendor/leaflet/../package.json"),
        },
        {"in": EVERYONE, "out": statuses(404)},
    ),
}


def _rules(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    missing = _rules(app) - set(ROUTES)
    assert not missing, (
        f"routes without an authorisation matrix entry: {sorted(missing)} — add one entry "
        "per (rule, method) to ROUTES in tests/web/test_authz_matrix.py"
    )
    stale = set(ROUTES) - _rules(app)
    assert not stale, f"matrix entries for routes that do not exist: {sorted(stale)}"


# --- running it ------------------------------------------------------------------------


@dataclass
class World:
    app: Flask
    ids: dict[str, int]
    sessions: dict[str, tuple[str | None, str]]  # principal → (session cookie, CSRF token)
    tokens: dict[str, dict[str, str]]
    counter: itertools.count = field(default_factory=itertools.count)


@pytest.fixture
def world(app: Flask, tmp_path: Path) -> World:
    with app.app_context():
        engine = database.engine()
    ids = load_scoped_city(engine, tmp_path)
    add_user(engine, "matrix-login", "planner")
    sessions = {}
    for principal in ("anonymous", *USER_ROLES):
        client = app.test_client()
        if principal != "anonymous":
            add_user(engine, f"m-{principal}", principal)
            assert login_client(client, f"m-{principal}").status_code == 302
        token = csrf_token(client, "/login" if principal == "anonymous" else "/")
        cookie = client.get_cookie("session")
        sessions[principal] = (cookie.value if cookie else None, token)
    tokens = {
        "token_city": add_token(engine, "m-city", "city_officer"),
        "token_district": add_token(engine, "m-district", "district_officer"),
    }
    for name in tokens:
        sessions[name] = sessions["anonymous"]
    return World(app, ids, sessions, tokens)


def _client(world: World, principal: str) -> FlaskClient:
    client = world.app.test_client()
    cookie, _ = world.sessions[principal]
    if cookie:
        client.set_cookie("session", cookie)
    return client


def _payload(kind: str | None, world: World, csrf: str) -> dict:
    n = next(world.counter)
    here = {"lon": 120.821, "lat": 32.011}
    there = {"lon": 120.921, "lat": 32.011}
    problem = {"category": "litter", "found_at": "2024-06-01 10:00", "description": "matrix"}
    csv = "id,lon,lat,category,found_at\nM{n},{lon},{lat},litter,2024-06-01\n"
    payloads = {
        None: {},
        "problem_in": {"json": {**problem, **here, "id": f"M{n}"}},
        "problem_out": {"json": {**problem, **there, "id": f"M{n}"}},
        "survey_in": {"data": {"file": (io.BytesIO(csv.format(n=n, **here).encode()), "m.csv")}},
        "survey_out": {"data": {"file": (io.BytesIO(csv.format(n=n, **there).encode()), "m.csv")}},
        "login_ok": {"data": {"username": "matrix-login", "password": TEST_PASSWORD}},
        "login_bad": {"data": {"username": "matrix-login", "password": "wrong-password"}},
        "csrf_form": {"data": {}},
    }
    payload = payloads[kind]
    if "data" in payload and kind and not kind.startswith("survey"):
        payload["data"]["csrf_token"] = csrf
    return payload


def _run_case(world: World, rule: str, method: str, variant: str, principal: str) -> list[str]:
    entry = ROUTES[(rule, method)]
    probe = entry.probes[variant]
    _, csrf = world.sessions[principal]
    headers = dict(world.tokens.get(principal, {}))
    if method != "GET":
        headers["X-CSRFToken"] = csrf
    path = probe.path.format(**world.ids)
    response = _client(world, principal).open(
        path, method=method, headers=headers, **_payload(probe.body, world, csrf)
    )
    body = response.get_data(as_text=True)
    where = f"{method} {path} as {principal}"
    problems = []
    expected = entry.expect[variant][principal]
    if response.status_code != expected:
        problems.append(f"{where}: status {response.status_code}, expected {expected}")
    hidden = (
        EVERYTHING
        if principal == "anonymous"
        else HIDDEN_FROM.get(SCOPED_AS.get(principal, principal), [])
    )
    problems += [f"{where}: leaks {m!r}" for m in hidden if m in body]
    if response.status_code == 200:
        shown = [m for m in entry.shows.get(variant, []) if m not in hidden]
        problems += [f"{where}: should show {m!r}" for m in shown if m not in body]
    return problems


def test_authorisation_matrix(world: World, capsys) -> None:
    failures: list[str] = []
    cases = 0
    # Reads first, then writes, so every read sees the seeded city only. Each principal's
    # "in" probe runs right before its "out" one: a good login between bad ones keeps
    # the shared test address under the login rate limit.
    order = sorted(ROUTES, key=lambda key: (key[1] != "GET", key))
    for (rule, method), principal, variant in itertools.product(order, PRINCIPALS, ("in", "out")):
        failures += _run_case(world, rule, method, variant, principal)
        cases += 1
    with capsys.disabled():
        print(f"\nauthorisation matrix: {len(ROUTES)} routes × 2 probes × {len(PRINCIPALS)} "
              f"principals = {cases} cases, {len(failures)} failures")  # fmt: skip
    assert cases == len(ROUTES) * 2 * len(PRINCIPALS)
    assert not failures, "\n".join(failures)
