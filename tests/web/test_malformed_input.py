"""Malformed input never crashes the server (issue 19, item 1).

Every route and parameter gets the values an attacker or a careless script sends —
negative and huge numbers, 2**63, 2**70, ``-1`` dates, 10,000-character strings, JSON
nested 100,000 levels deep, lone surrogates, JSON values of the wrong type — and must
answer 4xx in its documented error shape, never 5xx, and write nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from geo.storage.db import make_engine
from geo.summary.upgrade import upgrade
from tests.helpers import add_token, add_user, load_scoped_city, login_client
from tests.helpers import table_counts as all_counts

BIG = ["-1", "9223372036854775808", str(2**63), str(2**70), "1e18", "1e20", "9" * 40, "x" * 10_000]
DATES = ["-1", "0000-01-01", "99999-01-01", "-0001-01-01", "x" * 10_000, "%ED%A0%80", "%FF"]
NEW = {"lon": 120.821, "lat": 32.011, "category": "litter", "found_at": "2024-06-01 10:00"}
# The module's world (a city, a token, a client) is built once: its tests on one worker.
pytestmark = pytest.mark.xdist_group("malformed-input")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One SQLite city with problems, a city-wide token and a signed-in admin client."""
    from web import create_app

    tmp = tmp_path_factory.mktemp("malformed")
    engine = make_engine(f"sqlite:///{tmp / 'civicgrid.db'}")
    upgrade(engine)
    load_scoped_city(engine, tmp)
    token = add_token(engine, "prober", "city_officer")
    add_user(engine, "prober-admin", "admin")
    app = create_app({"DATABASE_URL": str(engine.url), "TESTING": True})
    browser = app.test_client()
    assert login_client(browser, "prober-admin").status_code == 302
    yield {"app": app, "engine": engine, "token": token, "browser": browser}
    engine.dispose()


def table_counts(engine: Any) -> dict[str, int]:
    """Rows per table, but the audit log (a refused request may be audited) and the
    tokens (their last use is recorded)."""
    return {k: v for k, v in all_counts(engine).items() if k not in ("audit_log", "api_tokens")}


def _client(world: dict[str, Any]) -> FlaskClient:
    app: Flask = world["app"]
    return app.test_client()


def _shape(path: str, response: Any) -> None:
    """The documented error shape of the route's family."""
    status = response.status_code
    assert 400 <= status < 500, (status, response.get_data(as_text=True)[:300])
    if path.startswith(("/api/", "/export/")):  # /export/ with a token: the API's shape
        error = response.get_json()["error"]
        assert error["code"] and error["message"]
    elif path.startswith("/ogcapi"):
        body = response.get_json()
        assert body["code"] and body["description"]
    elif path.startswith("/open311") and path.endswith(".json"):
        body = response.get_json()
        assert body[0]["code"] == status and body[0]["description"]


GETS = [
    *[f"/export/problems.geojson?{k}={v}" for k in ("from", "to") for v in DATES],
    *[f"/export/points.csv?{k}={v}" for k in ("from", "to") for v in DATES[:1]],
    *[f"/ogcapi/collections/problems/items?datetime={v}" for v in DATES],
    "/ogcapi/collections/problems/items?datetime=-1/..",
    "/ogcapi/collections/problems/items?datetime=../-1",
    *[f"/ogcapi/collections/problems/items?{k}={v}" for k in ("offset", "limit") for v in BIG],
    *[f"/open311/v2/requests.json?{k}={v}" for k in ("start_date", "end_date") for v in DATES],
    *[f"/open311/v2/requests.json?{k}={v}" for k in ("page", "page_size") for v in BIG],
    *[f"/open311/v2/requests.json?service_request_id={v}" for v in BIG],
    *[f"/api/v1/problems?{k}={v}" for k in ("offset", "limit") for v in BIG],
    *[f"/api/v1/problems?{k}={v}" for k in ("from", "to") for v in DATES],
    *[f"/api/v1/heat?{k}={v}" for k in ("from", "to") for v in DATES[:1]],
    *[f"/api/v1/heat/points?zoom={v}" for v in BIG],
]
MISSING = [
    "/open311/v2/requests/99999999999999999999.json",
    f"/open311/v2/requests/{2**63}.json",
    "/open311/v2/requests/-1.json",
    "/ogcapi/collections/problems/items/99999999999999999999",
    f"/ogcapi/collections/problems/items/{2**63}",
    "/ogcapi/collections/problems/items/-1",
    f"/api/v1/problems/{2**31}",
    f"/api/v1/problems/{2**70}",
]
PAGES = [
    *[f"/areas/district/329901/assign?page={v}" for v in BIG],
    *[f"/districts/329901?page={v}" for v in BIG],
    *[f"/rankings?page={v}" for v in BIG],
    *[f"/rankings?top={v}" for v in BIG],
    *[f"/?{k}={v}" for k in ("from", "to") for v in DATES[:1]],
]


@pytest.mark.parametrize("path", GETS)
def test_malformed_query_arguments_are_400(world: dict[str, Any], path: str) -> None:
    response = _client(world).get(path, headers=world["token"])
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True))
    _shape(path.split("?")[0], response)


@pytest.mark.parametrize("path", MISSING)
def test_ids_beyond_the_database_are_not_found(world: dict[str, Any], path: str) -> None:
    response = _client(world).get(path, headers=world["token"])
    assert response.status_code in (400, 404), response.get_data(as_text=True)[:300]
    _shape(path, response)


@pytest.mark.parametrize("path", PAGES)
def test_malformed_page_arguments_never_crash(world: dict[str, Any], path: str) -> None:
    response = world["browser"].get(path)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]


def test_post_to_an_id_beyond_the_database_is_404(world: dict[str, Any]) -> None:
    before = table_counts(world["engine"])
    for problem_id in (2**31, 2**63, 2**70):
        response = _client(world).post(
            f"/api/v1/problems/{problem_id}",
            json={"action": "assign", "version": 1},
            headers=world["token"],
        )
        assert response.status_code == 404, response.get_data(as_text=True)[:300]
        _shape("/api/", response)
    assert table_counts(world["engine"]) == before


def test_an_id_beyond_the_database_is_a_localised_404(world: dict[str, Any]) -> None:
    """Not Werkzeug's English sentence: the error page in the reader's language, and
    the API's error shape with the code of any missing record."""
    huge = "99999999999999999999"
    browser = world["browser"]
    page = browser.get(f"/problems/{huge}?lang=zh")
    html = page.get_data(as_text=True)
    assert page.status_code == 404 and 'data-testid="error"' in html
    assert f"记录不存在: {huge}" in html and "requested URL" not in html
    english = browser.get(f"/problems/{huge}?lang=en").get_data(as_text=True)
    assert f"no record with id {huge}" in english and "requested URL" not in english
    browser.get("/?lang=zh")  # the module's client reads Chinese again
    for method in ("get", "post"):
        response = getattr(_client(world), method)(
            f"/api/v1/problems/{huge}", json={}, headers=world["token"]
        )
        assert response.status_code == 404
        assert response.get_json() == {
            "error": {"code": "NotFoundError", "message": f"记录不存在: {huge}"}
        }
    # an in-range id that is missing answers with the same code
    missing = _client(world).get("/api/v1/problems/2147483647", headers=world["token"])
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "NotFoundError"
    # any other unknown address: the page in Chinese too, not Werkzeug's sentence
    other = browser.get("/no/such/page").get_data(as_text=True)
    assert "未找到该页面或记录" in other and "requested URL" not in other


DEEP = "[" * 100_000 + "]" * 100_000
BODIES: list[tuple[str, str]] = [
    ("deep-array", DEEP),
    ("deep-object", '{"a":' * 100_000 + "1" + "}" * 100_000),
    ("deep-inside", json.dumps({**NEW, "description": "x"})[:-1] + ', "extra": ' + DEEP + "}"),
    ("lone-surrogate", json.dumps({**NEW, "description": "\ud800"})),
    ("lone-surrogate-key", '{"\\udfff": 1, "lon": 120.821}'),
    ("raw-surrogate-bytes", '{"description": "\xed\xa0\x80"}'),
    ("array", "[1, 2]"),
    ("string", '"text"'),
    ("number", "12"),
    ("null", "null"),
    ("broken", '{"lon": '),
    ("description-number", json.dumps({**NEW, "description": 123})),
    ("description-object", json.dumps({**NEW, "description": {"a": 1}})),
    ("external-id-list", json.dumps({**NEW, "external_id": ["a"]})),
    ("external-id-long", json.dumps({**NEW, "external_id": "x" * 10_000})),
    ("description-long", json.dumps({**NEW, "description": "x" * 10_000})),
    ("campaign-list", json.dumps({**NEW, "campaign": []})),
    ("lon-huge", json.dumps({**NEW, "lon": 2**70})),
    ("lon-string", json.dumps({**NEW, "lon": "x" * 10_000})),
    ("found-at-minus-one", json.dumps({**NEW, "found_at": "-1"})),
    ("found-at-number", json.dumps({**NEW, "found_at": 2**70})),
]


@pytest.mark.parametrize(("name", "body"), BODIES, ids=[b[0] for b in BODIES])
def test_malformed_problem_bodies_are_refused(world: dict[str, Any], name: str, body: str) -> None:
    before = table_counts(world["engine"])
    response = _client(world).post(
        "/api/v1/problems",
        data=body.encode("utf-8", "surrogatepass"),
        headers={**world["token"], "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, (
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    _shape("/api/", response)
    assert table_counts(world["engine"]) == before


@pytest.mark.parametrize(
    ("key", "text"), [("lon", "-1"), ("lon", "120.821"), ("lat", "32.011"), ("lat", "")]
)
def test_coordinates_as_text_are_refused_by_the_json_api(
    world: dict[str, Any], key: str, text: str
) -> None:
    """The OpenAPI document says number: even numeric text is refused, naming the field
    (the /report form's multipart text goes through /api/v1/reports instead)."""
    before = table_counts(world["engine"])
    response = _client(world).post(
        "/api/v1/problems", json={**NEW, key: text}, headers=world["token"]
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "InvalidParameterError"
    assert error["message"].startswith(f"{key} 必须是 JSON 数字")
    assert table_counts(world["engine"]) == before


TRANSITIONS: list[tuple[str, str]] = [
    ("deep-array", DEEP),
    ("deep-object", '{"a":' * 100_000 + "1" + "}" * 100_000),
    ("version-2**70", json.dumps({"action": "assign", "version": 2**70, "unit": "城管"})),
    ("version-2**63", json.dumps({"action": "assign", "version": 2**63, "unit": "城管"})),
    ("version-negative", json.dumps({"action": "assign", "version": -1})),
    ("version-string", json.dumps({"action": "assign", "version": "1"})),
    ("version-float", json.dumps({"action": "assign", "version": 1.5})),
    ("note-surrogate", json.dumps({"action": "assign", "version": 1, "note": "\ud800"})),
    ("note-long", json.dumps({"action": "assign", "version": 1, "note": "x" * 10_000})),
    ("action-long", json.dumps({"action": "x" * 10_000, "version": 1})),
    ("action-list", json.dumps({"action": ["assign"], "version": 1})),
    ("deadline-minus-one", json.dumps({"action": "assign", "version": 1, "deadline": "-1"})),
    ("deadline-number", json.dumps({"action": "assign", "version": 1, "deadline": 2**70})),
    ("array", "[]"),
]


@pytest.mark.parametrize(("name", "body"), TRANSITIONS, ids=[b[0] for b in TRANSITIONS])
def test_malformed_transition_bodies_are_refused(
    world: dict[str, Any], name: str, body: str
) -> None:
    before = table_counts(world["engine"])
    response = _client(world).post(
        "/api/v1/problems/1",
        data=body.encode("utf-8", "surrogatepass"),
        headers={**world["token"], "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, (
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    _shape("/api/", response)
    assert table_counts(world["engine"]) == before


OPEN311_POSTS: list[dict[str, str]] = [
    {"service_code": "litter", "lat": "32.011", "long": "120.821", "description": "x" * 10_000},
    {"service_code": "litter", "lat": "9" * 400, "long": "120.821"},
    {"service_code": "litter", "lat": "32.011", "long": "120.821", "requested_datetime": "-1"},
    {"service_code": "x" * 10_000, "lat": "32.011", "long": "120.821"},
]


@pytest.mark.parametrize("form", OPEN311_POSTS, ids=["desc", "lat", "date", "code"])
def test_malformed_open311_posts_write_nothing(world: dict[str, Any], form: dict[str, str]) -> None:
    before = table_counts(world["engine"])
    response = _client(world).post("/open311/v2/requests.json", data=form, headers=world["token"])
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    _shape("/open311/v2/requests.json", response)
    assert table_counts(world["engine"]) == before


OPEN311_JSON: list[dict[str, Any]] = [
    {"description": 123},
    {"description": {"a": 1}},
    {"description": ["a"]},
    {"address_string": ["x"]},
    {"address_string": 7},
    {"description": "x" * 10_000},
]


OPEN311_IDS = ["desc-number", "desc-object", "desc-list", "address-list", "address-number", "long"]


@pytest.mark.parametrize("extra", OPEN311_JSON, ids=OPEN311_IDS)
def test_open311_json_text_fields_of_the_wrong_type_are_refused(
    world: dict[str, Any], extra: dict[str, Any]
) -> None:
    """Numbers, lists and objects are not text (they were stored as '123', "{'a': 1}")."""
    before = table_counts(world["engine"])
    body = {"service_code": "litter", "lat": 32.011, "long": 120.821, **extra}
    response = _client(world).post(
        "/open311/v2/requests.json", json=body, headers={**world["token"], "Accept-Language": "en"}
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    _shape("/open311/v2/requests.json", response)
    assert next(iter(extra)) in response.get_json()[0]["description"]
    assert table_counts(world["engine"]) == before


def test_the_probe_city_exists(world: dict[str, Any]) -> None:
    """The refusals above are not about an empty database."""
    response = _client(world).get("/api/v1/problems/1", headers=world["token"])
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert Path  # keep the import for type checkers of fixtures


PAGE_FORMS = [
    ("assign", {"version": str(2**70), "unit": "城管"}),
    ("assign", {"version": str(2**63), "unit": "城管"}),
    ("assign", {"version": "-1", "unit": "城管"}),
    ("assign", {"version": "1", "unit": "城管", "deadline": "9999-12-31"}),
    ("assign", {"version": "1", "unit": "城管", "deadline": "0001-01-01"}),
    ("rectify", {"version": "1", "note": "x" * 10_000}),
]


@pytest.mark.parametrize(("action", "form"), PAGE_FORMS)
def test_malformed_lifecycle_forms_never_crash(
    world: dict[str, Any], action: str, form: dict[str, str]
) -> None:
    from tests.helpers import csrf_token

    browser = world["browser"]
    before = table_counts(world["engine"])
    token = csrf_token(browser, "/problems/1")
    response = browser.post(f"/problems/1/{action}", data={**form, "csrf_token": token})
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert table_counts(world["engine"]) == before


def test_json_depth_ignores_brackets_in_strings_and_refuses_deep_bodies() -> None:
    from geo.core.errors import InvalidParameterError
    from geo.core.params import load_json

    assert load_json('{"a": "[[[[[[\\" {{{{", "b": [[1]]}') == {"a": '[[[[[[" {{{{', "b": [[1]]}
    with pytest.raises(InvalidParameterError) as excinfo:  # refused before json.loads recurses
        load_json("[" * 400_000 + "]" * 400_000)
    assert "nested deeper than 32" in excinfo.value.message("en")
