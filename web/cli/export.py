"""`civicgrid export problems|points|areas`: thin click wrapper over geo/export/stream.py."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import sqlalchemy.orm as so
from flask import current_app
from flask.cli import with_appcontext

from geo.core.text import tr
from geo.export.request import (
    FORMATS,
    STREAMED,
    ExportRequest,
    check_choice,
    format_for_path,
    marked_path,
    title,
)
from geo.export.stream import export_to_file, stream_export
from geo.reports.filters import TARGETS, ProblemFilter, Target
from geo.storage.models import LEVELS
from web import database
from web.cli.common import domain_errors, echo, reading_engine, say

_FILTERS = ("status", "category", "kind", "campaign", "area", "level")


@click.command("export")
@click.argument("target", type=click.Choice(TARGETS))
@click.option("-o", "--output", required=True, help="File to write; `-` = stdout (text formats).")
@click.option(
    "-f", "--format", "fmt", type=click.Choice(FORMATS), help="Default: from -o's suffix."
)
@click.option("--status", multiple=True, help="all, unresolved, overdue or a status code.")
@click.option("--category", multiple=True, help="Problem category: code or label.")
@click.option("--kind", multiple=True, help="Inspection point kind: code or label.")
@click.option("--campaign", multiple=True, help="Campaign: code or label.")
@click.option("--from", "date_from", help="Found on or after (YYYY-MM-DD or ISO 8601).")
@click.option("--to", "date_to", help="Found on or before (YYYY-MM-DD: the whole day).")
@click.option("--area", multiple=True, help="Area code at any level (or LEVEL:CODE).")
@click.option("--level", multiple=True, type=click.Choice(LEVELS), help="Areas: level(s).")
@click.option(
    "--crs",
    type=click.Choice(["wgs84", "gcj02"]),
    default="wgs84",
    show_default=True,
    help="gcj02: for AMap-based tools (marked in the file name and metadata).",
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@with_appcontext
@domain_errors
def export_command(
    target: Target, output: str, fmt: str | None, crs: str, lang: str, **filters: Any
) -> None:
    """Export problems, inspection points or areas 导出问题/点位/区域.

    GeoJSON (RFC 7946), GeoJSON Text Sequences, CSV (UTF-8 with BOM, for Excel), XLSX
    or GeoPackage; filtered like the map.
    """
    engine = reading_engine()
    path = None if output == "-" else Path(output)
    fmt = fmt or (format_for_path(path) if path else "geojson")
    tz = current_app.config["TIMEZONE"]
    filt = ProblemFilter.from_args(_filter_args(filters), database.taxonomy(), target, tz)
    request = ExportRequest(target, fmt, filt, crs, lang, tz)
    with so.Session(engine) as session:
        if path is None:
            _to_stdout(session, request)
            return
        _to_file(session, request, marked_path(path, crs))


def _filter_args(options: dict[str, Any]) -> dict[str, Any]:
    args = {key: list(options[key]) for key in _FILTERS if options.get(key)}
    for key, option in (("from", "date_from"), ("to", "date_to")):
        if options.get(option):
            args[key] = options[option]
    return args


def _to_stdout(session: so.Session, request: ExportRequest) -> None:
    check_choice("format for stdout", request.format, STREAMED)
    out = sys.stdout.buffer
    for block in stream_export(session, request, database.taxonomy()):
        out.write(block)
    out.flush()


def _to_file(session: so.Session, request: ExportRequest, path: Path) -> None:
    bars: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(
                click.progressbar(length=total, label=say(tr("导出", "exporting")), file=sys.stderr)
            )
        bars[0].update(done - bars[0].pos)

    result = export_to_file(session, request, database.taxonomy(), path, progress)
    for bar in bars:
        bar.render_finish()
    gcj02 = request.crs == "gcj02"
    echo(
        tr(
            (
                f"已导出 {result.features} 个"
                f"{title(request.target, 'zh')} → {result.path}"
                + ("（坐标系 GCJ-02）" if gcj02 else "")
            ),
            (
                f"exported {result.features} "
                f"{title(request.target, 'en')} → {result.path}"
                + (" (coordinates in GCJ-02)" if gcj02 else "")
            ),
        )
    )
