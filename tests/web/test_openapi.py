"""The OpenAPI document: valid, complete, and fuzzed by schemathesis without server errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from openapi_spec_validator import validate

from tests.web.fuzzing import fuzz_city, fuzz_operations

# Per operation, principal and mode (valid, invalid): every operation is still called
# with generated input at least 3 times as each principal (as the OGC run does); 10
# spent two minutes per backend, mostly in generating the inputs.
FUZZ_EXAMPLES = 3


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_document_is_valid_openapi_3(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_api_route_is_described(app: Flask, client) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    routes = {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, ops in paths.items() for method in ops}
    assert routes - described == set(), "document these routes in web/api/openapi.py"
    assert described - routes == set(), "these documented routes do not exist"


@pytest.fixture
def fuzz_app(app: Flask, tmp_path: Path):
    return fuzz_city(app, tmp_path, "fuzz")


@pytest.mark.slow  # schemathesis over the whole API
def test_schemathesis_finds_no_server_errors(fuzz_app) -> None:
    import schemathesis

    app, headers = fuzz_app
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # identity: the WSGI transport does not undo the server's gzip
    extra = {"Accept-Encoding": "identity"}
    operations, calls, failures = fuzz_operations(schema, headers, FUZZ_EXAMPLES, extra)
    assert operations >= 6 and failures == []
    assert calls > operations * 4
    print(f"schemathesis: {operations} operations, {calls} requests, no server error")
