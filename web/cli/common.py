"""What every command shares: the app's engine with a current schema, domain errors
turned into one line on stderr with the error's exit code (1 bad input, 2 setup or a
database that is busy, full, unreadable or unreachable), and
messages in the terminal's language (``LC_ALL``/``LC_MESSAGES``/``LANG``: ``en*`` →
English, anything else or unset → Chinese)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
from sqlalchemy.engine import Engine

from geo.core.errors import CivicgridError, DatabaseUnavailableError, InvalidParameterError
from geo.core.text import Text, en, in_lang, tr
from geo.core.timeparse import parse_time
from geo.storage.db import immutable_reader
from geo.storage.faults import FAULTS, is_fault, unavailable
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
            echo(error_line(exc), err=True)
            sys.exit(exc.exit_code)
        except FAULTS as exc:
            if not is_fault(exc):
                raise
            error = unavailable(exc)
            echo(error_line(error), err=True)
            sys.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]


def error_line(exc: CivicgridError) -> Text:
    """The one line that reports ``exc``: ``错误: …`` / ``error: …``, with the driver's
    own words in parentheses for a database fault (disk full, connection refused…)."""
    fault = exc.detail if isinstance(exc, DatabaseUnavailableError) else ""
    detail, detail_en = (f"（{fault}）", f" ({fault})") if fault else ("", "")
    return tr(f"错误: {exc}{detail}", f"error: {en(exc)}{detail_en}")


def as_domain_error(exc: BaseException) -> CivicgridError | None:
    """``exc`` as a typed error (a database fault becomes ``DatabaseUnavailableError``),
    or None when it is neither (a bug)."""
    if isinstance(exc, CivicgridError):
        return exc
    return unavailable(exc) if is_fault(exc) else None


def ready_engine() -> Engine:
    """The app's engine, once its schema is known to be current (else ``ConfigError``)."""
    engine = database.engine()
    require_schema(engine)
    return engine


def reading_engine() -> Engine:
    """``ready_engine`` for commands that only read (``summary check``, ``export``): when
    the SQLite database cannot be opened as usual because the disk is full or failing,
    it is read as an immutable file instead (see ``immutable_reader``), with a note."""
    try:
        return ready_engine()
    except FAULTS as exc:
        fallback = immutable_reader(database.engine()) if is_fault(exc) else None
        if fallback is None:
            raise
        require_schema(fallback)
        echo(
            tr(
                "注意: 数据库无法正常打开（磁盘已满？），已以只读方式读取",
                "note: the database could not be opened as usual (disk full?); read it read-only",
            ),
            err=True,
        )
        return fallback


def when(text: str | None, tz: str) -> datetime:
    """An ``--at`` option's time (local to ``tz`` unless it has an offset) as naive UTC;
    now when not given. A malformed time is a one-line error."""
    if not text:
        return datetime.now(UTC).replace(tzinfo=None)
    parsed = parse_time(text, tz)
    if parsed is None:
        raise InvalidParameterError(
            tr(f"--at: 时间格式错误 '{text}'", f"--at: malformed time '{text}'")
        )
    return parsed
