"""Assertions every generated city must pass before anything is written.

Geometries are checked as written (EPSG:4326, 6-decimal coordinates); areas and
distances are measured in UTM zone 51N (EPSG:32651), in m² and metres. Times are integer
minutes after ``START_TIME``.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.strtree import STRtree

from .config import LINK_RADIUS_M, REF_MINUTES, GeomArray
from .hierarchy import Area
from .points import Context, InspectionPoint
from .problems import Problems
from .projection import lonlat_to_xy, to_utm

CODE_DIGITS = (6, 9, 12, 15)  # district, street/town, community/village, grid
TILING_TOLERANCE_M2 = 1.0  # area(union(children) △ parent)
OVERLAP_TOLERANCE_M2 = 0.01  # area(sibling ∩ sibling)


def verify_areas(city: Area, levels: list[list[Area]]) -> None:
    """Assert validity, exact tiling and code structure (areas in EPSG:32651, m²).

    Per parent: area(union(children) △ parent) < 1 m²; any two siblings overlap < 0.01 m²;
    each level is a valid polygonal coverage (shared edges identical vertex by vertex).
    """
    parents = [city]
    for depth, areas in enumerate(levels):
        geoms = np.asarray([a.geom for a in areas], dtype=object)
        _check_geometry(geoms, depth)
        _check_codes(areas, parents, CODE_DIGITS[depth], depth == 0)
        _check_tiling(areas, parents, to_utm(geoms))
        parents = areas


def _check_geometry(geoms: GeomArray, depth: int) -> None:
    """Valid Polygons forming an exact coverage, every vertex on the 6-decimal grid."""
    assert all(g.geom_type == "Polygon" for g in geoms), "non-Polygon area"
    assert shapely.is_valid(geoms).all(), "invalid area geometry"
    assert shapely.coverage_is_valid(geoms), f"level {depth} is not an exact coverage"
    coords = shapely.get_coordinates(geoms)
    assert np.array_equal(coords, np.round(coords, 6))


def _check_codes(areas: list[Area], parents: list[Area], digits: int, districts: bool) -> None:
    """Unique all-digit codes of the right length, prefixed by their parent's code."""
    codes = [a.code for a in areas]
    assert len(set(codes)) == len(codes), "duplicate code"
    by_code = {p.code: p for p in parents}
    for a in areas:
        assert len(a.code) == digits and a.code.isdigit(), a.code
        prefix = a.parent_code[:4] if districts else a.parent_code  # 3299xx in 329900
        assert a.code.startswith(prefix) and a.parent_code in by_code, a.code


def _check_tiling(areas: list[Area], parents: list[Area], utm: GeomArray) -> None:
    """Children cover each parent (< 1 m² off) and siblings overlap < 0.01 m² (EPSG:32651)."""
    for p in parents:
        idx = [i for i, a in enumerate(areas) if a.parent_code == p.code]
        assert idx, f"{p.code} has no children"
        union = shapely.union_all(utm[idx])
        diff = shapely.symmetric_difference(union, to_utm(p.geom)).area
        assert diff < TILING_TOLERANCE_M2, f"children of {p.code} differ from it by {diff:.3f} m²"
    a_idx, b_idx = STRtree(utm).query(utm, predicate="intersects")
    keep = a_idx < b_idx
    inter = shapely.area(shapely.intersection(utm[a_idx[keep]], utm[b_idx[keep]]))
    assert inter.max(initial=0.0) < OVERLAP_TOLERANCE_M2, f"sibling overlap {inter.max():.4f} m²"


def verify_problems(ctx: Context, points: list[InspectionPoint], pr: Problems) -> None:
    """Assert problems lie in the city, linked ones within 30 m, and times are consistent."""
    assert shapely.contains_xy(ctx.city.geom, pr.lon, pr.lat).all(), "problem outside city"
    has = np.array([c != "" for c in pr.point_code])
    by_code = {p.code: p.utm for p in points}
    x, y = lonlat_to_xy(pr.lon[has], pr.lat[has])
    geoms = np.asarray([by_code[c] for c in np.asarray(pr.point_code)[has]], dtype=object)
    assert (shapely.distance(shapely.points(x, y), geoms) <= LINK_RADIUS_M).all()
    done = pr.closed < REF_MINUTES
    rect = pr.rectified < REF_MINUTES
    assert (pr.found < REF_MINUTES).all() and (pr.found >= 0).all()
    assert (pr.rectified[rect] >= pr.found[rect]).all()
    assert (pr.closed[done] >= pr.rectified[done]).all() and (rect | ~done).all()
