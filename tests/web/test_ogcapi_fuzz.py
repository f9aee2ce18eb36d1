"""schemathesis over the OGC API's own OpenAPI document (/ogcapi/api): every answer to a
schema-valid request is documented (status code, media type, schema), and no request,
valid or not, gets a server error."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.web.fuzzing import fuzz_city, fuzz_operations

FUZZ_EXAMPLES = 3  # per operation, principal and mode: 39 operations, kept within make test


@pytest.fixture
def fuzz_app(app: Flask, tmp_path: Path):
    return fuzz_city(app, tmp_path, "ogc-fuzz")


@pytest.mark.slow  # schemathesis over every collection
def test_schemathesis_finds_no_mismatch_in_the_ogc_api(fuzz_app) -> None:
    import schemathesis

    app, headers = fuzz_app
    schema = schemathesis.openapi.from_wsgi("/ogcapi/api?f=json", app, headers=headers["city"])
    # JSON as GDAL asks for it; identity: the WSGI transport does not undo the server's gzip
    extra = {"Accept": "application/geo+json, application/json", "Accept-Encoding": "identity"}
    operations, calls, failures = fuzz_operations(schema, headers, FUZZ_EXAMPLES, extra)
    assert operations >= 4 + 4 * 9 - 1 and failures == []
    assert calls > operations * 4
    print(f"schemathesis: {operations} operations, {calls} requests, no mismatch")
