"""Checking values that come from outside: integers, record ids, text, JSON documents.

Every query argument, path segment and JSON body that reaches the database goes
through here first, so a value no column can hold (an id beyond a 32-bit integer, an
offset of 2**70, a lone UTF-16 surrogate, JSON nested 100,000 levels deep) is refused
as a 400 naming the parameter instead of failing later inside a driver.
"""

from __future__ import annotations

import json
import re
from typing import Any

from geo.core.errors import InvalidParameterError
from geo.core.text import tr

MAX_ID = 2**31 - 1
"""Largest id a database integer column holds."""

MAX_INT = 2**53
"""Largest count, offset or page any argument may name (far beyond any real data, and
well inside a 64-bit column or a JavaScript number)."""

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects a JSON body may have."""

MAX_JSON_BYTES = 1_000_000
"""Largest JSON body (a problem or a transition needs a few kB)."""

_MAX_DIGITS = 19
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def as_int(text: object, low: int = -MAX_INT, high: int = MAX_INT) -> int | None:
    """``text`` as an integer within [low, high]; None when it is not one.

    Only plain ASCII digits with an optional minus sign count (no ``1e18``, no ``١٢``,
    no 10,000-digit strings: the length is checked before converting).
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        value = text
    else:
        raw = str(text).strip() if text is not None else ""
        digits = raw[1:] if raw.startswith("-") else raw
        if not (digits.isascii() and digits.isdigit() and len(digits) <= _MAX_DIGITS):
            return None
        value = int(raw)
    return value if low <= value <= high else None


def int_param(name: str, text: object, default: int, low: int, high: int) -> int:
    """A query argument that must be an integer in [low, high] (``default`` when absent);
    ``InvalidParameterError`` naming ``name`` otherwise."""
    if text is None or (isinstance(text, str) and text.strip() == ""):
        return default
    value = as_int(text, low, high)
    if value is None:
        raise InvalidParameterError(
            tr(
                f"参数 {name} 应为 {low}–{high} 的整数: '{_short(text)}'",
                f"{name} must be an integer from {low} to {high}, got '{_short(text)}'",
            )
        )
    return value


def record_id(text: object) -> int | None:
    """A record id from a path or argument (1 … MAX_ID); None when no record can have it."""
    return as_int(text, 1, MAX_ID)


def check_text(name: str, value: object, limit: int) -> str:
    """``value`` as text of at most ``limit`` characters and valid Unicode (no lone
    surrogates); ``InvalidParameterError`` naming ``name`` otherwise."""
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidParameterError(
            tr(f"{name} 必须是不超过 {limit} 字的文本", f"{name}: text up to {limit} characters")
        )
    if not _valid_unicode(value):
        raise InvalidParameterError(
            tr(f"{name} 含无效的 Unicode 字符", f"{name} holds invalid Unicode (a lone surrogate)")
        )
    return value


def load_json(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a JSON document whose nesting is checked *before* parsing (no recursion
    error on a hostile body) and whose strings and keys are valid Unicode.

    Raises ``InvalidParameterError`` saying what is wrong.
    """
    if len(raw) > MAX_JSON_BYTES:
        raise InvalidParameterError(
            tr(
                f"JSON 请求体超过 {MAX_JSON_BYTES} 字节",
                f"the JSON body is larger than {MAX_JSON_BYTES} bytes",
            )
        )
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise InvalidParameterError(tr("请求体不是 UTF-8 文本", "the body is not UTF-8")) from None
    if _depth(text) > max_depth:
        raise InvalidParameterError(
            tr(f"JSON 嵌套超过 {max_depth} 层", f"JSON nested deeper than {max_depth} levels")
        )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidParameterError(
            tr("请求体不是有效的 JSON", f"the body is not valid JSON ({exc})")
        ) from None
    bad = _invalid_string(data)
    if bad is not None:
        raise InvalidParameterError(
            tr(f"{bad} 含无效的 Unicode 字符", f"{bad} holds invalid Unicode (a lone surrogate)")
        )
    return data


def _depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text, brackets inside strings ignored
    (strings are cut out by one regular expression, then only brackets are walked)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _invalid_string(data: Any, path: str = "body") -> str | None:
    """Where in ``data`` a string (or key) with a lone surrogate is, or None."""
    if isinstance(data, str):
        return None if _valid_unicode(data) else path
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if _valid_unicode(key) else path
            if not _valid_unicode(key):
                return where
            found = _invalid_string(value, where)
            if found:
                return found
    if isinstance(data, list):
        for i, value in enumerate(data):
            found = _invalid_string(value, f"{path}[{i}]")
            if found:
                return found
    return None


def _valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _short(value: object) -> str:
    text = str(value).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= 40 else text[:40] + "…"
