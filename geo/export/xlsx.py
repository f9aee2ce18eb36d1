"""XLSX exports through openpyxl's write-only mode (rows go straight to disk).

The data sheet has one header row of field labels in the export language and one row
per feature: numbers as numbers, times as local date-times (the export's time zone),
text as text, neutralised exactly like CSV: a text starting with ``= + - @`` (or tab/CR)
gets a leading ``'`` (geo.core.safety.neutralise_cell), so no spreadsheet runs it.
Longitude/latitude and WKT columns end each row; a WKT longer than Excel's cell limit
(32,767 characters) is left empty and counted. The "说明 About" sheet says what the
file holds: coordinate system, filters, export time, the field list.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from geo.core.errors import ExportError
from geo.core.safety import neutralise_cell
from geo.core.text import Text, in_lang, tr
from geo.export import encode as enc
from geo.export.fields import FIELDS, Field
from geo.export.query import Chunk
from geo.export.request import ExportRequest, title

MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows minus the header
MAX_CELL = 32_767


def check_rows(total: int) -> None:
    """Raise ``ExportError`` when ``total`` rows do not fit in one Excel sheet."""
    if total > MAX_ROWS:
        raise ExportError(
            tr(
                f"XLSX 最多 {MAX_ROWS:,} 行，本次导出 {total:,} 行: 请用 CSV 或 GPKG，或加筛选条件",
                (
                    f"XLSX holds at most {MAX_ROWS:,} rows, this export has "
                    f"{total:,}: use CSV or GPKG, or filter"
                ),
            )
        )


def write_xlsx(chunks: Iterator[Chunk], request: ExportRequest, path: Path) -> None:
    """Write ``chunks`` as an XLSX workbook at ``path`` (constant memory)."""
    fields = FIELDS[request.target]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(request))
    sheet.freeze_panes = "A2"
    sheet.append(_header(sheet, fields, request))
    skipped = 0
    for chunk in chunks:
        skipped += _append_rows(sheet, chunk, fields, request)
    _about_sheet(book, fields, request, skipped)
    book.save(path)


def _sheet_title(request: ExportRequest) -> str:

    return title(request.target, request.lang)


def _header(sheet: Any, fields: tuple[Field, ...], request: ExportRequest) -> list[Any]:
    suffix = " (GCJ-02)" if request.crs == "gcj02" else ""
    lon_lat = ("经度", "纬度", "WKT") if request.lang != "en" else ("Longitude", "Latitude", "WKT")
    names = [f.label(request.lang) for f in fields] + [n + suffix for n in lon_lat]
    cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def _append_rows(
    sheet: Any, chunk: Chunk, fields: tuple[Field, ...], request: ExportRequest
) -> int:
    if not len(chunk):
        return 0
    columns = [_column(sheet, chunk.columns[f.name], f, request.tz) for f in fields]
    wkt = enc.wkt_texts(chunk).astype(object)
    too_long = np.array([w is not None and len(w) > MAX_CELL for w in wkt])
    wkt[too_long] = None
    lon, lat = np.round(chunk.lon, 6), np.round(chunk.lat, 6)
    for row in zip(*columns, lon.tolist(), lat.tolist(), wkt.tolist(), strict=True):
        sheet.append(row)
    return int(too_long.sum())


def _column(sheet: Any, values: np.ndarray, f: Field, tz: str) -> list[Any]:
    if f.type == "str":
        return _text_column(sheet, values)
    if f.type == "time":
        return enc.local_datetimes(np.asarray(values, float), tz).tolist()
    if f.type == "bool":
        return np.asarray(values, bool).tolist()
    if f.type == "float":
        floats = np.asarray(values, float).astype(object)
        floats[pd.isna(floats)] = None
        return floats.tolist()
    return np.asarray(values, np.int64).tolist()


def _text_column(sheet: Any, values: np.ndarray) -> list[Any]:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    cleaned = [neutralise_cell(ILLEGAL_CHARACTERS_RE.sub("", str(u))) for u in uniques]
    return np.array([*cleaned, None], dtype=object)[codes].tolist()


def _about_sheet(
    book: Workbook, fields: tuple[Field, ...], request: ExportRequest, skipped: int
) -> None:
    sheet = book.create_sheet("说明 About")
    meta = request.metadata()
    rows: list[list[Any]] = [
        [tr("导出内容", "content"), str(meta["target"])],
        [tr("坐标系", "coordinate system"), str(meta["coordinate_system"])],
        [tr("筛选条件", "filters"), in_lang(_filters_text(meta["filters"]), request.lang)],
        [tr("导出时间", "exported at"), str(meta["exported_at"])],
        [tr("时区", "time zone"), str(meta["time_zone"])],
    ]
    if skipped:
        rows.append(
            [
                "WKT",
                tr(
                    f"{skipped} 个几何超出单元格长度未写入，请用 GPKG",
                    f"{skipped} geometries too long for a cell: use GPKG",
                ),
            ]
        )
    rows += [[], [tr("字段", "field"), "说明", "description"]]
    rows += [[f.name, f.zh, f.en] for f in fields]
    for row in rows:  # labels in the export's language; the field table keeps both
        sheet.append([in_lang(c, request.lang) if isinstance(c, Text) else c for c in row])


def _filters_text(filters: object) -> str:
    if not isinstance(filters, dict) or not filters:
        return tr("无", "none")
    return "; ".join(f"{k}={v}" for k, v in filters.items())
