"""Exports of problems, inspection points and areas: GeoJSON, GeoJSON Text Sequences,
CSV, XLSX and GeoPackage, streamed in chunks so memory stays flat at any size.

``stream_export`` yields the bytes of the text formats (for HTTP responses and stdout);
``export_to_file`` writes any format to ``FILE.part`` and renames it to ``FILE`` only
when complete, removing the partial file on any error or interruption. Coordinates are
WGS-84 lon/lat (EPSG:4326), or GCJ-02 on request (``crs="gcj02"``), which is then marked
in the file name and the file's metadata. Times are ISO 8601 with the offset of ``tz``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np
import sqlalchemy.orm as so

from geo.core.errors import ExportError
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.export import encode as enc
from geo.export.fields import FIELDS, ID_FIELD
from geo.export.gpkg import write_gpkg
from geo.export.query import Chunk, Page, count_rows, iter_chunks
from geo.export.request import STREAMED, ExportRequest, ExportResult, check_choice
from geo.export.sql import feature_runs, problem_features, sql_offset
from geo.export.xlsx import check_rows, write_xlsx

RS = "\x1e"  # RFC 8142 record separator
_RS_BYTES = RS.encode()
SEPARATORS = {"geojson": b",\n", "geojsonseq": b"\n" + _RS_BYTES}
"""What stands between two features of a format (GeoJSON: the array's comma and a line
break; GeoJSON Text Sequence: the line feed ending a record and the RS opening the next)."""

Progress = Callable[[int, int], object]


class _Sized(Protocol):
    def __len__(self) -> int: ...


_S = TypeVar("_S", bound=_Sized)


def stream_export(
    session: so.Session, request: ExportRequest, taxonomy: Taxonomy
) -> Iterator[bytes]:
    """The bytes of a GeoJSON, GeoJSON Text Sequence or CSV export, chunk by chunk."""
    check_choice("streamed format", request.format, STREAMED)
    request.filter.validate(session)
    return _encoded(session, request, taxonomy, _Counter(0, None))


GZIP_LEVEL = 1
"""Level of streamed gzip: a 1M-problem GeoJSON is ~0.5 GB of text and the server has
few cores; level 1 keeps compression well ahead of the database (about 3× faster than
level 6 for ~15 % more bytes)."""


def gzip_stream(blocks: Iterable[bytes], level: int = GZIP_LEVEL) -> Iterator[bytes]:
    """``blocks`` compressed as one gzip member (RFC 1952), block by block as they come.

    Memory stays at zlib's window whatever the total size. The first block (the file's
    header) is flushed at once so the first byte leaves without waiting for the
    compressor's buffer to fill; later output is passed on whenever zlib has some.
    """
    packer = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = True
    for block in blocks:
        out = packer.compress(block)
        if first:
            out += packer.flush(zlib.Z_SYNC_FLUSH)
            first = False
        if out:
            yield out
    yield packer.flush(zlib.Z_FINISH)


def export_to_file(
    session: so.Session,
    request: ExportRequest,
    taxonomy: Taxonomy,
    path: str | Path,
    progress: Progress | None = None,
) -> ExportResult:
    """Write the export to ``path`` (through ``path.part``, renamed when complete).

    ``progress(done, total)`` is called after each chunk. Raises ``ExportError`` for an
    unwritable path or too many rows for XLSX; on any error or interruption the partial
    file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    part = _open_part(path)
    try:
        request.filter.validate(session)
        total = count_rows(session, request.target, request.filter)
        if request.format == "xlsx":
            check_rows(total)
        count = _Counter(total, progress)
        _write(session, request, taxonomy, part, count)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return ExportResult(path, count.done)


class _Counter:
    """Counts features as chunks or batches pass, and reports progress."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress

    def __call__(self, parts: Iterator[_S]) -> Iterator[_S]:
        for part in parts:
            yield part
            self.done += len(part)
            if self.progress is not None:
                self.progress(self.done, self.total)


def _open_part(path: Path) -> Path:
    part = path.with_name(path.name + ".part")
    if path.is_dir():
        raise ExportError(tr(f"{path}: 是一个目录", f"{path}: is a directory"))
    try:
        part.open("wb").close()
    except OSError as exc:
        raise ExportError(
            tr(
                f"{path}: 无法写入: {exc.strerror or exc}",
                f"{path}: cannot write: {exc.strerror or exc}",
            )
        ) from exc
    return part


def _write(
    session: so.Session, request: ExportRequest, taxonomy: Taxonomy, part: Path, count: _Counter
) -> None:
    if request.format in STREAMED:
        with part.open("wb") as out:
            for block in _encoded(session, request, taxonomy, count):
                out.write(block)
        return
    chunks = count(_chunks(session, request, taxonomy))
    if request.format == "xlsx":
        write_xlsx(chunks, request, part)
    else:
        write_gpkg(chunks, request, part)


def _encoded(
    session: so.Session, request: ExportRequest, taxonomy: Taxonomy, count: _Counter
) -> Iterator[bytes]:
    if request.format == "csv":
        return _csv(count(_chunks(session, request, taxonomy)), request)
    batches = count(feature_batches(session, request, taxonomy))
    if request.format == "geojson":
        return _geojson(batches, request)
    return _geojsonseq(batches)


@dataclass
class Batch:
    """RFC 7946 Features as UTF-8 JSON texts (ready to write) and the bounding box of
    their geometries (EPSG:4326 or GCJ-02 degrees, as exported).

    Each item of ``features`` is one feature or, from the database path, a run of
    ``count`` features already joined by the format's ``SEPARATORS`` entry: joining the
    items by the same separator gives the same bytes either way.
    """

    features: list[bytes]
    bounds: enc.Bounds | None
    count: int

    def __len__(self) -> int:
        return self.count


def feature_batches(
    session: so.Session, request: ExportRequest, taxonomy: Taxonomy, page: Page | None = None
) -> Iterator[Batch]:
    """The export's features as UTF-8 JSON texts, in batches of ``request.chunk_rows``.

    WGS-84 problems are rendered by the database when the time zone allows it
    (geo/export/sql.py), whole runs joined there unless a ``page`` (OGC API) asks for
    single features; everything else column by column in Python.
    """
    offset = None
    if request.target == "problems" and request.crs == "wgs84":
        offset = sql_offset(session, request.tz)
    if offset is None:
        foreign = {"coordinate_system": "GCJ-02"} if request.crs == "gcj02" else None
        for chunk in _chunks(session, request, taxonomy, page):
            features = _features(chunk, request, foreign)
            yield Batch(features, enc.chunk_bounds(chunk), len(features))
    elif page is None:
        separator = SEPARATORS[request.format]
        args = (request.filter, taxonomy, request.lang, offset, request.chunk_rows, separator)
        for run in feature_runs(session, *args):
            yield Batch([run.text], run.bounds, run.count)
    else:  # one page of the OGC API, feature by feature
        stmt = problem_features(session, request.filter, taxonomy, request.lang, offset, page)
        rows = session.connection().execute(stmt).all()
        if rows:  # nothing matched (e.g. nothing in the caller's scope)
            texts, lon, lat = zip(*rows, strict=True)
            chunk = Chunk({}, np.array(lon, float), np.array(lat, float))
            yield Batch(list(texts), enc.chunk_bounds(chunk), len(texts))


def _chunks(
    session: so.Session, request: ExportRequest, taxonomy: Taxonomy, page: Page | None = None
) -> Iterator[Chunk]:
    for chunk in iter_chunks(
        session, request.target, request.filter, taxonomy, request.lang, request.chunk_rows, page
    ):
        yield enc.to_crs(chunk, request.crs)


def _features(chunk: Chunk, request: ExportRequest, foreign: dict[str, str] | None) -> list[bytes]:
    # Area codes are unique within a level only: they identify features of one level.
    single_level = len(request.filter.levels) == 1
    id_field = None if request.target == "areas" and not single_level else ID_FIELD[request.target]
    texts = enc.feature_texts(chunk, FIELDS[request.target], request.tz, id_field, foreign)
    return [text.encode() for text in texts]


def _geojson(batches: Iterator[Batch], request: ExportRequest) -> Iterator[bytes]:
    meta = json.dumps(request.metadata(), ensure_ascii=False)
    yield (
        f'{{"type":"FeatureCollection","name":"{request.target}","civicgrid":{meta},"features":[\n'
    ).encode()
    bounds = None
    first, comma = True, SEPARATORS["geojson"]
    for batch in batches:
        if batch.features:
            if not first:
                yield comma
            # Joining one run gives the run itself: megabytes are passed on, not copied.
            yield comma.join(batch.features)
            first = False
        bounds = enc.merge_bounds(bounds, batch.bounds)
    tail = "\n]"
    if bounds is not None:
        tail += ',"bbox":' + json.dumps([round(v, 6) for v in bounds])
    yield (tail + "}\n").encode()


def _geojsonseq(batches: Iterator[Batch]) -> Iterator[bytes]:
    for batch in batches:
        if batch.features:
            # RS text LF per feature (RFC 8142); the joined run is passed on uncopied.
            yield _RS_BYTES
            yield SEPARATORS["geojsonseq"].join(batch.features)
            yield b"\n"


def _csv(chunks: Iterator[Chunk], request: ExportRequest) -> Iterator[bytes]:
    fields = FIELDS[request.target]
    suffix = "_gcj02" if request.crs == "gcj02" else ""
    header = [f.name for f in fields] + [f"lon{suffix}", f"lat{suffix}", f"wkt{suffix}"]
    yield "\ufeff".encode() + _csv_text([header])
    for chunk in chunks:
        if not len(chunk):
            continue
        columns = enc.csv_columns(chunk, fields, request.tz)
        lon, lat = enc.coordinate_cells(chunk.lon), enc.coordinate_cells(chunk.lat)
        yield _csv_text(zip(*columns, lon, lat, enc.wkt_texts(chunk), strict=True))


def _csv_text(rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")
