"""Inspection points (检查点位) of every kind: Point, LineString or Polygon.

Shapes are drawn in UTM zone 51N (EPSG:32651, sizes and distances in metres), then
projected to EPSG:4326 and rounded to 6 decimals; a point must still be valid and inside
the city after rounding. Polygons never overlap one another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from .city import Density, sample_in
from .config import Array
from .hierarchy import Area
from .names import SURNAMES, NameMaker, pick
from .projection import round_geom, to_output, to_utm
from .shapes import make_shape
from .tables import KINDS

INTERSECTION_GAP_M = 80.0  # metres between two road crossings taken as intersections


@dataclass
class InspectionPoint:
    """An inspection point; ``geom`` in EPSG:4326 (6 decimals), ``utm`` in EPSG:32651."""

    code: str
    name: str
    kind: str
    address: str
    unit: str
    geom: BaseGeometry
    utm: BaseGeometry


@dataclass
class Context:
    """Everything the point and problem generators need to know about the city.

    ``city`` and ``levels`` are in EPSG:4326, ``city_utm`` in EPSG:32651 metres.
    """

    rng: np.random.Generator
    density: Density
    city: Area
    city_utm: Polygon
    levels: list[list[Area]]
    names: NameMaker
    roads: list[str]

    trees: dict[int, STRtree] = field(default_factory=dict)

    def tree(self, level: int) -> STRtree:
        """Spatial index (EPSG:4326) of the areas at ``level``, in ``levels`` order."""
        if level not in self.trees:
            self.trees[level] = STRtree([a.geom for a in self.levels[level]])
        return self.trees[level]

    def locate(self, geom: BaseGeometry, level: int) -> Area:
        """The area at ``level`` (0 district, 1 street, 2 community) holding ``geom``."""
        tree = self.tree(level)
        anchor = geom.representative_point()
        hits = tree.query(anchor, predicate="intersects")
        if len(hits) == 0:
            hits = np.asarray([tree.query_nearest(anchor)[0]])
        return self.levels[level][int(hits.min())]

    def district_of(self, street: Area) -> Area:
        """The district a street or town belongs to."""
        return next(d for d in self.levels[0] if d.code == street.parent_code)

    def two_roads(self) -> tuple[str, str]:
        """Two different road names, at random."""
        a, b = (self.roads[int(i)] for i in self.rng.choice(len(self.roads), 2, replace=False))
        return a, b


def street_unit(street: Area) -> str:
    """Responsible office of a street (办事处) or town (人民政府)."""
    return street.name + ("人民政府" if street.kind == "town" else "办事处")


def point_unit(kind: str, name: str, district: Area, street: Area) -> str:
    """The responsible unit (责任单位) for an inspection point."""
    if kind in ("market", "small_restaurant"):
        return district.name + "市场监管局"
    if kind in ("commercial_street", "main_road", "school_surroundings"):
        return district.name + "城管局"
    if kind == "public_place":
        if name.endswith("汽车站"):
            return "市交通运输局"
        return district.name + "城管局" if name.endswith("广场") else "市园林绿化局"
    if kind == "service_window":
        if name.endswith(("医院", "卫生服务中心")):
            return "市卫生健康委"
        return "市交通运输局" if name.endswith("站") else street_unit(street)
    return {
        "intersection": "市公安局交警支队",
        "construction_site": "市住建局",
        "hotel": "市文广旅局",
        "internet_cafe": "市文广旅局",
        "practice_station": "市文明办",
    }.get(kind, street_unit(street))


def make_points(ctx: Context, n_points: int) -> list[InspectionPoint]:
    """About ``n_points`` inspection points of every kind, inside the city.

    Counts per kind scale ``KINDS`` (drawn for 800 points). Main roads are drawn first;
    intersections are where they cross (the rest are random). One practice station per
    community and per street/town. Points get codes P000001, P000002, … in drawing order.
    """
    scale = n_points / 800.0
    axis = float(ctx.rng.uniform(0, math.pi / 2))  # orientation of the city's road grid
    placed_polys: list[Polygon] = []
    points: list[InspectionPoint] = []
    used_names: set[str] = set()
    villages = [a for a in ctx.levels[2] if a.kind == "village"]
    for kind, spec in KINDS.items():
        count = max(1, round(spec.count * scale))
        if kind == "intersection":
            points += _intersections(ctx, points, count, used_names)
            continue
        if kind == "practice_station":
            points += _practice_stations(ctx)
            continue
        for _ in range(count):
            geom = _place_shape(ctx, kind, axis, villages, placed_polys)
            if spec.geom == "polygon":
                placed_polys.append(geom)
            name = _point_name(ctx, kind, used_names)
            points.append(_finish_point(ctx, kind, name, geom))
    for i, p in enumerate(points, start=1):
        p.code = f"P{i:06d}"
    return points


def _place_shape(
    ctx: Context, kind: str, axis: float, villages: list[Area], placed: list[Polygon]
) -> BaseGeometry:
    """An EPSG:4326 shape of ``kind`` inside the city, not overlapping ``placed`` polygons."""
    spec = KINDS[kind]
    for _attempt in range(200):
        centre = _draw_location(ctx, spec.where, villages)
        utm = make_shape(ctx.rng, kind, centre, axis)
        geom = shapely.orient_polygons(to_output(utm))  # RFC 7946 winding
        if not (geom.is_valid and ctx.city.geom.contains(geom)):
            continue
        if spec.geom == "polygon" and any(geom.intersects(p) for p in placed):
            continue
        return geom
    raise RuntimeError(f"could not place a {kind}")


def _draw_location(ctx: Context, where: str, villages: list[Area]) -> Array:
    """A random (x, y) in EPSG:32651 metres: in a village, or weighted by urban density."""
    if where == "rural" and villages:
        area = pick(ctx.rng, villages)
        return sample_in(to_utm(area.geom), 1, ctx.rng, ctx.density, 0.0)[0]
    power = {"urban": 1.6, "any": 0.7}.get(where, 0.0)
    return sample_in(ctx.city_utm, 1, ctx.rng, ctx.density, power)[0]


def _point_name(ctx: Context, kind: str, used: set[str]) -> str:
    """A name not in ``used`` (which it joins): stem + suffix, surname + suffix, or a road."""
    suffixes = KINDS[kind].suffixes
    for _ in range(1000):
        suffix = pick(ctx.rng, suffixes)
        if kind == "village":
            name = pick(ctx.rng, SURNAMES) + suffix
        elif kind == "main_road":
            name = pick(ctx.rng, ctx.roads)
        else:
            name = ctx.names.stem(unique=False) + suffix
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("ran out of point names")


def _finish_point(ctx: Context, kind: str, name: str, geom: BaseGeometry) -> InspectionPoint:
    """The point with its address and responsible unit; ``geom`` in EPSG:4326."""
    street = ctx.locate(geom, 1)
    district = ctx.district_of(street)
    if geom.geom_type == "LineString":
        a, b = ctx.two_roads()
        address = f"{district.name}{street.name}{name}（{a}至{b}）"
    elif kind == "intersection":
        address = f"{district.name}{street.name}{name}"
    elif kind in ("village", "practice_station"):
        address = f"{district.name}{street.name}{ctx.locate(geom, 2).name}"
    else:
        road = pick(ctx.rng, ctx.roads)
        address = f"{district.name}{street.name}{road}{int(ctx.rng.integers(1, 400))}号"
    unit = point_unit(kind, name, district, street)
    return InspectionPoint("", name, kind, address, unit, geom, to_utm(geom))


def _intersections(
    ctx: Context, points: list[InspectionPoint], count: int, used: set[str]
) -> list[InspectionPoint]:
    """Crossings of the main roads drawn so far, topped up with random urban crossings."""
    roads = [p for p in points if p.kind == "main_road"]
    out: list[InspectionPoint] = []
    taken: list[Point] = []
    for i, a in enumerate(roads):
        for b in roads[i + 1 :]:
            x = a.geom.intersection(b.geom)
            if x.geom_type != "Point" or len(out) >= count:
                continue
            geom = round_geom(x)
            geom_utm = to_utm(geom)
            if any(geom_utm.distance(t) < INTERSECTION_GAP_M for t in taken):
                continue
            if not ctx.city.geom.contains(geom):
                continue
            name = f"{a.name}与{b.name}交叉口"
            used.add(name)
            taken.append(geom_utm)
            out.append(_finish_point(ctx, "intersection", name, geom))
    while len(out) < count:
        geom = to_output(Point(_draw_location(ctx, "urban", [])))
        r1, r2 = ctx.two_roads()
        name = f"{r1}与{r2}交叉口"
        if name in used or not ctx.city.geom.contains(geom):
            continue
        used.add(name)
        out.append(_finish_point(ctx, "intersection", name, geom))
    return out


def _practice_stations(ctx: Context) -> list[InspectionPoint]:
    """新时代文明实践所 per street/town and 实践站 per community/village."""
    out: list[InspectionPoint] = []
    for level, suffix in ((1, "新时代文明实践所"), (2, "新时代文明实践站")):
        for area in ctx.levels[level]:
            utm = to_utm(area.geom)
            for _ in range(100):
                centre = sample_in(utm, 1, ctx.rng, ctx.density, 2.0)[0]
                geom = to_output(Point(centre))
                if area.geom.contains(geom):
                    break
            out.append(_finish_point(ctx, "practice_station", area.name + suffix, geom))
    return out
