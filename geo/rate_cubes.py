"""Rate counts per area (or responsible unit) and reporting period, computed in pandas.

``rate_summary`` holds, for every level, owner (area or unit id), period kind (week,
month, quarter) and period, what the rates of geo/stats.py need for a *finished*
period, so rankings read one row per owner and period instead of every problem. The
definitions are geo/stats.py's, with the period's end as cutoff:

- ``found``: problems found in the period (voided ones not counted);
- ``due``, ``closed``, ``closed_on_time``, ``reworked``, ``extended``, ``rectified`` and
  ``rectify_days`` (a sum, in days): counted problems (not held, not voided) whose
  deadline falls in the period; closed / rectified before the period's end;
- ``overdue_delta``: +1 in the period holding max(deadline, found_at), -1 in the one
  holding max(deadline, found_at, closed_at). Overdue at the end of period P (deadline
  and found before the end, not closed by then) is the sum of the deltas of every
  period up to P: a problem counts from the first period end after both its deadline
  and its finding until the first one after its closing.

Periods are local calendar periods at a fixed UTC offset in minutes (the summary's
``day_offset_minutes``, 480 = UTC+8); times are naive UTC, as stored. Weeks start on
Monday (ISO); quarters on January, April, July and October.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.assign import ANCESTRY_COLUMNS
from geo.summary_cubes import group_sums

RATE_KINDS: tuple[str, ...] = ("week", "month", "quarter")
RATE_KEYS: tuple[str, ...] = ("level", "kind", "owner_id", "period_start")
RATE_COUNTS: tuple[str, ...] = (
    "found",
    "due",
    "closed",
    "closed_on_time",
    "reworked",
    "extended",
    "rectified",
    "overdue_delta",
)
RATE_MEASURES: tuple[str, ...] = (*RATE_COUNTS, "rectify_days")
RATE_SOURCE_COLUMNS: tuple[str, ...] = (
    *ANCESTRY_COLUMNS,
    "unit_id",
    "status",
    "found_at",
    "assigned_at",
    "deadline",
    "rectified_at",
    "closed_at",
    "reopen_count",
    "extension_count",
)
"""Problem columns the rate counts depend on."""

OWNER_COLUMNS: dict[str, str] = {
    "grid_id": "grid",
    "community_id": "community",
    "street_id": "street",
    "district_id": "district",
    "unit_id": "unit",
}
"""Problem column → the rate level it groups by."""

NOT_COUNTED: tuple[str, ...] = ("held", "voided")
"""Statuses left out of due and overdue (as geo.rate_sql.NOT_DUE_STATUSES)."""

_DAY = np.timedelta64(1, "D")
_EPOCH_MONDAY = 4  # 1970-01-05, day 4 after the epoch, was a Monday


@dataclass
class _Events:
    """Per period kind: each event's period start (days since the epoch, local) and the
    measures it adds (rows × ``RATE_MEASURES``)."""

    rows: np.ndarray  # which problem of the frame
    period: np.ndarray
    measures: np.ndarray


def rate_rows(frame: pd.DataFrame, offset: int) -> pd.DataFrame:
    """The ``rate_summary`` rows (``RATE_KEYS`` + ``RATE_MEASURES``, keys unique) that the
    problems of ``frame`` (``RATE_SOURCE_COLUMNS``, times naive UTC) add up to, with
    periods at UTC+``offset`` minutes. ``period_start`` is a local date (datetime64[D])."""
    if frame.empty:
        return empty_rows()
    times = {c: _utc(frame[c]) for c in _TIME_COLUMNS}
    status = frame["status"].astype(str).to_numpy()
    shift = np.timedelta64(offset, "m")
    parts = []
    for kind_code, kind in enumerate(RATE_KINDS):
        events = _events(frame, status, times, kind, shift)
        for column, level in OWNER_COLUMNS.items():
            owners = pd.to_numeric(frame[column]).to_numpy(dtype="float64", na_value=np.nan)
            parts.append(_owner_rows(level, kind_code, owners, events))
    rows = pd.concat(parts, ignore_index=True)
    return rows


def empty_rows() -> pd.DataFrame:
    """No rate rows, with the right columns."""
    return pd.DataFrame(columns=[*RATE_KEYS, *RATE_MEASURES])


def sum_rate_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Add up rate rows with equal keys."""
    if rows.empty:
        return rows
    return rows.groupby(list(RATE_KEYS), as_index=False, sort=False)[list(RATE_MEASURES)].sum()


_TIME_COLUMNS = ("found_at", "assigned_at", "deadline", "rectified_at", "closed_at")


def _utc(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[us]")


def _events(
    frame: pd.DataFrame,
    status: np.ndarray,
    times: dict[str, np.ndarray],
    kind: str,
    shift: np.timedelta64,
) -> _Events:
    found, deadline = times["found_at"], times["deadline"]
    closed, rectified = times["closed_at"], times["rectified_at"]
    counted = ~np.isin(status, NOT_COUNTED)
    n = len(frame)
    parts: list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]] = []

    seen = (status != "voided") & ~np.isnat(found)
    parts.append((seen, found, {"found": np.ones(n)}))

    due = counted & ~np.isnat(deadline)
    end = _period_end(deadline, kind, shift)
    since = np.where(np.isnat(times["assigned_at"]), found, times["assigned_at"])
    days = (rectified - since) / _DAY
    done = ~np.isnat(rectified) & (rectified < end) & ~np.isnan(days)
    reopened = pd.to_numeric(frame["reopen_count"]).fillna(0).to_numpy() > 0
    extended = pd.to_numeric(frame["extension_count"]).fillna(0).to_numpy() > 0
    with np.errstate(invalid="ignore"):
        parts.append(
            (
                due,
                deadline,
                {
                    "due": np.ones(n),
                    "closed": ~np.isnat(closed) & (closed < end),
                    "closed_on_time": ~np.isnat(closed) & (closed <= deadline),
                    "reworked": reopened,
                    "extended": extended,
                    "rectified": done,
                    "rectify_days": np.where(done, days, 0.0),
                },
            )
        )

    late = due & ~np.isnat(found)
    late_from = np.maximum(deadline, found)  # NaT where either is missing: masked out
    parts.append((late, late_from, {"overdue_delta": np.ones(n)}))
    ended = late & ~np.isnat(closed)
    parts.append((ended, np.maximum(late_from, closed), {"overdue_delta": -np.ones(n)}))
    return _stack(parts, kind, shift)


def _stack(
    parts: list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]],
    kind: str,
    shift: np.timedelta64,
) -> _Events:
    rows, periods, blocks = [], [], []
    for mask, when, values in parts:
        picked = np.flatnonzero(mask)
        block = np.zeros((len(picked), len(RATE_MEASURES)))
        for name, value in values.items():
            block[:, RATE_MEASURES.index(name)] = np.asarray(value, dtype="float64")[picked]
        rows.append(picked)
        periods.append(_period_start(when[picked], kind, shift))
        blocks.append(block)
    return _Events(np.concatenate(rows), np.concatenate(periods), np.concatenate(blocks))


def _period_start(when: np.ndarray, kind: str, shift: np.timedelta64) -> np.ndarray:
    """Local start date of the period holding each naive-UTC time, as days since epoch."""
    local_day = (when + shift).astype("datetime64[D]")
    if kind == "week":
        days = local_day.astype(np.int64)
        return days - (days - _EPOCH_MONDAY) % 7
    months = local_day.astype("datetime64[M]").astype(np.int64)
    if kind == "quarter":
        months = months - months % 3
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _period_end(when: np.ndarray, kind: str, shift: np.timedelta64) -> np.ndarray:
    """The naive-UTC end (local midnight after the period) of the period holding each
    time; NaT where the time is NaT."""
    start = _period_start(when, kind, shift)
    if kind == "week":
        end_day = start + 7
    else:
        months = start.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        step = 3 if kind == "quarter" else 1
        end_day = (months + step).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    end = end_day.astype("datetime64[D]").astype("datetime64[us]") - shift
    return np.where(np.isnat(when), np.datetime64("NaT", "us"), end)


def _owner_rows(level: str, kind_code: int, owners: np.ndarray, events: _Events) -> pd.DataFrame:
    owner = owners[events.rows]
    present = ~np.isnan(owner)
    if not present.any():
        return empty_rows()
    period = events.period[present]
    low = int(period.min())
    keys, sums = group_sums(
        [owner[present].astype(np.int64), period - low], events.measures[present]
    )
    frame = pd.DataFrame(
        {
            "level": level,
            "kind": RATE_KINDS[kind_code],
            "owner_id": keys[0],
            "period_start": (keys[1] + low).astype("datetime64[D]"),
        }
    )
    for j, name in enumerate(RATE_MEASURES):
        column = sums[:, j]
        frame[name] = column if name == "rectify_days" else np.rint(column).astype(np.int64)
    return frame
