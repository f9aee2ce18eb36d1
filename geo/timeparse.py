"""Parsing survey times: ISO 8601 and the usual spreadsheet forms, vectorised.

Results are naive UTC. Text without an offset is local time in the given zone (the
configured CIVICGRID_TIMEZONE, or UTC for form servers' submission times). Besides ISO
8601 ("2024-05-01T10:00:00+08:00", "2024-05-01 10:00", "2024/5/1 10:00") the Chinese
form "2024年5月1日 10时30分" is understood.
"""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd

_AWARE = r"(?:[zZ]|[+-]\d{2}:?\d{2})$"
_CHINESE = (
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"), r"\1-\2-\3"),
    (re.compile(r"(\d{1,2})\s*[时點点]\s*(\d{1,2})\s*分?"), r"\1:\2"),
    (re.compile(r"(\d{1,2})\s*[时點点]$"), r"\1:00"),
)


def parse_times(text: pd.Series, tz: str) -> pd.Series:
    """Text → ``datetime64[us]`` naive UTC, NaT for blanks and anything unreadable.

    Values with an offset (``Z``, ``+08:00``) keep it; the others are local times in ``tz``.
    """
    text = text.fillna("").astype(str).str.strip()
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    filled = text != ""
    if not filled.any():
        return out
    aware = filled & text.str.contains(_AWARE, regex=True)
    naive = filled & ~aware
    if aware.any():
        stamps = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
        out[aware] = stamps.dt.tz_convert(None).astype("datetime64[us]")
    if naive.any():
        out[naive] = _local(pd.to_datetime(text[naive], format="ISO8601", errors="coerce"), tz)
    left = filled & out.isna()
    if left.any():
        fallback = {v: parse_time(v, tz) for v in text[left].unique()}
        out[left] = pd.to_datetime(text[left].map(fallback)).astype("datetime64[us]")
    return out


def parse_time(text: str, tz: str) -> datetime | None:
    """One text → naive UTC ``datetime`` (None if unreadable); no offset means ``tz``."""
    if not text:
        return None
    for pattern, repl in _CHINESE:
        text = pattern.sub(repl, text)
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(stamp):
        return None
    if stamp.tzinfo is None:
        try:
            stamp = stamp.tz_localize(tz)
        except (ValueError, TypeError):
            return None
    return stamp.tz_convert("UTC").tz_localize(None).to_pydatetime()


def _local(stamps: pd.Series, tz: str) -> pd.Series:
    local = stamps.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return local.dt.tz_convert(None).astype("datetime64[us]")
