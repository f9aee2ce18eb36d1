"""schemathesis over one of our OpenAPI documents, bounded: the one loop both API test
modules use (tests/web/test_openapi.py, tests/web/test_ogcapi_fuzz.py)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings

from tests.helpers import add_token, load_scoped_city
from web import database


def fuzz_city(app: Flask, folder: Path, prefix: str) -> tuple[Flask, dict[str, dict[str, str]]]:
    """``app`` with the scoped test city, and the headers of a city-wide and a grid-scoped
    token (named ``<prefix>-city``, ``<prefix>-grid``) to fuzz as."""
    with app.app_context():
        engine = database.engine()
    load_scoped_city(engine, folder)
    headers = {
        "city": add_token(engine, f"{prefix}-city", "city_officer"),
        "grid": add_token(engine, f"{prefix}-grid", "grid_manager"),
    }
    return app, headers


def fuzz_operations(
    schema: Any, headers: dict[str, dict[str, str]], examples: int, extra: dict[str, str]
) -> tuple[int, int, list[str]]:
    """Call every operation of ``schema`` as each principal of ``headers``, with valid
    and invalid inputs (``examples`` each); returns (operations, calls, failures).

    Schema-valid requests must get documented answers (status code, media type, body);
    invalid ones anything but a server error. Every failure is reported, not the first.
    """
    from schemathesis import GenerationMode
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    operations = [result.ok() for result in schema.get_all_operations()]
    calls = 0
    failures: list[str] = []

    def fuzz(operation: Any, header: dict[str, str], mode: Any) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            nonlocal calls
            response = case.call(headers={**header, **extra})
            calls += 1
            positive = mode == GenerationMode.POSITIVE
            case.validate_response(response, checks=checks if positive else [not_a_server_error])

        run()

    for operation in operations:
        for (who, header), mode in itertools.product(headers.items(), GenerationMode):
            if mode == GenerationMode.NEGATIVE and not list(operation.iter_parameters()):
                continue  # nothing to get wrong (e.g. /queryables takes no parameter)
            try:
                fuzz(operation, header, mode)
            except (Exception, BaseExceptionGroup) as exc:  # hypothesis raises groups
                failures.append(f"{operation.label} as {who} ({mode.value}): {str(exc)[:600]}")
    return len(operations), calls, failures
