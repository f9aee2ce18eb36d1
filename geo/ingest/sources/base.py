"""What the survey readers share: the opened-file type, its special columns, header
scoring and hashing (used by survey.py, csv_file.py, xlsx_file.py, vector_file.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo.ingest.columns import ALIASES, normalise_header

ROW = "__row__"
"""Column holding the row number the user sees (header = row 1; feature number for vectors)."""

READ_ERROR = "__read_error__"
"""Column holding a reason ("zh / en") when the reader could not use a row as it is."""


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
    reader: Any = None
    """Callable yielding the chunks; set by the format's ``setup_*``."""
    digest: Any = None
    """hashlib object fed while reading, when the format can hash as it reads."""
    counter: Any = None
    """Object whose ``count`` is the number of bytes read so far, when the format counts."""

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Text DataFrames with the file's headers and ``__row__``; at least one row overall."""
        yield from self.reader()

    @property
    def bytes_read(self) -> int:
        return self.counter.count if self.counter is not None else 0

    def sha256(self) -> str:
        """SHA-256 of the file's bytes (computed while reading where possible)."""
        if self.digest is not None and self.bytes_read >= self.size:
            return str(self.digest.hexdigest())
        return file_sha256(self.path)


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
    known = {normalise_header(a) for aliases in ALIASES.values() for a in aliases}
    return sum(1 for v in values if v is not None and normalise_header(str(v)) in known)
