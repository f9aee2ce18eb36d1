"""Rebounds (反弹, what 回头看 looks for): the same category of problem found again at the
same grid or inspection point within N days after an earlier one was closed.

``rebounds(session, scope, days, by)`` pairs every later problem with the most recent
closure before it of the same category at the same place, when the gap is at most
``days`` days (pandas ``merge_asof``: O(n log n), never a pairwise comparison), and
groups the pairs per place. The later problem counts whatever its status, except voided
(a false report is no recurrence); the earlier one must be closed. Times are compared as
stored (naive UTC); gaps are in days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, visible
from geo.storage.models import Area, InspectionPoint, Problem
from geo.storage.statuses import CLOSED, VOIDED

BY = ("grid", "point")
DEFAULT_DAYS = 30
MAX_DAYS = 365


@dataclass(frozen=True)
class Pair:
    """An earlier closed problem and the later one of the same category at the same place."""

    category: str
    earlier_id: int
    earlier_closed_at: datetime
    later_id: int
    later_found_at: datetime
    gap_days: float


@dataclass
class ReboundPlace:
    """A grid or inspection point where problems came back, with its pairs, newest first."""

    by: str
    id: int
    code: str
    name: str
    lon: float
    lat: float
    pairs: list[Pair] = field(default_factory=list)


def rebounds(
    session: so.Session,
    scope: Scope,
    days: int = DEFAULT_DAYS,
    by: str = "grid",
    categories: tuple[str, ...] = (),
    found_from: date | None = None,
) -> list[ReboundPlace]:
    """Places where ``scope``'s problems of a category recurred within ``days`` days of a
    closure, most pairs first. ``found_from`` (a naive UTC date) limits the later problems.
    Places carry a representative lon/lat in EPSG:4326 degrees (the grid's bounding-box
    centre, or the point's own position) for the map.
    """
    column = Problem.grid_id if by == "grid" else Problem.point_id
    frame = _problems(session, scope, column, categories)
    pairs = _pairs(frame, days, found_from)
    if pairs.empty:
        return []
    places = _places(session, by, sorted(set(pairs["place"])))
    for row in pairs.itertuples(index=False):
        places[row.place].pairs.append(
            Pair(
                row.category,
                int(row.earlier_id),
                row.closed_at.to_pydatetime(),
                int(row.id),
                row.found_at.to_pydatetime(),
                round(row.gap_days, 1),
            )
        )
    found = [p for p in places.values() if p.pairs]
    for place in found:
        place.pairs.sort(key=lambda pair: pair.later_found_at, reverse=True)
    return sorted(found, key=lambda p: (-len(p.pairs), p.code))


def _problems(
    session: so.Session,
    scope: Scope,
    column: so.InstrumentedAttribute[int | None],
    categories: tuple[str, ...],
) -> pd.DataFrame:
    stmt = sa.select(
        Problem.id,
        Problem.category,
        column.label("place"),
        Problem.status,
        Problem.found_at,
        Problem.closed_at,
    ).where(column.is_not(None), Problem.status != VOIDED, visible(scope, Problem))
    if categories:
        stmt = stmt.where(Problem.category.in_(categories))
    frame = pd.DataFrame(
        session.execute(stmt).all(),
        columns=["id", "category", "place", "status", "found_at", "closed_at"],
    )
    for name in ("found_at", "closed_at"):
        frame[name] = pd.to_datetime(frame[name])
    return frame


def _pairs(frame: pd.DataFrame, days: int, found_from: date | None) -> pd.DataFrame:
    closed = frame[(frame["status"] == CLOSED) & frame["closed_at"].notna()]
    closed = closed[["category", "place", "id", "closed_at"]].rename(columns={"id": "earlier_id"})
    later = frame[["category", "place", "id", "found_at"]]
    if found_from is not None:
        later = later[later["found_at"] >= pd.Timestamp(found_from)]
    if closed.empty or later.empty:
        return pd.DataFrame()
    merged = pd.merge_asof(
        later.sort_values("found_at"),
        closed.sort_values("closed_at"),
        left_on="found_at",
        right_on="closed_at",
        by=["category", "place"],
        direction="backward",
        tolerance=pd.Timedelta(days=days),
        allow_exact_matches=False,  # found at the very instant of closing is the same visit
    )
    merged = merged[merged["earlier_id"].notna() & (merged["earlier_id"] != merged["id"])]
    merged = merged.assign(
        gap_days=(merged["found_at"] - merged["closed_at"]) / timedelta(days=1),
        earlier_id=merged["earlier_id"].astype(int),
    )
    return merged


def _places(session: so.Session, by: str, ids: list[int]) -> dict[int, ReboundPlace]:
    if by == "point":
        point = InspectionPoint
        rows = session.execute(
            sa.select(point.id, point.code, point.name, point.lon, point.lat).where(
                point.id.in_(ids)
            )
        )
        return {r.id: ReboundPlace(by, r.id, r.code, r.name, r.lon, r.lat) for r in rows}
    rows = session.execute(
        sa.select(
            Area.id, Area.code, Area.name, Area.min_lon, Area.min_lat, Area.max_lon, Area.max_lat
        ).where(Area.id.in_(ids))
    )
    return {
        r.id: ReboundPlace(
            by, r.id, r.code, r.name, (r.min_lon + r.max_lon) / 2, (r.min_lat + r.max_lat) / 2
        )
        for r in rows
    }
