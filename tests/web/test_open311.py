"""Open311 GeoReport v2 at /open311/v2: services, requests (GET/POST), JSON and XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from geo.storage.db import session_factory
from geo.storage.models import Problem, ProblemEvent
from geo.summary import counts as summary
from tests.exportdata import PROBLEMS, load_export_city
from tests.helpers import add_token, signed_in, table_counts

KEYS = {"key-one": "city_officer", "key-two": "city_officer", "key-planner": "planner"}
"""Open311 api_key values are civicgrid API tokens: names and roles of the test tokens."""
SECRETS: dict[str, str] = {}


@pytest.fixture
def city_app(engine, tmp_path: Path) -> Flask:
    return open311_app(engine, tmp_path)


def open311_app(engine, tmp_path: Path, **settings: object) -> Flask:
    """The app on the export test city, with the KEYS tokens (secrets in SECRETS)."""
    from web import create_app

    load_export_city(engine, tmp_path)
    for name, role in KEYS.items():
        SECRETS[name] = add_token(engine, name, role, [])["Authorization"].split()[1]
    url = engine.url.render_as_string(hide_password=False)
    return create_app({"DATABASE_URL": url, "TESTING": True, **settings})


def post(app: Flask, path: str, form: dict[str, str]):
    """POST like a machine client: no login, the api_key field names a token."""
    if "api_key" in form:
        form = {**form, "api_key": SECRETS.get(form["api_key"], form["api_key"])}
    return app.test_client().post(path, data=form, headers={"Accept-Language": "en"})


def writes(engine) -> dict[str, int]:
    """Table counts, but the audit log (every token use is audited, refused or not)."""
    return {k: v for k, v in table_counts(engine).items() if k != "audit_log"}


def body(response):
    return json.loads(response.get_data(as_text=True))


def test_services_are_the_categories(city_app) -> None:
    client = signed_in(city_app)
    services = body(client.get("/open311/v2/services.json"))
    litter = next(s for s in services if s["service_code"] == "litter")
    assert litter["service_name"] == "暴露垃圾/环境卫生差" and litter["metadata"] is False
    assert len(services) == 17
    root = ET.fromstring(client.get("/open311/v2/services.xml?lang=en").get_data())
    assert root.tag == "services" and len(root.findall("service")) == 17
    assert root.find("service/service_name").text == "Illegal ads / posting / graffiti"
    assert body(client.get("/open311/v2/services/litter.json"))["attributes"] == []


WINDOW = "start_date=2024-04-15&end_date=2024-07-01"
"""The test problems' months (a list without dates covers the last 90 days only)."""


def test_requests_map_statuses_and_filter(city_app) -> None:
    client = signed_in(city_app)
    everything = body(client.get(f"/open311/v2/requests.json?{WINDOW}"))
    assert len(everything) == len(PROBLEMS)
    assert everything[0]["description"] == PROBLEMS[5][3]  # most recently found first
    by_text = {r["description"]: r for r in everything}
    assert by_text[PROBLEMS[3][3]]["status"] == "closed"
    assert by_text[PROBLEMS[2][3]]["status"] == "open"  # rectified is still open
    assert by_text[PROBLEMS[2][3]]["status_notes"] == "已整改"
    first = by_text[PROBLEMS[0][3]]
    assert first["requested_datetime"] == "2024-05-01T09:00:00+08:00"
    assert first["address"] == "云溪区 东门街道" and first["long"] == 120.815
    closed = body(client.get(f"/open311/v2/requests.json?status=closed&{WINDOW}"))
    assert [r["description"] for r in closed] == [PROBLEMS[3][3]]
    litter = body(
        client.get(
            f"/open311/v2/requests.json?service_code=litter,illegal_ads&status=open&{WINDOW}"
        )
    )
    assert len(litter) == 3
    dated = body(
        client.get(
            "/open311/v2/requests.json?start_date=2024-05-02T00:00:00%2B08:00&end_date=2024-05-10"
        )
    )
    assert len(dated) == 3
    page = body(client.get(f"/open311/v2/requests.json?page=2&page_size=4&{WINDOW}"))
    assert len(page) == 2
    one = body(client.get(f"/open311/v2/requests/{first['service_request_id']}.json"))
    assert one == [first]


def test_requests_as_xml(city_app) -> None:
    response = signed_in(city_app).get(f"/open311/v2/requests.xml?status=closed&{WINDOW}")
    assert response.content_type.startswith("text/xml")
    root = ET.fromstring(response.get_data())
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request.find("status").text == "closed"
    assert "引号" in request.find("description").text


@pytest.mark.parametrize(
    ("url", "status", "needle"),
    [
        ("/open311/v2/requests.json?status=pending", 400, "open or closed"),
        ("/open311/v2/requests.json?service_code=ufo", 400, "ufo"),
        ("/open311/v2/requests.json?start_date=yesterday", 400, "start_date"),
        ("/open311/v2/requests.json?start_date=2024-06-01&end_date=2024-05-01", 400, "after"),
        ("/open311/v2/requests.json?page=0", 400, "page"),
        ("/open311/v2/requests.json?colour=red", 400, "service_code"),
        ("/open311/v2/requests/999999.json", 404, "999999"),
        ("/open311/v2/requests/abc.xml", 404, "abc"),
        ("/open311/v2/services/ufo.json", 404, "ufo"),
        ("/open311/v2/services.yaml", 404, ".json or .xml"),
    ],
)
def test_bad_requests_use_the_georeport_error_format(city_app, url, status, needle) -> None:
    response = signed_in(city_app).get(url, headers={"Accept-Language": "en"})
    assert response.status_code == status
    if url.endswith(".xml") or ".xml?" in url:
        error = ET.fromstring(response.get_data()).find("error")
        assert error.find("code").text == str(status) and needle in error.find("description").text
    else:
        [error] = body(response)
        assert error["code"] == status and needle in error["description"]


def test_page_size_is_clamped(city_app) -> None:
    url = f"/open311/v2/requests.json?page_size=5000&{WINDOW}"
    assert len(body(signed_in(city_app).get(url))) == 6


def test_post_creates_a_problem(city_app, engine) -> None:
    form = {
        "api_key": "key-two", "service_code": "corridor_clutter", "lat": "32.03", "long": "120.96",
        "description": "三楼楼道堆放纸箱", "address_string": "北岭镇幸福里3栋", "email": "a@b.cn",
    }  # fmt: skip
    response = post(city_app, "/open311/v2/requests.json", form)
    assert response.status_code == 200, response.get_data(as_text=True)
    [created] = body(response)
    with session_factory(engine)() as session:
        problem = session.get(Problem, int(created["service_request_id"]))
        assert problem.category == "corridor_clutter" and problem.status == "found"
        assert problem.source == "open311" and "北岭镇幸福里3栋" in problem.description
        assert "a@b.cn" not in problem.description  # contact details are not stored
        assert problem.street_id is not None and problem.district_id is not None
        event = session.scalar(sa.select(ProblemEvent).where(ProblemEvent.problem_id == problem.id))
        assert event.actor == "token:key-two" and event.to_status == "found"
        assert summary.mismatches(session).empty
    fetched = body(signed_in(city_app).get(f"/open311/v2/requests/{problem.id}.json"))
    assert fetched[0]["status"] == "open" and fetched[0]["service_code"] == "corridor_clutter"


def test_post_as_xml(city_app) -> None:
    form = {"api_key": "key-one", "service_code": "litter", "lat": "32.01", "long": "120.82"}
    response = post(city_app, "/open311/v2/requests.xml", form)
    assert response.status_code == 200
    assert ET.fromstring(response.get_data()).find("request/service_request_id").text.isdigit()


@pytest.mark.parametrize(
    ("form", "status", "needle"),
    [
        (
            {"api_key": "wrong", "service_code": "litter", "lat": "32", "long": "120.9"},
            401,
            "token",
        ),
        ({"service_code": "litter", "lat": "32", "long": "120.9"}, 401, "token"),
        (
            {"api_key": "key-planner", "service_code": "litter", "lat": "32", "long": "120.9"},
            403,
            "planner",
        ),
        ({"api_key": "key-one", "service_code": "ufo", "lat": "32", "long": "120.9"}, 400, "ufo"),
        (
            {"api_key": "key-one", "service_code": "litter", "address_string": "某路"},
            400,
            "lat and long",
        ),
        (
            {"api_key": "key-one", "service_code": "litter", "lat": "95", "long": "120.9"},
            400,
            "lat",
        ),
        ({"api_key": "key-one", "service_code": "litter", "lat": "x", "long": "120.9"}, 400, "lat"),
        ({"api_key": "key-one", "service_code": "litter", "lat": "0", "long": "0"}, 400, "0,0"),
        ({"api_key": "key-one", "lat": "32", "long": "120.9"}, 400, "category"),
        (
            {
                "api_key": "key-one",
                "service_code": "litter",
                "lat": "32",
                "long": "120.9",
                "x": "1",
            },
            400,
            "x",
        ),
    ],
)
def test_bad_posts_write_nothing(city_app, engine, form, status, needle) -> None:
    before = writes(engine)
    response = post(city_app, "/open311/v2/requests.json", form)
    assert response.status_code == status
    [error] = body(response)
    assert needle in error["description"]
    assert writes(engine) == before


def test_reads_need_a_login_or_a_token(city_app) -> None:
    anonymous = city_app.test_client()
    assert anonymous.get("/open311/v2/requests.json").status_code == 401
    key = SECRETS["key-one"]
    assert anonymous.get(f"/open311/v2/requests.json?api_key={key}").status_code == 200
    headers = {"Authorization": f"Bearer {key}"}
    assert anonymous.get("/open311/v2/services.xml", headers=headers).status_code == 200
