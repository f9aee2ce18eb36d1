"""OGC API items keyset paging: next links carry a cursor, every feature comes exactly
once across pages (with filters, bbox, sortby and scope), bad cursors are 400s."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from flask import Flask

from tests.exportdata import PROBLEMS, load_export_city
from tests.helpers import TEST_PASSWORD, add_token, ensure_user, signed_in
from tests.web.browser import PageWatch, browser_login, live_server, screenshot, wait_for_layers

ITEMS = "/ogcapi/collections/problems/items"


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        load_export_city(database.engine(), tmp_path)
    return app


def _walk(client, url: str, headers: dict[str, str] | None = None) -> tuple[list[dict], list[dict]]:
    """Every page from ``url`` following next links: (features, pages)."""
    features, pages = [], []
    while url:
        response = client.get(url, headers=headers or {})
        assert response.status_code == 200, response.get_data(as_text=True)
        page = json.loads(response.get_data(as_text=True))
        pages.append(page)
        features += page["features"]
        nexts = [link["href"] for link in page["links"] if link["rel"] == "next"]
        assert len(nexts) <= 1
        url = nexts[0].replace("http://localhost", "") if nexts else ""
        assert len(pages) <= 20
    return features, pages


def _ids(features: list[dict]) -> list[str]:
    return [str(f["id"]) for f in features]


@pytest.mark.parametrize(
    "args",
    [
        "",
        "&status=unresolved",
        "&bbox=120.80,32.00,121.0,32.05",
        "&datetime=2024-05-02/2024-07-01",
        "&filter=category%20IN%20('litter','illegal_ads','unsafe_charging')",
        "&sortby=-found_at",
        "&sortby=deadline",  # NULL (no deadline) is the highest value on both backends
        "&sortby=-deadline",
        "&sortby=-deadline,category",
        "&sortby=category,%2Bid&status=unresolved",
    ],
)
def test_next_links_return_every_feature_once(city_app, args) -> None:
    client = signed_in(city_app)
    whole = json.loads(client.get(f"{ITEMS}?limit=100{args}").get_data(as_text=True))
    features, pages = _walk(client, f"{ITEMS}?limit=2{args}")
    assert _ids(features) == _ids(whole["features"])  # same order, each once
    assert len(features) == whole["numberMatched"] == len(set(_ids(features)))
    assert pages[0]["numberMatched"] == whole["numberMatched"]
    for page in pages[1:]:  # keyset pages: a cursor, no count, no way back by offset
        assert "numberMatched" not in page
        assert not [link for link in page["links"] if link["rel"] == "prev"]
        assert all("cursor=" in link["href"] for link in page["links"] if link["rel"] == "self")


def test_next_links_stay_in_the_callers_scope(city_app, engine) -> None:
    headers = add_token(engine, "paging-district", "district_officer", ["district:329901"])
    client = city_app.test_client()
    whole = json.loads(client.get(f"{ITEMS}?limit=100", headers=headers).get_data(as_text=True))
    features, _ = _walk(client, f"{ITEMS}?limit=1&sortby=-found_at", headers)
    assert sorted(_ids(features)) == sorted(_ids(whole["features"]))
    assert 0 < len(features) < len(PROBLEMS)


def test_offset_pages_still_work_and_link_on_by_cursor(city_app) -> None:
    client = signed_in(city_app)
    _, all_pages = _walk(client, f"{ITEMS}?limit=6")
    every = _ids(all_pages[0]["features"])
    features, pages = _walk(client, f"{ITEMS}?limit=2&offset=1")
    assert _ids(features) == every[1:]
    prev = [link["href"] for link in pages[0]["links"] if link["rel"] == "prev"]
    assert prev and "offset=0" in prev[0]
    nexts = [link["href"] for link in pages[0]["links"] if link["rel"] == "next"]
    assert "offset" not in nexts[0] and "cursor=" in nexts[0]


def test_points_and_areas_page_by_cursor_too(city_app) -> None:
    client = signed_in(city_app)
    for coll, args in (("points", "sortby=-code"), ("streets", ""), ("points", "")):
        base = f"/ogcapi/collections/{coll}/items"
        whole = json.loads(client.get(f"{base}?{args}").get_data(as_text=True))
        features, pages = _walk(client, f"{base}?limit=1&{args}")
        assert _ids(features) == _ids(whole["features"]) and len(pages) == len(features)


def _cursor(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "args, needle",
    [
        ("cursor=%%%", "cursor"),
        ("cursor=bm90IGpzb24", "cursor"),  # base64 of "not json"
        (f"cursor={_cursor({'id': 1})}", "cursor"),
        (f"cursor={_cursor([1, 2])}", "cursor"),  # two values, default order wants one
        (f"cursor={_cursor(['x'])}", "cursor"),
        (f"cursor={_cursor([None])}", "cursor"),
        (f"cursor={_cursor([True])}", "cursor"),
        (f"cursor={_cursor([3])}&sortby=-found_at", "cursor"),  # cursor of another order
        (f"cursor={_cursor(['yesterday', 3])}&sortby=-found_at", "cursor"),
        (f"cursor={_cursor([3])}&offset=2", "offset"),
    ],
)
def test_malformed_cursor_is_a_400(city_app, args, needle) -> None:
    response = signed_in(city_app).get(f"{ITEMS}?{args}", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    body = json.loads(response.get_data(as_text=True))
    assert body["code"] == "InvalidParameterValue" and needle in body["description"]


def test_cursor_pages_in_html(city_app) -> None:
    client = signed_in(city_app)
    first = client.get(f"{ITEMS}?limit=4&f=html").get_data(as_text=True)
    assert "共 6 个，显示第 1–4 个" in first
    href = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "cursor=" in href
    second = client.get(href.replace("&amp;", "&").replace("http://localhost", ""))
    assert second.status_code == 200 and "本页 2 个" in second.get_data(as_text=True)


@pytest.mark.browser
@pytest.mark.parametrize(("size", "width", "height"), [("desktop", 1440, 900), ("phone", 390, 844)])
def test_next_page_by_cursor_in_chromium(city_app, browser, size, width, height) -> None:
    """The items page's Next link (a cursor) leads to the rest, on a desktop and a phone."""
    with live_server(city_app) as base:
        page = browser.new_page(viewport={"width": width, "height": height})
        browser_login(page, base, ensure_user(city_app), TEST_PASSWORD)
        watch = PageWatch(page, base)
        page.goto(base + "/ogcapi/collections/problems/items?f=html&limit=4&sortby=-found_at")
        wait_for_layers(page)
        assert "共 6 个，显示第 1–4 个" in page.locator("[data-testid=count]").inner_text()
        page.click("[data-testid=count] a[rel=next]")
        wait_for_layers(page)
        assert "本页 2 个" in page.locator("[data-testid=count]").inner_text()
        assert page.locator("[data-testid=items] tbody tr").count() == 2
        assert page.locator("[data-testid=count] a").count() == 0  # last page: no links
        screenshot(page, f"ogcapi-items-cursor-{size}")
        assert watch.offorigin == [] and watch.console_errors == []
        page.close()
