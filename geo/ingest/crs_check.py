"""The ingest's coordinate-system safety net: rows that name an inspection point are
compared with that point (geo/areas/crs_guess.py). Never converts; the pipeline reports
the hint, and refuses the file with ``strict``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so
from shapely.geometry.base import BaseGeometry

from geo.areas.crs_guess import MAX_SAMPLES, CrsHint, guess_from_points, is_lonlat
from geo.storage.models import InspectionPoint


class CodeSamples:
    """Up to ``MAX_SAMPLES`` accepted rows that name a known inspection point."""

    def __init__(self) -> None:
        self.lon: list[float] = []
        self.lat: list[float] = []
        self.point_ids: list[int] = []

    def add(self, rows: pd.DataFrame) -> None:
        """Keep the rows of ``rows`` (lon, lat, point_code, point_id) that name a point."""
        room = MAX_SAMPLES - len(self.point_ids)
        if room <= 0 or rows.empty:
            return
        named = (rows["point_code"].notna() & rows["point_id"].notna()).to_numpy()
        picked = rows.loc[named].head(room)
        self.lon += picked["lon"].astype(float).tolist()
        self.lat += picked["lat"].astype(float).tolist()
        self.point_ids += picked["point_id"].astype(int).tolist()

    def hint(self, session: so.Session, declared: str) -> CrsHint | None:
        """A hint when the rows fit their points clearly better in another lon/lat system."""
        if not self.point_ids or not is_lonlat(declared):
            return None
        wanted = sorted(set(self.point_ids))
        query = sa.select(
            InspectionPoint.id, InspectionPoint.source_geom, InspectionPoint.geom
        ).where(InspectionPoint.id.in_(wanted))
        geoms: dict[int, BaseGeometry | None] = {
            pid: source if source is not None else geom
            for pid, source, geom in session.execute(query)
        }
        refs = np.empty(len(self.point_ids), dtype=object)
        refs[:] = [geoms.get(i) for i in self.point_ids]
        keep = np.array([g is not None for g in refs], dtype=bool)
        lon, lat = np.asarray(self.lon)[keep], np.asarray(self.lat)[keep]
        return guess_from_points(declared, lon, lat, refs[keep])
