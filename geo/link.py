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

from geo.crs import WGS84, utm_crs
from geo.models import InspectionPoint

DEFAULT_LINK_DISTANCE_M = 50.0


@dataclass
class PointLinker:
    """Inspection points indexed in metres for nearest-point queries."""

    tree: STRtree
    ids: np.ndarray
    code_rank: np.ndarray
    transformer: Transformer
    max_distance_m: float

    @classmethod
    def load(cls, session: so.Session, max_distance_m: float) -> PointLinker | None:
        """Index every inspection point; None when there are none or linking is off (≤ 0 m)."""
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
        rank = np.argsort(np.argsort(codes.astype(str), kind="stable"))
        return cls(STRtree(metric), ids, rank, transformer, float(max_distance_m))

    def nearest(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Id of the nearest point within the distance for each lon/lat (degrees), or -1."""
        out = np.full(len(lon), -1, np.int64)
        if not len(lon):
            return out
        x, y = self.transformer.transform(np.asarray(lon, float), np.asarray(lat, float))
        probes = shapely.points(x, y)
        row, hit = self.tree.query_nearest(
            probes, max_distance=self.max_distance_m, all_matches=True
        )
        if not len(row):
            return out
        order = np.lexsort((self.code_rank[hit], row))
        row, hit = row[order], hit[order]
        first = np.r_[True, row[1:] != row[:-1]]
        out[row[first]] = self.ids[hit[first]]
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
