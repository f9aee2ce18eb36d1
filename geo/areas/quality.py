"""Quality checks of an area layer: overlaps between siblings and uncovered gaps.

Input frames are EPSG:4326. The set operations run in lon/lat, where the areas' edges
are the straight lines the data mean (a vertex in the middle of a neighbour's edge is
exactly on it); only the resulting pieces are projected to the local UTM zone to be
measured in square metres. Float noise below the thresholds is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from geo.core.crs import metric_crs_for

OVERLAP_MIN_M2 = 0.01
GAP_MIN_M2 = 1.0


@dataclass(frozen=True)
class Overlap:
    """Two areas of one level whose interiors overlap by ``m2`` square metres."""

    code_a: str
    code_b: str
    m2: float


@dataclass(frozen=True)
class Gap:
    """An uncovered piece of ``m2`` square metres inside ``parent_code`` (or the layer)."""

    parent_code: str | None
    m2: float
    lon: float
    lat: float


def overlaps(frame: gpd.GeoDataFrame) -> list[Overlap]:
    """Pairs of features of ``frame`` (columns code, geometry) that overlap, largest first."""
    geoms = frame.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="overlaps")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return []
    pieces = gpd.GeoSeries(shapely.intersection(geoms[left], geoms[right]), crs=4326)
    sizes = pieces.to_crs(metric_crs_for(frame)).area.to_numpy()
    codes = frame["code"].to_numpy()
    found = [
        Overlap(str(codes[a]), str(codes[b]), round(float(m2), 2))
        for a, b, m2 in zip(left, right, sizes, strict=True)
        if m2 > OVERLAP_MIN_M2
    ]
    return sorted(found, key=lambda o: -o.m2)


def gaps(frame: gpd.GeoDataFrame, parents: gpd.GeoDataFrame | None) -> list[Gap]:
    """Uncovered pieces larger than 1 m², largest first.

    With ``parents`` (the loaded parent level): each parent that has children in
    ``frame`` minus the union of those children. Without: the holes inside the union
    of ``frame``.
    """
    crs = metric_crs_for(frame)
    if parents is None or parents.empty or frame["parent_id"].isna().all():
        union = shapely.union_all(frame.geometry.values)
        return _gaps_of(None, union, crs, holes_only=True)
    found: list[Gap] = []
    by_id = parents.set_index("id")
    for parent_id, group in frame.groupby("parent_id"):
        if parent_id not in by_id.index:
            continue
        parent = by_id.loc[parent_id]
        rest = shapely.difference(parent.geometry, shapely.union_all(group.geometry.values))
        found.extend(_gaps_of(str(parent["code"]), rest, crs, holes_only=False))
    return sorted(found, key=lambda g: -g.m2)


def _gaps_of(parent_code: str | None, geom: object, crs: object, holes_only: bool) -> list[Gap]:
    if holes_only:
        pieces = [shapely.Polygon(ring) for p in shapely.get_parts(geom) for ring in p.interiors]
    else:
        pieces = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    if not pieces:
        return []
    series = gpd.GeoSeries(pieces, crs=4326)
    sizes = series.to_crs(crs).area.to_numpy()
    where = shapely.point_on_surface(np.array(pieces))
    return [
        Gap(parent_code, round(float(m2), 1), round(pt.x, 6), round(pt.y, 6))
        for m2, pt in zip(sizes, where, strict=True)
        if m2 > GAP_MIN_M2
    ]


POLYGONAL = ("Polygon", "MultiPolygon")


def polygonal_part(geoms: np.ndarray) -> list[BaseGeometry | None]:
    """The polygonal part of each geometry (what ``make_valid`` left of an area), or None."""
    out: list[BaseGeometry | None] = []
    for geom in geoms:
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in POLYGONAL]
        out.append(shapely.union_all(parts) if parts else None)
    return out


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """``geom`` (a Polygon or MultiPolygon) as a MultiPolygon."""
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])
