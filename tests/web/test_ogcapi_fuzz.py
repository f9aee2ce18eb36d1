"""schemathesis over the OGC API's own OpenAPI document (/ogcapi/api): every answer to a
schema-valid request is documented (status code, media type, schema), and no request,
valid or not, gets a server error."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings

from tests.helpers import add_token, load_scoped_city
from web import database

FUZZ_EXAMPLES = 5  # per operation, principal and mode: bounded, the suite stays fast


@pytest.fixture
def fuzz_app(app: Flask, tmp_path: Path):
    with app.app_context():
        engine = database.engine()
    load_scoped_city(engine, tmp_path)
    headers = {
        "city": add_token(engine, "ogc-fuzz-city", "city_officer"),
        "grid": add_token(engine, "ogc-fuzz-grid", "grid_manager"),
    }
    return app, headers


@pytest.mark.slow  # schemathesis over every collection
def test_schemathesis_finds_no_mismatch_in_the_ogc_api(fuzz_app) -> None:
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    app, headers = fuzz_app
    schema = schemathesis.openapi.from_wsgi("/ogcapi/api?f=json", app, headers=headers["city"])
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 3 + 3 * 6
    calls = 0

    def fuzz(operation, header, mode) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:
            nonlocal calls
            # JSON (clients such as GDAL send no Accept: text/html); identity: the WSGI
            # transport does not undo the server's gzip
            extra = {
                "Accept": "application/geo+json, application/json",
                "Accept-Encoding": "identity",
            }
            response = case.call(headers={**header, **extra})
            calls += 1
            positive = mode == GenerationMode.POSITIVE
            case.validate_response(response, checks=checks if positive else [not_a_server_error])

        run()

    failures = []
    for operation in operations:
        for (who, header), mode in itertools.product(headers.items(), GenerationMode):
            if mode == GenerationMode.NEGATIVE and not list(operation.iter_parameters()):
                continue  # nothing to get wrong (e.g. /queryables takes no parameter)
            try:
                fuzz(operation, header, mode)
            except (Exception, BaseExceptionGroup) as exc:  # hypothesis raises groups
                failures.append(f"{operation.label} as {who} ({mode.value}): {str(exc)[:600]}")
    assert failures == []
    assert calls > len(operations) * 4
    print(f"schemathesis: {len(operations)} operations, {calls} requests, no mismatch")
