"""Re-assigning what lies in areas whose geometry changed.

Used after an area load: every problem and inspection point whose stored lon/lat
(EPSG:4326) falls in the bounding box of a changed area (old or new shape) is assigned
again with the current areas, and rows whose assignment changed are updated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so
from shapely.geometry.base import BaseGeometry

from geo.areas.assign import assign_lonlat, load_area_index
from geo.storage.models import ANCESTRY_COLUMNS, InspectionPoint, Problem
from geo.summary import counts as summary

_MAX_BOXES = 50  # beyond this, one box around all changes is cheaper than many ORs


def reassign_within(session: so.Session, changed: Sequence[BaseGeometry]) -> tuple[int, int]:
    """Re-assign problems and points near ``changed`` geometries (EPSG:4326).

    Returns (problems updated, points updated).
    """
    boxes = _boxes(changed)
    index = load_area_index(session)
    return (
        _reassign_table(session, Problem, boxes, index),
        _reassign_table(session, InspectionPoint, boxes, index),
    )


def _boxes(changed: Sequence[BaseGeometry]) -> list[tuple[float, float, float, float]]:
    bounds = shapely.bounds(np.array(changed, dtype=object))
    if len(bounds) > _MAX_BOXES:
        return [(bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max())]
    return [tuple(b) for b in bounds]


def _reassign_table(
    session: so.Session,
    model: type[Problem] | type[InspectionPoint],
    boxes: list[tuple[float, float, float, float]],
    index: object,
) -> int:
    in_boxes = sa.or_(
        *(sa.and_(model.lon.between(x0, x1), model.lat.between(y0, y1)) for x0, y0, x1, y1 in boxes)
    )
    names = ["id", "lon", "lat", *ANCESTRY_COLUMNS]
    if model is Problem:
        names += list(summary.KEY_COLUMNS)
    columns = [getattr(model, c) for c in names]
    rows = pd.DataFrame(session.execute(sa.select(*columns).where(in_boxes)).all(), columns=names)
    if rows.empty:
        return 0
    fresh = assign_lonlat(index, rows["lon"].to_numpy(), rows["lat"].to_numpy())  # type: ignore[arg-type]
    before = rows[list(ANCESTRY_COLUMNS)].astype("Int64").reset_index(drop=True)
    after = fresh[list(ANCESTRY_COLUMNS)]
    differs = ~(before.fillna(-1) == after.fillna(-1)).all(axis=1)
    if not differs.any():
        return 0
    updates = fresh.loc[differs, [*ANCESTRY_COLUMNS, "outside"]].copy()
    updates["id"] = rows.loc[differs, "id"].to_numpy()
    records = [
        {k: (None if pd.isna(v) else (bool(v) if k == "outside" else int(v))) for k, v in r.items()}
        for r in updates.to_dict("records")
    ]
    session.execute(sa.update(model), records)
    if model is Problem:
        moved = rows.loc[differs.to_numpy()]
        summary.apply_changes(
            session, moved, moved.assign(**{c: updates[c].to_numpy() for c in ANCESTRY_COLUMNS})
        )
    return len(records)
