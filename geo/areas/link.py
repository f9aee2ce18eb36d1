"""Linking problems to inspection points (点位).

A row that names a point code is linked to that point; any other row is linked to the
nearest inspection point whose geometry (a school's surroundings zone, a market's
polygon, a road's line...) lies within ``max_distance_m`` metres, measured in the local
UTM zone. Ties (a problem inside two overlapping zones) go to the lower point code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so
from pyproj import Transformer
from shapely import STRtree

from geo.core.crs import WGS84, utm_crs
from geo.storage.models import InspectionPoint

DEFAULT_LINK_DISTANCE_M = 50.0


@dataclass
class PointLinker:
    """Inspection points for nearest-point queries: lon/lat geometries to find
    candidates, the same in metres (local UTM) to measure them."""

    geoms: np.ndarray
    metric: np.ndarray
    ids: np.ndarray
    code_rank: np.ndarray
    transformer: Transformer
    max_distance_m: float
    max_distance_deg: float

    @classmethod
    def load(cls, session: so.Session, max_distance_m: float) -> PointLinker | None:
        """Read every inspection point; None when there are none or linking is off (≤ 0 m)."""
        if max_distance_m <= 0:
            return None
        rows = session.execute(
            sa.select(InspectionPoint.id, InspectionPoint.code, InspectionPoint.geom)
        ).all()
        if not rows:
            return None
        ids = np.array([r[0] for r in rows], np.int64)
        codes = np.array([r[1] for r in rows], dtype=object)
        geoms = np.array([r[2] for r in rows], dtype=object)
        x0, y0, x1, y1 = shapely.total_bounds(geoms)
        transformer = Transformer.from_crs(
            WGS84, utm_crs((x0 + x1) / 2, (y0 + y1) / 2), always_xy=True
        )
        metric = shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(*xy.T)))
        shapely.prepare(geoms)
        rank = np.argsort(np.argsort(codes.astype(str), kind="stable"))
        # Degrees that are surely more than max_distance_m anywhere in the points' extent
        # (a degree of longitude shrinks with latitude); candidates are then measured.
        widest = max(abs(y0), abs(y1)) + 1.0
        metres_per_degree = min(110_574.0, 111_320.0 * np.cos(np.radians(min(widest, 89.0))))
        degrees = float(max_distance_m) / metres_per_degree * 1.01
        return cls(geoms, metric, ids, rank, transformer, float(max_distance_m), degrees)

    def nearest(
        self, lon: np.ndarray, lat: np.ndarray, points: np.ndarray | None = None
    ) -> np.ndarray:
        """Id of the nearest point within the distance for each lon/lat (degrees), or -1.

        ``points`` may pass the same locations as shapely points (EPSG:4326) already
        built by the caller. The tree is built on the problems and probed with the (few)
        inspection geometries, as geo.areas.assign does; only candidate pairs are measured,
        in metres.
        """
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        out = np.full(len(lon), -1, np.int64)
        if not len(lon):
            return out
        points = shapely.points(lon, lat) if points is None else points
        geom, row = STRtree(points).query(
            self.geoms, predicate="dwithin", distance=self.max_distance_deg
        )
        if not len(row):
            return out
        x, y = self.transformer.transform(lon[row], lat[row])
        distance = shapely.distance(self.metric[geom], shapely.points(x, y))
        near = distance <= self.max_distance_m
        row, geom, distance = row[near], geom[near], distance[near]
        order = np.lexsort((self.code_rank[geom], distance, row))
        row, geom = row[order], geom[order]
        first = np.r_[True, row[1:] != row[:-1]]
        out[row[first]] = self.ids[geom[first]]
        return out


def point_ids_by_code(session: so.Session, codes: pd.Series) -> pd.Series:
    """Inspection point id for each code (``<NA>`` where the code is blank or unknown)."""
    wanted = sorted({c for c in codes.dropna().unique() if isinstance(c, str)})
    known: dict[str, int] = {}
    for start in range(0, len(wanted), 5_000):
        known.update(
            session.execute(
                sa.select(InspectionPoint.code, InspectionPoint.id).where(
                    InspectionPoint.code.in_(wanted[start : start + 5_000])
                )
            ).all()
        )
    return codes.map(known).astype("Int64")
