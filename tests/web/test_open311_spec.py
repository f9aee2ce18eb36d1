"""Open311 GeoReport v2 to the letter: every answer laid out as the spec's own examples
(tests/data/open311, element paths and order in XML, keys in JSON), the discovery
document, the default 90-day window, JSON POST and CORS for browser clients."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask

from geo.core.errors import InvalidParameterError
from geo.core.taxonomy_file import default_taxonomy
from geo.protocols.open311 import parse_requests
from tests.exportdata import PROBLEMS
from tests.helpers import raises_msg
from tests.web.test_open311 import SECRETS, WINDOW, body, open311_app, post, writes

SPEC = Path(__file__).parents[1] / "data" / "open311"


@pytest.fixture
def city_app(engine, tmp_path: Path) -> Flask:
    return open311_app(engine, tmp_path)


def paths(element: ET.Element, prefix: str = "") -> list[str]:
    """Element paths in document order, each once (``services/service/service_code``…)."""
    here = f"{prefix}/{element.tag}" if prefix else element.tag
    out = [here]
    for child in element:
        out += [p for p in paths(child, here) if p not in out]
    return out


def spec_xml(name: str) -> list[str]:
    return paths(ET.parse(SPEC / f"{name}.xml").getroot())


def spec_keys(name: str) -> list[str]:
    doc = json.loads((SPEC / f"{name}.json").read_text())
    return list((doc[0] if isinstance(doc, list) else doc).keys())


def ours_xml(response) -> list[str]:
    assert response.content_type == "text/xml; charset=utf-8"
    return paths(ET.fromstring(response.get_data()))


@pytest.fixture
def client(city_app: Flask):
    c = city_app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {SECRETS['key-one']}"
    return c


def test_discovery_is_public_and_laid_out_as_the_spec(city_app) -> None:
    anonymous = city_app.test_client()
    for url in ("/open311/discovery.json", "/open311/v2/discovery.json"):
        doc = body(anonymous.get(url))
        assert list(doc) == spec_keys("discovery")
        [endpoint] = doc["endpoints"]
        assert endpoint["url"] == "http://localhost/open311/v2"
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["formats"] == ["text/xml", "application/json"]
    assert ours_xml(anonymous.get("/open311/discovery.xml")) == spec_xml("discovery")


def test_services_and_definitions_match_the_spec_examples(client) -> None:
    assert ours_xml(client.get("/open311/v2/services.xml")) == spec_xml("services")
    assert list(body(client.get("/open311/v2/services.json"))[0]) == spec_keys("services")
    definition = client.get("/open311/v2/services/litter.xml")
    root = ET.fromstring(definition.get_data())
    # service_code beside attributes, not inside (the spec's layout)
    assert [child.tag for child in root] == ["service_code", "attributes"]
    assert root.find("service_code").text == "litter" and len(root.find("attributes")) == 0
    assert set(ours_xml(definition)) <= set(spec_xml("service_definition"))
    assert list(body(client.get("/open311/v2/services/litter.json"))) == spec_keys(
        "service_definition"
    )


def test_requests_and_errors_match_the_spec_examples(client) -> None:
    assert ours_xml(client.get(f"/open311/v2/requests.xml?{WINDOW}")) == spec_xml("requests")
    assert list(body(client.get(f"/open311/v2/requests.json?{WINDOW}"))[0]) == spec_keys("requests")
    missing = client.get("/open311/v2/requests/999999.xml")
    assert missing.status_code == 404 and ours_xml(missing) == spec_xml("errors")
    assert list(body(client.get("/open311/v2/requests/999999.json"))[0]) == spec_keys("errors")


def test_post_answers_match_the_spec_examples(city_app) -> None:
    form = {"api_key": "key-one", "service_code": "litter", "lat": "32.012", "long": "120.816"}
    created = post(city_app, "/open311/v2/requests.xml", form)
    assert created.status_code == 200 and ours_xml(created) == spec_xml("post_response")
    created = post(city_app, "/open311/v2/requests.json", form)
    assert list(body(created)[0]) == spec_keys("post_response")


def test_a_list_without_dates_covers_the_last_90_days() -> None:
    tax, now = default_taxonomy(), datetime(2024, 6, 1)
    query = parse_requests({}, tax, "Asia/Shanghai", now=now)
    assert (query.start, query.end) == (datetime(2024, 3, 3), now)
    since = parse_requests({"start_date": "2024-01-01T00:00:00Z"}, tax, "UTC", now=now)
    assert (since.start, since.end) == (datetime(2024, 1, 1), datetime(2024, 3, 31))
    with raises_msg(InvalidParameterError, "90 days"):
        parse_requests({"start_date": "2024-01-01", "end_date": "2024-06-01"}, tax, "UTC")
    one = parse_requests({"service_request_id": "5"}, tax, "UTC")  # ids ignore the window
    assert one.ids == (5,) and one.start is None


def test_requests_list_defaults_to_the_last_90_days(client) -> None:
    assert body(client.get("/open311/v2/requests.json")) == []  # the test city is from 2024
    assert len(body(client.get(f"/open311/v2/requests.json?{WINDOW}"))) == 6
    refused = client.get("/open311/v2/requests.json?start_date=2024-01-01&end_date=2024-06-01")
    assert refused.status_code == 400 and "90" in body(refused)[0]["description"]


def test_post_with_a_json_body_creates_a_problem(city_app, engine) -> None:
    before = writes(engine)["problems"]
    data = {"service_code": "litter", "lat": 32.012, "long": 120.816, "description": "JSON 提交"}
    headers = {"Authorization": f"Bearer {SECRETS['key-one']}"}
    response = city_app.test_client().post("/open311/v2/requests.json", json=data, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    [record] = body(response)
    assert int(record["service_request_id"]) > 0
    assert writes(engine)["problems"] == before + 1


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ([1, 2], "object"),
        ({"service_code": "litter", "lat": 32.012}, "lat and long"),
        ({"service_code": "litter", "lat": 32.012, "long": 120.8, "colour": "red"}, "colour"),
        ('{"lat": ' * 5000, "JSON"),
    ],
)
def test_bad_json_posts_write_nothing(city_app, engine, data, needle) -> None:
    before = writes(engine)
    headers = {"Authorization": f"Bearer {SECRETS['key-one']}", "Accept-Language": "en"}
    raw = data if isinstance(data, str) else json.dumps(data)
    response = city_app.test_client().post(
        "/open311/v2/requests.json", data=raw, content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert needle in body(response)[0]["description"]
    assert writes(engine) == before


def test_cors_for_browser_clients(city_app) -> None:
    anonymous = city_app.test_client()
    preflight = anonymous.options(
        "/open311/v2/requests.json",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    key = SECRETS["key-one"]
    read = anonymous.get(f"/open311/v2/services.json?api_key={key}")
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    refused = anonymous.get("/open311/v2/services.json")
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in read.headers  # keys, never cookies


def test_public_read_shows_only_public_data(engine, tmp_path) -> None:
    import sqlalchemy as sa

    app = open311_app(engine, tmp_path, OPEN311_PUBLIC_READ=True, OPEN311_PUBLIC_DECIMALS=2)
    with engine.begin() as conn:  # a false report: never shown to the public
        conn.execute(sa.text("UPDATE problems SET status = 'voided' WHERE description = :d"),
                     {"d": PROBLEMS[5][3]})  # fmt: skip
    anonymous = app.test_client()
    records = body(anonymous.get(f"/open311/v2/requests.json?{WINDOW}"))
    assert len(records) == 5 and all(r["description"] is None for r in records)
    assert all(r["lat"] == round(r["lat"], 2) and r["long"] == round(r["long"], 2) for r in records)
    assert {r["lat"] for r in records} <= {32.01, 32.02, 32.03, 32.04}
    voided_id = body(
        app.test_client().get(
            f"/open311/v2/requests.json?{WINDOW}",
            headers={"Authorization": f"Bearer {SECRETS['key-one']}"},
        )
    )[0]["service_request_id"]
    assert anonymous.get(f"/open311/v2/requests/{voided_id}.json").status_code == 404
    assert anonymous.get("/open311/v2/services.xml").status_code == 200
    xml = ET.fromstring(anonymous.get(f"/open311/v2/requests.xml?{WINDOW}").get_data())
    assert xml.find("request/description").text is None
    # a key still sees the full record; writing still needs a key
    keyed = app.test_client().get(
        f"/open311/v2/requests.json?{WINDOW}",
        headers={"Authorization": f"Bearer {SECRETS['key-one']}"},
    )
    assert any(r["description"] for r in body(keyed))
    form = {"service_code": "litter", "lat": "32.012", "long": "120.816"}
    assert anonymous.post("/open311/v2/requests.json", data=form).status_code == 401


def test_public_read_is_off_by_default(client, city_app) -> None:
    assert city_app.config["OPEN311_PUBLIC_READ"] is False
    assert city_app.test_client().get("/open311/v2/requests.json").status_code == 401
    assert city_app.test_client().get("/open311/v2/services.json").status_code == 401
