"""Make the float hierarchy exact: shared edges vertex by vertex, no gaps, no overlaps.

The boundaries of all grid cells (EPSG:32651) are projected to EPSG:4326, snap-rounded
together on the 1e-6 degree grid and polygonized into faces; each face gets the label of
the cell it overlaps most, labels are repaired until every area at every level is one
edge-connected polygon, and each area is the exact union of its faces. Face areas and
shared edge lengths used for the repairs are in degrees² and degrees (relative only).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from .config import GRID_SIZE, Array, GeomArray, Label
from .projection import round_geom, to_lonlat

Adjacency = dict[int, dict[int, float]]  # face -> {neighbour face: shared edge length}


def exact_faces(
    cells_utm: Sequence[BaseGeometry], labels: Sequence[Label]
) -> tuple[GeomArray, list[Label]]:
    """Snap-round all cell boundaries on the 1e-6° grid together and polygonize them.

    Returns the faces (EPSG:4326, coordinates on the 6-decimal grid, an exact coverage)
    and each face's label, taken from the float cell it overlaps most.
    """
    cells = to_lonlat(np.asarray(cells_utm, dtype=object))
    lines = shapely.union_all(shapely.boundary(cells), grid_size=GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    faces = round_geom(faces)  # no-op: snap rounding already put vertices on the grid
    f_idx, c_idx = STRtree(cells).query(faces, predicate="intersects")
    overlap = shapely.area(shapely.intersection(faces[f_idx], cells[c_idx]))
    order = np.lexsort((-overlap, f_idx))
    best: dict[int, int] = {}
    for k in order:
        if overlap[k] > 0:
            best.setdefault(int(f_idx[k]), int(c_idx[k]))
    face_labels = [labels[best[i]] if i in best else () for i in range(len(faces))]
    return faces, face_labels


def _adjacency(faces: GeomArray) -> Adjacency:
    """Face -> {neighbour face: shared edge length (degrees)} for edge-sharing faces."""
    a, b = STRtree(faces).query(faces, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    bounds = shapely.boundary(faces)
    shared = shapely.length(shapely.intersection(bounds[a], bounds[b]))
    adj: Adjacency = {i: {} for i in range(len(faces))}
    for i, j, s in zip(a.tolist(), b.tolist(), shared.tolist(), strict=True):
        if s > 0:
            adj[i][j] = s
            adj[j][i] = s
    return adj


def _components(members: list[int], adj: Adjacency) -> list[list[int]]:
    """Edge-connected components of a set of faces (deterministic order)."""
    todo = set(members)
    comps: list[list[int]] = []
    for start in members:
        if start not in todo:
            continue
        todo.discard(start)
        comp, stack = [start], [start]
        while stack:
            for j in sorted(adj[stack.pop()]):
                if j in todo:
                    todo.discard(j)
                    comp.append(j)
                    stack.append(j)
        comps.append(sorted(comp))
    return comps


def make_connected(faces: GeomArray, labels: list[Label], depth: int = 4) -> list[Label]:
    """Relabel faces until every area at every level is one edge-connected polygon.

    A detached piece (or a face no cell claimed) joins the neighbouring area with which it
    shares the longest edge, preferring one with the same parent. Labels keep their finer
    parts, so a moved piece becomes a new area under its new parent.
    """
    adj = _adjacency(faces)
    areas = shapely.area(faces)
    labels = list(labels)
    for i in range(len(labels)):  # unclaimed faces: adopt the longest-edge neighbour
        if not labels[i]:
            j = max((j for j in adj[i] if labels[j]), key=lambda j: (adj[i][j], -j))
            labels[i] = labels[j]
    for _ in range(100):
        if _fix_one_level(labels, adj, areas, depth):
            continue
        if not _merge_small(labels, adj, areas, depth):
            return labels
    raise AssertionError("could not make every area connected")


def _groups(labels: Sequence[Label], n: int) -> dict[Label, list[int]]:
    """Face indices by the first ``n`` parts of their label (the area at level ``n - 1``)."""
    groups: dict[Label, list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(lab[:n], []).append(i)
    return groups


def _border_scores(
    faces: Iterable[int], inside: Collection[int], adj: Adjacency, key: Callable[[int], Label]
) -> dict[Label, float]:
    """Edge length that ``faces`` share with each neighbouring area (``key`` of a face)."""
    score: dict[Label, float] = {}
    for i in faces:
        for j, s in adj[i].items():
            if j not in inside:
                k = key(j)
                score[k] = score.get(k, 0.0) + s
    return score


def _merge_small(labels: list[Label], adj: Adjacency, areas: Array, depth: int) -> bool:
    """Merge the smallest finest-level area under 5% of the median into a neighbour.

    Moving a detached piece can leave a sliver as an area of its own; it joins the
    neighbour sharing the longest edge, preferring one with the same parent.
    """
    groups = _groups(labels, depth)
    size = {k: float(areas[v].sum()) for k, v in groups.items()}
    limit = 0.05 * float(np.median(list(size.values())))
    small = sorted((v, k) for k, v in size.items() if v < limit)
    for _, key in small:
        members = set(groups[key])
        score = _border_scores(members, members, adj, lambda j: labels[j])
        if not score:
            continue
        target = max(sorted(score), key=lambda k: (k[:-1] == key[:-1], score[k]))
        for i in members:
            labels[i] = target
        return True
    return False


def _fix_one_level(labels: list[Label], adj: Adjacency, areas: Array, depth: int) -> bool:
    """Reattach the detached pieces of every area at the coarsest level that has any.

    The largest piece keeps the area; each other piece moves, with its finer labels, to the
    neighbouring area it shares the longest edge with, preferring one with the same parent.
    Returns whether anything moved.
    """
    for level in range(depth):
        groups = _groups(labels, level + 1)
        changed = False
        for key in sorted(groups):
            comps = _components(groups[key], adj)
            if len(comps) == 1:
                continue
            comps.sort(key=lambda c: (-areas[c].sum(), c[0]))
            for comp in comps[1:]:
                _move_piece(labels, comp, adj, key, level)
            changed = True
        if changed:
            return True
    return False


def _move_piece(
    labels: list[Label], piece: list[int], adj: Adjacency, key: Label, level: int
) -> None:
    """Relabel a detached ``piece`` of area ``key`` (at ``level``) to its best neighbour."""
    score = _border_scores(piece, set(piece), adj, lambda j: labels[j][: level + 1])
    assert score, "isolated piece"
    target = max(sorted(score), key=lambda k: (k[:level] == key[:level], score[k]))
    for i in piece:
        labels[i] = target + labels[i][level + 1 :]


def dissolve(faces: GeomArray, labels: Sequence[Label], level: int) -> dict[Label, Polygon]:
    """Exact union of the faces of each area at ``level`` (0 = district … 3 = grid)."""
    groups = _groups(labels, level + 1)
    out: dict[Label, Polygon] = {}
    for key in sorted(groups):
        geom = shapely.coverage_union_all(faces[groups[key]])
        assert geom.geom_type == "Polygon", (key, geom.geom_type)
        out[key] = shapely.orient_polygons(geom)
    return out
