"""What every command shares: the app's engine with a current schema, and domain errors
turned into one line on stderr with the error's exit code (1 bad input, 2 setup)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy.engine import Engine

from geo.core.errors import CivicgridError
from geo.storage.schema import require_schema
from web import database

F = TypeVar("F", bound=Callable[..., Any])


def domain_errors(func: F) -> F:
    """Turn a CivicgridError into one line on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CivicgridError as exc:
            click.echo(f"错误 / error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def ready_engine() -> Engine:
    """The app's engine, once its schema is known to be current (else ``ConfigError``)."""
    engine = database.engine()
    require_schema(engine)
    return engine
