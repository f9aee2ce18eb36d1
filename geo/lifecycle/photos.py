"""Rectification photos: checked (size, real JPEG/PNG/WebP content) and kept on disk.

A photo is written under ``folder/<problem id>/<random name>.<ext>`` before the
transition that records it; if the transition fails the file is removed again, so a
refused change leaves neither a row nor a file behind.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geo.core.errors import PhotoError
from geo.core.text import tr

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
_NAME = re.compile(r"^\d+/[0-9a-f]{32}\.(jpg|png|webp)$")


def check_photo(data: bytes, max_bytes: int) -> str:
    """The file extension for ``data`` if it is a JPEG, PNG or WebP of at most
    ``max_bytes``; raise ``PhotoError`` otherwise (type is read from the content)."""
    if len(data) > max_bytes:
        raise PhotoError(
            tr(
                f"照片过大: {len(data) / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB",
                f"photo too large: {len(data) / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB",
            )
        )
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoError(
            tr("不是有效的图片", "not a valid image file (JPEG, PNG or WebP)")
        ) from exc
    if kind not in FORMATS:
        raise PhotoError(
            tr(
                f"不支持的图片格式 {kind}，请用 JPEG、PNG 或 WebP",
                f"unsupported image type {kind}: use JPEG, PNG or WebP",
            )
        )
    return FORMATS[kind]


@contextmanager
def staged_photo(
    folder: Path, problem_id: int, data: bytes | None, max_bytes: int
) -> Iterator[str | None]:
    """Check and write a photo, yield its stored name (None without data); delete the
    file again if the body of the ``with`` raises."""
    if not data:
        yield None
        return
    ext = check_photo(data, max_bytes)
    name = f"{problem_id}/{secrets.token_hex(16)}.{ext}"
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    try:
        yield name
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def photo_path(folder: Path, name: str) -> Path | None:
    """The file of a stored photo name, or None when the name is not one of ours."""
    if not _NAME.match(name):
        return None
    path = folder / name
    return path if path.is_file() else None
