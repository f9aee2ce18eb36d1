"""Rankings kept per worker (geo/reports/ranking_cache.py) behind /rankings and
/api/v1/rankings: a kept ranking answers exactly as a fresh build, a scoped user still
sees only their areas' rows, another period is never answered from this one's entry, and
a computed ranking follows the data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from geo.reports import publications
from tests.helpers import signed_in, write_csv
from tests.stats_data import load_stats_city
from web.httpcache import cache

W47 = "/api/v1/rankings?level=street&period=2026-W47"
PAGE = "/rankings?level=street&period=2026-W47"


@pytest.fixture
def stats_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        load_stats_city(database.engine(), tmp_path)
    return app


def _kept(app: Flask) -> Any:
    from web.pages.rankings import _CACHE

    return app.extensions[_CACHE]


def _no_rebuilds(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_publication: Any) -> Any:
        raise AssertionError("a kept publication was rebuilt from its stored figures")

    monkeypatch.setattr(publications, "ranking_from", refuse)


def _table(html: str) -> str:
    return html[html.index('<div class="cg-lists">') : html.index("</table>")]


def test_a_kept_ranking_answers_as_a_fresh_build(
    stats_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in(stats_app)
    client.get(W47)  # the first showing publishes it
    fresh, page = client.get(W47).get_json(), client.get(PAGE).get_data(as_text=True)
    assert fresh["published_at"] and len(_kept(stats_app)) >= 1
    with monkeypatch.context() as patched:
        _no_rebuilds(patched)
        kept = client.get(W47).get_json()
        kept_page = client.get(PAGE).get_data(as_text=True)
    assert kept == fresh and _table(kept_page) == _table(page)
    assert "display" in kept["rows"][0] and "display" not in _kept_rows(stats_app)[0]
    etag = client.get(W47).headers["ETag"]
    assert client.get(W47, headers={"If-None-Match": etag}).status_code == 304
    _kept(stats_app).clear()
    cache(stats_app).clear()  # the built responses too
    assert client.get(W47).get_json() == fresh


def _kept_rows(app: Flask) -> list[dict[str, Any]]:
    cache = _kept(app)
    return next(iter(cache._kept.values())).records


def test_a_scoped_user_sees_only_their_rows_of_a_kept_ranking(stats_app: Flask) -> None:
    office = signed_in(stats_app)
    city = office.get(W47).get_json()
    assert "329901001" in office.get(PAGE).get_data(as_text=True)  # its rows, rendered
    assert {r["code"] for r in city["rows"]} >= {"329901001", "329902001"}
    scoped = signed_in(stats_app, "planner", ["329902"])
    mine = scoped.get(W47).get_json()
    assert {r["code"][:6] for r in mine["rows"]} == {"329902"}
    assert [r["code"] for r in mine["red"]] == ["329902001"] and mine["black"] == []
    # The ranks stay the city's: the scoped rows are the city's rows, not re-ranked.
    assert [r for r in city["rows"] if r["code"].startswith("329902")] == mine["rows"]
    html = scoped.get(PAGE).get_data(as_text=True)
    assert "329902001" in html and "329901001" not in html
    # Filtering a kept ranking for one user leaves it whole for the next.
    assert signed_in(stats_app).get(W47).get_json() == city


def test_another_period_is_not_answered_from_this_ones_entry(stats_app: Flask) -> None:
    client = signed_in(stats_app)
    w48_path = "/api/v1/rankings?level=street&period=2026-W48"
    first_w47, first_w48 = client.get(W47).get_json(), client.get(w48_path).get_json()
    # Now both are published: each answer below comes through the kept entries.
    w47, w48 = client.get(W47).get_json(), client.get(w48_path).get_json()
    assert w47 == first_w47 and w48 == first_w48 and len(_kept(stats_app)) >= 2
    assert w48["period"] == "2026-W48" and w48["previous_period"] == "2026-W47"
    assert w48["published_at"] and w48["rows"] != w47["rows"]
    east = next(r for r in w48["rows"] if r["code"] == "329901001")
    assert east["previous_rank"] == 2  # W47's published rank


def test_a_kept_page_of_rows_follows_the_language(stats_app: Flask) -> None:
    client = signed_in(stats_app)
    client.get(W47)
    assert "不参与排名" in client.get(PAGE).get_data(as_text=True)
    english = client.get(f"{PAGE}&lang=en").get_data(as_text=True)
    assert "not ranked" in english and "不参与排名" not in english


NEW_DUE = (
    "id,lon,lat,category,found_at,status,unit,deadline\n"
    "N1,120.82,32.01,litter,2026-11-16T10:00+08:00,assigned,东门街道办事处,"
    "2026-11-18T10:00+08:00\n"
)


def test_a_computed_ranking_follows_the_data(stats_app: Flask, tmp_path: Path) -> None:
    from geo.ingest.pipeline import IngestOptions, ingest_file
    from web import database

    what_if = f"{W47}&top=1"  # a what-if list size: computed, never published
    client = signed_in(stats_app)
    before = _east(client.get(what_if).get_json())
    assert _east(client.get(what_if).get_json()) == before  # kept
    with stats_app.app_context():
        ingest_file(database.engine(), write_csv(tmp_path / "n.csv", NEW_DUE), IngestOptions("n"))
    after = _east(client.get(what_if).get_json())
    assert after["due"] == before["due"] + 1 and after["overdue"] == before["overdue"] + 1


def _east(data: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in data["rows"] if r["code"] == "329901001")
