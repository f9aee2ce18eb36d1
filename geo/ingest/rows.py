"""Validating survey rows and turning them into typed problem rows, vectorised.

Input: a chunk of text columns already renamed to canonical names (geo/ingest/columns.py) plus
``row`` (the row number the user sees). Each column is parsed and checked for all rows at
once; every refused row gets a reason in Chinese and English (the first problem found
wins). Coordinates come out as WGS-84 lon/lat degrees (EPSG:4326), converted from the
input CRS (GCJ-02, BD-09, EPSG:n); times as naive UTC (``datetime64[us]``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from geo.core.errors import InvalidParameterError, TaxonomyError
from geo.core.taxonomy import Taxonomy
from geo.core.text import Text, in_lang, tr
from geo.core.timeparse import parse_time, parse_times
from geo.ingest.cells import as_text, flag
from geo.ingest.coordinates import CityExtent, parse_coordinates
from geo.rounds.rounds import parse_result
from geo.storage.statuses import STATUSES

__all__ = ["ParsedSurvey", "Reject", "SeenIds", "parse_survey"]

HEADER_ROW = 1  # data row i (0-based) of a plain CSV is line i + 2, as a spreadsheet shows it
TIME_COLUMNS = ("found_at", "deadline", "rectified_at", "closed_at")


@dataclass(frozen=True)
class Reject:
    """A refused row: its number in the file and why (in both languages); ``values`` are the
    file's own cells (header, text) for the reject report."""

    row: int
    reason_zh: str
    reason_en: str
    external_id: str | None = None
    values: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)

    @property
    def reason(self) -> Text:
        return Text(self.reason_zh, self.reason_en)


@dataclass
class ParsedSurvey:
    """Accepted rows (typed, canonical columns plus ``row``) and the rejects."""

    rows: pd.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    swapped_fixed: int = 0


def parse_survey(
    table: pd.DataFrame,
    taxonomy: Taxonomy,
    tz: str,
    crs: str | None = None,
    city: CityExtent | None = None,
    fix_swapped: bool = False,
    utc_columns: Iterable[str] = (),
    default_found_at: datetime | None = None,
) -> ParsedSurvey:
    """Validate and type the canonical ``table``.

    ``tz``: zone of times without offset (except ``utc_columns``, which are UTC);
    ``default_found_at`` (naive UTC) is the found time of rows that give none (no time
    column, or an empty cell; column ``found_at_defaulted`` marks them); a malformed time
    is refused all the same;
    ``crs``: input coordinate system (``geo.core.crs.normalise_crs_name``), default WGS-84;
    ``city``: the loaded areas, for detecting swapped latitude/longitude, which are fixed
    when ``fix_swapped`` and refused otherwise.
    """
    table = table.reset_index(drop=True).copy()
    if "row" not in table:
        table["row"] = np.arange(len(table)) + HEADER_ROW + 1
    bad = pd.Series("", index=table.index, dtype=object)
    _nul_characters(table, bad)
    swapped = parse_coordinates(table, bad, crs, city, fix_swapped)
    visit_only = _visit_result(table, bad)
    _category(table, taxonomy, bad, visit_only)
    defaulted = _times(table, tz, set(utc_columns), bad, default_found_at)
    _lifecycle(table, taxonomy, bad)
    _identity(table, bad, defaulted)
    table["found_at_defaulted"] = defaulted
    rejected = (bad != "").to_numpy()
    rejects = [
        Reject(int(r), *_split_reason(reason), external_id=eid or None)
        for r, reason, eid in zip(
            table["row"].to_numpy()[rejected],
            bad.to_numpy()[rejected],
            table["external_id"].to_numpy()[rejected],
            strict=True,
        )
    ]
    rows = table.loc[~rejected].reset_index(drop=True)
    return ParsedSurvey(rows, rejects, int(swapped[~rejected].sum()))


class SeenIds:
    """External ids met so far in one file (across chunks): 64-bit hashes and rows."""

    def __init__(self) -> None:
        self._hashes = np.empty(0, np.uint64)
        self._rows = np.empty(0, np.int64)

    def earlier_rows(self, ids: pd.Series) -> np.ndarray:
        """Row number of an earlier occurrence of each id, or 0."""
        if not len(self._hashes) or not len(ids):
            return np.zeros(len(ids), np.int64)
        hashes = pd.util.hash_array(ids.to_numpy(dtype=object))
        pos = np.searchsorted(self._hashes, hashes).clip(0, len(self._hashes) - 1)
        return np.where(self._hashes[pos] == hashes, self._rows[pos], 0)

    def add(self, ids: pd.Series, rows: pd.Series) -> None:
        hashes = np.r_[self._hashes, pd.util.hash_array(ids.to_numpy(dtype=object))]
        numbers = np.r_[self._rows, rows.to_numpy(np.int64)]
        order = np.argsort(hashes, kind="stable")
        self._hashes, self._rows = hashes[order], numbers[order]


def _split_reason(reason: str) -> tuple[str, str]:
    return in_lang(reason, "zh"), in_lang(reason, "en")


def _nul_characters(table: pd.DataFrame, bad: pd.Series) -> None:
    """Refuse rows with a NUL character in any text cell: PostgreSQL text cannot hold it
    and no real survey has one (it means a binary file or a broken export)."""
    for column in table.columns:
        values = table[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            if "\x00" not in "".join(map(str, values.tolist())):
                continue  # one scan of the joined text instead of one per cell
            hit = values.astype(str).str.contains("\x00", regex=False).to_numpy(bool)
            if hit.any():
                flag(bad, hit, tr(f"{column} 含有空字符", f"NUL character in {column}"))


def _visit_result(table: pd.DataFrame, bad: pd.Series) -> np.ndarray:
    """Parse the visit result column (if any) into codes; return the mask of visit-only
    rows (a result and no category), which need no category."""
    if "result" not in table:
        table["result"] = None
        return np.zeros(len(table), bool)
    text = text_or_none(table["result"])
    codes = {v: parse_result(v) for v in text.dropna().unique()}
    table["result"] = text.map(codes).astype(object)
    unknown = text.notna() & table["result"].isna()
    flag(
        bad,
        unknown,
        tr(
            "未知的测评结果（合格 pass、不合格 fail、严重不合格 serious_fail）",
            "unknown result (pass, fail or serious_fail)",
        ),
    )
    if "category" not in table:
        table["category"] = ""
    return (text.notna() & (as_text(table["category"]).astype(str).str.strip() == "")).to_numpy()


def _category(
    table: pd.DataFrame, taxonomy: Taxonomy, bad: pd.Series, visit_only: np.ndarray
) -> None:
    values = as_text(table["category"])
    codes: dict[str, str | None] = {}
    for value in pd.unique(values):
        try:
            codes[value] = taxonomy.resolve_category(str(value).strip()).code
        except TaxonomyError:
            codes[value] = None
    for value, code in codes.items():
        if code is None:
            text = str(value).strip()
            reason = (
                _unknown_category(taxonomy, text)
                if text
                else tr("缺少问题类别", "missing category")
            )
            flag(bad, (values == value).to_numpy() & ~visit_only, reason)
    table["category"] = values.map(codes).astype(object)


def _unknown_category(taxonomy: Taxonomy, text: str) -> Text:
    """The reason for an unknown category, naming the closest ones when there are any."""
    close = taxonomy.suggest_categories(text)
    if not close:
        return tr(f"未知的问题类别 '{text}'", f"unknown category '{text}'")
    zh = "、".join(c.zh for c in close)
    en = "; ".join(f"{c.en} ({c.code})" for c in close)
    return tr(
        f"未知的问题类别 '{text}'，是否为：{zh}？",
        f"unknown category '{text}', did you mean: {en}?",
    )


def _times(
    table: pd.DataFrame, tz: str, utc: set[str], bad: pd.Series, default: datetime | None
) -> np.ndarray:
    """Parse the time columns; return which rows got ``default`` as their found time."""
    blank = np.ones(len(table), dtype=bool)  # rows without any found time in the file
    for column in TIME_COLUMNS:
        if column not in table:
            table[column] = pd.Series(pd.NaT, index=table.index, dtype="datetime64[us]")
            continue
        text = as_text(table[column])
        parsed = parse_times(text, "UTC" if column in utc else tz)
        flag(bad, (text != "") & parsed.isna(), tr("时间格式错误", f"malformed time in {column}"))
        table[column] = parsed
        if column == "found_at":
            blank = (text == "").to_numpy()
    if default is not None:
        table.loc[blank, "found_at"] = pd.Timestamp(default)
    flag(bad, table["found_at"].isna(), tr("缺少发现时间", "missing found_at"))
    return blank if default is not None else np.zeros(len(table), dtype=bool)


def explicit_found_at(text: str, tz: str, now: datetime) -> datetime:
    """``--found-at`` → naive UTC; ``InvalidParameterError`` when unreadable or later than
    ``now`` (naive UTC)."""
    value = parse_time(text.strip(), tz)
    if value is None:
        raise InvalidParameterError(
            tr(
                f"--found-at '{text}': 时间格式错误（例如 2024-05-01 10:00）",
                f"--found-at '{text}': malformed time (e.g. 2024-05-01 10:00)",
            )
        )
    if value > now:
        raise InvalidParameterError(
            tr(
                f"--found-at '{text}': 发现时间在将来",
                f"--found-at '{text}': found time is in the future",
            )
        )
    return value


def _lifecycle(table: pd.DataFrame, taxonomy: Taxonomy, bad: pd.Series) -> None:
    status = text_or_none(table["status"]) if "status" in table else None
    status = status.where(status.notna(), "found") if status is not None else "found"
    table["status"] = pd.Series(status, index=table.index, dtype=object)
    flag(bad, ~table["status"].isin(STATUSES), tr("未知的状态", "unknown status"))
    if "reopened" in table:
        reopened = text_or_none(table["reopened"]).fillna("0")
        table["reopened"] = pd.to_numeric(reopened, errors="coerce")
    else:
        table["reopened"] = 0
    flag(
        bad, table["reopened"].isna() | (table["reopened"] < 0), tr("返工次数无效", "bad reopened")
    )
    for column in ("unit", "point_code", "description", "campaign", "round", "inspector"):
        table[column] = text_or_none(table[column]) if column in table else None
    if table["campaign"].notna().any():
        known = {
            c: taxonomy.resolve_campaign(c).code
            for c in table["campaign"].dropna().unique()
            if _is_campaign(taxonomy, c)
        }
        flag(
            bad,
            table["campaign"].notna() & ~table["campaign"].isin(known),
            tr("未知的专项行动", "unknown campaign"),
        )
        table["campaign"] = table["campaign"].map(known).astype(object)


def text_or_none(values: pd.Series) -> pd.Series:
    """Trimmed text as an object column, with None (not NaN) for blanks and missing values.

    Trimming works on the distinct values, so a column of few distinct values (units,
    point codes) costs little however long it is.
    """
    text = as_text(values)
    uniques = pd.unique(text)
    if len(uniques) > len(text) // 4:  # free text: no trim, blanks only
        return text.where(text != "", None)
    trimmed = {u: (str(u).strip() or None) for u in uniques}
    return text.map(trimmed).astype(object)


def _is_campaign(taxonomy: Taxonomy, value: str) -> bool:
    try:
        taxonomy.resolve_campaign(value)
    except TaxonomyError:
        return False
    return True


def _identity(table: pd.DataFrame, bad: pd.Series, defaulted: np.ndarray) -> None:
    """External id from the file, or a content hash when the file has none (without the
    found time where it was defaulted, so that ingesting the file again adds nothing)."""
    ids = table["external_id"] if "external_id" in table else pd.Series("", index=table.index)
    table["external_id"] = as_text(ids)
    no_id = (table["external_id"] == "").to_numpy()
    if no_id.any():
        table.loc[no_id, "external_id"] = _content_hashes(table.loc[no_id], defaulted[no_id])
    if not table["external_id"].duplicated().any():
        return
    first = table.groupby("external_id", sort=False)["row"].transform("min")
    dup = (table["row"] != first).to_numpy() & (bad == "").to_numpy()
    for idx in np.flatnonzero(dup):
        bad.iloc[idx] = tr(
            f"文件内编号重复: '{table['external_id'].iloc[idx]}'（同第 {first.iloc[idx]} 行）",
            (
                f"duplicate id in file: '{table['external_id'].iloc[idx]}' "
                f"(also row {first.iloc[idx]})"
            ),
        )


def _content_hashes(rows: pd.DataFrame, defaulted: np.ndarray) -> list[str]:
    """Stable identity of a row without id: what, where and when it was found."""
    found = rows["found_at"].dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("").where(~defaulted, "")
    parts = zip(
        np.char.mod("%.7f", rows["lon"].to_numpy(float)).tolist(),
        np.char.mod("%.7f", rows["lat"].to_numpy(float)).tolist(),
        rows["category"].fillna("").astype(str),
        found,
        rows["description"].fillna("").astype(str),
        strict=True,
    )
    return ["sha1:" + hashlib.sha1("|".join(p).encode()).hexdigest() for p in parts]


def duplicate_reject(rows: pd.DataFrame, i: int, first: int) -> Reject:
    """The reject of row ``i`` of ``rows`` whose id was met before at file row ``first``."""
    eid = rows["external_id"].iloc[i]
    return Reject(
        int(rows["row"].iloc[i]),
        "文件内编号重复",
        f"duplicate id in file: '{eid}' (also row {first})",
        eid,
    )
