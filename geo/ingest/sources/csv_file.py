"""Reading survey CSV files: encoding and delimiter detection, chunked streaming.

Encodings: UTF-8, UTF-8 with BOM (Excel "CSV UTF-8"), UTF-16 with BOM (Excel "Unicode
text"), GBK/GB18030 (Excel "CSV" on Chinese Windows), or the one given. The delimiter
(, ; tab |) is sniffed from the header line and a title row above the header is skipped.
The file streams through pandas' C parser in chunks while its bytes are counted (for the
progress bar) and hashed (for the batch record). A line with more cells than the header
(an unquoted separator) is refused on its own, with a reason, instead of the whole file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from geo.core.errors import IngestError
from geo.core.text import tr
from geo.ingest.sources.base import READ_ERROR, ROW, SurveySource, header_score

_DELIMITERS = (",", ";", "\t", "|")


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


def setup_csv(source: SurveySource, sample: bytes, encoding: str | None, chunk_rows: int) -> None:
    source.encoding = _check_encoding(source.path, encoding) if encoding else None
    source.encoding = source.encoding or detect_encoding(source.path, sample)
    text = _decode_sample(sample, source.encoding, source.path)
    source.delimiter = _sniff_delimiter(text)
    header_index = _header_record(text, source.delimiter)

    def read() -> Iterator[pd.DataFrame]:
        yield from _read_csv_chunks(source, header_index, chunk_rows)

    source.reader = read


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
        tr(
            (
                f"{path}: 无法识别的文件编码（不是 UTF-8 或 GBK/GB18030）；"
                "请用 --encoding 指定，例如 --encoding big5"
            ),
            (
                f"{path}: unknown encoding (neither UTF-8 nor GBK/GB18030); "
                "give it with --encoding, e.g. --encoding big5"
            ),
        )
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
        raise IngestError(
            tr(f"{path}: 未知的编码 '{encoding}'", f"{path}: unknown encoding '{encoding}'")
        ) from exc


def _decode_sample(sample: bytes, encoding: str, path: Path) -> str:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError as exc:
        raise IngestError(
            tr(
                (
                    f"{path}: 文件不是 {encoding} 编码（第 {exc.start} 字节: {exc.reason}）; "
                    "请用 --encoding 指定"
                ),
                (
                    f"{path}: the file is not {encoding} (byte {exc.start}: "
                    f"{exc.reason}); give the right one with --encoding"
                ),
            )
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
        raise IngestError(
            tr(f"{source.path}: 只有表头，没有数据行", f"{source.path}: no data rows (header only)")
        )


def _open_text(source: SurveySource) -> io.TextIOWrapper:
    source.digest = hashlib.sha256()
    raw = _CountingReader(source.path.open("rb"), source.digest)
    source.counter = raw
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
        raise IngestError(tr(f"{source.path}: 文件为空", f"{source.path}: empty file")) from exc
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
        raise IngestError(
            tr(f"{source.path}: CSV 格式错误: {exc}", f"{source.path}: malformed CSV: {exc}")
        ) from exc
    finally:
        text.close()


def _fit(record: list[str], width: int) -> list[str]:
    """The record padded to the header's width, plus a reason when it has extra cells."""
    extra = [c for c in record[width:] if c.strip()]
    cells = (record + [""] * width)[:width]
    reason = (
        tr(
            f"字段数多于表头（{len(record)} > {width}），可能含未加引号的逗号",
            f"{len(record)} cells for {width} headers (an unquoted separator?)",
        )
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
        tr(
            f"{source.path}: 文件不是 {source.encoding} 编码; 请用 --encoding 指定",
            (
                f"{source.path}: the file is not valid {source.encoding} "
                f"(byte {source.bytes_read}); give it with --encoding"
            ),
        )
    )


def _drop_blank(chunk: pd.DataFrame) -> pd.DataFrame:
    """Drop rows where every cell is empty (blank lines keep their row numbers)."""
    filled = chunk.ne("") & chunk.notna()
    return chunk.loc[filled.any(axis=1)]
