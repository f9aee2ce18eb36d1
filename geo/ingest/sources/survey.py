"""Opening survey files as they arrive: format and encoding detection, chunked reading.

A ``SurveySource`` yields the file's rows as text DataFrames (the file's own headers,
plus ``__row__``: the row number the user sees, header = row 1 for tables, feature
number for vector files), in chunks so that a large CSV streams in constant memory.
Formats: CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GBK/GB18030; delimiter sniffed),
XLSX (geo/ingest/sources/xlsx_file.py), GeoJSON / GeoPackage / Shapefile
(geo/ingest/sources/vector_file.py).
"""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

from geo.core.errors import IngestError
from geo.core.text import tr
from geo.ingest.sources.base import READ_ERROR, ROW, SurveySource
from geo.ingest.sources.csv_file import setup_csv
from geo.ingest.sources.vector_file import setup_vector
from geo.ingest.sources.xlsx_file import setup_xlsx

__all__ = ["FORMATS", "READ_ERROR", "ROW", "SurveySource", "detect_format", "open_survey"]

FORMATS = ("auto", "csv", "xlsx", "geojson", "gpkg", "shp", "kobo", "odk")
"""``--format`` values; ``kobo`` and ``odk`` are CSV or XLSX read with that column layout."""

_SAMPLE_BYTES = 256 * 1024
_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shp",
    ".zip": "shp",
}
_LABELS = {
    "csv": "CSV",
    "xlsx": "XLSX",
    "geojson": "GeoJSON",
    "gpkg": "GeoPackage",
    "shp": "Shapefile",
    "xls": "Excel 97-2003 (.xls)",
    "binary": "binary",
}


def open_survey(
    path: str | Path,
    format: str = "auto",
    encoding: str | None = None,
    sheet: str | None = None,
    max_bytes: int | None = None,
    chunk_rows: int = 200_000,
) -> SurveySource:
    """Open ``path`` for reading; raise ``IngestError`` naming the file when it cannot be.

    ``format`` is one of ``FORMATS``; ``encoding`` overrides the CSV encoding guess;
    ``sheet`` picks an XLSX sheet by name or 1-based number; files larger than
    ``max_bytes`` are refused before anything is read.
    """
    path = Path(path)
    size = _check_file(path, max_bytes)
    sample = _sample(path)
    detected = detect_format(path, sample)
    wanted = format if format not in ("auto", "kobo", "odk") else None
    layout = format if format in ("kobo", "odk") else None
    kind = _choose_format(path, detected, wanted)
    source = SurveySource(path=path, format=kind, size=size, layout=layout)
    if wanted is None and _SUFFIX_FORMATS.get(path.suffix.lower(), kind) != kind:
        source.notes.append(
            tr(
                f"文件扩展名为 {path.suffix}，但内容是 {_LABELS[kind]}，已按 {_LABELS[kind]} 读取",
                (
                    f"the file is named {path.suffix} but holds {_LABELS[kind]}; "
                    f"read as {_LABELS[kind]}"
                ),
            )
        )
    if kind == "csv":
        setup_csv(source, sample, encoding, chunk_rows)
    elif kind == "xlsx":
        setup_xlsx(source, sheet, chunk_rows)
    else:
        setup_vector(source, chunk_rows)
    return source


def detect_format(path: Path, sample: bytes) -> str:
    """Format from the file's first bytes (``csv`` for text), whatever its name says."""
    if path.is_dir():
        return "shp"
    head = sample.lstrip(b"\xef\xbb\xbf \t\r\n")
    if sample.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if sample.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if sample.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if sample.startswith(b"\x00\x00\x27\x0a"):
        return "shp"
    if head.startswith(b"{") and b'"type"' in sample[:_SAMPLE_BYTES]:
        return "geojson"
    if _is_binary(sample):
        return "binary"
    return "csv"


# --- checks --------------------------------------------------------------------------------


def _check_file(path: Path, max_bytes: int | None) -> int:
    if not path.exists():
        raise IngestError(tr(f"{path}: 文件不存在", f"{path}: file not found"))
    size = (
        sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )
    if size == 0:
        raise IngestError(tr(f"{path}: 文件为空", f"{path}: empty file"))
    if max_bytes is not None and size > max_bytes:
        raise IngestError(
            tr(
                (
                    f"{path}: 文件太大: {size / 2**20:,.0f} MB > {max_bytes / 2**20:,.0f} MB "
                    "(CIVICGRID_INGEST_MAX_MB); 请拆分文件或调高上限"
                ),
                (
                    f"{path}: file too large: {size / 2**20:,.0f} MB > "
                    f"{max_bytes / 2**20:,.0f} MB (CIVICGRID_INGEST_MAX_MB); "
                    "split the file or raise the limit"
                ),
            )
        )
    return size


def _sample(path: Path) -> bytes:
    if path.is_dir():
        return b""
    with path.open("rb") as handle:
        return handle.read(_SAMPLE_BYTES)


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n.lower() for n in archive.namelist()]
    except zipfile.BadZipFile as exc:
        raise IngestError(
            tr(f"{path}: 损坏的压缩文件", f"{path}: damaged zip or XLSX file")
        ) from exc
    if "xl/workbook.xml" in names:
        return "xlsx"
    if any(n.endswith(".shp") for n in names):
        return "shp"
    raise IngestError(
        tr(
            f"{path}: 压缩包中没有 XLSX 表格或 Shapefile",
            f"{path}: the zip holds no XLSX workbook or Shapefile",
        )
    )


def _is_binary(sample: bytes) -> bool:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in sample[:8192]


def _choose_format(path: Path, detected: str, wanted: str | None) -> str:
    if detected == "binary":
        raise IngestError(
            tr(
                f"{path}: 二进制文件，不是可识别的调查表",
                (
                    f"{path}: binary file, not a survey table (CSV, XLSX, "
                    "GeoJSON, GeoPackage or Shapefile)"
                ),
            )
        )
    if detected == "xls":
        raise IngestError(
            tr(
                f"{path}: 旧版 Excel 97-2003 (.xls) 文件，请另存为 .xlsx 或 CSV",
                f"{path}: legacy .xls workbook: save it as .xlsx or CSV",
            )
        )
    if wanted is not None and wanted != detected:
        # Text can only be CSV; binary containers must be what they say they are.
        raise IngestError(
            tr(
                (
                    f"{path}: 文件内容是 {_LABELS[detected]}，不是 "
                    f"{_LABELS[wanted]}; 去掉 --format 自动识别"
                ),
                (
                    f"{path}: the file holds {_LABELS[detected]}, not "
                    f"{_LABELS[wanted]} (--format {wanted}); drop --format to "
                    "detect it"
                ),
            )
        )
    return detected
