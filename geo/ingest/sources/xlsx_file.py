"""Reading survey sheets from XLSX workbooks (Excel, WPS, KoboToolbox XLSX exports).

Streams rows with openpyxl's read-only mode. Formula cells are read as their formula
text (``=HYPERLINK(...)`` is stored as text, never evaluated). The header is the
best-matching of the first rows, so a merged title row above it is skipped; where a
header cell is empty because it was merged vertically with the cell above, the text
above is used. Row numbers are Excel's.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from itertools import islice
from typing import Any

import pandas as pd

from geo.core.errors import IngestError
from geo.core.text import tr
from geo.ingest.sources.base import ROW, SurveySource, header_score

_HEADER_SCAN_ROWS = 20


def setup_xlsx(source: SurveySource, sheet: str | None, chunk_rows: int) -> None:
    """Prepare ``source`` to read the chosen sheet (first by default) in chunks."""

    def read() -> Iterator[pd.DataFrame]:
        # A file object, not the path: openpyxl judges paths by their extension, and a
        # workbook saved as "x.csv" is still a workbook.
        with source.path.open("rb") as handle:
            workbook = _open(source, handle)
            try:
                sheet_rows = _pick_sheet(source, workbook, sheet).iter_rows(values_only=True)
                rows = enumerate(sheet_rows, 1)
                headers, header_row = _header(source, list(islice(rows, _HEADER_SCAN_ROWS)))
                yield from _chunks(source, rows, headers, header_row, chunk_rows, ROW)
            finally:
                workbook.close()

    source.reader = read


def _open(source: SurveySource, handle: Any) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(handle, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise IngestError(
            tr(f"{source.path}: XLSX 文件无法读取", f"{source.path}: unreadable XLSX file ({exc})")
        ) from exc


def _pick_sheet(source: SurveySource, workbook: Any, sheet: str | None) -> Any:
    names = list(workbook.sheetnames)
    if sheet is None:
        chosen = names[0]
    elif sheet in names:
        chosen = sheet
    elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
        chosen = names[int(sheet) - 1]
    else:
        raise IngestError(
            tr(
                f"{source.path}: 没有工作表 '{sheet}'; 工作表: {', '.join(names)}",
                f"{source.path}: no sheet '{sheet}'; sheets: {', '.join(names)}",
            )
        )
    source.notes.append(tr(f"工作表: {chosen}", f"sheet: {chosen}"))
    return workbook[chosen]


def _header(
    source: SurveySource, first: list[tuple[int, tuple[Any, ...]]]
) -> tuple[list[str], int]:
    """Header texts and the header's last row number, from the first rows of the sheet.

    The header block is the best-matching row and the matching rows right below it (a
    two-row header under merged group cells); each column takes its lowest text in the
    block, or the text above it where the cell was merged vertically.
    """

    if not any(any(cell_text(v) for v in values) for _, values in first):
        raise IngestError(tr(f"{source.path}: 工作表为空", f"{source.path}: the sheet is empty"))
    scores = [header_score(list(values)) for _, values in first]
    best = scores.index(max(scores)) if max(scores) > 0 else _first_filled(first)
    end = best
    while end + 1 < len(first) and scores[end + 1] > 0:
        end += 1
    width = max(len(values) for _, values in first)
    headers = []
    for col in range(width):
        text = ""
        for _, values in reversed(first[: end + 1]):
            text = cell_text(values[col]) if col < len(values) else ""
            if text:
                break
        headers.append(text or f"column_{col + 1}")
    source._pending = first[end + 1 :]  # type: ignore[attr-defined]
    return headers, first[end][0]


def _first_filled(first: list[tuple[int, tuple[Any, ...]]]) -> int:
    return next(i for i, (_, values) in enumerate(first) if any(cell_text(v) for v in values))


def _chunks(
    source: SurveySource,
    rows: Iterator[tuple[int, tuple[Any, ...]]],
    headers: list[str],
    header_row: int,
    chunk_rows: int,
    row_column: str,
) -> Iterator[pd.DataFrame]:
    width = len(headers)
    numbers: list[int] = []
    records: list[list[str]] = []
    pending = iter(source._pending)  # type: ignore[attr-defined]
    total = 0
    for number, values in _chain(pending, rows):
        texts = [cell_text(v) for v in values[:width]]
        if not any(texts):
            continue
        texts += [""] * (width - len(texts))
        numbers.append(number)
        records.append(texts)
        if len(records) >= chunk_rows:
            total += len(records)
            yield _frame(headers, numbers, records, row_column)
            numbers, records = [], []
    if records:
        total += len(records)
        yield _frame(headers, numbers, records, row_column)
    if not total:
        raise IngestError(
            tr(
                f"{source.path}: 只有表头（第 {header_row} 行），没有数据行",
                f"{source.path}: no data rows below the header (row {header_row})",
            )
        )


def _chain(*iterators: Iterator[Any]) -> Iterator[Any]:
    for iterator in iterators:
        yield from iterator


def _frame(
    headers: list[str], numbers: list[int], records: list[list[str]], row_column: str
) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=_unique(headers), dtype=object)
    frame.insert(0, row_column, numbers)
    return frame


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h}.{seen[h] - 1}")
    return out


def cell_text(value: Any) -> str:
    """A cell as the text a user would type: dates as ISO 8601, 1001.0 as 1001."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)
