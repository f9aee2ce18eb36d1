"""Problems (问题): where they are found, which point they belong to, what kind they are.

Locations are drawn in UTM zone 51N (EPSG:32651, metres): Gaussian hot spots around busy
inspection points plus a background that follows the urban density. About half are
linked to a nearby inspection point and moved within ``LINK_RADIUS_M`` of it; the final
lon/lat (EPSG:4326) are rounded to 6 decimals and checked again after rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.strtree import STRtree

from .attributes import campaigns, descriptions, units
from .city import sample_in
from .config import Array, GeomArray
from .lifecycle import lifecycle
from .points import Context, InspectionPoint
from .projection import lonlat_to_xy, xy_to_lonlat
from .tables import CATEGORIES, KIND_CATEGORIES, KINDS

# busy kinds of point that hot spots of problems centre on
HOTSPOT_KINDS = frozenset(
    ("market", "commercial_street", "old_residential", "small_restaurant", "back_alley",
     "school_surroundings")
)  # fmt: skip
HOTSPOT_GAP_M = 1500.0  # metres between hot-spot centres
PLACE_TOLERANCE_M = 29.5  # metres; a linked problem is placed this close to its point


@dataclass
class Problems:
    """Problem columns as arrays, one row per problem.

    lon/lat are EPSG:4326 degrees (6 decimals); times are integer minutes after
    ``START_TIME`` (see :mod:`.lifecycle`); ``point_code`` is empty for unlinked problems.
    """

    lon: Array
    lat: Array
    category: NDArray[np.str_]
    description: list[str]
    found: NDArray[np.int64]
    assigned: NDArray[np.int64]
    deadline: NDArray[np.int64]
    rectified: NDArray[np.int64]
    closed: NDArray[np.int64]
    reopened: NDArray[np.int64]
    unit: list[str]
    campaign: list[str]
    point_code: list[str]


def make_problems(ctx: Context, points: list[InspectionPoint], n: int) -> Problems:
    """``n`` problems over the ``WINDOW_DAYS`` days before ``REFERENCE_TIME``.

    About 60% fall in 5–8 Gaussian hot spots and 40% are spread with the urban density;
    about half are moved within 30 m of a nearby inspection point and linked to it.
    Categories follow the linked point's kind; lifecycle times are simulated per category.
    """
    rng = ctx.rng
    utm = np.asarray([p.utm for p in points], dtype=object)
    x, y = _anchors(ctx, points, n)
    linked = rng.random(n) < 0.5
    link = np.full(n, -1)
    link[linked] = _choose_points(ctx, points, utm, x[linked], y[linked])
    lon, lat = _place(ctx, utm, x, y, link)
    kinds = np.array([points[i].kind if i >= 0 else "" for i in link])
    category = _categories(rng, kinds)
    found, assigned, deadline, rectified, closed, reopened = lifecycle(rng, category)
    description = descriptions(ctx, points, link, category, lon, lat)
    unit = units(ctx, points, link, category, lon, lat)
    campaign = campaigns(rng, kinds, category, found)
    return Problems(
        lon=lon,
        lat=lat,
        category=category,
        description=description,
        found=found,
        assigned=assigned,
        deadline=deadline,
        rectified=rectified,
        closed=closed,
        reopened=reopened,
        unit=unit,
        campaign=campaign,
        point_code=[points[i].code if i >= 0 else "" for i in link],
    )


def _anchors(ctx: Context, points: list[InspectionPoint], n: int) -> tuple[Array, Array]:
    """Problem locations before linking (EPSG:32651): hot spots plus a density background."""
    rng = ctx.rng
    hot = _hot_spots(ctx, points)
    sigma = rng.uniform(180, 550, len(hot))  # metres
    share = rng.dirichlet(np.full(len(hot), 3.0))
    in_hot = rng.random(n) < 0.6
    which = rng.choice(len(hot), n, p=share)
    x = np.empty(n)
    y = np.empty(n)
    x[in_hot] = hot[which[in_hot], 0] + rng.normal(0, 1, in_hot.sum()) * sigma[which[in_hot]]
    y[in_hot] = hot[which[in_hot], 1] + rng.normal(0, 1, in_hot.sum()) * sigma[which[in_hot]]
    bg = sample_in(ctx.city_utm, int((~in_hot).sum()), rng, ctx.density, 0.6)
    x[~in_hot], y[~in_hot] = bg[:, 0], bg[:, 1]
    outside = ~shapely.contains_xy(ctx.city_utm, x, y)
    redo = sample_in(ctx.city_utm, int(outside.sum()), rng, ctx.density, 1.0)
    x[outside], y[outside] = redo[:, 0], redo[:, 1]
    return x, y


def _hot_spots(ctx: Context, points: list[InspectionPoint]) -> Array:
    """5–8 hot-spot centres (EPSG:32651), at busy points in dense places, ≥ 1.5 km apart."""
    rng = ctx.rng
    candidates = [p for p in points if p.kind in HOTSPOT_KINDS]
    cxy = np.array([p.utm.centroid.coords[0] for p in candidates])
    pull = ctx.density(cxy[:, 0], cxy[:, 1]) ** 2
    order = rng.choice(len(candidates), len(candidates), replace=False, p=pull / pull.sum())
    n_hot = int(rng.integers(5, 9))
    hot: list[Array] = []
    for i in order:
        if all(np.hypot(*(cxy[i] - h)) > HOTSPOT_GAP_M for h in hot):
            hot.append(cxy[i])
        if len(hot) == n_hot:
            break
    return np.array(hot)


def _choose_points(
    ctx: Context, points: list[InspectionPoint], utm: GeomArray, x: Array, y: Array
) -> NDArray[np.int64]:
    """For each location, a nearby inspection point: score = attraction − distance/250 m.

    ``utm`` holds the points' EPSG:32651 geometries; candidates lie within 600 m, and a
    location with none takes the nearest point.
    """
    tree = STRtree(utm)
    anchors = shapely.points(x, y)
    a_idx, p_idx = tree.query(anchors, predicate="dwithin", distance=600.0)
    dist = shapely.distance(anchors[a_idx], utm[p_idx])
    attract = np.log([KINDS[points[j].kind].attract for j in p_idx])
    score = attract - dist / 250.0 + ctx.rng.gumbel(size=len(a_idx))
    order = np.lexsort((-score, a_idx))
    choice = tree.query_nearest(anchors, all_matches=False)[1]
    first = np.ones(len(order), dtype=bool)
    first[1:] = a_idx[order][1:] != a_idx[order][:-1]
    choice[a_idx[order][first]] = p_idx[order][first]
    return choice.astype(np.int64)


def _place(
    ctx: Context, utm: GeomArray, x: Array, y: Array, link: NDArray[np.int64]
) -> tuple[Array, Array]:
    """Move linked problems to within 30 m of their point; round lon/lat to 6 decimals.

    ``x``, ``y`` and the points' geometries ``utm`` are in EPSG:32651 metres. Returns
    lon, lat (EPSG:4326) that are inside the city and, once projected back, still within
    ``PLACE_TOLERANCE_M`` of the linked point.
    """
    rng = ctx.rng
    x, y = x.copy(), y.copy()
    todo = link >= 0
    has = link >= 0
    for _ in range(50):
        idx = np.flatnonzero(todo)
        if len(idx):
            geoms = utm[link[idx]]
            x[idx], y[idx] = _near(rng, geoms, shapely.get_type_id(geoms))
        lon_t, lat_t = xy_to_lonlat(x, y)
        lon, lat = np.round(lon_t, 6), np.round(lat_t, 6)
        ok = shapely.contains_xy(ctx.city.geom, lon, lat)
        rx, ry = lonlat_to_xy(lon, lat)
        near = np.ones(len(x), dtype=bool)
        near[has] = (
            shapely.distance(shapely.points(rx[has], ry[has]), utm[link[has]]) <= PLACE_TOLERANCE_M
        )
        bad = ~(ok & near)
        if not bad.any():
            return lon, lat
        unlinked_bad = bad & ~has
        if unlinked_bad.any():
            redo = sample_in(ctx.city_utm, int(unlinked_bad.sum()), rng, ctx.density, 1.0)
            x[unlinked_bad], y[unlinked_bad] = redo[:, 0], redo[:, 1]
        todo = bad & has
    raise RuntimeError("could not place problems inside the city")


def _near(
    rng: np.random.Generator, geoms: GeomArray, type_id: NDArray[np.int64]
) -> tuple[Array, Array]:
    """Random locations within ~25 m of each geometry (EPSG:32651).

    Points: a disc of 25 m; lines: along the line ± 20 m; polygons: inside (70%) or
    within 20 m of the boundary.
    """
    n = len(geoms)
    r = np.sqrt(rng.random(n))
    t = rng.uniform(0, 2 * np.pi, n)
    base = shapely.get_coordinates(shapely.centroid(geoms))
    radius = np.where(type_id == 0, 25.0, 20.0)
    is_line = type_id == 1
    is_poly = type_id == 3
    along = rng.random(n)
    if is_line.any():
        pts = shapely.line_interpolate_point(geoms[is_line], along[is_line], normalized=True)
        base[is_line] = shapely.get_coordinates(pts)
    edge = is_poly & (rng.random(n) < 0.3)
    if edge.any():
        rings = shapely.get_exterior_ring(geoms[edge])
        pts = shapely.line_interpolate_point(rings, along[edge], normalized=True)
        base[edge] = shapely.get_coordinates(pts)
    inner = is_poly & ~edge
    if inner.any():
        base[inner] = _inside(rng, geoms[inner])
        radius[inner] = 0.0
    return base[:, 0] + radius * r * np.cos(t), base[:, 1] + radius * r * np.sin(t)


def _inside(rng: np.random.Generator, polys: GeomArray) -> Array:
    """One uniform random point inside each polygon (rejection, 16 tries, else rep. point)."""
    b = shapely.bounds(polys)
    out = shapely.get_coordinates(shapely.point_on_surface(polys))
    done = np.zeros(len(polys), dtype=bool)
    for _ in range(16):
        x = rng.uniform(b[:, 0], b[:, 2])
        y = rng.uniform(b[:, 1], b[:, 3])
        ok = ~done & shapely.contains_xy(polys, x, y)
        out[ok] = np.column_stack([x[ok], y[ok]])
        done |= ok
    return out


def _categories(rng: np.random.Generator, kinds: NDArray[np.str_]) -> NDArray[np.str_]:
    """Category per problem, from the linked point kind's mix or the overall mix."""
    names = list(CATEGORIES)
    out = np.empty(len(kinds), dtype=object)
    for kind in ["", *KINDS]:
        idx = np.flatnonzero(kinds == kind)
        if not len(idx):
            continue
        table = KIND_CATEGORIES[kind] if kind else {c: v[0] for c, v in CATEGORIES.items()}
        w = np.array([table.get(c, 0.0) for c in names])
        out[idx] = rng.choice(names, len(idx), p=w / w.sum())
    return out.astype(str)
