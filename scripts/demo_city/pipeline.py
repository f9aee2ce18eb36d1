"""The generator's stages in order, from the seed to a verified :class:`Demo`.

Areas come out in EPSG:4326 on the 6-decimal grid; the intermediate float hierarchy and
all metric work are in UTM zone 51N (EPSG:32651), metres. One independent random stream
per stage, so a size knob only changes its own layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from .checks import verify_areas, verify_problems
from .city import Density, make_city
from .config import CITY_CODE, CITY_NAME, SEED
from .hierarchy import Area, build_float_hierarchy, name_areas
from .names import NameMaker
from .partition import dissolve, exact_faces, make_connected
from .points import Context, InspectionPoint, make_points
from .problems import Problems, make_problems
from .projection import to_utm

N_ROADS = 80
Log = Callable[[str], None]


@dataclass
class Demo:
    """A generated city: the city, its four area levels, inspection points, problems."""

    city: Area
    levels: list[list[Area]]  # districts, streets/towns, communities/villages, grids
    points: list[InspectionPoint]
    problems: Problems


def generate(n_grids: int, n_points: int, n_problems: int, log: Log) -> Demo:
    """The whole verified demo city from ``SEED`` (deterministic for given sizes).

    ``n_grids`` and ``n_points`` are approximate; ``n_problems`` is exact.
    """
    streams = np.random.default_rng(SEED).spawn(5)
    city, levels, city_utm, density, names = build_areas(streams[:3], n_grids, log)
    roads = names.roads(N_ROADS)
    ctx = Context(streams[3], density, city, city_utm, levels, names, roads)
    points = make_points(ctx, n_points)
    log(f"inspection points: {len(points)}")
    ctx.rng = streams[4]
    problems = make_problems(ctx, points, n_problems)
    verify_problems(ctx, points, problems)
    log(f"problems: {n_problems}")
    return Demo(city, levels, points, problems)


def build_areas(
    streams: Sequence[np.random.Generator], n_grids: int, log: Log
) -> tuple[Area, list[list[Area]], Polygon, Density, NameMaker]:
    """City, districts, streets, communities and grids (EPSG:4326), verified exact.

    ``streams``: random generators for the upper levels, the grids and the names.
    Also returns the city outline in EPSG:32651, the density field and the name maker.
    """
    rng, grid_rng, name_rng = streams
    city_utm, density = make_city(rng)
    cells, labels = build_float_hierarchy(city_utm, density, rng, grid_rng, n_grids)
    log(f"float hierarchy: {len(cells)} grid cells")
    faces, face_labels = exact_faces(cells, labels)
    face_labels = make_connected(faces, face_labels)
    levels = [dissolve(faces, face_labels, level) for level in range(4)]
    log(f"exact partition: {len(faces)} faces")
    names = NameMaker(name_rng)
    named = name_areas(levels, density, names)
    city_geom = shapely.orient_polygons(shapely.coverage_union_all(faces))
    assert city_geom.geom_type == "Polygon"
    city = Area(CITY_CODE, CITY_NAME, "", city_geom, "city")
    verify_areas(city, named)
    log("verified: valid polygons, exact tiling, codes")
    return city, named, to_utm(city_geom), density, names
