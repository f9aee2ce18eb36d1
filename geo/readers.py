"""Opening survey files as they arrive: format and encoding detection, chunked reading.

A ``SurveySource`` yields the file's rows as text DataFrames (the file's own headers,
plus ``__row__``: the row number the user sees, header = row 1 for tables, feature
number for vector files), in chunks so that a large CSV streams in constant memory.
Formats: CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GBK/GB18030; delimiter sniffed),
XLSX (geo/xlsx.py), GeoJSON / GeoPackage / Shapefile (geo/vector_survey.py).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo.columns import normalise_header
from geo.errors import IngestError
from geo.readers_base import READ_ERROR, ROW

__all__ = ["FORMATS", "READ_ERROR", "ROW", "SurveySource", "detect_format", "open_survey"]

FORMATS = ("auto", "csv", "xlsx", "geojson", "gpkg", "shp", "kobo", "odk")
"""``--format`` values; ``kobo`` and ``odk`` are CSV or XLSX read with that column layout."""

_SAMPLE_BYTES = 256 * 1024
_DELIMITERS = (",", ";", "\t", "|")
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


@dataclass
class SurveySource:
    """An opened survey file. Iterate ``chunks()`` once; ``bytes_read`` grows as it reads."""

    path: Path
    format: str
    size: int
    row_label: str = "row"
    encoding: str | None = None
    delimiter: str | None = None
    layout: str | None = None
    crs: str | None = None
    notes: list[str] = field(default_factory=list)
    _reader: Any = None
    _hash: Any = None

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Text DataFrames with the file's headers and ``__row__``; at least one row overall."""
        yield from self._reader()

    @property
    def bytes_read(self) -> int:
        counter = getattr(self, "_counter", None)
        return counter.count if counter is not None else 0

    def sha256(self) -> str:
        """SHA-256 of the file's bytes (computed while reading where possible)."""
        if self._hash is not None and self.bytes_read >= self.size:
            return str(self._hash.hexdigest())
        return file_sha256(self.path)


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
            f"文件扩展名为 {path.suffix}，但内容是 {_LABELS[kind]}，已按 {_LABELS[kind]} 读取 / "
            f"the file is named {path.suffix} but holds {_LABELS[kind]}; read as {_LABELS[kind]}"
        )
    if kind == "csv":
        _setup_csv(source, sample, encoding, chunk_rows)
    elif kind == "xlsx":
        from geo.xlsx import setup_xlsx

        setup_xlsx(source, sheet, chunk_rows)
    else:
        from geo.vector_survey import setup_vector

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


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file (of every file in it, by name, for a folder)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for item in files:
        with item.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def header_score(values: list[object]) -> int:
    """How many cells of a candidate header row are known column names."""
    from geo.columns import ALIASES

    known = {normalise_header(a) for aliases in ALIASES.values() for a in aliases}
    return sum(1 for v in values if v is not None and normalise_header(str(v)) in known)


# --- checks --------------------------------------------------------------------------------


def _check_file(path: Path, max_bytes: int | None) -> int:
    if not path.exists():
        raise IngestError(f"{path}: 文件不存在 / file not found")
    size = (
        sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )
    if size == 0:
        raise IngestError(f"{path}: 文件为空 / empty file")
    if max_bytes is not None and size > max_bytes:
        raise IngestError(
            f"{path}: 文件太大 / file too large: {size / 2**20:,.0f} MB > "
            f"{max_bytes / 2**20:,.0f} MB (CIVICGRID_INGEST_MAX_MB); "
            "请拆分文件或调高上限 / split the file or raise the limit"
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
        raise IngestError(f"{path}: 损坏的压缩文件 / damaged zip or XLSX file") from exc
    if "xl/workbook.xml" in names:
        return "xlsx"
    if any(n.endswith(".shp") for n in names):
        return "shp"
    raise IngestError(
        f"{path}: 压缩包中没有 XLSX 表格或 Shapefile / the zip holds no XLSX workbook or Shapefile"
    )


def _is_binary(sample: bytes) -> bool:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in sample[:8192]


def _choose_format(path: Path, detected: str, wanted: str | None) -> str:
    if detected == "binary":
        raise IngestError(
            f"{path}: 二进制文件，不是可识别的调查表 / binary file, not a survey table "
            "(CSV, XLSX, GeoJSON, GeoPackage or Shapefile)"
        )
    if detected == "xls":
        raise IngestError(
            f"{path}: 旧版 Excel 97-2003 (.xls) 文件，请另存为 .xlsx 或 CSV / "
            "legacy .xls workbook: save it as .xlsx or CSV"
        )
    if wanted is not None and wanted != detected:
        # Text can only be CSV; binary containers must be what they say they are.
        raise IngestError(
            f"{path}: 文件内容是 {_LABELS[detected]}，不是 {_LABELS[wanted]} / the file holds "
            f"{_LABELS[detected]}, not {_LABELS[wanted]} (--format {wanted}); "
            "去掉 --format 自动识别 / drop --format to detect it"
        )
    return detected


# --- CSV -----------------------------------------------------------------------------------


class _CountingReader(io.RawIOBase):
    """A binary file wrapper that counts (and hashes) the bytes read through it."""

    def __init__(self, handle: Any, digest: Any) -> None:
        self._handle = handle
        self._digest = digest
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._handle.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        self._digest.update(data)
        return n

    def close(self) -> None:
        self._handle.close()
        super().close()


def _setup_csv(source: SurveySource, sample: bytes, encoding: str | None, chunk_rows: int) -> None:
    source.encoding = _check_encoding(source.path, encoding) if encoding else None
    source.encoding = source.encoding or detect_encoding(source.path, sample)
    text = _decode_sample(sample, source.encoding, source.path)
    source.delimiter = _sniff_delimiter(text)
    header_index = _header_record(text, source.delimiter)

    def read() -> Iterator[pd.DataFrame]:
        yield from _read_csv_chunks(source, header_index, chunk_rows)

    source._reader = read


def detect_encoding(path: Path, sample: bytes) -> str:
    """``utf-8-sig``, ``utf-16``, ``utf-8`` or ``gb18030`` (covers GBK); else ``IngestError``."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for candidate in ("utf-8", "gb18030"):
        try:
            text = codecs.getincrementaldecoder(candidate)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        if candidate == "utf-8" or _plausible_chinese(text):
            return candidate
    raise IngestError(
        f"{path}: 无法识别的文件编码（不是 UTF-8 或 GBK）/ unknown encoding (neither UTF-8 nor "
        "GBK/GB18030); 请用 --encoding 指定 / give it with --encoding, e.g. --encoding big5"
    )


def _plausible_chinese(text: str) -> bool:
    """GB18030 decodes nearly any bytes: accept only text that reads as Chinese/ASCII."""
    odd = sum(
        1
        for ch in text
        if not (ch.isascii() or "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f")
        and not ("\uff00" <= ch <= "\uffef" or "\u2000" <= ch <= "\u206f")
    )
    return odd <= max(2, len(text) // 200)


def _check_encoding(path: Path, encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError as exc:
        raise IngestError(f"{path}: 未知的编码 / unknown encoding '{encoding}'") from exc


def _decode_sample(sample: bytes, encoding: str, path: Path) -> str:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{path}: 文件不是 {encoding} 编码 / the file is not {encoding} (byte {exc.start}: "
            f"{exc.reason}); 请用 --encoding 指定 / give the right one with --encoding"
        ) from exc


def _sniff_delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_record(text: str, delimiter: str) -> int:
    """0-based record index of the header: the best-scoring of the first 10 records
    (title rows such as "2024年5月暗访问题清单" above the header are skipped)."""
    lines = text.splitlines()[:10]
    records = list(csv.reader(lines, delimiter=delimiter))
    scores = [header_score(list(r)) for r in records]
    if not scores or max(scores) == 0:
        return 0
    return scores.index(max(scores))


def _read_csv_chunks(
    source: SurveySource, header_index: int, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    first_row = header_index + 2  # header is record header_index + 1 as Excel numbers it
    state = {"records": 0, "rows": 0}
    try:
        yield from _pandas_chunks(source, header_index, chunk_rows, first_row, state)
    except pd.errors.ParserError:
        # A line with more cells than the header (an unquoted comma...): re-read from the
        # last good chunk with the csv module, refusing just the malformed lines.
        yield from _csv_module_chunks(source, header_index, chunk_rows, first_row, state)
    if not state["rows"]:
        raise IngestError(f"{source.path}: 只有表头，没有数据行 / no data rows (header only)")


def _open_text(source: SurveySource) -> io.TextIOWrapper:
    source._hash = hashlib.sha256()
    raw = _CountingReader(source.path.open("rb"), source._hash)
    source._counter = raw  # type: ignore[attr-defined]
    return io.TextIOWrapper(io.BufferedReader(raw, 1 << 20), encoding=source.encoding, newline="")


def _pandas_chunks(
    source: SurveySource, header_index: int, chunk_rows: int, first_row: int, state: dict
) -> Iterator[pd.DataFrame]:
    text = _open_text(source)
    try:
        reader = pd.read_csv(
            text,
            dtype=object,
            keep_default_na=False,
            sep=source.delimiter,
            skiprows=header_index,
            skip_blank_lines=False,
            skipinitialspace=True,
            chunksize=chunk_rows,
            engine="c",
        )
        for chunk in reader:
            if chunk.empty:
                continue
            state["records"] = int(chunk.index[-1]) + 1
            chunk = _drop_blank(chunk)
            chunk.insert(0, ROW, chunk.index.to_numpy() + first_row)
            state["rows"] += len(chunk)
            yield chunk.reset_index(drop=True)
    except pd.errors.EmptyDataError as exc:
        raise IngestError(f"{source.path}: 文件为空 / empty file") from exc
    except UnicodeDecodeError as exc:
        raise _decode_error(source, exc) from exc
    finally:
        text.close()


def _csv_module_chunks(
    source: SurveySource, header_index: int, chunk_rows: int, first_row: int, state: dict
) -> Iterator[pd.DataFrame]:
    text = _open_text(source)
    try:
        records = csv.reader(text, delimiter=source.delimiter or ",", skipinitialspace=True)
        for _ in range(header_index):
            next(records, None)
        header = [h.strip() for h in next(records, [])]
        batch: list[list[str]] = []
        numbers: list[int] = []
        for index, record in enumerate(records):
            if index < state["records"] or not any(cell.strip() for cell in record):
                continue
            batch.append(_fit(record, len(header)))
            numbers.append(index + first_row)
            if len(batch) >= chunk_rows:
                yield _record_frame(header, batch, numbers, state)
                batch, numbers = [], []
        if batch:
            yield _record_frame(header, batch, numbers, state)
    except UnicodeDecodeError as exc:
        raise _decode_error(source, exc) from exc
    except csv.Error as exc:
        raise IngestError(f"{source.path}: CSV 格式错误 / malformed CSV: {exc}") from exc
    finally:
        text.close()


def _fit(record: list[str], width: int) -> list[str]:
    """The record padded to the header's width, plus a reason when it has extra cells."""
    extra = [c for c in record[width:] if c.strip()]
    cells = (record + [""] * width)[:width]
    reason = (
        f"字段数多于表头（{len(record)} > {width}），可能含未加引号的逗号 / "
        f"{len(record)} cells for {width} headers (an unquoted separator?)"
        if extra
        else ""
    )
    return [*cells, reason]


def _record_frame(
    header: list[str], batch: list[list[str]], numbers: list[int], state: dict
) -> pd.DataFrame:
    frame = pd.DataFrame(batch, columns=[*_dedupe_headers(header), READ_ERROR], dtype=object)
    frame.insert(0, ROW, numbers)
    state["rows"] += len(frame)
    return frame


def _dedupe_headers(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in header:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h}.{seen[h] - 1}")
    return out


def _decode_error(source: SurveySource, exc: UnicodeDecodeError) -> IngestError:
    return IngestError(
        f"{source.path}: 文件不是 {source.encoding} 编码 / the file is not valid "
        f"{source.encoding} (byte {source.bytes_read}); 请用 --encoding 指定 / give it with "
        "--encoding"
    )


def _drop_blank(chunk: pd.DataFrame) -> pd.DataFrame:
    """Drop rows where every cell is empty (blank lines keep their row numbers)."""
    filled = chunk.ne("") & chunk.notna()
    return chunk.loc[filled.any(axis=1)]
