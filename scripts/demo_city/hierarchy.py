"""The administrative hierarchy: city → districts → streets/towns → communities/villages → grids.

:func:`build_float_hierarchy` splits the city top-down into Voronoi cells of random,
density-weighted seeds, each level clipped to its parent, in UTM zone 51N (EPSG:32651,
metres; workloads from a 150 m lattice). The cells are then made an exact tiling by
:mod:`.partition`, and :func:`name_areas` gives the resulting EPSG:4326 areas their codes
and names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from .city import Density, sample_in
from .config import CITY_CODE, DISTRICTS, N_COMMUNITIES, Array, GeomArray, Label
from .names import NameMaker
from .projection import to_utm


@dataclass
class Area:
    """One administrative area; geometry in EPSG:4326, coordinates on the 6-decimal grid."""

    code: str
    name: str
    parent_code: str
    geom: Polygon
    kind: str  # city | district | street | town | community | village | grid


# ------------------------------------------------------------------- float hierarchy
def voronoi_split(
    parent: BaseGeometry,
    n: int,
    rng: np.random.Generator,
    density: Density,
    power: float,
    lloyd: int,
) -> list[BaseGeometry]:
    """Split ``parent`` (EPSG:32651) into ``n`` Voronoi cells of density-weighted seeds.

    ``lloyd`` relaxation steps move each seed to its cell's centroid (more even cells).
    Cells are clipped to the parent in floating point; they may be MultiPolygons.
    """
    if n <= 1:
        return [parent]
    return list(_relaxed(parent, n, rng, density, power, lloyd)[1])


def _voronoi_cells(seeds: Array, parent: BaseGeometry) -> GeomArray:
    """Voronoi cells of ``seeds`` (EPSG:32651), in seed order, clipped to ``parent``."""
    vor = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=parent, ordered=True)
    return shapely.intersection(np.asarray(vor.geoms), parent)


def _relaxed(
    parent: BaseGeometry,
    n: int,
    rng: np.random.Generator,
    density: Density,
    power: float,
    lloyd: int,
) -> tuple[Array, GeomArray]:
    """Density-weighted seeds after ``lloyd`` Lloyd steps, and their clipped cells."""
    seeds = sample_in(parent, n, rng, density, power)
    cells = _voronoi_cells(seeds, parent)
    for _ in range(lloyd):
        cent = shapely.centroid(cells)
        cent = np.where(shapely.contains(parent, cent), cent, shapely.point_on_surface(cells))
        seeds = shapely.get_coordinates(cent)
        cells = _voronoi_cells(seeds, parent)
    return seeds, cells


def wiggly_split(
    parent: BaseGeometry,
    n: int,
    rng: np.random.Generator,
    density: Density,
    lloyd: int,
    fine: int = 40,
    wiggle: float = 0.3,
) -> list[BaseGeometry]:
    """Like :func:`voronoi_split` but with winding borders, as real district borders have.

    ``parent`` (EPSG:32651) is cut into ``n * fine`` small Voronoi cells; each goes to the
    seed nearest under a distance warped by a smooth random field of relative amplitude
    ``wiggle``; children are the unions of their small cells. Empty children are dropped.
    """
    if n <= 1:
        return [parent]
    seeds, _ = _relaxed(parent, n, rng, density, 0.0, lloyd)
    pts = sample_in(parent, n * fine, rng, density, 0.0)
    pieces = _voronoi_cells(pts, parent)
    scale = math.sqrt(parent.area / n)
    warp = np.ones((len(pts), n))
    for i in range(n):
        for _ in range(3):
            k = rng.normal(0, 1, 2)
            k *= 2 * np.pi / (scale * rng.uniform(0.4, 1.0) * np.hypot(*k))
            warp[:, i] += wiggle / 3 * np.sin(pts @ k + rng.uniform(0, 2 * np.pi))
    dist = np.hypot(pts[:, None, 0] - seeds[None, :, 0], pts[:, None, 1] - seeds[None, :, 1])
    owner = np.argmin(dist * warp, axis=1)
    return [shapely.union_all(pieces[owner == i]) for i in range(n) if (owner == i).any()]


def lattice(city: Polygon, density: Density, spacing: float = 150.0) -> tuple[Array, Array]:
    """Regular sample points (spacing in metres) inside the city and their density."""
    minx, miny, maxx, maxy = city.bounds
    gx, gy = np.meshgrid(np.arange(minx, maxx, spacing), np.arange(miny, maxy, spacing))
    x, y = gx.ravel(), gy.ravel()
    ok = shapely.contains_xy(city, x, y)
    xy = np.column_stack([x[ok], y[ok]])
    return xy, density(xy[:, 0], xy[:, 1])


def _weights(geoms: Sequence[BaseGeometry], lat_xy: Array, lat_u: Array, beta: float) -> Array:
    """Σ density**beta over lattice points in each geometry (relative workload)."""
    out = np.empty(len(geoms))
    for i, g in enumerate(geoms):
        inside = shapely.contains_xy(g, lat_xy[:, 0], lat_xy[:, 1])
        out[i] = (lat_u[inside] ** beta).sum() if inside.any() else 1e-3
    return out


def allocate(total: int, weights: Array, minimum: int) -> list[int]:
    """Split ``total`` into integers ∝ weights, each at least ``minimum`` (largest remainder)."""
    raw = total * weights / weights.sum()
    n = np.maximum(minimum, np.floor(raw)).astype(int)
    order = np.argsort(-(raw - np.floor(raw)), kind="stable")
    i = 0
    while n.sum() < total:
        n[order[i % len(n)]] += 1
        i += 1
    return [int(v) for v in n]


def build_float_hierarchy(
    city: Polygon,
    density: Density,
    rng: np.random.Generator,
    grid_rng: np.random.Generator,
    n_grids: int,
) -> tuple[list[BaseGeometry], list[Label]]:
    """Top-down Voronoi hierarchy in EPSG:32651 (floating point, not yet exact).

    Returns the grid cells and, for each, its label (district, street, community, grid);
    labels are global running indices, unique per level.
    """
    lat_xy, lat_u = lattice(city, density)
    districts = wiggly_split(city, len(DISTRICTS), rng, density, lloyd=4, fine=60)
    assert len(districts) == len(DISTRICTS)
    streets: list[tuple[int, BaseGeometry]] = []
    for d, n in enumerate(rng.permutation([3, 4, 4, 5])):  # 16 streets/towns in all
        parts = wiggly_split(districts[d], int(n), rng, density, lloyd=2, fine=30, wiggle=0.25)
        streets += [(d, g) for g in parts]
    s_weights = _weights([g for _, g in streets], lat_xy, lat_u, 0.6)
    communities: list[tuple[int, int, BaseGeometry]] = []
    for s, ((d, geom), n) in enumerate(
        zip(streets, allocate(N_COMMUNITIES, s_weights, 2), strict=True)
    ):
        communities += [(d, s, g) for g in voronoi_split(geom, n, rng, density, 0.5, lloyd=1)]
    c_weights = _weights([g for *_, g in communities], lat_xy, lat_u, 1.0)
    cells: list[BaseGeometry] = []
    labels: list[Label] = []
    for c, ((d, s, geom), n) in enumerate(
        zip(communities, allocate(n_grids, c_weights, 1), strict=True)
    ):
        for g in voronoi_split(geom, n, grid_rng, density, 0.8, lloyd=1):
            labels.append((d, s, c, len(cells)))
            cells.append(g)
    return cells, labels


# ---------------------------------------------------------------------- names, codes
def name_areas(
    levels: list[dict[Label, Polygon]], density: Density, names: NameMaker
) -> list[list[Area]]:
    """Codes and names for districts, streets/towns, communities/villages and grids.

    ``levels`` maps each label prefix to its exact EPSG:4326 polygon, one dict per level.
    Streets with the lowest urban density in their district become towns (镇, codes 100+);
    communities in a town other than the town seat become villages (村, codes 200+).
    Each level is returned sorted by code.
    """
    out: list[list[Area]] = [[], [], [], []]
    street_of: dict[Label, Area] = {}
    for (dcode, dname), key in zip(DISTRICTS, _children(levels[0], ()), strict=True):
        out[0].append(Area(dcode, dname, CITY_CODE, levels[0][key], "district"))
        street_of.update(_name_streets(levels[1], key, dcode, density, names))
    out[1] = list(street_of.values())
    for skey in sorted(levels[1]):
        communities, grids = _name_communities(levels, skey, street_of[skey], density, names)
        out[2] += communities
        out[3] += grids
    for level in out:
        level.sort(key=lambda a: a.code)
    return out


def _sort_key(geom: Polygon) -> tuple[float, float]:
    """Reading order of an EPSG:4326 polygon: by representative point, 4 decimals."""
    p = geom.representative_point()
    return (-round(p.y, 4), round(p.x, 4))  # north to south, then west to east


def _children(level: dict[Label, Polygon], parent: Label) -> list[Label]:
    """Labels of the areas of ``level`` under ``parent``, north to south, west to east."""
    keys = [k for k in level if k[:-1] == parent]
    return sorted(keys, key=lambda k: _sort_key(level[k]))


def _density_at(density: Density, geom: Polygon) -> float:
    """Urban density at a representative point of an EPSG:4326 polygon."""
    x, y = to_utm(geom.representative_point()).coords[0]
    return float(density(np.array([x]), np.array([y]))[0])


def _name_streets(
    level: dict[Label, Polygon], dkey: Label, dcode: str, density: Density, names: NameMaker
) -> dict[Label, Area]:
    """The streets (街道, codes 001+) and towns (镇, codes 100+) of one district.

    The least urban 40% (at least one street always stays) become towns.
    """
    streets = _children(level, dkey)
    urban = sorted(streets, key=lambda k: -_density_at(density, level[k]))
    towns = set(urban[max(1, math.ceil(0.6 * len(streets))) :])
    out: dict[Label, Area] = {}
    n_st = n_tw = 0
    for skey in streets:
        if skey in towns:
            n_tw += 1
            code, name, kind = dcode + f"{99 + n_tw:03d}", names.stem() + "镇", "town"
        else:
            n_st += 1
            code, name, kind = dcode + f"{n_st:03d}", names.stem() + "街道", "street"
        out[skey] = Area(code, name, dcode, level[skey], kind)
    return out


def _name_communities(
    levels: list[dict[Label, Polygon]],
    skey: Label,
    street: Area,
    density: Density,
    names: NameMaker,
) -> tuple[list[Area], list[Area]]:
    """The communities/villages of one street or town, and their grids.

    In a town, every community but the most urban one (the town seat) is a village (村,
    codes 200+); the others are communities (社区, codes 001+). Grids are numbered 001+.
    """
    communities: list[Area] = []
    grids: list[Area] = []
    comms = _children(levels[2], skey)
    seat = max(comms, key=lambda k: _density_at(density, levels[2][k]))
    n_co = n_vi = 0
    for ckey in comms:
        if street.kind == "town" and ckey != seat:
            n_vi += 1
            code, name, kind = street.code + f"{199 + n_vi:03d}", names.stem() + "村", "village"
        else:
            n_co += 1
            code, name, kind = street.code + f"{n_co:03d}", names.stem() + "社区", "community"
        communities.append(Area(code, name, street.code, levels[2][ckey], kind))
        for n, gkey in enumerate(_children(levels[3], ckey), start=1):
            grids.append(Area(code + f"{n:03d}", f"{name}第{n}网格", code, levels[3][gkey], "grid"))
    return communities, grids
