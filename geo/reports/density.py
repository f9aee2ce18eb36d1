"""Point density of problems, binned on the server for the map's heat layer.

The browser never gets one point per problem: problems in the visible box are counted
in square cells of about ``CELL_PIXELS`` screen pixels at the map's zoom (Web Mercator
tiles of 256 px), and each non-empty cell becomes one weighted point. The number of
cells is capped at ``MAX_POINTS`` by growing the cells, so the answer stays small
however many problems there are. Coordinates are EPSG:4326 lon/lat degrees.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, visible
from geo.reports import queries
from geo.reports.heat import AreaRef, district_ref, problem_conditions, status_condition
from geo.reports.heat_filters import HeatFilters
from geo.storage.db import is_postgres
from geo.storage.models import Problem
from geo.summary import counts as summary

CELL_PIXELS = 6
MAX_POINTS = 100_000


@dataclass(frozen=True)
class Density:
    """Weighted cell centres: ``points`` is an (n, 3) array of lat, lon, count."""

    points: np.ndarray
    cell_deg: float
    max_weight: float
    problems: int


def density(
    session: so.Session,
    view: HeatFilters,
    bbox: tuple[float, float, float, float],
    zoom: int,
    within: AreaRef | None = None,
    now: datetime | None = None,
    scope: Scope | None = None,
) -> Density:
    """Count the view's problems (status filter included) in cells over ``bbox``.

    ``bbox`` is (min lon, min lat, max lon, max lat) in degrees; ``zoom`` the Leaflet
    zoom. Only problems ``scope`` may see are counted (None: all). Returns at most
    ``MAX_POINTS`` weighted cell centres; ``max_weight`` is the 95th percentile of the
    counts, a good saturation point for the heat layer.
    """
    now = now or summary.utcnow()
    offset = summary.read_meta(session).day_offset_minutes
    within = within or district_ref(session, view.district)
    cell = cell_size(bbox, zoom)
    x0, y0, x1, y1 = bbox
    i = _floor(session, (Problem.lon - x0) / cell)
    j = _floor(session, (Problem.lat - y0) / cell)
    conditions = [*problem_conditions(view, offset)]
    if _covers_city(session, bbox):
        # A box around the whole city selects nothing but what lies in some area: say
        # so, and the planner reads the problems by status instead of all by lon/lat.
        conditions.append(Problem.outside.is_(False))
    else:
        conditions += [Problem.lon.between(x0, x1), Problem.lat.between(y0, y1)]
    status = status_condition(view.status, now)
    if status is not None:
        conditions.append(status)
    if within is not None:
        conditions.append(getattr(Problem, f"{within.level}_id") == within.id)
    if scope is not None:
        conditions.append(visible(scope, Problem))
    rows = session.execute(sa.select(i, j, sa.func.count()).where(*conditions).group_by(i, j)).all()
    return _points(rows, x0, y0, cell)


def _covers_city(session: so.Session, bbox: tuple[float, float, float, float]) -> bool:
    extent = queries.city_extent(session, scope=Scope.city())
    if extent is None:
        return False
    x0, y0, x1, y1 = bbox
    return (
        x0 <= extent.min_lon
        and y0 <= extent.min_lat
        and x1 >= extent.max_lon
        and y1 >= extent.max_lat
    )


def _floor(session: so.Session, value: Any) -> Any:
    # PostgreSQL's CAST rounds; SQLite's truncates, which is floor for these values >= 0
    # (and SQLite may lack floor()).
    if is_postgres(session):
        return sa.cast(sa.func.floor(value), sa.Integer)
    return sa.cast(value, sa.Integer)


def cell_size(bbox: tuple[float, float, float, float], zoom: int) -> float:
    """Cell edge in degrees: ``CELL_PIXELS`` pixels at ``zoom``, grown until the box
    holds at most ``MAX_POINTS`` cells."""
    cell = CELL_PIXELS * 360.0 / (256 * 2**zoom)
    x0, y0, x1, y1 = bbox
    cells = ((x1 - x0) / cell) * ((y1 - y0) / cell)
    if cells > MAX_POINTS:
        cell *= float(np.sqrt(cells / MAX_POINTS)) * 1.01
    return cell


def _points(rows: Sequence[Any], x0: float, y0: float, cell: float) -> Density:
    if not rows:
        return Density(np.zeros((0, 3)), cell, 0.0, 0)
    flat = np.fromiter(itertools.chain.from_iterable(rows), float, len(rows) * 3)
    data = flat.reshape(len(rows), 3)
    lat = np.round(y0 + (data[:, 1] + 0.5) * cell, 6)
    lon = np.round(x0 + (data[:, 0] + 0.5) * cell, 6)
    weight = data[:, 2]
    top = float(np.percentile(weight, 95))
    return Density(np.column_stack([lat, lon, weight]), cell, max(top, 1.0), int(weight.sum()))
