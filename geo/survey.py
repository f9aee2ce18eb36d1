"""Reading a survey table and turning it into validated, typed problem rows.

Steps: read the file as text columns → map headers to canonical names → parse and
validate each column vectorised → split accepted rows from rejected ones, each reject
carrying the row number the user sees in the file and a reason in Chinese and English.
Coordinates come out as WGS-84 lon/lat degrees (EPSG:4326); times as naive UTC.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import IngestError, TaxonomyError
from geo.models import STATUSES
from geo.taxonomy import Taxonomy

HEADER_ROW = 1  # data row i (0-based) is line i + 2 of the file, as a spreadsheet shows it

ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "编号", "问题编号", "external_id"),
    "lon": ("lon", "lng", "longitude", "经度", "x"),
    "lat": ("lat", "latitude", "纬度", "y"),
    "category": ("category", "问题类别", "类别", "问题类型"),
    "description": ("description", "问题描述", "描述"),
    "found_at": ("found_at", "发现时间", "time"),
    "status": ("status", "状态"),
    "unit": ("unit", "责任单位"),
    "deadline": ("deadline", "整改时限"),
    "rectified_at": ("rectified_at", "整改时间"),
    "closed_at": ("closed_at", "销号时间"),
    "reopened": ("reopened", "返工次数"),
    "campaign": ("campaign", "专项行动"),
    "point_code": ("point_code", "点位", "点位编码"),
}
REQUIRED = ("lon", "lat", "category", "found_at")
TIME_COLUMNS = ("found_at", "deadline", "rectified_at", "closed_at")


@dataclass(frozen=True)
class Reject:
    """A refused row: its line number in the file and why (zh / en)."""

    row: int
    reason_zh: str
    reason_en: str
    external_id: str | None = None

    @property
    def reason(self) -> str:
        return f"{self.reason_zh} / {self.reason_en}"


@dataclass
class ParsedSurvey:
    """Accepted rows (typed, canonical columns plus ``row``) and the rejects."""

    rows: pd.DataFrame
    rejects: list[Reject] = field(default_factory=list)


def read_csv_table(path: str | Path) -> pd.DataFrame:
    """Read a UTF-8 (optionally BOM) CSV as text columns; raise ``IngestError`` if unreadable."""
    path = Path(path)
    try:
        table = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True
        )
    except FileNotFoundError as exc:
        raise IngestError(f"{path}: 文件不存在 / file not found") from exc
    except pd.errors.EmptyDataError as exc:
        raise IngestError(f"{path}: 文件为空 / empty file") from exc
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise IngestError(
            f"{path}: 不是 UTF-8 编码的 CSV 文件 / not a UTF-8 CSV file ({exc.__class__.__name__})"
        ) from exc
    if table.empty:
        # A header without rows is almost always a failed export; refuse it loudly
        # instead of recording an empty batch.
        raise IngestError(f"{path}: 只有表头，没有数据行 / no data rows (header only)")
    return table


def canonical_columns(table: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """Rename recognised headers to canonical names; raise when a required one is missing."""
    lookup = {alias.lower(): name for name, aliases in ALIASES.items() for alias in aliases}
    renamed: dict[str, str] = {}
    for column in table.columns:
        name = lookup.get(str(column).strip().lower())
        if name and name not in renamed.values():
            renamed[column] = name
    table = table.rename(columns=renamed)[list(renamed.values())]
    missing = [name for name in REQUIRED if name not in table]
    if missing:
        raise IngestError(
            f"{path}: 缺少必需的列 / missing required column(s): {', '.join(missing)} "
            f"(可用表头 / accepted headers: "
            + "; ".join(f"{m}: {'/'.join(ALIASES[m])}" for m in missing)
            + ")"
        )
    return table


def parse_survey(table: pd.DataFrame, taxonomy: Taxonomy, tz: str) -> ParsedSurvey:
    """Validate and type the canonical ``table``; local times without offset are in ``tz``."""
    table = table.copy()
    table["row"] = np.arange(len(table)) + HEADER_ROW + 1
    table = table.apply(lambda col: col.str.strip() if col.dtype == object else col)
    bad = pd.Series([""] * len(table), index=table.index, dtype=object)
    _coordinates(table, bad)
    _category(table, taxonomy, bad)
    _times(table, tz, bad)
    _lifecycle(table, taxonomy, bad)
    _identity(table, bad)
    rejected = bad != ""
    rejects = [
        Reject(int(r), *_split_reason(reason), external_id=eid or None)
        for r, reason, eid in zip(
            table.loc[rejected, "row"],
            bad[rejected],
            table.loc[rejected, "external_id"],
            strict=True,
        )
    ]
    return ParsedSurvey(table.loc[~rejected].reset_index(drop=True), rejects)


def _split_reason(reason: str) -> tuple[str, str]:
    zh, _, en = reason.partition(" / ")
    return zh, en


def _flag(bad: pd.Series, mask: pd.Series, reason: str) -> None:
    """Record ``reason`` for rows in ``mask`` that have no reason yet (first one wins)."""
    bad[mask & (bad == "")] = reason


def _coordinates(table: pd.DataFrame, bad: pd.Series) -> None:
    for axis in ("lon", "lat"):
        text = table[axis]
        _flag(bad, text == "", f"缺少坐标 / missing coordinate ({axis})")
        _flag(
            bad,
            text.str.contains(",", regex=False),
            f"坐标使用了逗号小数 / comma decimal in {axis}",
        )
        table[axis] = pd.to_numeric(text, errors="coerce")
        _flag(bad, table[axis].isna(), f"坐标不是数字 / non-numeric {axis}")
    _flag(bad, (table["lon"] == 0) & (table["lat"] == 0), "坐标为 0,0 / coordinates are 0,0")
    out = ~table["lon"].between(-180, 180) | ~table["lat"].between(-90, 90)
    _flag(bad, out, "坐标超出范围 / coordinates out of range")


def _category(table: pd.DataFrame, taxonomy: Taxonomy, bad: pd.Series) -> None:
    codes: dict[str, str | None] = {}
    for value in table["category"].unique():
        try:
            codes[value] = taxonomy.resolve_category(value).code
        except TaxonomyError:
            codes[value] = None
    for value, code in codes.items():
        if code is None:
            reason = (
                f"未知的问题类别 / unknown category '{value}'"
                if value
                else "缺少问题类别 / missing category"
            )
            _flag(bad, table["category"] == value, reason)
    table["category"] = table["category"].map(codes)


def _times(table: pd.DataFrame, tz: str, bad: pd.Series) -> None:
    for column in TIME_COLUMNS:
        if column not in table:
            table[column] = None
            continue
        text = table[column].fillna("")
        parsed = pd.Series([parse_time(v, tz) for v in text], index=table.index, dtype=object)
        _flag(bad, (text != "") & parsed.isna(), f"时间格式错误 / malformed time in {column}")
        table[column] = parsed
    _flag(bad, table["found_at"].isna(), "缺少发现时间 / missing found_at")


def parse_time(text: str, tz: str) -> object:
    """ISO 8601 text → naive UTC ``datetime``; no offset means local time in ``tz``."""
    if not text:
        return None
    try:
        stamp = pd.Timestamp(text)
        if pd.isna(stamp):
            return None
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize(tz)
        # Years pandas can parse but Python cannot hold (e.g. "-1") fail only here.
        return stamp.tz_convert("UTC").tz_localize(None).to_pydatetime()
    except (ValueError, TypeError, OverflowError):
        return None


def _lifecycle(table: pd.DataFrame, taxonomy: Taxonomy, bad: pd.Series) -> None:
    if "status" not in table:
        table["status"] = "found"
    table.loc[table["status"] == "", "status"] = "found"
    _flag(bad, ~table["status"].isin(STATUSES), "未知的状态 / unknown status")
    table["reopened"] = pd.to_numeric(table.get("reopened", "0").replace("", "0"), errors="coerce")
    _flag(bad, table["reopened"].isna() | (table["reopened"] < 0), "返工次数无效 / bad reopened")
    if "campaign" in table:
        known = {
            c: taxonomy.resolve_campaign(c).code
            for c in table["campaign"].unique()
            if c and _is_campaign(taxonomy, c)
        }
        _flag(
            bad,
            (table["campaign"] != "") & ~table["campaign"].isin(known),
            "未知的专项行动 / unknown campaign",
        )
        table["campaign"] = table["campaign"].map(known)
    for column in ("unit", "point_code", "description", "campaign"):
        table[column] = text_or_none(table[column]) if column in table else None


def text_or_none(values: pd.Series) -> pd.Series:
    """Trimmed text as an object column, with None (not NaN) for blanks and missing values."""
    cleaned = [
        None if not isinstance(v, str) or not v.strip() else v.strip() for v in values.tolist()
    ]
    return pd.Series(cleaned, index=values.index, dtype=object)


def _is_campaign(taxonomy: Taxonomy, value: str) -> bool:
    try:
        taxonomy.resolve_campaign(value)
    except TaxonomyError:
        return False
    return True


def _identity(table: pd.DataFrame, bad: pd.Series) -> None:
    """External id from the file, or a content hash when the file has none."""
    if "external_id" not in table:
        table["external_id"] = ""
    no_id = table["external_id"] == ""
    if no_id.any():
        content = table.loc[no_id, ["lon", "lat", "category", "found_at", "description"]]
        table.loc[no_id, "external_id"] = [
            "sha1:" + hashlib.sha1(repr(tuple(r)).encode()).hexdigest()
            for r in content.itertuples(index=False)
        ]
    first = table.groupby("external_id")["row"].transform("min")
    dup = table["row"] != first
    for idx in table.index[dup & (bad == "")]:
        bad[idx] = (
            f"文件内编号重复 / duplicate id in file: '{table.at[idx, 'external_id']}' "
            f"(also row {first[idx]})"
        )
