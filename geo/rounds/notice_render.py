"""Rendering a notice (抄告单, geo/rounds/notices.py): an HTML fragment for the web page, one
self-contained HTML file, or a PDF through WeasyPrint (needs Pango and a CJK font:
Debian ``fonts-noto-cjk``). Photos are embedded as data URIs in files, linked on pages.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from geo.core.errors import InvalidParameterError
from geo.core.text import tr
from geo.lifecycle.photos import photo_path
from geo.rounds.notices import NoticeDoc

PhotoSource = Callable[[int, str], str | None]
"""(problem id, stored photo name) → an image URL or data URI, or None."""


def render_fragment(doc: NoticeDoc, photo_src: PhotoSource, lang: str = "zh") -> str:
    """The notice as an HTML fragment (``<article class="cg-notice">`` with its style)."""
    return _env(lang).get_template("notice_body.html").render(d=doc, photo=photo_src, lang=lang)


def render_document(doc: NoticeDoc, photo_src: PhotoSource, lang: str = "zh") -> str:
    """The notice as one self-contained HTML document (A4 print layout)."""
    body = render_fragment(doc, photo_src, lang)
    return _env(lang).get_template("notice.html").render(d=doc, body=body, lang=lang)


def embedded_photos(folder: Path) -> PhotoSource:
    """Photos read from ``folder`` (CIVICGRID_PHOTO_DIR) and embedded as data URIs."""

    def source(_problem_id: int, name: str) -> str | None:
        path = photo_path(folder, name)
        if path is None:
            return None
        kind = mimetypes.guess_type(path.name)[0] or "image/jpeg"
        return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"

    return source


def write_notice(doc: NoticeDoc, output: Path, photo_dir: Path, lang: str = "zh") -> Path:
    """Write the notice to ``output``: ``.html`` as is, ``.pdf`` through WeasyPrint."""
    suffix = output.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise InvalidParameterError(
            tr(
                f"{output}: 输出文件应为 .html 或 .pdf",
                f"{output}: output must end in .html or .pdf",
            )
        )
    if not output.parent.is_dir():
        raise InvalidParameterError(
            tr(f"{output.parent}: 目录不存在", f"{output.parent}: folder does not exist")
        )
    html = render_document(doc, embedded_photos(photo_dir), lang)
    if suffix == ".pdf":
        from weasyprint import HTML

        HTML(string=html, base_url=str(output.parent)).write_pdf(output)
    else:
        output.write_text(html, encoding="utf-8")
    return output


def _env(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.globals["t"] = lambda zh, en: en if lang == "en" else zh
    return env
