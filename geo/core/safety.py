"""Defences for data crossing the boundary: upload names and types, spreadsheet cells.

- ``safe_upload_name``: a client's file name reduced to one harmless path component
  (no folders, no ``..``, no control characters), keeping Chinese text.
- ``check_upload_type``: the name's suffix is an accepted one and the first bytes look
  like that kind of file.
- ``neutralise_cell``: text that a spreadsheet would run as a formula gets a leading
  apostrophe (CSV/XLSX exports; OWASP "CSV injection").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geo.core.errors import UnsupportedFileError
from geo.core.text import tr

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make Excel, LibreOffice or WPS treat a cell as a formula."""

SURVEY_TYPES: dict[str, str] = {
    ".csv": "text",
    ".txt": "text",
    ".geojson": "text",
    ".json": "text",
    ".xlsx": "zip",
    ".gpkg": "sqlite",
}
"""Accepted survey upload suffixes and what their content must look like.
Kinds: ``text`` (no NUL bytes, decodes as UTF-8 or GB18030), ``zip`` (XLSX, GeoPackage
is ``sqlite``), ``sqlite``."""

_MAGIC = {"zip": (b"PK\x03\x04",), "sqlite": (b"SQLite format 3\x00",)}
_UNSAFE = re.compile(r"[^\w\-.()（）\[\] ]+")
MAX_NAME = 120


def neutralise_cell(text: Any) -> Any:
    """``text`` with a leading ``'`` when it starts with = + - @, a tab or a CR.

    Non-text values (numbers, None) are returned unchanged, so numeric columns stay
    numeric; only strings can carry a formula.
    """
    if isinstance(text, str) and text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def safe_upload_name(name: str | None, default: str = "upload") -> str:
    """One safe file name from a client-supplied ``name``.

    Drops any folder part (``/`` or ``\\``), control characters, characters outside
    letters/digits/``-_.()[]`` and spaces, and leading dots; keeps Chinese; at most
    MAX_NAME characters with the suffix kept.
    """
    text = unicodedata.normalize("NFKC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = _UNSAFE.sub("_", text).strip(" ._")
    if not text or text in (".", ".."):
        return default
    stem, suffix = _split_suffix(text)
    return stem[: MAX_NAME - len(suffix)] + suffix


def check_upload_type(name: str, head: bytes, types: Mapping[str, str] | None = None) -> str:
    """Return the accepted suffix of ``name`` after checking ``head`` (its first bytes).

    Raises ``UnsupportedFileError`` naming the accepted suffixes, or saying the content
    does not match the suffix (a renamed binary file, for instance).
    """
    types = SURVEY_TYPES if types is None else types
    suffix = Path(name).suffix.lower()
    if suffix not in types:
        raise UnsupportedFileError(
            tr(
                (
                    f"{name}: 不支持的文件类型 '{suffix or '(none)'}'; 可用: "
                    f"{', '.join(sorted(types))}"
                ),
                (
                    f"{name}: unsupported file type '{suffix or '(none)'}'; "
                    f"accepted: {', '.join(sorted(types))}"
                ),
            )
        )
    if not _looks_like(types[suffix], head):
        raise UnsupportedFileError(
            tr(f"{name}: 文件内容与扩展名 {suffix} 不符", f"{name}: content is not a {suffix} file")
        )
    return suffix


def _looks_like(kind: str, head: bytes) -> bool:
    if kind in _MAGIC:
        return head.startswith(_MAGIC[kind])
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            # A multi-byte character may be cut at the end of the sample.
            head.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 3:
                return True
    return False


def _split_suffix(name: str) -> tuple[str, str]:
    suffix = Path(name).suffix
    if not suffix or len(suffix) > 10:
        return name, ""
    return name[: -len(suffix)], suffix
