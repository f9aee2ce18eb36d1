"""The summary count cubes computed in pandas: what each problem contributes to the four
measures, summed into ``area_summary`` rows (one per cube, level, key values and area).

The SQL side of the same definitions is ``geo.summary.measure_sums`` /
``geo.summary.rebuild``; both must give the same rows (tests/geo/test_summary_batch.py).
Times are naive UTC datetimes, as stored; found days are local dates at a fixed UTC
offset in minutes.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from geo.assign import ANCESTRY_COLUMNS
from geo.models import RESOLVED_STATUSES

CLOSED = "closed"
NOT_UNRESOLVED: tuple[str, ...] = RESOLVED_STATUSES
"""Closed problems are resolved; voided ones (作废, false reports) are no problem at all."""

LEVEL_OF_COLUMN: dict[str, str] = dict(
    zip(ANCESTRY_COLUMNS, ("district", "street", "community", "grid"), strict=True)
)
MEASURES: tuple[str, ...] = ("n", "unresolved", "overdue", "closed_on_time")
CUBES: dict[str, tuple[str, ...]] = {
    "total": (),
    "category": ("category",),
    "kind": ("kind",),
    "campaign": ("campaign",),
    "attrs": ("category", "kind", "campaign"),
    "day": ("day",),
}
"""Cube name → the problem attributes its k1, k2, k3 hold (in that order)."""

ROW_KEYS: tuple[str, ...] = ("cube", "level", "k1", "k2", "k3", "area_id")
_DIMENSIONS: tuple[str, ...] = ("category", "kind", "campaign", "day")


def contributions(
    frame: pd.DataFrame, as_of: datetime, offset: int, kinds: dict[int, str]
) -> pd.DataFrame:
    """One row per problem of ``frame``: its areas, keys and what it adds to each measure.

    ``as_of`` (naive UTC) is the overdue instant; ``offset`` the local day's UTC offset in
    minutes; ``kinds`` maps point ids to point kinds (unless ``frame`` has ``point_kind``).
    The ``day`` column holds local dates (``datetime64[D]``, NaT without a found time).
    """
    status = frame["status"].astype(str).to_numpy()
    unresolved = ~np.isin(status, NOT_UNRESOLVED)
    deadline = pd.to_datetime(frame["deadline"]).to_numpy()
    closed_at = pd.to_datetime(frame["closed_at"]).to_numpy()
    has_deadline = ~np.isnat(deadline)
    overdue = unresolved & has_deadline & (deadline < np.datetime64(as_of))
    # Closed, not merely resolved: a voided problem was never closed (as in SQL).
    on_time = (status == CLOSED) & (
        ~has_deadline | (~np.isnat(closed_at) & (closed_at <= deadline))
    )
    found = pd.to_datetime(frame["found_at"]) + pd.Timedelta(minutes=offset)
    if "point_kind" in frame.columns:
        kind = frame["point_kind"]
    else:
        kind = pd.to_numeric(frame["point_id"]).map(kinds)
    return pd.DataFrame(
        {
            **{c: pd.to_numeric(frame[c]).astype("Int64").to_numpy() for c in ANCESTRY_COLUMNS},
            "category": frame["category"].astype(str).to_numpy(),
            "kind": _text(kind),
            "campaign": _text(frame["campaign"]),
            "day": found.to_numpy().astype("datetime64[D]"),
            "n": 1,
            "unresolved": unresolved.astype(np.int64),
            "overdue": overdue.astype(np.int64),
            "closed_on_time": on_time.astype(np.int64),
        }
    )


def cube_rows(contrib: pd.DataFrame) -> pd.DataFrame:
    """Sum contributions into summary rows: one per cube, level, key values and area.

    Columns ``ROW_KEYS`` + ``MEASURES``; rows without a found day are left out of the
    ``day`` cube only. Keys are grouped as integer codes and turned back into text once
    per distinct value, which keeps a million-row batch to a few seconds.
    """
    columns = [*ROW_KEYS, *MEASURES]
    if contrib.empty:
        return pd.DataFrame(columns=columns)
    codes, labels = _codes(contrib)
    measures = contrib[list(MEASURES)].to_numpy(np.int64)
    parts = []
    for column, level in LEVEL_OF_COLUMN.items():
        area = contrib[column]
        present = area.notna().to_numpy()
        if not present.any():
            continue
        table = pd.DataFrame(
            {
                "area_id": area.to_numpy()[present].astype(np.int64),
                **{d: codes[d][present] for d in _DIMENSIONS},
                **{m: measures[present, i] for i, m in enumerate(MEASURES)},
            }
        )
        for cube, dims in CUBES.items():
            parts.append(_one_cube(table, cube, dims, level, labels))
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def sum_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Add up summary rows with equal keys (``ROW_KEYS`` + ``MEASURES`` columns)."""
    if rows.empty:
        return rows
    return rows.groupby(list(ROW_KEYS), as_index=False, sort=False)[list(MEASURES)].sum()


def _one_cube(
    table: pd.DataFrame,
    cube: str,
    dims: tuple[str, ...],
    level: str,
    labels: dict[str, np.ndarray],
) -> pd.DataFrame:
    if "day" in dims:
        table = table[table["day"] >= 0]  # no found time: no day to count it on
    summed = table.groupby(["area_id", *dims], as_index=False, sort=False)[list(MEASURES)].sum()
    keys = {f"k{i + 1}": labels[d][summed[d].to_numpy()] for i, d in enumerate(dims)}
    keys.update({f"k{i + 1}": "" for i in range(len(dims), 3)})
    return summed.assign(cube=cube, level=level, **keys)


def _codes(contrib: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Integer codes of each key dimension, and the text of each code."""
    codes: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    for d in _DIMENSIONS:
        code, uniques = pd.factorize(contrib[d].to_numpy())
        codes[d] = code
        if d == "day":
            text = pd.DatetimeIndex(uniques).strftime("%Y-%m-%d").to_numpy(dtype=object)
        else:
            text = np.asarray(uniques, dtype=object)
        labels[d] = text
    return codes, labels


def _text(values: pd.Series) -> np.ndarray:
    return np.array(["" if not isinstance(v, str) else v for v in values.tolist()], dtype=object)
