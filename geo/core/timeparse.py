"""Parsing survey times: ISO 8601 and the usual spreadsheet forms, vectorised.

Results are naive UTC. Text without an offset is local time in the given zone (the
configured CIVICGRID_TIMEZONE, or UTC for form servers' submission times). Besides ISO
8601 ("2024-05-01T10:00:00+08:00", "2024-05-01 10:00", "2024/5/1 10:00") the Chinese
form "2024年5月1日 10时30分" is understood.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pandas as pd

from geo.core.errors import InvalidParameterError

EARLIEST = datetime(1900, 1, 1)
LATEST = datetime(2200, 1, 1)
"""The sane window of query time-range ends and of parsed times: anything outside is
a typo or a probe (``-1`` parses as the year -1), refused before it reaches a query."""

_AWARE = r"(?:[zZ]|[+-]\d{2}:?\d{2})$"
_CHINESE = (
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"), r"\1-\2-\3"),
    (re.compile(r"(\d{1,2})\s*[时點点]\s*(\d{1,2})\s*分?"), r"\1:\2"),
    (re.compile(r"(\d{1,2})\s*[时點点]$"), r"\1:00"),
)


def parse_times(text: pd.Series, tz: str) -> pd.Series:
    """Text → ``datetime64[us]`` naive UTC, NaT for blanks and anything unreadable.

    Values with an offset (``Z``, ``+08:00``) keep it; the others are local times in ``tz``.
    A column that is all naive or all one offset (the usual case) is parsed in one pass.
    """
    text = text.astype(object).where(text.notna(), "")
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    filled = (text != "").to_numpy()
    if not filled.any():
        return out
    try:
        stamps = pd.to_datetime(text[filled], format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # mixed offsets, or naive and aware together
        out[filled] = _mixed(text[filled], tz)
    else:
        if isinstance(stamps.dtype, pd.DatetimeTZDtype):
            out[filled] = stamps.dt.tz_convert(None).astype("datetime64[us]")
        else:
            out[filled] = _local(stamps, tz)
    left = filled & out.isna().to_numpy()
    if left.any():
        fallback = {v: parse_time(str(v).strip(), tz) for v in pd.unique(text[left])}
        out[left] = pd.to_datetime(text[left].map(fallback)).astype("datetime64[us]")
    return out


def _mixed(text: pd.Series, tz: str) -> pd.Series:
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    stripped = text.astype(str).str.strip()
    aware = stripped.str.contains(_AWARE, regex=True)
    if aware.any():
        stamps = pd.to_datetime(stripped[aware], format="ISO8601", utc=True, errors="coerce")
        out[aware] = stamps.dt.tz_convert(None).astype("datetime64[us]")
    if (~aware).any():
        naive = pd.to_datetime(stripped[~aware], format="ISO8601", errors="coerce")
        out[~aware] = _local(naive, tz)
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
    return _utc(stamp, tz)


def range_bound(text: str, tz: str, *, end: bool, malformed: str) -> datetime:
    """One end of a query's time range (``from``/``to``, OGC ``datetime``) → naive UTC.

    Text without an offset is local time in ``tz``. Ends are inclusive: a date-only end
    covers that whole local day, a timed end gets one microsecond more (the ranges are
    half-open in SQL). Raises ``InvalidParameterError(malformed)`` when unreadable.
    """
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        stamp = pd.NaT
    bound = None if pd.isna(stamp) else _utc(stamp, tz)
    if bound is None:
        raise InvalidParameterError(malformed)
    if end:
        bound += timedelta(days=1) if len(text) <= 10 else timedelta(microseconds=1)
    return bound


def _utc(stamp: pd.Timestamp, tz: str) -> datetime | None:
    """``stamp`` (local in ``tz`` when naive) as naive UTC, None outside the sane window."""
    try:
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize(tz)
        # Years pandas can parse but Python cannot hold (e.g. "-1") fail only here.
        value = stamp.tz_convert("UTC").tz_localize(None).to_pydatetime()
    except (ValueError, TypeError, OverflowError):
        return None
    return value if EARLIEST <= value < LATEST else None


def _local(stamps: pd.Series, tz: str) -> pd.Series:
    local = stamps.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return local.dt.tz_convert(None).astype("datetime64[us]")
