"""What an export is asked for: target, format, filter, coordinate system, language and
time zone (``ExportRequest``), with the formats' names, media types and file names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from geo.core.errors import InvalidParameterError
from geo.core.text import in_lang, tr
from geo.export import encode as enc
from geo.export.fields import TITLES
from geo.export.query import DEFAULT_CHUNK_ROWS
from geo.reports.filters import ProblemFilter, Target

FORMATS = ("geojson", "geojsonseq", "csv", "xlsx", "gpkg")
STREAMED = ("geojson", "geojsonseq", "csv")
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "geojsonseq": "application/geo+json-seq",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
}
SUFFIXES = {
    "geojson": ".geojson",
    "geojsonseq": ".geojsons",
    "csv": ".csv",
    "xlsx": ".xlsx",
    "gpkg": ".gpkg",
}
_SUFFIX_FORMATS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".geojsons": "geojsonseq",
    ".geojsonl": "geojsonseq",
    ".geojsonseq": "geojsonseq",
    ".jsonl": "geojsonseq",
    ".ndjson": "geojsonseq",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".gpkg": "gpkg",
}
CRS_NAMES = {
    "wgs84": "WGS 84 (EPSG:4326) lon/lat",
    "gcj02": tr(
        "GCJ-02（高德/腾讯）经纬度，非 WGS-84", "GCJ-02 (AMap/Tencent) lon/lat, not WGS-84"
    ),
}


@dataclass(frozen=True)
class ExportRequest:
    """What to export: target, format, filter (with its access scope), coordinate system
    (``wgs84`` or ``gcj02``), label language and the time zone of exported times."""

    target: Target
    format: str
    filter: ProblemFilter = field(default_factory=ProblemFilter)
    crs: str = "wgs84"
    lang: str = "zh"
    tz: str = "Asia/Shanghai"
    chunk_rows: int = DEFAULT_CHUNK_ROWS

    def __post_init__(self) -> None:
        check_choice("format", self.format, FORMATS)
        check_choice("crs", self.crs, enc.CRS_CHOICES)

    def file_name(self, now: datetime | None = None) -> str:
        """A download file name, e.g. ``problems-gcj02-20240501.geojson``."""
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%d")
        crs = "-gcj02" if self.crs == "gcj02" else ""
        return f"{self.target}{crs}-{stamp}{SUFFIXES[self.format]}"

    def metadata(self) -> dict[str, object]:
        """What the file holds, written into it (GeoJSON member, XLSX sheet, GPKG)."""
        return {
            "target": self.target,
            "coordinate_system": in_lang(CRS_NAMES[self.crs], self.lang),
            "filters": self.filter.query_args(),
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "time_zone": self.tz,
            "generator": "civicgrid",
        }


@dataclass(frozen=True)
class ExportResult:
    """Where the export went and how many features it holds."""

    path: Path
    features: int


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``, else ``InvalidParameterError`` listing them."""
    if value not in allowed:
        raise InvalidParameterError(
            tr(
                f"不支持的{name} '{value}'; 可选: {', '.join(allowed)}",
                f"unsupported {name} '{value}'; one of: {', '.join(allowed)}",
            )
        )
    return value


def title(target: Target, lang: str = "zh") -> str:
    """The target's display name in ``lang``."""
    zh, en = TITLES[target]
    return en if lang == "en" else zh


def format_for_path(path: Path) -> str:
    """The export format implied by a file name's suffix."""
    fmt = _SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidParameterError(
            tr(
                f"无法从文件名判断格式 '{path.name}': use --format ({', '.join(FORMATS)})",
                f"cannot tell the format from '{path.name}': use --format ({', '.join(FORMATS)})",
            )
        )
    return fmt


def marked_path(path: Path, crs: str) -> Path:
    """``path`` with ``-gcj02`` before the suffix for GCJ-02 exports (unless already there)."""
    if crs != "gcj02" or "gcj02" in path.name.lower():
        return path
    return path.with_name(f"{path.stem}-gcj02{path.suffix}")
