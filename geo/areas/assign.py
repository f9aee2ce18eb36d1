"""Vectorised assignment of locations to the area hierarchy.

Each location goes to the finest loaded area that contains it and carries all its
ancestors (district, street, community, grid ids). A location on the shared edge of
two areas belongs to exactly one of them: the one whose code sorts first, every time.
A location outside every area is kept and flagged ``outside``.
All coordinates are EPSG:4326 lon/lat degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so
from shapely import STRtree

from geo.storage.models import ANCESTRY_COLUMNS, LEVELS, Area

_NONE = -1


@dataclass(frozen=True)
class _LevelIndex:
    level: str
    geoms: np.ndarray  # prepared polygons
    code_rank: np.ndarray  # rank of each area's code within the level: the edge tie-break
    ancestry: np.ndarray  # (n_areas, 4) int64 ids, _NONE where absent


class AreaIndex:
    """Spatial index of the loaded areas, finest level first.

    Build it once per batch (``from_frame`` or ``load_area_index``) and assign any
    number of locations with ``assign``.
    """

    def __init__(self, levels: list[_LevelIndex]) -> None:
        self._levels = levels

    @classmethod
    def from_frame(cls, areas: gpd.GeoDataFrame) -> AreaIndex:
        """Index ``areas`` (EPSG:4326) with columns id, level, code, district_id,
        street_id, community_id and a polygonal geometry."""
        levels = []
        for level in reversed(LEVELS):
            part = areas[areas["level"] == level]
            if len(part):
                levels.append(_level_index(level, part))
        return cls(levels)

    @property
    def empty(self) -> bool:
        return not self._levels

    def assign(self, points: np.ndarray) -> pd.DataFrame:
        """Assign shapely ``points`` (EPSG:4326) to areas.

        Returns a frame aligned with ``points`` with nullable Int64 columns
        district_id, street_id, community_id, grid_id, the finest ``level`` found
        and a boolean ``outside``.
        """
        n = len(points)
        ancestry = np.full((n, len(ANCESTRY_COLUMNS)), _NONE, dtype=np.int64)
        level = np.full(n, None, dtype=object)
        todo = np.arange(n)
        for index in self._levels:
            if not len(todo):
                break
            hit, area = _first_containing(index, points[todo])
            ancestry[todo[hit]] = index.ancestry[area]
            level[todo[hit]] = index.level
            todo = np.delete(todo, hit)
        return _assignment_frame(ancestry, level)


def assign_lonlat(index: AreaIndex, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    """``AreaIndex.assign`` for lon/lat arrays in degrees (EPSG:4326)."""
    return index.assign(shapely.points(np.asarray(lon, float), np.asarray(lat, float)))


def representative_points(geoms: np.ndarray) -> np.ndarray:
    """One point per geometry to assign it by (EPSG:4326).

    Points stay as they are, polygons give a point guaranteed inside them, lines
    their midpoint along their length.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = shapely.point_on_surface(geoms)
    is_line = np.isin(shapely.get_type_id(geoms), (1, 5))  # LineString, MultiLineString
    if is_line.any():
        out[is_line] = shapely.line_interpolate_point(geoms[is_line], 0.5, normalized=True)
    return np.asarray(out)


def load_area_index(session: so.Session) -> AreaIndex:
    """Read every area from the database into an ``AreaIndex``."""
    rows = session.execute(
        sa.select(
            Area.id,
            Area.level,
            Area.code,
            Area.district_id,
            Area.street_id,
            Area.community_id,
            Area.geom,
        )
    ).all()
    frame = pd.DataFrame(
        rows, columns=["id", "level", "code", "district_id", "street_id", "community_id", "geom"]
    )
    return AreaIndex.from_frame(gpd.GeoDataFrame(frame, geometry="geom", crs=4326))


def _level_index(level: str, part: gpd.GeoDataFrame) -> _LevelIndex:
    geoms = np.asarray(part.geometry.values, dtype=object)
    shapely.prepare(geoms)
    ids = part["id"].to_numpy(np.int64)
    ancestry = np.column_stack(
        [_id_column(part, col) for col in ANCESTRY_COLUMNS[:3]]
        + [ids if level == "grid" else np.full(len(part), _NONE, np.int64)]
    )
    if level in ("district", "street", "community"):
        ancestry[:, ANCESTRY_COLUMNS.index(f"{level}_id")] = ids
    code_rank = np.argsort(np.argsort(part["code"].astype(str).to_numpy(), kind="stable"))
    return _LevelIndex(level, geoms, code_rank, ancestry)


def _id_column(part: pd.DataFrame, col: str) -> np.ndarray:
    if col not in part:
        return np.full(len(part), _NONE, np.int64)
    return pd.to_numeric(part[col]).fillna(_NONE).to_numpy(np.int64)


def _first_containing(index: _LevelIndex, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each point inside some area of the level: (point positions, area positions).

    The tree is built on the points and queried with the prepared polygons (as
    geopandas does for ``within``): far fewer, larger probes. ``intersects`` (not
    ``within``) so that points on an edge are found; where a point touches several
    areas the lowest code wins.
    """
    area, pt = STRtree(points).query(index.geoms, predicate="intersects")
    if not len(pt):
        return pt, area
    shared = np.bincount(pt, minlength=len(points))[pt] > 1
    if not shared.any():
        return pt, area
    tied_pt, tied_area = _lowest_code_per_point(index, pt[shared], area[shared])
    return np.r_[pt[~shared], tied_pt], np.r_[area[~shared], tied_area]


def _lowest_code_per_point(
    index: _LevelIndex, pt: np.ndarray, area: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Keep, for each point matched by several areas, the area whose code sorts first."""
    order = np.lexsort((index.code_rank[area], pt))
    pt, area = pt[order], area[order]
    first = np.r_[True, pt[1:] != pt[:-1]]
    return pt[first], area[first]


def _assignment_frame(ancestry: np.ndarray, level: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(
        {col: pd.array(ancestry[:, i], dtype="Int64") for i, col in enumerate(ANCESTRY_COLUMNS)}
    )
    frame = frame.mask(frame == _NONE)
    frame["level"] = level
    frame["outside"] = pd.isna(level)
    return frame
