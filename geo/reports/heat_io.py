"""JSON text of heat results, written column by column (20,000 areas in a few ms).

Area heat (``heat_json``)::

    {"level": "grid", "metric": "count", "status": "unresolved", "filters": {...},
     "as_of": "2026-11-22T08:00:00Z", "source": "summary:total",
     "codes": [...], "unresolved": [...], "overdue": [...],
     "closed": [...], "closed_on_time": [...], "km2": [...],
     "value": [...],             # density or on-time share; absent for counts
     "breaks": [...], "totals": {"count": 0, "unresolved": 0, ...}}

Arrays are aligned with ``codes``; ``null`` marks an undefined value (no problem due
for the on-time share). The count the status filter asks for is not repeated: it is
``unresolved``, ``overdue`` or ``unresolved + closed`` (status ``all``).

Point density (``density_json``): ``{"cell": degrees, "max": weight, "problems": n,
"points": [[lat, lon, weight], ...]}`` in EPSG:4326.
"""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np

from geo.reports.density import Density
from geo.reports.heat import AreaHeat
from geo.reports.heat_filters import HeatFilters


def heat_json(heat: AreaHeat, view: HeatFilters) -> str:
    """The heat of one level as JSON text (layout in the module docstring)."""
    closed = heat.n - heat.unresolved
    totals = {
        "count": int(heat.count.sum()),
        "n": int(heat.n.sum()),
        "unresolved": int(heat.unresolved.sum()),
        "overdue": int(heat.overdue.sum()),
        "closed": int(closed.sum()),
        "closed_on_time": int(heat.closed_on_time.sum()),
    }
    head = {
        "level": view.level,
        "metric": view.metric,
        "status": view.status,
        "filters": view.query_args(),
        "as_of": _iso(heat.as_of),
        "source": heat.source,
        "breaks": heat.breaks,
        "totals": totals,
    }
    parts = [
        json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1],
        f'"codes":{heat.catalog.codes_json}',
        f'"unresolved":{_ints(heat.unresolved)}',
        f'"overdue":{_ints(heat.overdue)}',
        f'"closed":{_ints(closed)}',
        f'"closed_on_time":{_ints(heat.closed_on_time)}',
        f'"km2":{heat.catalog.km2_json}',
    ]
    if view.metric != "count":
        parts.append(f'"value":{_floats(heat.value, 4)}')
    return ",".join(parts) + "}"


def density_json(result: Density) -> str:
    """Binned point density as JSON text (layout in the module docstring)."""
    points = result.points
    rows = ",".join(f"[{lat:.6f},{lon:.6f},{int(w)}]" for lat, lon, w in points.tolist())
    return (
        f'{{"cell":{result.cell_deg:.8f},"max":{result.max_weight:.2f},'
        f'"problems":{result.problems},"points":[{rows}]}}'
    )


def _ints(values: np.ndarray) -> str:
    # A list of ints prints as a JSON array; dropping the spaces is the fastest encoder.
    return str(values.astype(np.int64).tolist()).replace(" ", "")


def _floats(values: np.ndarray, digits: int) -> str:
    rounded = np.round(values.astype(float), digits)
    listed = [None if v != v else v for v in rounded.tolist()]  # NaN is not JSON: null
    return json.dumps(listed, separators=(",", ":"))


def _iso(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"
