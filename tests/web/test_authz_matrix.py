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
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from geo.core.periods import parse_period
from geo.core.taxonomy_file import default_taxonomy
from geo.reports.publications import find, issue_bulletin
from geo.rounds.rounds import RoundSpec, create_round
from geo.storage.db import transaction
from tests.helpers import (
    HIDDEN_FROM,
    TEST_PASSWORD,
    add_token,
    add_user,
    csrf_token,
    load_scoped_city,
    login_client,
)
from tests.web.authz_routes import ROUTES
from tests.web.authz_rules import EVERYTHING, IN_GRID, PRINCIPALS, SCOPED_AS, USER_ROLES
from web import database


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


LATER = datetime(2024, 7, 1)  # week 2024-W23 (the scoped city's problems) is over


@pytest.fixture
def world(app: Flask, tmp_path: Path) -> World:
    with app.app_context():
        engine = database.engine()
    ids = load_scoped_city(engine, tmp_path)
    with transaction(engine) as session:
        spec = RoundSpec("矩阵测评", date(2024, 5, 1), date(2024, 5, 31))
        ids["ROUND"] = create_round(session, spec, default_taxonomy()).id
        week = parse_period("2024-W23")
        ids["BULLETIN"] = issue_bulletin(session, week, default_taxonomy(), now=LATER).id
        ids["RANKING"] = find(session, "ranking", "street", week).id  # published with it
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
        "problem_in": {"json": {**problem, **here, "external_id": f"M{n}"}},
        "problem_out": {"json": {**problem, **there, "external_id": f"M{n}"}},
        "report_in": {"data": {"client_id": f"matrix-report-{n}", "category": "litter", **here}},
        "report_out": {"data": {"client_id": f"matrix-report-{n}", "category": "litter", **there}},
        "close_form": {"data": {"version": "1", "note": "matrix"}},
        "close_json": {"json": {"action": "close", "version": 1, "note": "matrix"}},
        "bulk_in": {"data": {"level": "grid", "code": IN_GRID, "unit": ""}},
        "bulk_out": {"data": {"level": "district", "code": "329902", "unit": ""}},
        "open311_in": {"data": {"service_code": "litter", "lat": "32.011", "long": "120.821"}},
        "open311_out": {"data": {"service_code": "litter", "lat": "32.011", "long": "120.921"}},
        "survey_in": {"data": {"file": (io.BytesIO(csv.format(n=n, **here).encode()), "m.csv")}},
        "survey_out": {"data": {"file": (io.BytesIO(csv.format(n=n, **there).encode()), "m.csv")}},
        "login_ok": {"data": {"username": "matrix-login", "password": TEST_PASSWORD}},
        "login_bad": {"data": {"username": "matrix-login", "password": "wrong-password"}},
        "csrf_form": {"data": {}},
    }
    payload = payloads[kind]
    if "data" in payload and kind and not kind.startswith(("survey", "open311")):
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
    body = response.get_data().decode("utf-8", "replace")  # PDFs are bytes
    if response.is_json:  # \u-escaped Chinese would hide leaks from a substring test
        body = json.dumps(response.get_json(), ensure_ascii=False)
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


@pytest.mark.slow  # every route × principal × probe
def test_authorisation_matrix(world: World, capsys) -> None:
    failures: list[str] = []
    cases = 0
    # Reads first, then writes, so every read sees the seeded city only. Each principal's
    # "in" probe runs right before its "out" one: a good login between bad ones keeps
    # the shared test address under the login rate limit. Logging out ends every copy of
    # the user's session (issue 19), so the logout probes come last.
    order = sorted(ROUTES, key=lambda key: (key[1] != "GET", key == ("/logout", "POST"), key))
    for (rule, method), principal, variant in itertools.product(order, PRINCIPALS, ("in", "out")):
        failures += _run_case(world, rule, method, variant, principal)
        cases += 1
    with capsys.disabled():
        print(f"\nauthorisation matrix: {len(ROUTES)} routes × 2 probes × {len(PRINCIPALS)} "
              f"principals = {cases} cases, {len(failures)} failures")  # fmt: skip
    assert cases == len(ROUTES) * 2 * len(PRINCIPALS)
    assert not failures, "\n".join(failures)
