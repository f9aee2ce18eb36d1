"""Area outlines in a compact, cacheable encoding for the browser (format ``cg-rings-1``).

20,000 irregular grids are ~140,000 vertices: GeoJSON at 6 decimals is ~5.8 MB (0.75 MB
gzipped) and slow to parse. Here every coordinate is quantised to 1e-6 degree (the
same precision as 6 decimals) relative to an origin, and each ring is written as its
first vertex followed by the differences to the previous vertex, without the closing
vertex. Small integers compress well: about 0.55 MB gzipped for 20,000 grids.
web/static/civicgrid-heat.js decodes it. Coordinates are EPSG:4326 lon/lat.

Layout::

    {"format": "cg-rings-1", "level": "grid", "scale": 1000000, "origin": [lon, lat],
     "codes": [...], "names": [...], "parents": [...], "km2": [...],
     "shapes": [[[ring, hole...], polygon2...], ...]}   # one entry per area

where each ring is a flat list ``[x0, y0, dx1, dy1, ...]`` of integers.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, visible
from geo.reports.heat import AreaRef
from geo.storage.models import Area

SCALE = 1_000_000
FORMAT = "cg-rings-1"


def encode_shapes(
    session: so.Session,
    level: str,
    within: AreaRef | None = None,
    scope: Scope | None = None,
) -> str:
    """The outlines of the areas of ``level`` (inside ``within``, visible in ``scope``),
    sorted by code, as ``cg-rings-1`` JSON text (see the module docstring)."""
    parent = so.aliased(Area)
    stmt = (
        sa.select(Area.code, Area.name, parent.code, Area.area_m2, Area.geom)
        .outerjoin(parent, parent.id == Area.parent_id)
        .where(Area.level == level)
        .order_by(Area.code)
    )
    if within is not None:
        column = Area.id if within.level == level else getattr(Area, f"{within.level}_id")
        stmt = stmt.where(column == within.id)
    if scope is not None:
        stmt = stmt.where(visible(scope, Area))
    rows = session.execute(stmt).all()
    geoms = np.array([r[4] for r in rows], dtype=object)
    origin, shapes = _encode(geoms)
    head = {
        "format": FORMAT,
        "level": level,
        "scale": SCALE,
        "origin": origin,
        "codes": [r[0] for r in rows],
        "names": [r[1] for r in rows],
        "parents": [r[2] for r in rows],
        "km2": [round(r[3] / 1e6, 4) for r in rows],
    }
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    return text[:-1] + ',"shapes":' + shapes + "}"


def decode_shapes(data: dict[str, object]) -> list[shapely.MultiPolygon]:
    """Inverse of ``encode_shapes`` (for tests and scripts): one MultiPolygon per area."""
    scale = float(data["scale"])  # type: ignore[arg-type]
    origin: list[float] = data["origin"]  # type: ignore[assignment]
    ox, oy = origin
    out = []
    for polygons in data["shapes"]:  # type: ignore[attr-defined]
        parts = []
        for rings in polygons:
            decoded = []
            for ring in rings:
                xy = np.cumsum(np.array(ring, dtype=np.int64).reshape(-1, 2), axis=0)
                decoded.append(xy / scale + [ox, oy])
            parts.append(shapely.Polygon(decoded[0], decoded[1:]))
        out.append(shapely.MultiPolygon(parts))
    return out


def _encode(geoms: np.ndarray) -> tuple[list[float], str]:
    if len(geoms) == 0:
        return [0.0, 0.0], "[]"
    parts, part_area = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = _rings(parts)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    keep = _drop_closing(coord_ring)
    coords, coord_ring = coords[keep], coord_ring[keep]
    origin = np.floor(coords.min(axis=0) * SCALE) / SCALE
    q = np.round((coords - origin) * SCALE).astype(np.int64)
    first = np.r_[True, coord_ring[1:] != coord_ring[:-1]]
    delta = np.diff(q, axis=0, prepend=q[:1])
    delta[first] = q[first]
    flat = delta.ravel().tolist()
    starts = np.flatnonzero(first) * 2
    bounds = np.r_[starts, len(flat)]
    ring_texts = [
        "[" + ",".join(map(str, flat[a:b])) + "]" for a, b in itertools.pairwise(bounds.tolist())
    ]
    return [round(float(v), 6) for v in origin], _nest(ring_texts, ring_part, part_area, len(geoms))


def _rings(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exterior then interior rings of each polygon, with the polygon index of each."""
    n_holes = shapely.get_num_interior_rings(parts)
    geoms = [shapely.get_exterior_ring(parts)]
    owner = [np.arange(len(parts))]
    order = [np.zeros(len(parts), dtype=np.int64)]
    for k in range(int(n_holes.max(initial=0))):
        chosen = np.flatnonzero(n_holes > k)
        geoms.append(shapely.get_interior_ring(parts[chosen], k))
        owner.append(chosen)
        order.append(np.full(len(chosen), k + 1))
    ring_part, ring_order = np.concatenate(owner), np.concatenate(order)
    sort = np.lexsort((ring_order, ring_part))
    return np.concatenate(geoms)[sort], ring_part[sort]


def _drop_closing(coord_ring: np.ndarray) -> np.ndarray:
    last = np.r_[coord_ring[1:] != coord_ring[:-1], True]
    return ~last


def _nest(ring_texts: list[str], ring_part: np.ndarray, part_area: np.ndarray, n: int) -> str:
    polygons: list[list[str]] = [[] for _ in range(len(part_area))]
    for text, part in zip(ring_texts, ring_part.tolist(), strict=True):
        polygons[part].append(text)
    areas: list[list[str]] = [[] for _ in range(n)]
    for rings, area in zip(polygons, part_area.tolist(), strict=True):
        areas[area].append("[" + ",".join(rings) + "]")
    return "[" + ",".join("[" + ",".join(p) + "]" for p in areas) + "]"
