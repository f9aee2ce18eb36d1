"""Rate counts per area (or responsible unit) and reporting period, computed in pandas.

``rate_summary`` holds, for every level, owner (area or unit id), period kind (week,
month, quarter) and period, what the rates of geo/reports/stats.py need for a *finished*
period, so rankings read one row per owner and period instead of every problem. The
definitions are geo/reports/stats.py's, with the period's end as cutoff:

- ``found``: problems found in the period (voided ones not counted);
- ``due``, ``closed``, ``closed_on_time``, ``reworked``, ``extended``, ``rectified`` and
  ``rectify_days`` (a sum, in days): counted problems (not held, not voided) whose
  deadline falls in the period; closed / rectified before the period's end;
- ``overdue_delta`` (problems not rectified by their deadline; see
  geo.storage.statuses): +1 in the period holding max(deadline, found_at), -1 in the one
  holding max(deadline, found_at, closed_at). Overdue at the end of period P (deadline
  and found before the end, not closed by then) is the sum of the deltas of every
  period up to P: a problem counts from the first period end after both its deadline
  and its finding until the first one after its closing.

History (issue 16): a period's figures are the problems as they stood at its end. A
lifecycle event at time ``as_of`` changes only the periods that end after it, so
``rate_rows(..., as_of=...)`` leaves out what a problem adds to periods ended by then
(``_freeze``), but for the overdue deltas, which are moved to the first open period: the
backlog of every later period is then the new state's, that of ended ones unchanged.

Periods are local calendar periods at a fixed UTC offset in minutes (the summary's
``day_offset_minutes``, from the configured zone); times are naive UTC, as stored. Weeks start on
Monday (ISO); quarters on January, April, July and October.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from geo.storage.models import ANCESTRY_COLUMNS
from geo.storage.statuses import VOIDED, is_due
from geo.summary.cubes import group_sums

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

_DAY = np.timedelta64(1, "D")
_EPOCH_MONDAY = 4  # 1970-01-05, day 4 after the epoch, was a Monday


@dataclass
class _Event:
    """Problems (``rows`` of the frame) adding to the period holding the local ``day``
    (days since the epoch) of ``month`` (months since the epoch), both given for the
    event's rows: the measures each adds (one value per row, or a constant for all)."""

    rows: np.ndarray
    day: np.ndarray
    month: np.ndarray
    measures: dict[str, np.ndarray | float]


@dataclass
class _Clock:
    """The frame's times (naive UTC) and their local days and months, computed once."""

    utc: dict[str, np.ndarray]
    day: dict[str, np.ndarray]
    month: dict[str, np.ndarray]

    @classmethod
    def of(cls, frame: pd.DataFrame, offset: int) -> _Clock:
        utc = {c: _utc(frame[c]) for c in _TIME_COLUMNS}
        local = {
            c: (t + np.timedelta64(offset, "m")).astype("datetime64[D]") for c, t in utc.items()
        }
        day = {c: d.astype(np.int64) for c, d in local.items()}
        month = {c: d.astype("datetime64[M]").astype(np.int64) for c, d in local.items()}
        return cls(utc, day, month)


def rate_rows(frame: pd.DataFrame, offset: int, as_of: np.ndarray | None = None) -> pd.DataFrame:
    """The ``rate_summary`` rows (``RATE_KEYS`` + ``RATE_MEASURES``, keys unique) that the
    problems of ``frame`` (``RATE_SOURCE_COLUMNS``, times naive UTC) add up to, with
    periods at UTC+``offset`` minutes. ``period_start`` is a local date (datetime64[D]).

    ``as_of`` (one naive UTC time per row, NaT for none): only the periods still open at
    that time, i.e. ending after it (the module docstring's History).

    Area levels are summed once per distinct ancestry (district, street, community, grid)
    and period, then rolled up per level; units separately."""
    if frame.empty:
        return empty_rows()
    clock = _Clock.of(frame, offset)
    ancestry, owners = _ancestry(frame)
    units = _ids(frame["unit_id"])
    parts = []
    events_of_any_kind = _events(frame, clock)
    opening = None if as_of is None else _Opening.of(as_of, offset)
    for kind in RATE_KINDS:
        events = _closed_by_period_end(events_of_any_kind, clock, kind)
        if opening is not None:
            events = _freeze(events, opening, kind)
        keys, sums = _sum_events(ancestry, events, kind)
        for column, level in OWNER_COLUMNS.items():
            if column != "unit_id":
                parts.append(_rolled_up(level, kind, owners[column][keys[0]], keys[1], sums))
        unit_keys, unit_sums = _sum_events(units, events, kind)
        parts.append(_rolled_up("unit", kind, unit_keys[0], unit_keys[1], unit_sums))
    return pd.concat([p for p in parts if len(p)] or [empty_rows()], ignore_index=True)


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


def _ids(values: pd.Series) -> np.ndarray:
    """Integer ids, -1 where missing."""
    return pd.to_numeric(values).astype("Int64").fillna(-1).to_numpy(dtype=np.int64)


def _ancestry(frame: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A code per problem for its distinct (district, street, community, grid) ids (-1
    when it has none), and per ancestry column the id (-1: none) of each code."""
    ids = {c: _ids(frame[c]) for c in ANCESTRY_COLUMNS}
    codes = np.zeros(len(frame), dtype=np.int64)
    for column in ANCESTRY_COLUMNS:
        small, _ = pd.factorize(ids[column])  # -1 ids get a code too
        codes, _ = pd.factorize(codes * (int(small.max()) + 1) + small)  # stays below n
    first = np.unique(codes, return_index=True)[1]
    owners = {c: ids[c][first] for c in ANCESTRY_COLUMNS}
    nowhere = np.all([owners[c] < 0 for c in ANCESTRY_COLUMNS], axis=0)
    return np.where(nowhere[codes], -1, codes), owners


def _events(frame: pd.DataFrame, clock: _Clock) -> list[_Event]:
    """What each problem adds to which period (see the module docstring), but for the
    measures that depend on the period's end (``_closed_by_period_end``)."""
    utc, day, month = clock.utc, clock.day, clock.month
    found, deadline, closed = utc["found_at"], utc["deadline"], utc["closed_at"]
    status = frame["status"].astype(str).to_numpy()
    counted = is_due(status)

    seen = np.flatnonzero((status != VOIDED) & ~np.isnat(found))
    due = np.flatnonzero(counted & ~np.isnat(deadline))
    since = np.where(np.isnat(utc["assigned_at"]), found, utc["assigned_at"])[due]
    days = (utc["rectified_at"][due] - since) / _DAY  # NaN when either is missing
    # Rectified by the deadline (awaiting verification or closed since) is never overdue.
    in_time = utc["rectified_at"][due] <= deadline[due]  # False where either is NaT
    late = due[~np.isnat(found[due]) & ~in_time]
    late_day = np.maximum(day["deadline"][late], day["found_at"][late])
    late_month = np.maximum(month["deadline"][late], month["found_at"][late])
    ended = ~np.isnat(closed[late])
    return [
        _Event(seen, day["found_at"][seen], month["found_at"][seen], {"found": 1.0}),
        _Event(
            due,
            day["deadline"][due],
            month["deadline"][due],
            {
                "due": 1.0,
                "closed_on_time": ~np.isnat(closed[due]) & (closed[due] <= deadline[due]),
                "reworked": _positive(frame["reopen_count"])[due],
                "extended": _positive(frame["extension_count"])[due],
                "rectify_days": days,
            },
        ),
        _Event(late, late_day, late_month, {"overdue_delta": 1.0}),
        _Event(
            late[ended],
            np.maximum(late_day[ended], day["closed_at"][late[ended]]),
            np.maximum(late_month[ended], month["closed_at"][late[ended]]),
            {"overdue_delta": -1.0},
        ),
    ]


def _closed_by_period_end(events: list[_Event], clock: _Clock, kind: str) -> list[_Event]:
    """``events`` with the due problems' closed, rectified and rectify-days measures for
    periods of ``kind``: closed / rectified before the end of the deadline's period, i.e.
    on a local day before the period's end day."""
    found, due, *overdue = events
    rows, day = due.rows, clock.day
    end_day = _period_end(due.day, due.month, kind)
    closed = ~np.isnat(clock.utc["closed_at"][rows]) & (day["closed_at"][rows] < end_day)
    days = np.asarray(due.measures["rectify_days"])
    done = ~np.isnat(clock.utc["rectified_at"][rows]) & (day["rectified_at"][rows] < end_day)
    done &= ~np.isnan(days)
    measures = {
        **due.measures,
        "closed": closed,
        "rectified": done,
        "rectify_days": np.where(done, days, 0.0),
    }
    return [found, replace(due, measures=measures), *overdue]


@dataclass
class _Opening:
    """Per frame row, the local day and month of its ``as_of`` time (naive UTC; NaT:
    nothing frozen): the period holding that day is the first one still open."""

    day: np.ndarray
    month: np.ndarray
    never: np.ndarray

    @classmethod
    def of(cls, as_of: np.ndarray, offset: int) -> _Opening:
        utc = np.asarray(as_of).astype("datetime64[us]")
        local = (utc + np.timedelta64(offset, "m")).astype("datetime64[D]")
        never = np.isnat(utc)
        day = np.where(never, 0, local.astype(np.int64))
        month = np.where(never, 0, local.astype("datetime64[M]").astype(np.int64))
        return cls(day, month, never)


def _freeze(events: list[_Event], opening: _Opening, kind: str) -> list[_Event]:
    """``events`` without what they add to periods of ``kind`` ended before each row's
    ``as_of``, but the overdue deltas, which move into the period holding ``as_of`` (their
    running sum then is the new state's backlog from that period on)."""
    out = []
    for event in events:
        rows = event.rows
        ended = ~opening.never[rows] & (
            _period_index(event.day, event.month, kind)
            < _period_index(opening.day[rows], opening.month[rows], kind)
        )
        if "overdue_delta" in event.measures:
            day = np.where(ended, opening.day[rows], event.day)
            month = np.where(ended, opening.month[rows], event.month)
            out.append(replace(event, day=day, month=month))
            continue
        keep = ~ended
        measures = {
            k: v if isinstance(v, float) else np.asarray(v)[keep] for k, v in event.measures.items()
        }
        out.append(_Event(rows[keep], event.day[keep], event.month[keep], measures))
    return out


def _positive(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values).fillna(0).to_numpy() > 0


_DENSE_GROUPS = 1 << 24
"""Up to this many (owner, period) combinations, groups are array positions (no hashing)."""


def _sum_events(
    owner: np.ndarray, events: list[_Event], kind: str
) -> tuple[list[np.ndarray], np.ndarray]:
    """Sum the events' measures per (owner code, period); owners < 0 are left out.
    Returns the distinct (owner, period start in days since epoch) and their sums."""
    packed, segments = [], []
    for event in events:
        kept = owner[event.rows] >= 0
        period = _period_index(event.day[kept], event.month[kept], kind)
        packed.append((owner[event.rows[kept]], period))
        segments.append(kept)
    owners = np.concatenate([o for o, _ in packed])
    periods = np.concatenate([p for _, p in packed])
    if not len(owners):
        return [owners, periods], np.zeros((0, len(RATE_MEASURES)))
    low = int(periods.min())
    span = int(periods.max()) - low + 1
    key = owners * span + (periods - low)
    dense = (int(owners.max()) + 1) * span <= _DENSE_GROUPS
    if dense:
        groups, count = key, (int(owners.max()) + 1) * span
    else:
        groups, distinct = pd.factorize(key)
        count = len(distinct)
    sums = np.zeros((len(RATE_MEASURES), count))
    at = 0
    for event, kept in zip(events, segments, strict=True):
        group = groups[at : at + int(kept.sum())]
        at += len(group)
        for name, value in event.measures.items():
            j = RATE_MEASURES.index(name)
            if isinstance(value, float):
                sums[j] += value * np.bincount(group, minlength=count)
            else:
                weights = np.asarray(value, dtype="float64")[kept]
                sums[j] += np.bincount(group, weights=weights, minlength=count)
    if dense:
        keys = np.flatnonzero(np.bincount(groups, minlength=count))
        sums = sums[:, keys]
    else:
        keys = np.asarray(distinct, dtype=np.int64)
    return [keys // span, _index_start(keys % span + low, kind)], sums.T


def _rolled_up(
    level: str, kind: str, owner: np.ndarray, period: np.ndarray, sums: np.ndarray
) -> pd.DataFrame:
    """Rows of one level: the sums added up per (owner, period), owners < 0 left out."""
    present = owner >= 0
    if not present.any():
        return empty_rows()
    low = int(period[present].min())
    keys, totals = group_sums([owner[present], period[present] - low], sums[present])
    frame = pd.DataFrame(
        {
            "level": level,
            "kind": kind,
            "owner_id": keys[0],
            "period_start": (keys[1] + low).astype("datetime64[D]"),
        }
    )
    for j, name in enumerate(RATE_MEASURES):
        column = totals[:, j]
        frame[name] = column if name == "rectify_days" else np.rint(column).astype(np.int64)
    return frame


def _period_index(day: np.ndarray, month: np.ndarray, kind: str) -> np.ndarray:
    """Number (since the epoch) of the period of ``kind`` holding each local ``day``
    (days since the epoch) of ``month`` (months since the epoch)."""
    if kind == "week":
        return (day - _EPOCH_MONDAY) // 7
    return month // 3 if kind == "quarter" else month


def _index_start(index: np.ndarray, kind: str) -> np.ndarray:
    """Local start day (days since the epoch) of periods numbered by ``_period_index``."""
    if kind == "week":
        return index * 7 + _EPOCH_MONDAY
    return _first_day(index * 3 if kind == "quarter" else index)


def _period_start(day: np.ndarray, month: np.ndarray, kind: str) -> np.ndarray:
    """Local start day (days since the epoch) of the period of ``kind`` holding each local
    ``day`` of ``month``."""
    return _index_start(_period_index(day, month, kind), kind)


def _period_end(day: np.ndarray, month: np.ndarray, kind: str) -> np.ndarray:
    """Local day after the period of ``kind`` holding each local ``day`` of ``month``."""
    if kind == "week":
        return _period_start(day, month, kind) + 7
    if kind == "quarter":
        return _first_day(month - month % 3 + 3)
    return _first_day(month + 1)


def _first_day(month: np.ndarray) -> np.ndarray:
    """Days since the epoch of the first day of each month (months since the epoch)."""
    if not len(month):
        return month
    low = int(month.min())
    table = np.arange(low, int(month.max()) + 1).astype("datetime64[M]")
    return table.astype("datetime64[D]").astype(np.int64)[month - low]
