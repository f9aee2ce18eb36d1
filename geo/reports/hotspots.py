"""Statistically significant hot and cold spots of problems per grid (Getis-Ord Gi*).

``hotspots(session, view, scope)`` counts the problems of ``view`` per grid with the
heat maps' own figures (geo.reports.heat.area_heat: the summary cubes, so the count of
a grid here is the count on the map), builds queen contiguity between the grids the
scope may see (libpysal: grids sharing an edge or a corner are neighbours) and computes
Gi* (esda.G_Local with star=True: each grid counts in its own neighbourhood) with
row-standardised weights. Significance is the two-sided p-value of the Gi* z-score under
the normal approximation (Getis & Ord 1995, as ArcGIS's Hot Spot Analysis reports it:
|z| ≥ 1.65 / 1.96 / 2.58 for 90 / 95 / 99 %). Permutation pseudo p-values are not used:
problem counts are small integers with many ties, and with a grid's handful of
neighbours a tied permutation distribution makes an ordinary grid look extreme. A grid
is a hot spot when its z-score is positive and p ≤ 0.10, cold when negative. There is no
correction for multiple comparisons: at 90 % roughly one grid in ten of a random pattern
would still be flagged, which is why the level is shown per grid. Grids with no neighbour
(islands) are never flagged.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope
from geo.reports.heat import area_heat
from geo.reports.heat_filters import HeatFilters
from geo.storage.models import Area

LEVELS: tuple[tuple[float, int], ...] = ((0.01, 99), (0.05, 95), (0.10, 90))
"""(largest p-value, confidence %) from the strictest level down."""
MIN_GRIDS = 5
"""Below this many grids a permutation test says nothing."""


@dataclass(frozen=True)
class HotSpot:
    """One grid: its problem count, Gi* z-score, pseudo p-value and classification."""

    area_id: int
    code: str
    name: str
    count: int
    z: float
    p: float
    kind: str  # "hot", "cold" or "" (not significant)
    confidence: int  # 99, 95, 90, or 0 when not significant


@dataclass
class HotSpotResult:
    """Every grid's figures, and why nothing could be tested (``reason``, or "")."""

    spots: list[HotSpot]
    reason: str = ""
    as_of: datetime | None = None

    @property
    def significant(self) -> list[HotSpot]:
        """Hot spots first (strongest first), then cold spots."""
        flagged = [s for s in self.spots if s.kind]
        return sorted(flagged, key=lambda s: (s.kind != "hot", -abs(s.z), s.code))


def hotspots(
    session: so.Session,
    view: HeatFilters,
    scope: Scope | None = None,
    now: datetime | None = None,
) -> HotSpotResult:
    """Gi* of the problem counts of ``view`` per grid that ``scope`` may see.

    Steps: the counts per grid (area_heat at grid level, metric count), the grids'
    outlines (EPSG:4326; contiguity is topological, so no projection is needed), queen
    weights, Gi* z-scores and their two-sided normal p-values, then each grid's class.
    """
    heat = area_heat(session, replace(view, level="grid", metric="count"), scope=scope, now=now)
    ids = [int(i) for i in heat.catalog.ids]
    counts = np.asarray(heat.count, dtype=float)
    if len(ids) < MIN_GRIDS:
        return HotSpotResult(_unflagged(session, ids, counts), "too_few_grids", heat.as_of)
    if np.all(counts == counts[0]):
        return HotSpotResult(_unflagged(session, ids, counts), "no_variation", heat.as_of)
    names, weights = _queen(session, ids)
    z, p = _gi_star(counts, weights)
    islands = set(weights.islands)
    spots = [
        _classify(area_id, names[area_id], int(counts[i]), z[i], p[i], i in islands)
        for i, area_id in enumerate(ids)
    ]
    return HotSpotResult(spots, "", heat.as_of)


def _queen(session: so.Session, ids: list[int]) -> tuple[dict[int, tuple[str, str]], Any]:
    import geopandas as gpd
    from libpysal.weights import Queen

    rows = session.execute(
        sa.select(Area.id, Area.code, Area.name, Area.geom).where(Area.id.in_(ids))
    ).all()
    by_id = {r.id: r for r in rows}
    frame = gpd.GeoDataFrame({"id": ids}, geometry=[by_id[i].geom for i in ids], crs="EPSG:4326")
    with warnings.catch_warnings():  # islands are expected (a grid across a river)
        warnings.simplefilter("ignore")
        weights = Queen.from_dataframe(frame, use_index=False, silence_warnings=True)
    return {i: (by_id[i].code, by_id[i].name) for i in ids}, weights


def _gi_star(counts: np.ndarray, weights: Any) -> tuple[np.ndarray, np.ndarray]:
    from esda.getisord import G_Local
    from scipy.stats import norm

    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")
        # No permutations (see the module docstring): z-scores only, in this process.
        gi = G_Local(counts, weights, transform="R", permutations=0, star=True, n_jobs=1)
    z = np.nan_to_num(np.asarray(gi.Zs, dtype=float))
    return z, 2 * norm.sf(np.abs(z))


def _classify(
    area_id: int, place: tuple[str, str], count: int, z: float, p: float, island: bool
) -> HotSpot:
    confidence = 0 if island or not np.isfinite(p) or z == 0 else _confidence(p)
    kind = "" if confidence == 0 else ("hot" if z > 0 else "cold")
    return HotSpot(
        area_id, place[0], place[1], count, round(float(z), 3), float(p), kind, confidence
    )


def _confidence(p: float) -> int:
    return next((level for limit, level in LEVELS if p <= limit), 0)


def _unflagged(session: so.Session, ids: list[int], counts: np.ndarray) -> list[HotSpot]:
    rows = session.execute(sa.select(Area.id, Area.code, Area.name).where(Area.id.in_(ids)))
    places = {r.id: (r.code, r.name) for r in rows}
    return [HotSpot(i, *places[i], int(counts[k]), 0.0, 1.0, "", 0) for k, i in enumerate(ids)]
