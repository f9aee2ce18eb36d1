"""The city outline, its urban density field, and density-weighted random sampling.

Everything here is in UTM zone 51N (EPSG:32651), metres, except ``BBOX`` (EPSG:4326
lon/lat), which only bounds the outline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from .config import BBOX, Array
from .projection import to_utm


@dataclass(frozen=True)
class Density:
    """Relative urban intensity over EPSG:32651 metres: a base plus Gaussian town centres."""

    centres: Array  # (k, 2) metres
    sigmas: Array  # (k,) metres
    weights: Array  # (k,)
    base: float

    def __call__(self, x: Array, y: Array) -> Array:
        d2 = (x[:, None] - self.centres[:, 0]) ** 2 + (y[:, None] - self.centres[:, 1]) ** 2
        return self.base + (self.weights * np.exp(-d2 / (2 * self.sigmas**2))).sum(axis=1)

    @property
    def upper(self) -> float:
        """An upper bound of the density anywhere."""
        return float(self.base + self.weights.sum())


def make_city(rng: np.random.Generator) -> tuple[Polygon, Density]:
    """Irregular star-shaped city outline inside ``BBOX``, in EPSG:32651 metres.

    Returns the outline and the urban density field (one main centre, three secondary).
    """
    lon0, lat0, lon1, lat1 = BBOX
    cx, cy = to_utm(Point((lon0 + lon1) / 2, (lat0 + lat1) / 2)).coords[0]
    return _outline(rng, cx, cy), _density(rng, cx, cy)


def _outline(rng: np.random.Generator, cx: float, cy: float) -> Polygon:
    """A random star-shaped polygon around ``(cx, cy)``, up to about 19 × 17 km (metres).

    It is shrunk in 1% steps until it keeps ~200 m clear of the ``BBOX`` edge.
    """
    lon0, lat0, lon1, lat1 = BBOX
    m = 0.002  # degrees, ~200 m
    frame = shapely.segmentize(shapely.box(lon0 + m, lat0 + m, lon1 - m, lat1 - m), 0.005)
    frame = to_utm(frame)
    theta = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 40):
        amp = rng.uniform(0.4, 1.0) * 0.2 * k**-1.2
        r += amp * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    x, y = 9600 * r * np.cos(theta), 8400 * r * np.sin(theta)
    scale = 1.0
    while True:
        city = Polygon(np.column_stack([cx + scale * x, cy + scale * y]))
        if frame.contains(city):
            return city
        scale *= 0.99


def _density(rng: np.random.Generator, cx: float, cy: float) -> Density:
    """A main centre near ``(cx, cy)`` and three secondary ones 4.2–5.6 km away."""
    angles = rng.uniform(0, 2 * np.pi) + np.arange(3) * 2 * np.pi / 3 + rng.uniform(-0.4, 0.4, 3)
    dist = rng.uniform(4200, 5600, 3)
    main = (cx + rng.uniform(-1200, 1200), cy + rng.uniform(-900, 900))
    centres = np.vstack(
        [main, np.column_stack([cx + dist * np.cos(angles), cy + dist * np.sin(angles)])]
    )
    return Density(
        centres=centres,
        sigmas=np.array([2600.0, *rng.uniform(1100, 1700, 3)]),
        weights=np.array([1.0, *rng.uniform(0.45, 0.7, 3)]),
        base=0.05,
    )


def sample_in(
    geom: BaseGeometry, n: int, rng: np.random.Generator, density: Density, power: float
) -> Array:
    """``n`` random (x, y) in ``geom`` (EPSG:32651), with probability ∝ density**power."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    upper = density.upper**power
    found: list[Array] = [np.empty((0, 2))]
    got = 0
    while got < n:
        m = max(64, 8 * (n - got))
        x, y = rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)
        ok = shapely.contains_xy(geom, x, y)
        ok &= rng.random(m) * upper < density(x, y) ** power
        found.append(np.column_stack([x[ok], y[ok]]))
        got += int(ok.sum())
    return np.vstack(found)[:n]
