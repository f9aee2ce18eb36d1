"""Every route of the app's url_map, every argument it reads: no 5xx (issue 19, Show).

tests/web/test_malformed_input.py names the issue's cases one by one; this module
finds the routes itself, so a route or parameter added later is probed without anyone
listing it. Each route is called once with valid path values while the request records
which query arguments and form fields the view reads; then every path segment and every
argument read (plus the common ones) gets its share of the malformed values, and all
of them get each value at once. Every answer must be below 500, in the family's error
shape when it is a refusal, and a refused POST writes nothing. (A route whose valid
ids find nothing in this city, e.g. /bulletins/1, is probed up to its 404.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule

from tests.web.test_malformed_input import _shape, table_counts
from tests.web.test_malformed_input import world as world  # the same probe city

pytestmark = [pytest.mark.xdist_group("malformed-input"), pytest.mark.slow]

VALUES = [
    "-1", "0", str(2**63), str(2**70), "1e18", "9" * 40, "x" * 10_000, "%ED%A0%80", "%FF",
    "%00", "-0001-01-01", "99999-01-01", "[]", "nan", "%D9%A3", "../..",
]  # fmt: skip
"""Negative, zero and huge numbers, a float spelling, 10k characters, a lone surrogate
and invalid UTF-8 (percent-encoded), NUL, impossible dates, JSON-ish text, NaN, Arabic-
Indic digits, a path climb."""
COMMON = ["from", "to", "page", "limit", "offset", "bbox", "datetime", "level", "lang"]
SKIPPED = {"static", "vendor", "open311.preflight", "auth.logout"}
"""Files served by Flask, the CORS preflight (OPTIONS only), and logout (it ends the
probe's own session; tests/web/test_sessions.py covers it)."""
VALID = {"plural": "districts", "code": "329901", "level": "district", "target": "problems"}
VALID |= {"fmt": "json", "collection_id": "problems", "action": "assign", "street": "329901001"}
VALID |= {"name": "x.png"}
_READ: set[str] = set()


class _Recording(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query arguments or form fields that remember which names the view asked for."""

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:
        _READ.add(key)
        return super().get(key, default, type)

    def getlist(self, key: Any, type: Any = None) -> Any:
        _READ.add(key)
        return super().getlist(key, type)

    def __getitem__(self, key: Any) -> Any:
        _READ.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        _READ.add(str(key))
        return super().__contains__(key)


class _RecordingRequest(Request):
    @property
    def args(self) -> Any:  # type: ignore[override]
        return _Recording(super().args)

    @property
    def form(self) -> Any:  # type: ignore[override]
        return _Recording(super().form)


def _routes() -> list[tuple[str, str]]:
    from web import create_app

    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True})
    return sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in SKIPPED
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    )


ROUTES = _routes()


def _path(rule: Rule, **values: str) -> str:
    path = rule.rule
    for name in rule.arguments:
        value = values.get(name, VALID.get(name, "1"))
        path = re.sub(rf"<(?:[^<>]*:)?{name}>", value, path)
    return path


@pytest.fixture(scope="module")
def probe(world: dict[str, Any]) -> Iterator[dict[str, Any]]:
    app: Flask = world["app"]
    app.request_class = _RecordingRequest
    app.config["WTF_CSRF_ENABLED"] = False  # reach the forms' own checks
    yield world
    app.request_class = Request
    app.config["WTF_CSRF_ENABLED"] = True


def test_every_route_is_probed(probe: dict[str, Any]) -> None:
    rules = {r.rule for r in probe["app"].url_map.iter_rules() if r.endpoint not in SKIPPED}
    assert {rule for rule, _ in ROUTES} == rules and len(ROUTES) > 70


@pytest.mark.parametrize(("rule_text", "method"), ROUTES, ids=[f"{m} {r}" for r, m in ROUTES])
def test_no_route_answers_5xx_to_malformed_values(
    probe: dict[str, Any], rule_text: str, method: str
) -> None:
    app: Flask = probe["app"]
    rule = next(r for r in app.url_map.iter_rules() if r.rule == rule_text and method in r.methods)
    api = rule_text.startswith(("/api/", "/ogcapi", "/open311", "/export"))
    client, headers = (app.test_client(), probe["token"]) if api else (probe["browser"], {})
    valid = _path(rule)
    _READ.clear()
    first = client.open(valid, method=method, headers=headers)
    assert first.status_code < 500, (valid, first.get_data(as_text=True)[:300])
    names = sorted(_READ | set(COMMON))
    calls = [(_path(rule, **{arg: v}), None) for arg in rule.arguments for v in VALUES]
    # every name with EACH of its share of the values (rotating, so each value meets each
    # position), and every value in all names at once (what the first check sees)
    calls += [(valid, ([n], v)) for i, n in enumerate(names) for v in _share(i)]
    calls += [(valid, (names, v)) for v in VALUES]
    failures = []
    for path, arg in calls:
        failures += _call(probe, client, method, headers, path, arg)
    assert failures == [], failures[:5]


def _share(index: int, size: int = 4) -> list[str]:
    return [VALUES[(index * size + k) % len(VALUES)] for k in range(size)]


def _call(probe: dict[str, Any], client: Any, method: str, headers: Any, path: str, arg: Any):
    pairs = [(name, arg[1]) for name in arg[0]] if arg else []
    query = "&".join(f"{n}={v}" for n, v in pairs) if method == "GET" else ""
    query = f"{'&' if '?' in path else '?'}{query}" if query else ""
    form = dict(pairs) if pairs and method == "POST" else None
    before = table_counts(probe["engine"]) if method == "POST" else None
    response = client.open(path + query, method=method, headers=headers, data=form)
    where = f"{method} {path[:80]}{query[:80]} {form and str(form)[:80]}"
    status = response.status_code
    if status >= 500:
        return [f"{status} {where}: {response.get_data(as_text=True)[:200]}"]
    if status >= 400 and before is not None and table_counts(probe["engine"]) != before:
        return [f"{status} but written: {where}"]
    if 400 <= status < 500 and status not in (401, 403, 404, 405):
        try:
            _shape(path.split("?")[0], response)
        except (AssertionError, TypeError, KeyError) as exc:
            return [f"{status} not in the error shape ({exc!r}): {where}"]
    return []
