"""Turning raw export rows into export attributes: ids → codes and names, codes → labels.

The small tables (areas, responsible units, inspection points) are read once per export
into sorted id arrays; every chunk is then resolved with ``numpy.searchsorted`` and
labels are computed once per distinct code. Coordinates stay EPSG:4326 lon/lat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.areas.assign import representative_points
from geo.core.taxonomy import Taxonomy, TaxonomyError
from geo.export.fields import ANCESTRY_LEVELS
from geo.reports.filters import Target
from geo.storage.models import Area, AreaSummary, InspectionPoint, ResponsibleUnit
from geo.storage.statuses import overdue_mask

EPOCH = datetime(1970, 1, 1)
TIME_COLUMNS = ("found_at", "assigned_at", "deadline", "rectified_at", "closed_at")

Columns = dict[str, np.ndarray]


@dataclass
class Chunk:
    """Export rows as columns: ``columns`` maps each export attribute to a numpy array
    (text as object arrays with None, times as float epoch seconds UTC, ints, floats,
    bools); ``lon``/``lat`` of a representative point (degrees) and, for points and
    areas, shapely ``geoms`` (None for problems, whose geometry is the point lon/lat).
    Coordinates are EPSG:4326 unless transformed."""

    columns: Columns
    lon: np.ndarray
    lat: np.ndarray
    geoms: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.lon)


Builder = Callable[[Columns], Chunk]


class Lookup:
    """Values by integer id (e.g. area code by area id), looked up for whole arrays."""

    def __init__(self, ids: Any, values: Any) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        self._ids = ids[order]
        self._values = np.concatenate([np.asarray(values, dtype=object)[order], [None]])

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The value for each key (None for None/NaN or unknown ids), as an object array."""
        floats = np.array(keys, dtype=float)
        index = np.full(len(floats), len(self._values) - 1)
        valid = np.flatnonzero(~np.isnan(floats))
        if len(self._ids) and len(valid):
            ints = floats[valid].astype(np.int64)
            pos = np.searchsorted(self._ids, ints).clip(max=len(self._ids) - 1)
            hit = self._ids[pos] == ints
            index[valid[hit]] = pos[hit]
        return self._values[index]


@dataclass
class _Tables:
    area_code: Lookup
    area_name: Lookup
    unit_name: Lookup
    point_code: Lookup | None = None
    point_name: Lookup | None = None
    point_kind: Lookup | None = None


def chunk_builder(
    session: so.Session, target: Target, taxonomy: Taxonomy, lang: str, as_of: datetime
) -> Builder:
    """A function turning raw selected columns of ``target`` into an export ``Chunk``.

    ``as_of`` (naive UTC) decides which unresolved problems are overdue.
    """
    tables = _tables(session, target)
    labels = _Labels(taxonomy, lang)
    if target == "problems":
        as_of_s = (as_of - EPOCH).total_seconds()
        return lambda raw: _problem_chunk(raw, tables, labels, as_of_s)
    if target == "points":
        return lambda raw: _point_chunk(raw, tables, labels)
    return lambda raw: _area_chunk(session, raw, tables, labels)


def _tables(session: so.Session, target: Target) -> _Tables:
    areas = session.execute(sa.select(Area.id, Area.code, Area.name)).all()
    units = session.execute(sa.select(ResponsibleUnit.id, ResponsibleUnit.name)).all()
    a_ids, a_codes, a_names = _unzip(areas, 3)
    u_ids, u_names = _unzip(units, 2)
    tables = _Tables(Lookup(a_ids, a_codes), Lookup(a_ids, a_names), Lookup(u_ids, u_names))
    if target == "problems":
        points = session.execute(
            sa.select(
                InspectionPoint.id, InspectionPoint.code, InspectionPoint.name, InspectionPoint.kind
            )
        ).all()
        p_ids, p_codes, p_names, p_kinds = _unzip(points, 4)
        tables.point_code = Lookup(p_ids, p_codes)
        tables.point_name = Lookup(p_ids, p_names)
        tables.point_kind = Lookup(p_ids, p_kinds)
    return tables


def _unzip(rows: Sequence[Any], width: int) -> list[list[Any]]:
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


class _Labels:
    """Taxonomy labels in one language, computed once per distinct code."""

    def __init__(self, taxonomy: Taxonomy, lang: str) -> None:
        self.taxonomy, self.lang = taxonomy, lang

    def of(self, section: str, codes: np.ndarray) -> np.ndarray:
        index, uniques = pd.factorize(codes, use_na_sentinel=True)
        known = [self._label(section, str(code)) for code in uniques]
        return np.array([*known, None], dtype=object)[index]

    def _label(self, section: str, code: str) -> str:
        try:
            return self.taxonomy.label(section, code, self.lang)  # type: ignore[arg-type]
        except TaxonomyError:  # a code removed from the taxonomy after it was stored
            return code


def _ancestry(raw: Columns, tables: _Tables, levels: tuple[str, ...]) -> Columns:
    out: Columns = {}
    for level in levels:
        ids = raw[f"{level}_id"]
        out[f"{level}_code"] = tables.area_code.get(ids)
        out[f"{level}_name"] = tables.area_name.get(ids)
    return out


def _floats(values: np.ndarray) -> np.ndarray:
    return np.array(values, dtype=float)


def _bools(values: np.ndarray) -> np.ndarray:
    return np.array(values, dtype=bool)


def _problem_chunk(raw: Columns, t: _Tables, labels: _Labels, as_of: float) -> Chunk:
    assert t.point_code is not None and t.point_name is not None and t.point_kind is not None
    kind = t.point_kind.get(raw["point_id"])
    times = {c: np.round(_floats(raw[c]), 3) for c in TIME_COLUMNS}
    overdue = overdue_mask(raw["status"], times["deadline"], times["rectified_at"], as_of)
    columns: Columns = {
        "id": raw["id"].astype(np.int64),
        "external_id": raw["external_id"],
        "source": raw["source"],
        "category": raw["category"],
        "category_label": labels.of("categories", raw["category"]),
        "status": raw["status"],
        "status_label": labels.of("statuses", raw["status"]),
        "overdue": overdue.astype(bool),
        "description": raw["description"],
        **times,
        "reopen_count": _floats(raw["reopen_count"]).astype(np.int64),
        "campaign": raw["campaign"],
        "campaign_label": labels.of("campaigns", raw["campaign"]),
        "unit": t.unit_name.get(raw["unit_id"]),
        "point_code": t.point_code.get(raw["point_id"]),
        "point_name": t.point_name.get(raw["point_id"]),
        "point_kind": kind,
        "point_kind_label": labels.of("point_kinds", kind),
        **_ancestry(raw, t, ANCESTRY_LEVELS),
        "outside": _bools(raw["outside"]),
    }
    return Chunk(columns, _floats(raw["lon"]), _floats(raw["lat"]))


def _point_chunk(raw: Columns, t: _Tables, labels: _Labels) -> Chunk:
    columns: Columns = {
        "code": raw["code"],
        "name": raw["name"],
        "kind": raw["kind"],
        "kind_label": labels.of("point_kinds", raw["kind"]),
        "address": raw["address"],
        "unit": t.unit_name.get(raw["unit_id"]),
        **_ancestry(raw, t, ANCESTRY_LEVELS),
        "outside": _bools(raw["outside"]),
    }
    geoms = shapely.from_wkb(raw["wkb"])
    return Chunk(columns, _floats(raw["lon"]), _floats(raw["lat"]), geoms)


def _area_chunk(session: so.Session, raw: Columns, t: _Tables, labels: _Labels) -> Chunk:
    ids = raw["id"].astype(np.int64)
    total, unresolved = _problem_counts(session, ids)
    columns: Columns = {
        "code": raw["code"],
        "name": raw["name"],
        "level": raw["level"],
        "level_label": labels.of("levels", raw["level"]),
        "parent_code": t.area_code.get(raw["parent_id"]),
        "parent_name": t.area_name.get(raw["parent_id"]),
        "area_km2": np.round(_floats(raw["area_m2"]) / 1e6, 4),
        **_ancestry(raw, t, ("district", "street", "community")),
        "problems_total": total,
        "problems_unresolved": unresolved,
    }
    geoms = shapely.from_wkb(raw["wkb"])
    anchor = representative_points(geoms)
    return Chunk(columns, shapely.get_x(anchor), shapely.get_y(anchor), geoms)


def _problem_counts(session: so.Session, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Problems in all and unresolved for each area id, from the summary counts."""
    if not len(ids):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows = session.execute(
        sa.select(AreaSummary.area_id, AreaSummary.n, AreaSummary.unresolved).where(
            AreaSummary.cube == "total", AreaSummary.area_id.in_(ids.tolist())
        )
    ).all()
    area_ids, totals, opens = _unzip(rows, 3)
    total = Lookup(area_ids, totals).get(ids)
    unresolved = Lookup(area_ids, opens).get(ids)
    return _counts(total), _counts(unresolved)


def _counts(values: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.array(values, dtype=float)).astype(np.int64)
