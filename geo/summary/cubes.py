"""The summary count cubes computed in pandas: what each problem contributes to the four
measures, summed into ``area_summary`` rows (one per cube, level, key values and area).

The SQL side of the same definitions is ``geo.summary.recount.measure_sums`` /
``geo.summary.counts.rebuild``; both must give the same rows (tests/geo/test_summary_batch.py).
Times are naive UTC datetimes, as stored; found days are local dates at a fixed UTC
offset in minutes.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from geo.storage.models import ANCESTRY_COLUMNS
from geo.storage.statuses import CLOSED, VOIDED, is_unresolved, overdue_mask

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
    unresolved = is_unresolved(status)
    deadline = pd.to_datetime(frame["deadline"]).to_numpy()
    closed_at = pd.to_datetime(frame["closed_at"]).to_numpy()
    rectified_at = pd.to_datetime(frame["rectified_at"]).to_numpy()
    has_deadline = ~np.isnat(deadline)
    overdue = overdue_mask(status, deadline, rectified_at, np.datetime64(as_of))
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
            "n": (status != VOIDED).astype(np.int64),  # a false report is in no figure
            "unresolved": unresolved.astype(np.int64),
            "overdue": overdue.astype(np.int64),
            "closed_on_time": on_time.astype(np.int64),
        }
    )


def cube_rows(contrib: pd.DataFrame) -> pd.DataFrame:
    """Sum contributions into summary rows: one per cube, level, key values and area.

    Columns ``ROW_KEYS`` + ``MEASURES``; rows without a found day are left out of the
    ``day`` cube only. Keys are grouped as integer codes and turned back into text once
    per distinct value; the ``attrs`` cube (category × kind × campaign) is summed from the
    rows and the coarser cubes from it, which keeps a million-row batch to seconds.
    """
    columns = [*ROW_KEYS, *MEASURES]
    if contrib.empty:
        return pd.DataFrame(columns=columns)
    codes, labels, missing = _codes(contrib)
    measures = contrib[list(MEASURES)].to_numpy(np.int64)
    parts = []
    for column, level in LEVEL_OF_COLUMN.items():
        area = contrib[column]
        present = area.notna().to_numpy()
        if not present.any():
            continue
        area_ids = area.to_numpy()[present].astype(np.int64)
        attrs = ("category", "kind", "campaign")
        keys, sums = _group([area_ids, *(codes[d][present] for d in attrs)], measures[present])
        for cube, dims in CUBES.items():
            if cube == "day":
                day = codes["day"][present]
                dated = day != missing["day"]  # no found time: no day to count it on
                cube_keys, cube_sums = _group(
                    [area_ids[dated], day[dated]], measures[present][dated]
                )
            else:
                picked = [keys[0], *(keys[1 + attrs.index(d)] for d in dims)]
                known = np.ones(len(keys[0]), dtype=bool)
                for d, key in zip(dims, picked[1:], strict=True):
                    known &= key != missing[d]  # as groupby does: no row for a missing key
                cube_keys, cube_sums = _group([k[known] for k in picked], sums[known])
            parts.append(_cube_frame(cube, level, dims, cube_keys, cube_sums, labels))
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def sum_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Add up summary rows with equal keys (``ROW_KEYS`` + ``MEASURES`` columns)."""
    if rows.empty:
        return rows
    return rows.groupby(list(ROW_KEYS), as_index=False, sort=False)[list(MEASURES)].sum()


def _group(keys: list[np.ndarray], measures: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """``group_sums`` of integer measures, summed as integers."""
    out, sums = group_sums(keys, measures)
    return out, np.rint(sums).astype(np.int64)


def group_sums(keys: list[np.ndarray], measures: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Sum ``measures`` (rows × measures) over equal tuples of non-negative integer keys.

    Returns the distinct key tuples (one array per key) and their sums (float64, exact
    for integer measures below 2**53)."""
    sizes = [int(k.max()) + 1 if len(k) else 1 for k in keys]
    if float(np.prod(np.array(sizes, dtype=float))) >= 2.0**62:  # too wide to pack
        frame = pd.DataFrame({f"k{i}": k for i, k in enumerate(keys)})
        groups = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
        packed_unique = None
    else:
        packed = np.zeros(len(measures), dtype=np.int64)
        for key, size in zip(keys, sizes, strict=True):
            packed = packed * size + key
        groups, packed_unique = pd.factorize(packed)
    count = int(groups.max()) + 1 if len(groups) else 0
    sums = np.column_stack(
        [
            np.bincount(groups, weights=measures[:, j], minlength=count)
            for j in range(measures.shape[1])
        ]
    )
    if packed_unique is None:
        first = np.unique(groups, return_index=True)[1]
        return [k[first] for k in keys], sums
    out = []
    rest = np.asarray(packed_unique, dtype=np.int64)
    for size in reversed(sizes):
        rest, key = np.divmod(rest, size)
        out.append(key)
    return out[::-1], sums


def _cube_frame(
    cube: str,
    level: str,
    dims: tuple[str, ...],
    keys: list[np.ndarray],
    sums: np.ndarray,
    labels: dict[str, np.ndarray],
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "cube": cube,
            "level": level,
            **{f"k{i + 1}": labels[d][keys[1 + i]] for i, d in enumerate(dims)},
            **{f"k{i + 1}": "" for i in range(len(dims), 3)},
            "area_id": keys[0],
            **{m: sums[:, j] for j, m in enumerate(MEASURES)},
        },
        index=pd.RangeIndex(len(keys[0])),
    )
    return frame


def _codes(
    contrib: pd.DataFrame,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, int]]:
    """Integer codes of each key dimension, the text of each code, and the code that
    stands for a missing value (one past the last text)."""
    codes: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    missing: dict[str, int] = {}
    for d in _DIMENSIONS:
        code, uniques = pd.factorize(contrib[d].to_numpy())
        if d == "day":
            text = pd.DatetimeIndex(uniques).strftime("%Y-%m-%d").to_numpy(dtype=object)
        else:
            text = np.asarray(uniques, dtype=object)
        missing[d] = len(text)
        codes[d] = np.where(code < 0, len(text), code)
        labels[d] = np.concatenate([text, np.array([None], dtype=object)])
    return codes, labels, missing


def _text(values: pd.Series) -> np.ndarray:
    """Text of each value, '' for anything that is not text (None, NaN, numbers);
    decided once per distinct value."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    text = [u if isinstance(u, str) else "" for u in uniques] + [""]
    return np.array(text, dtype=object)[codes]
