"""What an ingest is asked to do (``IngestOptions``) and what it did (``IngestResult``),
plus the reject report: a CSV (UTF-8 with BOM, so Excel shows the Chinese) listing every
refused row with its number, reason in Chinese and English, and the row's own cells.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from geo.areas.link import DEFAULT_LINK_DISTANCE_M
from geo.core.text import Text, in_lang, tr
from geo.ingest.rows import Reject

DEFAULT_MAX_MB = 1024


@dataclass(frozen=True)
class IngestOptions:
    """How to ingest a survey file.

    ``source`` scopes external ids; ``actor`` is recorded on the batch; ``tz`` is the zone
    of times without offset; ``strict`` refuses the whole file if any row is bad;
    ``dry_run`` validates and reports without writing. ``format`` / ``encoding`` /
    ``sheet`` override detection; ``mapping`` maps canonical names to headers; ``crs`` is
    the input coordinate system (wgs84, cgcs2000, gcj02, bd09, EPSG:n; default: the file's,
    else WGS-84); ``fix_swapped`` swaps latitude/longitude back where that lands in the
    city; ``link_distance_m`` links problems to the nearest inspection point within that
    many metres (0: off). ``rejects_path`` receives the reject report. ``progress`` is
    called with (bytes read, file size) after each chunk. ``round`` names the round
    (name or id) of visit rows that name none (geo/ingest/visits.py). ``found_at``
    (naive UTC) is the found time of rows that give none; a file without a time column
    otherwise gets the ingest time (refused when ``strict``).
    """

    source: str = "survey"
    actor: str = "cli"
    tz: str = "Asia/Shanghai"
    strict: bool = False
    dry_run: bool = False
    format: str = "auto"
    encoding: str | None = None
    sheet: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    crs: str | None = None
    fix_swapped: bool = False
    link_distance_m: float = DEFAULT_LINK_DISTANCE_M
    far_km: float = 50.0
    rejects_path: Path | None = None
    max_bytes: int | None = DEFAULT_MAX_MB * 2**20
    chunk_rows: int = 200_000
    progress: Callable[[int, int], None] | None = None
    round: str | None = None
    found_at: datetime | None = None


@dataclass
class IngestResult:
    """What a batch did; ``rejects`` carry row numbers and reasons."""

    file_name: str
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    outside: int = 0
    far_outside: int = 0
    linked: int = 0
    swapped_fixed: int = 0
    found_at_defaulted: int = 0
    crs_hint: str | None = None
    visits: int = 0
    batch_id: int | None = None
    format: str = ""
    encoding: str | None = None
    crs: str = "EPSG:4326"
    row_label: str = "row"
    dry_run: bool = False
    sha256: str = ""
    seconds: float = 0.0
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    far_rows: list[int] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    def rejected_by_reason(self) -> dict[Text, int]:
        """Count of rejects per reason (a Text), most frequent first; reasons that
        name a value ("unknown category 'x'") are grouped by their general part."""
        counts = Counter(_general(r) for r in self.rejects)
        return dict(counts.most_common())

    def to_dict(self, max_rejects: int = 1000, lang: str = "zh") -> dict[str, Any]:
        """Plain JSON-ready summary (the first ``max_rejects`` rejects in full, each with
        its reason in both languages; counts per reason in ``lang``)."""
        return {
            "file_name": self.file_name,
            "format": self.format,
            "encoding": self.encoding,
            "crs": self.crs,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejected_by_reason": {
                in_lang(k, lang): n for k, n in self.rejected_by_reason().items()
            },
            "duplicates": self.duplicates,
            "outside": self.outside,
            "far_outside": self.far_outside,
            "linked": self.linked,
            "swapped_fixed": self.swapped_fixed,
            "found_at_defaulted": self.found_at_defaulted,
            "crs_hint": None if self.crs_hint is None else in_lang(self.crs_hint, lang),
            "visits": self.visits,
            "batch_id": self.batch_id,
            "dry_run": self.dry_run,
            "sha256": self.sha256,
            "seconds": round(self.seconds, 3),
            "row_label": self.row_label,
            "notes": list(self.notes),
            "rejects": [
                {
                    "row": r.row,
                    "reason_zh": r.reason_zh,
                    "reason_en": r.reason_en,
                    "external_id": r.external_id,
                }
                for r in sorted(self.rejects, key=lambda r: r.row)[:max_rejects]
            ],
        }


def write_rejects(path: Path, result: IngestResult) -> None:
    """Write the reject report: row, reason (zh), reason (en), id, then the row's cells."""
    rejects = sorted(result.rejects, key=lambda r: r.row)
    headers: list[str] = []
    for reject in rejects:
        for header, _ in reject.values:
            if header not in headers:
                headers.append(header)
    label = "要素 feature" if result.row_label == "feature" else "行号 row"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([label, "原因", "reason", "编号 id", *headers])
        for r in rejects:
            cells = dict(r.values)
            writer.writerow(
                [r.row, r.reason_zh, r.reason_en, r.external_id or ""]
                + [_safe_cell(cells.get(h, "")) for h in headers]
            )


def refusal(path: Path, row_label: str, rejects: list[Reject], strict: bool) -> Text:
    """Why a file is refused as a whole: strict with bad rows, or no usable row."""
    first, n = min(rejects, key=lambda r: r.row), len(rejects)
    label = "要素" if row_label == "feature" else "行"
    where_zh = f"第 {first.row} {label}: {first.reason_zh}"
    where_en = f"{row_label} {first.row}: {first.reason_en}"
    if strict:
        more = n > 1
        return tr(
            f"{path}: {where_zh}" + (f"（共 {n} 行有误）" if more else ""),
            f"{path}: {where_en}" + (f" ({n} bad rows in all)" if more else ""),
        )
    return tr(
        f"{path}: 没有可导入的行，全部 {n} 行有误；首个: {where_zh}",
        f"{path}: no usable row, all {n} rows rejected; first: {where_en}",
    )


def _general(reject: Reject) -> Text:
    zh = reject.reason_zh
    en = reject.reason_en.split(" '", 1)[0].split(" (", 1)[0].rstrip(": ")
    return Text(zh, en)


def _safe_cell(text: str) -> str:
    """Keep Excel from evaluating a cell that starts like a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
