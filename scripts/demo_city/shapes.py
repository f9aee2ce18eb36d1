"""Random geometries of inspection points, in UTM zone 51N (EPSG:32651), metres.

Lines bend gently around a common road-grid axis; polygons are rectangles (markets,
estates, sites) or irregular convex blobs (parks, villages). Sizes come from ``KINDS``.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from .config import Array
from .tables import KINDS


def make_shape(rng: np.random.Generator, kind: str, centre: Array, axis: float) -> BaseGeometry:
    """Geometry (EPSG:32651) of one inspection point of ``kind`` at ``centre`` (metres).

    ``axis`` is the city's road-grid orientation (radians); the shape is aligned with it
    or at right angles to it, give or take a few degrees.
    """
    spec = KINDS[kind]
    lo, hi = spec.size
    axis += rng.choice([0.0, math.pi / 2]) + rng.normal(0, 0.08)
    if spec.geom == "point":
        return Point(centre)
    if spec.geom == "line":
        bends = {"main_road": (0.05, 5), "commercial_street": (0.06, 3)}.get(kind, (0.2, 3))
        return _polyline(rng, centre, rng.uniform(lo, hi), axis, *bends)
    if kind == "market":
        w, h = rng.uniform(40, 60), rng.uniform(65, 95)
        return Polygon(_rotate(_rectangle(w, h), axis) + centre)
    vertices = {"village": 9, "public_place": 7}.get(kind, 4)
    jitter = {"village": 0.25, "public_place": 0.15}.get(kind, 0.06)
    return _blob(rng, centre, rng.uniform(lo, hi), axis, vertices, jitter)


def _rectangle(w: float, h: float) -> Array:
    """Corners of a ``w`` × ``h`` rectangle centred on the origin."""
    return np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2


def _rotate(ring: Array, axis: float) -> Array:
    """Coordinates rotated by ``axis`` radians about the origin."""
    c, s = math.cos(axis), math.sin(axis)
    return ring @ np.array([[c, s], [-s, c]])


def _polyline(
    rng: np.random.Generator, centre: Array, length: float, axis: float, bend: float, segments: int
) -> LineString:
    """A gently bending line of ``length`` metres centred on ``centre`` (EPSG:32651)."""
    heading = axis + rng.normal(0, bend, segments).cumsum()
    step = length / segments
    xy = np.vstack([[0.0, 0.0], np.column_stack([np.cos(heading), np.sin(heading)]).cumsum(0)])
    xy *= step
    xy += centre - xy.mean(axis=0)
    return LineString(xy)


def _blob(
    rng: np.random.Generator, centre: Array, size: float, axis: float, vertices: int, jitter: float
) -> Polygon:
    """An irregular convex-ish polygon about ``size`` metres across (EPSG:32651)."""
    if vertices == 4:
        w, h = size * rng.uniform(0.6, 1.0), size
        ring = _rectangle(w, h)
        ring += rng.normal(0, jitter * size, ring.shape)
    else:
        t = np.sort(rng.uniform(0, 2 * np.pi, vertices))
        r = size / 2 * rng.uniform(1 - jitter, 1 + jitter, vertices)
        ring = np.column_stack([r * np.cos(t), 0.75 * r * np.sin(t)])
    ring = _rotate(ring, axis)
    return shapely.convex_hull(Polygon(ring + centre)) if vertices > 4 else Polygon(ring + centre)
