"""`civicgrid ingest FILE`: a thin click wrapper over geo.ingest.pipeline.ingest_file.

Prints a summary (accepted, rejected by reason, duplicates skipped, outside, batch id),
a progress bar on a terminal for large files, nothing with --quiet, and one JSON object
with --json. Bad input ends with one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from geo.access.audit import utcnow
from geo.core.text import en, tr
from geo.ingest.columns import ALIASES, parse_mapping
from geo.ingest.pipeline import IngestOptions, IngestResult, ingest_file
from geo.ingest.rows import explicit_found_at
from geo.ingest.sources.survey import FORMATS
from web import database
from web.cli.common import as_domain_error, echo, error_line, ready_engine, say, terminal_lang

_PROGRESS_MIN_BYTES = 512 * 1024  # about five thousand survey rows


def _column_lines() -> str:
    lines = []
    for name in ("lon", "lat", "category", "found_at", "external_id", "point_code"):
        need = "必需 required" if name in ("lon", "lat", "category") else "可选 optional"
        lines.append(f"  {name:<12} {need:<14} {', '.join(ALIASES[name])}")
    return "\n".join(lines)


INGEST_EPILOG = f"""\b
列 Columns (header matched ignoring case, width and a trailing (…); --map NAME=HEADER
for anything else):
{_column_lines()}
  found_at: without a time column the ingest time (or --found-at) is the found time
  (没有时间列时取导入时间); --strict refuses such a file.

\b
坐标系 Coordinates (--crs): GPS phones give wgs84 (the default; cgcs2000 is the same
here); points picked on AMap/Gaode or Tencent maps are gcj02; Baidu maps give bd09;
projected files EPSG:n. Forgetting --crs gcj02 puts rows 300-700 m off: rows naming a
point code are checked and a warning names the flag to use.

\b
重复交付 Re-delivery: ids are unique within --source; deliver a corrected or longer
file again with the same --source and only its new rows are added.

\b
示例 Examples:
  civicgrid ingest 暗访督查.xlsx --source 2024-w18 --crs gcj02 --rejects bad.csv
  civicgrid ingest kobo.csv --source kobo --map category=问题类型 --strict --json
"""


@click.command("ingest", epilog=INGEST_EPILOG)
@with_appcontext
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--source", default="survey", show_default=True, help="Source scoping the ids.")
@click.option("--actor", default="cli", show_default=True, help="Who ingests (recorded).")
@click.option(
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="File format (default: detected from content and extension).",
)
@click.option("--encoding", default=None, help="CSV encoding, e.g. gbk (default: detected).")
@click.option("--sheet", default=None, help="XLSX sheet name or number (default: the first).")
@click.option(
    "--map",
    "mapping",
    multiple=True,
    help="Column mapping NAME=HEADER (repeatable), or a TOML/JSON mapping file.",
)
@click.option(
    "--crs", default=None, help="Input coordinates: wgs84, cgcs2000, gcj02, bd09, EPSG:n."
)
@click.option(
    "--fix-swapped", is_flag=True, help="Swap back latitude/longitude given the wrong way."
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write refused rows with reasons to this CSV (UTF-8 with BOM).",
)
@click.option("--strict", is_flag=True, help="Refuse the whole file if any row is bad.")
@click.option("--dry-run", is_flag=True, help="Validate and report without writing.")
@click.option(
    "--link-distance",
    type=click.FloatRange(min=0),
    default=None,
    help="Link to the nearest inspection point within METRES (0: off; default 50).",
)
@click.option(
    "--round",
    default=None,
    help="Round (name or id) of the visits in the file that name none (column 轮次/round).",
)
@click.option(
    "--found-at",
    default=None,
    metavar="DATETIME",
    help="Found time of rows that give none (a file without a time column gets the ingest "
    "time; with --strict it is refused), e.g. '2024-05-01 10:00' (local time).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def ingest_command(file: Path, quiet: bool, as_json: bool, **fields: Any) -> None:
    """Ingest a survey file of problems 导入问题 (CSV, XLSX, GeoJSON, GPKG, SHP, Kobo, ODK)."""
    try:
        options = _options(file, **fields)
        with _progress(file, enabled=not (quiet or as_json)) as progress:
            result = ingest_file(
                ready_engine(),
                file,
                IngestOptions(**{**options, "progress": progress}),
                database.taxonomy(),
            )
    except Exception as exc:
        error = as_domain_error(exc)
        if error is None:
            raise
        if as_json:
            echo(json.dumps({"error": say(error)}, ensure_ascii=False))
        echo(error_line(error), err=True)
        sys.exit(error.exit_code)
    if as_json:
        echo(json.dumps(result.to_dict(lang=terminal_lang()), ensure_ascii=False))
    elif not quiet:
        print_summary(result, fields.get("rejects_path"))
    if result.crs_hint:
        echo(tr(f"警告: {result.crs_hint}", f"warning: {en(result.crs_hint)}"), err=True)


def _options(
    file: Path,
    format_: str,
    mapping: tuple[str, ...],
    link_distance: float | None,
    found_at: str | None,
    **fields: Any,
) -> dict[str, Any]:
    config = current_app.config
    distance = config["LINK_DISTANCE_M"] if link_distance is None else link_distance
    tz = config["TIMEZONE"]
    return {
        **fields,
        "found_at": None if found_at is None else explicit_found_at(found_at, tz, utcnow()),
        "format": format_,
        "mapping": parse_mapping(mapping),
        "tz": tz,
        "link_distance_m": float(distance),
        "max_bytes": int(float(config["INGEST_MAX_MB"]) * 2**20),
    }


@contextmanager
def _progress(file: Path, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal and the file is large."""
    size = file.stat().st_size if file.is_file() else 0
    if not (enabled and sys.stderr.isatty() and size >= _PROGRESS_MIN_BYTES):
        yield None
        return
    with click.progressbar(length=size, label=file.name, file=sys.stderr) as bar:
        done = [0]

        def update(read: int, total: int) -> None:
            step = min(read, total) - done[0]
            if step > 0:
                if done[0] + step >= total:  # read through: indexes and counts remain
                    bar.label = say(tr(f"{file.name} 收尾中", f"{file.name} finishing"))
                bar.update(step)
                done[0] += step

        yield update


def print_summary(r: IngestResult, rejects_path: Path | None = None) -> None:
    """The human summary of an ingest."""
    unit = tr("要素", "features") if r.row_label == "feature" else tr("行", "rows")
    batch = (
        tr("试运行，未写入", "dry run, nothing written")
        if r.dry_run
        else tr(f"批次 {r.batch_id}", f"batch {r.batch_id}")
    )
    echo(
        tr(
            f"{r.file_name}: {r.rows} {unit} — 导入 {r.accepted}, 拒绝 {r.rejected}, "
            f"已存在跳过 {r.duplicates}, 区域外 {r.outside}, {batch}",
            f"{r.file_name}: {r.rows} {en(unit)} — accepted {r.accepted}, "
            f"rejected {r.rejected}, duplicates skipped {r.duplicates}, "
            f"outside {r.outside}, {en(batch)}",
        )
    )
    for reason, count in r.rejected_by_reason().items():
        echo(tr(f"  拒绝 {count}: {reason}", f"  rejected {count}: {en(reason)}"))
    label = "要素" if r.row_label == "feature" else "行"
    for reject in sorted(r.rejects, key=lambda x: x.row)[:10]:
        echo(
            tr(
                f"    第 {reject.row} {label}: {reject.reason_zh}",
                f"    {r.row_label} {reject.row}: {reject.reason_en}",
            )
        )
    if r.rejected > 10:
        echo(tr(f"    … 另有 {r.rejected - 10} 行", f"    … {r.rejected - 10} more"))
    if r.far_outside:
        rows = ", ".join(str(x) for x in r.far_rows[:10])
        echo(
            tr(
                f"  远离所有区域: {r.far_outside} (rows {rows})",
                f"  far outside every area: {r.far_outside} (rows {rows})",
            )
        )
    _print_fixes(r)
    echo(
        tr(
            f"  关联点位: {r.linked}; 坐标系: {r.crs}",
            f"  linked to inspection points: {r.linked}; CRS: {r.crs}",
        )
    )
    if r.visits:
        echo(tr(f"  测评记录: {r.visits}", f"  visits recorded: {r.visits}"))
    for note in r.notes:
        echo(f"  {note}")
    if rejects_path is not None:
        echo(tr(f"  拒绝明细: {rejects_path}", f"  reject report: {rejects_path}"))


def _print_fixes(r: IngestResult) -> None:
    """What the ingest filled in or put right: defaulted found times, swapped lon/lat."""
    if r.found_at_defaulted:
        echo(
            tr(
                f"  未给发现时间、取默认: {r.found_at_defaulted}",
                f"  found time defaulted (no time in the file): {r.found_at_defaulted}",
            )
        )
    if r.swapped_fixed:
        echo(
            tr(
                f"  已交换经纬度: {r.swapped_fixed}",
                f"  latitude-longitude swapped back: {r.swapped_fixed}",
            )
        )
