"""What every command shares: the app's engine with a current schema, domain errors
turned into one line on stderr with the error's exit code (1 bad input, 2 setup), and
messages in the terminal's language (``LC_ALL``/``LC_MESSAGES``/``LANG``: ``en*`` →
English, anything else or unset → Chinese)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy.engine import Engine

from geo.core.errors import CivicgridError
from geo.core.text import en, in_lang, tr
from geo.storage.schema import require_schema
from web import database

F = TypeVar("F", bound=Callable[..., Any])


def terminal_lang() -> str:
    """The terminal's language: the first of LC_ALL, LC_MESSAGES, LANG that is set;
    ``en…`` gives "en", anything else (``zh_CN``, ``C``, ``POSIX``, unset) "zh"."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


def say(message: object) -> str:
    """``message`` (a Text, an error or a plain str) in the terminal's language."""
    return in_lang(message, terminal_lang())


def echo(message: object = "", **kwargs: Any) -> None:
    """``click.echo`` of ``message`` in the terminal's language."""
    click.echo(say(message), **kwargs)


def domain_errors(func: F) -> F:
    """Turn a CivicgridError into one line on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CivicgridError as exc:
            echo(tr(f"错误: {exc}", f"error: {en(exc)}"), err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def ready_engine() -> Engine:
    """The app's engine, once its schema is known to be current (else ``ConfigError``)."""
    engine = database.engine()
    require_schema(engine)
    return engine
