"""Secrets never reach a log line.

Open311 sends its ``api_key`` in the query string and the Werkzeug access log writes the
request line as it came; scripts may put a ``token`` or a ``password`` there too. Every
log record (any logger, any handler, the access log included) is rewritten when it is
made: the values of ``api_key``, ``token`` (``access_token``, ``csrf_token``…),
``password`` and ``secret`` parameters, ``"password": "…"`` JSON members and
``Bearer …`` credentials become ``[REDACTED]``.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from flask import Flask

REDACTED = "[REDACTED]"
_KEYS = r"(?:api[_-]?key|[a-z_]*token|pass(?:word|wd)?|secret)"
_SECRET_NAME = re.compile(rf"(?i){_KEYS}")
# name=value in query strings and form bodies: the name may be %-encoded (api%5Fkey is
# api_key to the server) or nested (user[password]), and "=" may be %-encoded (%3D)
_NAME = r"[A-Za-z0-9_%.+\[\]-]"
_PAIR = re.compile(rf"(?i)(?<!{_NAME})({_NAME}+)(=|%3D)([^&\s\"';,]+)")
_PATTERNS = (
    # "name": "value" in JSON
    re.compile(rf"(?i)(\"{_KEYS}\"\s*:\s*\")[^\"]*"),
    # Authorization: Bearer <secret>
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+"),
)


def redact(text: str) -> str:
    """``text`` with every secret value replaced by ``[REDACTED]``."""
    text = _PAIR.sub(_redact_pair, text)
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return text


def _redact_pair(match: re.Match[str]) -> str:
    name, equals, _ = match.groups()
    plain = name
    for _ in range(3):  # %255F is %5F once decoded, _ twice
        plain = unquote_plus(plain)
    parts = re.split(r"[\[\].]+", plain)  # user[password], form.api_key
    if any(_SECRET_NAME.fullmatch(part) for part in [plain, *parts]):
        return f"{name}{equals}{REDACTED}"
    return match.group(0)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the record's formatted message in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def init_app(app: Flask) -> None:
    """Redact every log record from now on (installed once per process) and filter the
    app's and Werkzeug's loggers and their handlers as well."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "civicgrid_redacts", False):
        logging.setLogRecordFactory(_redacting_factory(factory))
    for logger in (app.logger, logging.getLogger("werkzeug"), logging.getLogger()):
        _add_filter(logger)
        for handler in logger.handlers:
            _add_filter(handler)


def _redacting_factory(make: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = make(*args, **kwargs)
        _redact_record(record)
        return record

    factory.civicgrid_redacts = True  # type: ignore[attr-defined]
    return factory


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed record: leave it to the handler
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None


def _add_filter(target: logging.Logger | logging.Handler) -> None:
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(RedactingFilter())
