#!/usr/bin/env python3
"""Generate the fictional demo city 青岚市 (Qinglan) for civicgrid.

Writes, under ``--out`` (default ``data/demo``):

* ``city.geojson``, ``districts.geojson``, ``streets.geojson``, ``communities.geojson``,
  ``grids.geojson``: the hierarchy city → district → street/town → community/village →
  grid. Each level tiles its parent exactly: siblings share edges vertex by vertex, never
  overlap, and their union is the parent.
* ``points.geojson``: inspection points of every kind (Point, LineString or Polygon).
* ``problems.csv``: problems with lon/lat, category, description and lifecycle columns.

CRS and units: every output coordinate is WGS-84 longitude/latitude (EPSG:4326) rounded to
6 decimals (about 0.1 m). All metric work (Voronoi seeding, feature sizes, offsets,
distances, areas) is done in UTM zone 51N (EPSG:32651), in metres and square metres.
Times are China Standard Time (UTC+08:00), as a snapshot at the fixed ``REFERENCE_TIME``;
with the fixed seed the output is byte-identical from run to run.

The hierarchy is built top-down in UTM (Voronoi cells of random seeds, clipped to their
parent), then made exact once: the boundaries of all grid cells are snap-rounded together
on the 1e-6 degree grid, polygonized into faces, and every level is the union of its faces.

Usage::

    python scripts/make_demo_city.py [--out data/demo] [--grids 1500] [--problems 20000]
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

SEED = 20261122
BBOX = (120.80, 31.95, 121.00, 32.10)  # lon/lat, EPSG:4326
GRID_SIZE = 1e-6  # degrees; output precision (6 decimals)
UTM_CRS = "EPSG:32651"
TZ = timezone(timedelta(hours=8))
REFERENCE_TIME = datetime(2026, 11, 20, 0, 0, tzinfo=TZ)  # snapshot; never "now"
WINDOW_DAYS = 120
START_TIME = REFERENCE_TIME - timedelta(days=WINDOW_DAYS)
REF_MINUTES = WINDOW_DAYS * 1440  # minutes from START_TIME to REFERENCE_TIME

CITY_CODE = "329900"
CITY_NAME = "青岚市"
DISTRICTS = (("329901", "云溪区"), ("329902", "枫桥区"), ("329903", "临江区"), ("329904", "白鹭区"))
N_COMMUNITIES = 60
LINK_RADIUS_M = 30.0

CSV_COLUMNS = (
    "id", "lon", "lat", "category", "description", "found_at", "status", "unit",
    "deadline", "rectified_at", "closed_at", "reopened", "campaign", "point_code",
)  # fmt: skip

Array = NDArray[np.float64]
GeomArray = NDArray[np.object_]
Label = tuple[int, ...]

# ---------------------------------------------------------------------------- taxonomy
# The codes, deadlines, usual point kinds and campaign categories mirror
# data/taxonomy.toml (tests/scripts/test_make_demo_city.py checks that they agree); the
# script itself stays standalone.
# category: (share among problems not linked to a point, deadline, "natural"|"working" days)
CATEGORIES: dict[str, tuple[float, int, str]] = {
    "illegal_ads": (16, 1, "natural"),
    "disorderly_parking": (15, 7, "natural"),
    "non_motor_parking": (12, 7, "natural"),
    "litter": (16, 1, "natural"),
    "street_vending": (8, 3, "natural"),
    "corridor_clutter": (3, 7, "natural"),
    "unsafe_charging": (2, 3, "natural"),
    "fire_access_blocked": (2, 1, "natural"),
    "overhead_cables": (4, 30, "working"),
    "pet_nuisance": (3, 7, "natural"),
    "public_smoking": (1.5, 3, "working"),
    "missing_psa": (4, 15, "working"),
    "greenbelt_damage": (5, 15, "working"),
    "broken_facility": (5, 15, "working"),
    "construction_dust": (1, 3, "natural"),
    "traffic_violation": (4, 7, "natural"),
    "food_hygiene": (0.5, 5, "working"),
}
# Days off for "working" deadlines: weekends and the National Day week (approximate: the
# official adjusted working weekends are not modelled).
HOLIDAYS = frozenset(f"2026-10-0{d}" for d in range(1, 8))
# share of hard cases per category: their rectification drags on for weeks (mean 45 days
# extra); a tenth of those are still stuck at the snapshot however old they are
SLOW: dict[str, float] = {"overhead_cables": 0.45, "greenbelt_damage": 0.25, "missing_psa": 0.2,
                          "broken_facility": 0.22, "unsafe_charging": 0.15}  # fmt: skip
SLOW_DEFAULT = 0.16

# point kind -> category weights for problems found at a point of that kind (only the
# categories whose usual point kinds include the kind)
KIND_CATEGORIES: dict[str, dict[str, float]] = {
    "market": {"litter": 18, "street_vending": 18, "disorderly_parking": 14,
               "non_motor_parking": 12, "illegal_ads": 10, "food_hygiene": 8,
               "missing_psa": 4, "fire_access_blocked": 3},
    "back_alley": {"illegal_ads": 18, "litter": 18, "overhead_cables": 12,
                   "disorderly_parking": 10, "street_vending": 8, "broken_facility": 6,
                   "greenbelt_damage": 3},
    "school_surroundings": {"disorderly_parking": 16, "street_vending": 14,
                            "non_motor_parking": 12, "illegal_ads": 12,
                            "traffic_violation": 10, "missing_psa": 5, "food_hygiene": 3},
    "old_residential": {"corridor_clutter": 16, "litter": 14, "unsafe_charging": 12,
                        "overhead_cables": 12, "illegal_ads": 12, "non_motor_parking": 10,
                        "fire_access_blocked": 8, "pet_nuisance": 6, "greenbelt_damage": 6,
                        "disorderly_parking": 6, "broken_facility": 5},
    "residential": {"corridor_clutter": 12, "disorderly_parking": 12, "non_motor_parking": 10,
                    "litter": 10, "illegal_ads": 10, "unsafe_charging": 9,
                    "fire_access_blocked": 9, "pet_nuisance": 9, "greenbelt_damage": 7,
                    "broken_facility": 4, "missing_psa": 3},
    "commercial_street": {"street_vending": 18, "non_motor_parking": 16, "illegal_ads": 14,
                          "disorderly_parking": 12, "litter": 12, "missing_psa": 5,
                          "overhead_cables": 3, "fire_access_blocked": 2,
                          "greenbelt_damage": 2},
    "main_road": {"disorderly_parking": 18, "non_motor_parking": 14, "illegal_ads": 12,
                  "litter": 12, "greenbelt_damage": 10, "broken_facility": 8,
                  "street_vending": 8, "traffic_violation": 8, "missing_psa": 4},
    "intersection": {"traffic_violation": 30, "non_motor_parking": 14,
                     "disorderly_parking": 12, "broken_facility": 6},
    "construction_site": {"construction_dust": 40, "litter": 15, "missing_psa": 6},
    "hotel": {"public_smoking": 16, "disorderly_parking": 14, "fire_access_blocked": 8},
    "internet_cafe": {"public_smoking": 30, "fire_access_blocked": 10},
    "small_restaurant": {"street_vending": 18, "food_hygiene": 16, "public_smoking": 6},
    "public_place": {"litter": 18, "pet_nuisance": 12, "greenbelt_damage": 12,
                     "broken_facility": 12, "public_smoking": 8, "missing_psa": 8,
                     "illegal_ads": 8, "non_motor_parking": 8},
    "service_window": {"missing_psa": 14, "public_smoking": 12, "broken_facility": 12,
                       "non_motor_parking": 12, "disorderly_parking": 10},
    "practice_station": {"missing_psa": 30, "broken_facility": 20, "public_smoking": 4},
    "village": {"litter": 26, "illegal_ads": 10, "overhead_cables": 10, "greenbelt_damage": 10,
                "unsafe_charging": 6, "missing_psa": 6},
}  # fmt: skip


@dataclass(frozen=True)
class KindSpec:
    """How to draw one inspection-point kind: count, geometry, placement, size in metres."""

    count: int
    geom: str  # "point" | "line" | "polygon"
    where: str  # "urban" | "any" | "rural" | "community"
    size: tuple[float, float]  # line length or polygon extent, metres
    suffixes: tuple[str, ...]
    attract: float  # relative pull on problems found nearby


KINDS: dict[str, KindSpec] = {
    "market": KindSpec(30, "polygon", "urban", (50, 80), ("农贸市场", "菜市场", "集贸市场"), 3.0),
    "back_alley": KindSpec(80, "line", "urban", (100, 400), ("巷", "弄", "里"), 2.0),
    "school_surroundings": KindSpec(
        45, "point", "any", (0, 0), ("实验小学", "小学", "中学", "实验学校", "幼儿园"), 1.5
    ),
    "old_residential": KindSpec(60, "polygon", "urban", (120, 260), ("新村", "一村", "二村"), 2.5),
    "residential": KindSpec(
        95, "polygon", "any", (150, 400), ("花园", "家园", "苑", "名邸", "雅居"), 1.5
    ),
    "commercial_street": KindSpec(
        20, "line", "urban", (300, 800), ("商业街", "步行街", "美食街"), 2.0
    ),
    "main_road": KindSpec(45, "line", "any", (500, 2000), ("路", "大道"), 2.0),
    "intersection": KindSpec(55, "point", "urban", (0, 0), ("交叉口",), 1.5),
    "construction_site": KindSpec(
        30, "polygon", "any", (90, 250), ("安置房项目工地", "商住项目工地", "学校扩建工地"), 1.5
    ),
    "hotel": KindSpec(40, "point", "urban", (0, 0), ("大酒店", "宾馆", "商务酒店"), 0.6),
    "internet_cafe": KindSpec(25, "point", "urban", (0, 0), ("网咖", "网吧"), 0.6),
    "small_restaurant": KindSpec(
        90, "point", "urban", (0, 0), ("面馆", "小吃店", "饭店", "馄饨店", "快餐店"), 1.5
    ),
    "public_place": KindSpec(
        40, "polygon", "any", (80, 350), ("公园", "广场", "汽车站", "体育公园"), 1.5
    ),
    "service_window": KindSpec(
        35, "point", "urban", (0, 0),
        ("公交首末站", "人民医院", "社区卫生服务中心", "地铁站", "政务服务中心"), 1.0,
    ),
    "practice_station": KindSpec(0, "point", "community", (0, 0), ("新时代文明实践站",), 0.6),
    "village": KindSpec(40, "polygon", "rural", (200, 500), ("家庄", "家宅", "家埭", "家湾"), 1.5),
}  # fmt: skip

_RESIDENTIAL = frozenset({"residential", "old_residential"})
CAMPAIGN_RULES: tuple[tuple[str, frozenset[str] | None, frozenset[str]], ...] = (
    # (campaign, point kinds or None for any, categories) -- first match wins
    ("practice_station_upgrade", frozenset({"practice_station"}),
     frozenset({"missing_psa", "broken_facility", "public_smoking"})),
    ("school_surroundings", frozenset({"school_surroundings"}),
     frozenset({"street_vending", "traffic_violation", "food_hygiene", "disorderly_parking",
                "non_motor_parking", "illegal_ads", "litter"})),
    ("market_environment", frozenset({"market"}),
     frozenset({"litter", "street_vending", "disorderly_parking", "non_motor_parking",
                "food_hygiene", "illegal_ads"})),
    ("village_environment", frozenset({"village"}),
     frozenset({"litter", "illegal_ads", "overhead_cables", "greenbelt_damage",
                "unsafe_charging", "missing_psa"})),
    ("residential_governance", _RESIDENTIAL,
     frozenset({"litter", "illegal_ads", "greenbelt_damage", "corridor_clutter",
                "unsafe_charging", "fire_access_blocked", "disorderly_parking",
                "non_motor_parking", "pet_nuisance"})),
    ("main_road_management", frozenset({"main_road", "intersection", "commercial_street"}),
     frozenset({"disorderly_parking", "non_motor_parking", "street_vending", "illegal_ads",
                "litter", "greenbelt_damage", "broken_facility", "traffic_violation"})),
    ("psa_upgrade", None, frozenset({"missing_psa"})),
    ("residential_governance", None,
     frozenset({"corridor_clutter", "unsafe_charging", "fire_access_blocked"})),
    ("non_motor_governance", None, frozenset({"non_motor_parking"})),
    ("overhead_cable_governance", None, frozenset({"overhead_cables"})),
    ("pet_civility", None, frozenset({"pet_nuisance"})),
    ("public_smoking_ban", None, frozenset({"public_smoking"})),
)  # fmt: skip
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "illegal_ads": ("{p}墙面张贴小广告", "{p}电线杆上乱贴办证广告", "{p}有乱涂写、喷涂广告",
                    "{p}宣传栏外乱张贴"),
    "disorderly_parking": ("{p}机动车乱停放，占用人行道", "{p}车辆违停堵塞通道",
                           "{p}机动车未按泊位停放"),
    "non_motor_parking": ("{p}非机动车停放无序", "{p}共享单车乱停乱放", "{p}电动车占用盲道停放"),
    "litter": ("{p}暴露垃圾未及时清运", "{p}垃圾桶满溢，周边脏乱", "{p}有白色垃圾",
               "{p}积存建筑垃圾"),
    "street_vending": ("{p}流动摊贩占道经营", "{p}店外经营占用人行道", "{p}早餐摊点占道经营"),
    "corridor_clutter": ("{p}楼道堆放杂物", "{p}楼道堆放纸箱、旧家具", "{p}单元门口堆物"),
    "unsafe_charging": ("{p}私拉电线飞线充电", "{p}电动车停放楼道充电", "{p}电动自行车入户充电"),
    "fire_access_blocked": ("{p}消防通道被车辆占用", "{p}消防通道堆放杂物"),
    "overhead_cables": ("{p}空中线缆杂乱下垂", "{p}废弃线缆未清理", "{p}线缆私拉乱接"),
    "pet_nuisance": ("{p}遛狗未牵绳", "{p}宠物粪便未清理"),
    "public_smoking": ("{p}有人吸烟无人劝阻", "{p}禁烟标识缺失"),
    "missing_psa": ("{p}公益广告缺失", "{p}公益广告破损褪色", "{p}未按要求设置公益宣传"),
    "greenbelt_damage": ("{p}绿化带被踩踏损毁", "{p}绿地被占用种菜", "{p}行道树缺株未补植"),
    "broken_facility": ("{p}路灯不亮", "{p}护栏破损", "{p}窨井盖缺失", "{p}宣传栏玻璃破损"),
    "construction_dust": ("{p}裸土未覆盖", "{p}出入口车辆带泥上路", "{p}围挡破损，扬尘明显"),
    "traffic_violation": ("{p}行人闯红灯", "{p}电动车逆向行驶", "{p}机动车不礼让行人"),
    "food_hygiene": ("{p}食品未离地存放", "{p}从业人员未戴口罩", "{p}餐具消毒不到位"),
}  # fmt: skip
HOUSING_CATEGORIES = frozenset({"corridor_clutter", "unsafe_charging", "fire_access_blocked"})
PLACE_WORDS = {
    "polygon": ("东门口", "西门", "南侧", "北侧", "内", "出入口"),
    "line": ("沿线", "东段", "西段", "中段", "路口"),
    "road": ("人行道上", "沿线", "路口", "公交站旁", "沿街店铺前", "绿化带旁"),
    "intersection": ("东北角", "西南角", "东南角", "西北角", "人行横道处"),
    "school_surroundings": ("校门口", "东侧", "周边", "门前"),
    "hotel": ("门前", "大堂", "停车场", "周边"),
    "internet_cafe": ("门前", "店内", "周边"),
    "small_restaurant": ("门前", "店内", "后厨", "周边"),
    "service_window": ("门前", "候车区", "出入口", "周边"),
    "practice_station": ("门前", "室内", "周边"),
}

NAME_FIRST = (
    "青云枫白鹭松柳桃梅兰竹荷星月朝晨春秋金玉石翠锦丰永长平和安宁康福瑞兴盛新东西南北紫凤鹤碧"
)
NAME_SECOND = "溪桥江湾塘浦港泾河湖岭山园林庄坊墩泉亭洲渚埭台阁"
SURNAMES = "陈王张李刘周吴徐朱孙胡沈顾陆曹施钱蒋秦季"
RESERVED_STEMS = ("云溪", "枫桥", "临江", "白鹭", "青岚")


# ------------------------------------------------------------------------- projection
@functools.cache
def _transformer(to_utm: bool) -> Transformer:
    src, dst = ("EPSG:4326", UTM_CRS) if to_utm else (UTM_CRS, "EPSG:4326")
    return Transformer.from_crs(src, dst, always_xy=True)


def _project(geoms: Any, to_utm: bool) -> Any:
    tr = _transformer(to_utm)

    def fn(c: Array) -> Array:
        x, y = tr.transform(c[:, 0], c[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)


def to_utm(geoms: Any) -> Any:
    """Project geometries (scalar or array) from EPSG:4326 lon/lat to EPSG:32651 metres."""
    return _project(geoms, True)


def to_lonlat(geoms: Any) -> Any:
    """Project geometries (scalar or array) from EPSG:32651 metres to EPSG:4326 lon/lat."""
    return _project(geoms, False)


def xy_to_lonlat(x: Array, y: Array) -> tuple[Array, Array]:
    """EPSG:32651 metres -> EPSG:4326 lon/lat arrays."""
    lon, lat = _transformer(False).transform(x, y)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def lonlat_to_xy(lon: Array, lat: Array) -> tuple[Array, Array]:
    """EPSG:4326 lon/lat -> EPSG:32651 metres arrays."""
    x, y = _transformer(True).transform(lon, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def round_geom(geom: Any) -> Any:
    """Round lon/lat coordinates to 6 decimals (the GeoJSON output precision)."""
    return shapely.transform(geom, lambda c: np.round(c, 6))


# ---------------------------------------------------------------------- city + density
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
        return float(self.base + self.weights.sum())


def make_city(rng: np.random.Generator) -> tuple[Polygon, Density]:
    """Irregular star-shaped city outline inside ``BBOX``, in EPSG:32651 metres.

    Returns the outline and the urban density field (one main centre, three secondary).
    """
    lon0, lat0, lon1, lat1 = BBOX
    m = 0.002  # keep ~200 m clear of the bbox edge
    frame = shapely.segmentize(shapely.box(lon0 + m, lat0 + m, lon1 - m, lat1 - m), 0.005)
    frame = to_utm(frame)
    cx, cy = to_utm(Point((lon0 + lon1) / 2, (lat0 + lat1) / 2)).coords[0]
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
            break
        scale *= 0.99
    angles = rng.uniform(0, 2 * np.pi) + np.arange(3) * 2 * np.pi / 3 + rng.uniform(-0.4, 0.4, 3)
    dist = rng.uniform(4200, 5600, 3)
    main = (cx + rng.uniform(-1200, 1200), cy + rng.uniform(-900, 900))
    centres = np.vstack(
        [main, np.column_stack([cx + dist * np.cos(angles), cy + dist * np.sin(angles)])]
    )
    density = Density(
        centres=centres,
        sigmas=np.array([2600.0, *rng.uniform(1100, 1700, 3)]),
        weights=np.array([1.0, *rng.uniform(0.45, 0.7, 3)]),
        base=0.05,
    )
    return city, density


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


# ------------------------------------------------------------------- exact partition
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


def _adjacency(faces: GeomArray) -> dict[int, dict[int, float]]:
    """Face -> {neighbour face: shared edge length (degrees)} for edge-sharing faces."""
    a, b = STRtree(faces).query(faces, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    bounds = shapely.boundary(faces)
    shared = shapely.length(shapely.intersection(bounds[a], bounds[b]))
    adj: dict[int, dict[int, float]] = {i: {} for i in range(len(faces))}
    for i, j, s in zip(a.tolist(), b.tolist(), shared.tolist(), strict=True):
        if s > 0:
            adj[i][j] = s
            adj[j][i] = s
    return adj


def _components(members: list[int], adj: dict[int, dict[int, float]]) -> list[list[int]]:
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


def _merge_small(
    labels: list[Label], adj: dict[int, dict[int, float]], areas: Array, depth: int
) -> bool:
    """Merge the smallest finest-level area under 5% of the median into a neighbour.

    Moving a detached piece can leave a sliver as an area of its own; it joins the
    neighbour sharing the longest edge, preferring one with the same parent.
    """
    groups: dict[Label, list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(lab[:depth], []).append(i)
    size = {k: float(areas[v].sum()) for k, v in groups.items()}
    limit = 0.05 * float(np.median(list(size.values())))
    small = sorted((v, k) for k, v in size.items() if v < limit)
    for _, key in small:
        members = set(groups[key])
        score: dict[Label, float] = {}
        for i in members:
            for j, s in adj[i].items():
                if j not in members:
                    score[labels[j]] = score.get(labels[j], 0.0) + s
        if not score:
            continue
        target = max(sorted(score), key=lambda k: (k[:-1] == key[:-1], score[k]))
        for i in members:
            labels[i] = target
        return True
    return False


def _fix_one_level(
    labels: list[Label], adj: dict[int, dict[int, float]], areas: Array, depth: int
) -> bool:
    for level in range(depth):
        groups: dict[Label, list[int]] = {}
        for i, lab in enumerate(labels):
            groups.setdefault(lab[: level + 1], []).append(i)
        changed = False
        for key in sorted(groups):
            comps = _components(groups[key], adj)
            if len(comps) == 1:
                continue
            comps.sort(key=lambda c: (-areas[c].sum(), c[0]))
            for comp in comps[1:]:
                inside = set(comp)
                score: dict[Label, float] = {}
                for i in comp:
                    for j, s in adj[i].items():
                        if j not in inside:
                            nkey = labels[j][: level + 1]
                            score[nkey] = score.get(nkey, 0.0) + s
                assert score, "isolated piece"
                target = max(sorted(score), key=lambda k: (k[:level] == key[:level], score[k]))
                for i in comp:
                    labels[i] = target + labels[i][level + 1 :]
            changed = True
        if changed:
            return True
    return False


def dissolve(faces: GeomArray, labels: Sequence[Label], level: int) -> dict[Label, Polygon]:
    """Exact union of the faces of each area at ``level`` (0 = district … 3 = grid)."""
    groups: dict[Label, list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(lab[: level + 1], []).append(i)
    out: dict[Label, Polygon] = {}
    for key in sorted(groups):
        geom = shapely.coverage_union_all(faces[groups[key]])
        assert geom.geom_type == "Polygon", (key, geom.geom_type)
        out[key] = shapely.orient_polygons(geom)
    return out


# ---------------------------------------------------------------------- names, codes
class NameMaker:
    """Unique fictional two-character place-name stems (e.g. 松岭, 梅湾)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set(RESERVED_STEMS)

    def stem(self, unique: bool = True) -> str:
        for _ in range(10_000):
            s = NAME_FIRST[self.rng.integers(len(NAME_FIRST))]
            s += NAME_SECOND[self.rng.integers(len(NAME_SECOND))]
            if s[0] != s[1] and (not unique or s not in self.used):
                self.used.add(s)
                return s
        raise RuntimeError("ran out of names")


@dataclass
class Area:
    """One administrative area; geometry in EPSG:4326, coordinates on the 6-decimal grid."""

    code: str
    name: str
    parent_code: str
    geom: Polygon
    kind: str  # city | district | street | town | community | village | grid


def _sort_key(geom: Polygon) -> tuple[float, float]:
    p = geom.representative_point()
    return (-round(p.y, 4), round(p.x, 4))  # north to south, then west to east


def name_areas(
    levels: list[dict[Label, Polygon]], density: Density, names: NameMaker
) -> list[list[Area]]:
    """Codes and names for districts, streets/towns, communities/villages and grids.

    Streets with the lowest urban density in their district become towns (镇, codes 100+);
    communities in a town other than the town seat become villages (村, codes 200+).
    """

    def density_at(geom: Polygon) -> float:
        x, y = to_utm(geom.representative_point()).coords[0]
        return float(density(np.array([x]), np.array([y]))[0])

    def children(level: int, parent: Label) -> list[Label]:
        keys = [k for k in levels[level] if k[:-1] == parent]
        return sorted(keys, key=lambda k: _sort_key(levels[level][k]))

    out: list[list[Area]] = [[], [], [], []]
    code_of: dict[Label, str] = {}
    kind_of: dict[Label, str] = {}
    for (dcode, dname), key in zip(DISTRICTS, children(0, ()), strict=True):
        code_of[key] = dcode
        out[0].append(Area(dcode, dname, CITY_CODE, levels[0][key], "district"))
        streets = children(1, key)
        urban = sorted(streets, key=lambda k: -density_at(levels[1][k]))
        n_street = max(1, math.ceil(0.6 * len(streets)))
        towns = set(urban[n_street:])
        n_st = n_tw = 0
        for skey in streets:
            is_town = skey in towns
            n_tw, n_st = (n_tw + 1, n_st) if is_town else (n_tw, n_st + 1)
            scode = dcode + (f"{99 + n_tw:03d}" if is_town else f"{n_st:03d}")
            sname = names.stem() + ("镇" if is_town else "街道")
            code_of[skey], kind_of[skey] = scode, "town" if is_town else "street"
            out[1].append(Area(scode, sname, dcode, levels[1][skey], kind_of[skey]))
    for skey in sorted(k for k in levels[1]):
        comms = children(2, skey)
        seat = max(comms, key=lambda k: density_at(levels[2][k]))
        n_co = n_vi = 0
        for ckey in comms:
            is_village = kind_of[skey] == "town" and ckey != seat
            n_vi, n_co = (n_vi + 1, n_co) if is_village else (n_vi, n_co + 1)
            ccode = code_of[skey] + (f"{199 + n_vi:03d}" if is_village else f"{n_co:03d}")
            cname = names.stem() + ("村" if is_village else "社区")
            code_of[ckey] = ccode
            kind = "village" if is_village else "community"
            out[2].append(Area(ccode, cname, code_of[skey], levels[2][ckey], kind))
            for n, gkey in enumerate(children(3, ckey), start=1):
                out[3].append(
                    Area(ccode + f"{n:03d}", f"{cname}第{n}网格", ccode, levels[3][gkey], "grid")
                )
    for level in out:
        level.sort(key=lambda a: a.code)
    return out


# ---------------------------------------------------------------------- verification
def verify_areas(city: Area, levels: list[list[Area]]) -> None:
    """Assert validity, exact tiling and code structure (areas in EPSG:32651, m²).

    Per parent: area(union(children) △ parent) < 1 m²; any two siblings overlap < 0.01 m²;
    each level is a valid polygonal coverage (shared edges identical vertex by vertex).
    """
    digits = {0: 6, 1: 9, 2: 12, 3: 15}
    parents = [city]
    for depth, areas in enumerate(levels):
        geoms = np.asarray([a.geom for a in areas], dtype=object)
        assert all(g.geom_type == "Polygon" for g in geoms), "non-Polygon area"
        assert shapely.is_valid(geoms).all(), "invalid area geometry"
        assert shapely.coverage_is_valid(geoms), f"level {depth} is not an exact coverage"
        assert np.array_equal(
            shapely.get_coordinates(geoms), np.round(shapely.get_coordinates(geoms), 6)
        )
        codes = [a.code for a in areas]
        assert len(set(codes)) == len(codes), "duplicate code"
        by_code = {p.code: p for p in parents}
        for a in areas:
            assert len(a.code) == digits[depth] and a.code.isdigit(), a.code
            prefix = a.parent_code[:4] if depth == 0 else a.parent_code  # 3299xx in 329900
            assert a.code.startswith(prefix) and a.parent_code in by_code, a.code
        utm = to_utm(geoms)
        for p in parents:
            idx = [i for i, a in enumerate(areas) if a.parent_code == p.code]
            assert idx, f"{p.code} has no children"
            union = shapely.union_all(utm[idx])
            diff = shapely.symmetric_difference(union, to_utm(p.geom)).area
            assert diff < 1.0, f"children of {p.code} differ from it by {diff:.3f} m²"
        a_idx, b_idx = STRtree(utm).query(utm, predicate="intersects")
        keep = a_idx < b_idx
        inter = shapely.area(shapely.intersection(utm[a_idx[keep]], utm[b_idx[keep]]))
        assert inter.max(initial=0.0) < 0.01, f"sibling overlap {inter.max():.4f} m²"
        parents = areas


# ----------------------------------------------------------------- inspection points
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
    """Everything the point and problem generators need to know about the city."""

    rng: np.random.Generator
    density: Density
    city: Area
    city_utm: Polygon
    levels: list[list[Area]]
    names: NameMaker
    roads: list[str]

    trees: dict[int, STRtree] = field(default_factory=dict)

    def locate(self, geom: BaseGeometry, level: int) -> Area:
        """The area at ``level`` (0 district, 1 street, 2 community) holding ``geom``."""
        if level not in self.trees:
            self.trees[level] = STRtree([a.geom for a in self.levels[level]])
        tree = self.trees[level]
        anchor = geom.representative_point()
        hits = tree.query(anchor, predicate="intersects")
        if len(hits) == 0:
            hits = np.asarray([tree.query_nearest(anchor)[0]])
        return self.levels[level][int(hits.min())]

    def district_of(self, street: Area) -> Area:
        return next(d for d in self.levels[0] if d.code == street.parent_code)


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
        ring = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
        ring += rng.normal(0, jitter * size, ring.shape)
    else:
        t = np.sort(rng.uniform(0, 2 * np.pi, vertices))
        r = size / 2 * rng.uniform(1 - jitter, 1 + jitter, vertices)
        ring = np.column_stack([r * np.cos(t), 0.75 * r * np.sin(t)])
    c, s = math.cos(axis), math.sin(axis)
    ring = ring @ np.array([[c, s], [-s, c]])
    return shapely.convex_hull(Polygon(ring + centre)) if vertices > 4 else Polygon(ring + centre)


def make_shape(ctx: Context, kind: str, centre: Array, axis: float) -> BaseGeometry:
    """Geometry (EPSG:32651) of one inspection point of ``kind`` at ``centre``."""
    spec, rng = KINDS[kind], ctx.rng
    lo, hi = spec.size
    axis += rng.choice([0.0, math.pi / 2]) + rng.normal(0, 0.08)
    if spec.geom == "point":
        return Point(centre)
    if spec.geom == "line":
        bends = {"main_road": (0.05, 5), "commercial_street": (0.06, 3)}.get(kind, (0.2, 3))
        return _polyline(rng, centre, rng.uniform(lo, hi), axis, *bends)
    if kind == "market":
        w, h = rng.uniform(40, 60), rng.uniform(65, 95)
        ring = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
        c, s = math.cos(axis), math.sin(axis)
        return Polygon(ring @ np.array([[c, s], [-s, c]]) + centre)
    vertices = {"village": 9, "public_place": 7}.get(kind, 4)
    jitter = {"village": 0.25, "public_place": 0.15}.get(kind, 0.06)
    return _blob(rng, centre, rng.uniform(lo, hi), axis, vertices, jitter)


def make_points(ctx: Context, n_points: int) -> list[InspectionPoint]:
    """Inspection points of every kind, inside the city, polygons not overlapping.

    Main roads are drawn first; intersections are where they cross (the rest are random).
    One practice station per community and per street/town. Sizes are in metres.
    """
    rng = ctx.rng
    scale = n_points / 800.0
    axis = float(rng.uniform(0, math.pi / 2))  # orientation of the city's road grid
    placed_polys: list[Polygon] = []
    points: list[InspectionPoint] = []
    used_names: set[str] = set()
    villages = [a for a in ctx.levels[2] if a.kind == "village"]
    for kind, spec in KINDS.items():
        if kind == "intersection":
            points += _intersections(ctx, points, max(1, round(spec.count * scale)), used_names)
            continue
        if kind == "practice_station":
            points += _practice_stations(ctx)
            continue
        count = max(1, round(spec.count * scale))
        for _ in range(count):
            for _attempt in range(200):
                centre = _draw_location(ctx, spec.where, villages)
                utm = make_shape(ctx, kind, centre, axis)
                geom = shapely.orient_polygons(round_geom(to_lonlat(utm)))  # RFC 7946 winding
                if not (geom.is_valid and ctx.city.geom.contains(geom)):
                    continue
                if spec.geom == "polygon" and any(geom.intersects(p) for p in placed_polys):
                    continue
                break
            else:
                raise RuntimeError(f"could not place a {kind}")
            if spec.geom == "polygon":
                placed_polys.append(geom)
            name = _point_name(ctx, kind, used_names)
            points.append(_finish_point(ctx, kind, name, geom))
    for i, p in enumerate(points, start=1):
        p.code = f"P{i:06d}"
    return points


def _draw_location(ctx: Context, where: str, villages: list[Area]) -> Array:
    if where == "rural" and villages:
        area = villages[int(ctx.rng.integers(len(villages)))]
        return sample_in(to_utm(area.geom), 1, ctx.rng, ctx.density, 0.0)[0]
    power = {"urban": 1.6, "any": 0.7}.get(where, 0.0)
    return sample_in(ctx.city_utm, 1, ctx.rng, ctx.density, power)[0]


def _point_name(ctx: Context, kind: str, used: set[str]) -> str:
    suffixes = KINDS[kind].suffixes
    for _ in range(1000):
        suffix = suffixes[int(ctx.rng.integers(len(suffixes)))]
        if kind == "village":
            name = SURNAMES[int(ctx.rng.integers(len(SURNAMES)))] + suffix
        elif kind == "main_road":
            name = ctx.roads[int(ctx.rng.integers(len(ctx.roads)))]
        else:
            name = ctx.names.stem(unique=False) + suffix
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("ran out of point names")


def _finish_point(ctx: Context, kind: str, name: str, geom: BaseGeometry) -> InspectionPoint:
    street = ctx.locate(geom, 1)
    district = ctx.district_of(street)
    rng = ctx.rng
    if geom.geom_type == "LineString":
        a, b = (ctx.roads[int(i)] for i in rng.choice(len(ctx.roads), 2, replace=False))
        address = f"{district.name}{street.name}{name}（{a}至{b}）"
    elif kind == "intersection":
        address = f"{district.name}{street.name}{name}"
    elif kind in ("village", "practice_station"):
        address = f"{district.name}{street.name}{ctx.locate(geom, 2).name}"
    else:
        road = ctx.roads[int(rng.integers(len(ctx.roads)))]
        address = f"{district.name}{street.name}{road}{int(rng.integers(1, 400))}号"
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
            if any(to_utm(geom).distance(t) < 80 for t in taken):
                continue
            if not ctx.city.geom.contains(geom):
                continue
            name = f"{a.name}与{b.name}交叉口"
            used.add(name)
            taken.append(to_utm(geom))
            out.append(_finish_point(ctx, "intersection", name, geom))
    while len(out) < count:
        centre = _draw_location(ctx, "urban", [])
        geom = round_geom(to_lonlat(Point(centre)))
        r1, r2 = (ctx.roads[int(i)] for i in ctx.rng.choice(len(ctx.roads), 2, replace=False))
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
                geom = round_geom(to_lonlat(Point(centre)))
                if area.geom.contains(geom):
                    break
            out.append(_finish_point(ctx, "practice_station", area.name + suffix, geom))
    return out


# --------------------------------------------------------------------------- problems
@dataclass
class Problems:
    """Problem columns as arrays; times are integer minutes after ``START_TIME``."""

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


NEVER = np.iinfo(np.int64).max // 4


def make_problems(ctx: Context, points: list[InspectionPoint], n: int) -> Problems:
    """``n`` problems over the ``WINDOW_DAYS`` days before ``REFERENCE_TIME``.

    About 60% fall in 5–8 Gaussian hot spots and 40% are spread with the urban density;
    about half are moved within 30 m of a nearby inspection point and linked to it.
    Categories follow the linked point's kind; lifecycle times are simulated per category.
    """
    rng = ctx.rng
    x, y = _anchors(ctx, points, n)
    linked = rng.random(n) < 0.5
    link = np.full(n, -1)
    link[linked] = _choose_points(ctx, points, x[linked], y[linked])
    x, y, lon, lat = _place(ctx, points, x, y, link)
    kinds = np.array([points[i].kind if i >= 0 else "" for i in link])
    category = _categories(rng, kinds)
    found, assigned, deadline, rectified, closed, reopened = _lifecycle(rng, category)
    return Problems(
        lon=lon,
        lat=lat,
        category=category,
        description=_descriptions(ctx, points, link, category, lon, lat),
        found=found,
        assigned=assigned,
        deadline=deadline,
        rectified=rectified,
        closed=closed,
        reopened=reopened,
        unit=_units(ctx, points, link, category, lon, lat),
        campaign=_campaigns(rng, kinds, category, found),
        point_code=[points[i].code if i >= 0 else "" for i in link],
    )


def _anchors(ctx: Context, points: list[InspectionPoint], n: int) -> tuple[Array, Array]:
    """Problem locations before linking (EPSG:32651): hot spots plus a density background."""
    rng = ctx.rng
    candidates = [
        p
        for p in points
        if p.kind
        in (
            "market",
            "commercial_street",
            "old_residential",
            "small_restaurant",
            "back_alley",
            "school_surroundings",
        )
    ]
    cxy = np.array([p.utm.centroid.coords[0] for p in candidates])
    pull = ctx.density(cxy[:, 0], cxy[:, 1]) ** 2
    order = rng.choice(len(candidates), len(candidates), replace=False, p=pull / pull.sum())
    n_hot = int(rng.integers(5, 9))
    hot: list[Array] = []
    for i in order:
        if all(np.hypot(*(cxy[i] - h)) > 1500 for h in hot):
            hot.append(cxy[i])
        if len(hot) == n_hot:
            break
    centres = np.array(hot)
    sigma = rng.uniform(180, 550, len(hot))
    share = rng.dirichlet(np.full(len(hot), 3.0))
    in_hot = rng.random(n) < 0.6
    which = rng.choice(len(hot), n, p=share)
    x = np.empty(n)
    y = np.empty(n)
    x[in_hot] = centres[which[in_hot], 0] + rng.normal(0, 1, in_hot.sum()) * sigma[which[in_hot]]
    y[in_hot] = centres[which[in_hot], 1] + rng.normal(0, 1, in_hot.sum()) * sigma[which[in_hot]]
    bg = sample_in(ctx.city_utm, int((~in_hot).sum()), rng, ctx.density, 0.6)
    x[~in_hot], y[~in_hot] = bg[:, 0], bg[:, 1]
    outside = ~shapely.contains_xy(ctx.city_utm, x, y)
    redo = sample_in(ctx.city_utm, int(outside.sum()), rng, ctx.density, 1.0)
    x[outside], y[outside] = redo[:, 0], redo[:, 1]
    return x, y


def _choose_points(
    ctx: Context, points: list[InspectionPoint], x: Array, y: Array
) -> NDArray[np.int64]:
    """For each location, a nearby inspection point: score = attraction − distance/250 m."""
    utm = np.asarray([p.utm for p in points], dtype=object)
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
    ctx: Context, points: list[InspectionPoint], x: Array, y: Array, link: NDArray[np.int64]
) -> tuple[Array, Array, Array, Array]:
    """Move linked problems to within 30 m of their point; round lon/lat to 6 decimals.

    Returns x, y (EPSG:32651 metres, after rounding) and lon, lat (EPSG:4326).
    """
    rng = ctx.rng
    x, y = x.copy(), y.copy()
    todo = link >= 0
    utm = np.asarray([p.utm for p in points], dtype=object)
    lon = np.zeros(len(x))
    lat = np.zeros(len(x))
    for _ in range(50):
        idx = np.flatnonzero(todo)
        if len(idx):
            geoms = utm[link[idx]]
            kind = shapely.get_type_id(geoms)
            px, py = _near(rng, geoms, kind)
            x[idx], y[idx] = px, py
        lon_t, lat_t = xy_to_lonlat(x, y)
        lon, lat = np.round(lon_t, 6), np.round(lat_t, 6)
        ok = shapely.contains_xy(ctx.city.geom, lon, lat)
        rx, ry = lonlat_to_xy(lon, lat)
        has = link >= 0
        near = np.ones(len(x), dtype=bool)
        near[has] = shapely.distance(shapely.points(rx[has], ry[has]), utm[link[has]]) <= 29.5
        bad = ~(ok & near)
        if not bad.any():
            return rx, ry, lon, lat
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


def _shift_to_day(rng: np.random.Generator, t: NDArray[np.int64]) -> NDArray[np.int64]:
    """Move times between 21:00 and 07:30 forward to the next morning (never backward)."""
    t = t.copy()
    tod = t % 1440
    live = t < NEVER
    jitter = rng.integers(0, 150, len(t))
    early = live & (tod < 450)
    late = live & (tod > 1260)
    t[early] += 450 - tod[early] + jitter[early]
    t[late] += 1440 - tod[late] + 450 + jitter[late]
    return t


def _found_times(rng: np.random.Generator, n: int) -> NDArray[np.int64]:
    """Discovery times: more on weekdays and in the campaign's action/evaluation phases."""
    days = np.arange(WINDOW_DAYS)
    dates = [START_TIME + timedelta(days=int(d)) for d in days]
    weekday = np.array([d.weekday() for d in dates])
    w = np.where(weekday == 5, 0.35, np.where(weekday == 6, 0.25, 1.0))
    month = np.array([d.month for d in dates])
    w *= np.select([month <= 8, month == 9], [1.25, 1.35], 0.9)
    day = rng.choice(days, n, p=w / w.sum())
    office = rng.random(n) < 0.85
    morning = rng.random(n) < 0.55
    tod = np.where(morning, rng.normal(600, 70, n), rng.normal(900, 80, n))
    tod = np.where(office, np.clip(tod, 450, 1110), rng.uniform(360, 1320, n))
    return (day * 1440 + tod.astype(np.int64)).astype(np.int64)


def _deadlines(found: NDArray[np.int64], category: NDArray[np.str_]) -> NDArray[np.int64]:
    """found + the category deadline in natural or working days (same time of day)."""
    horizon = WINDOW_DAYS + 120
    dates = [START_TIME + timedelta(days=d) for d in range(horizon)]
    workday = np.array([d.weekday() < 5 and d.date().isoformat() not in HOLIDAYS for d in dates])
    count = np.cumsum(workday)  # working days up to and including each day
    days = np.array([CATEGORIES[c][1] for c in category])
    working = np.array([CATEGORIES[c][2] == "working" for c in category])
    day = found // 1440
    target_day = np.where(working, np.searchsorted(count, count[day] + days), day + days)
    return found + (target_day - day) * 1440


def _lifecycle(
    rng: np.random.Generator, category: NDArray[np.str_]
) -> tuple[NDArray[np.int64], ...]:
    """Simulate found → assigned → rectified → closed (→ reopened …) in minutes.

    Returns found, assigned, deadline, rectified, closed, reopened; a time at or after
    the snapshot (``REF_MINUTES``) has not happened yet.
    """
    n = len(category)
    days = np.array([CATEGORIES[c][1] for c in category])
    slow_p = np.array([SLOW.get(c, SLOW_DEFAULT) for c in category])
    found = _found_times(rng, n)
    deadline = _deadlines(found, category)
    days = (deadline - found) // 1440  # calendar days allowed
    delay = np.clip(rng.lognormal(math.log(180), 0.9, n), 5, 3 * 1440).astype(np.int64)
    assigned = _shift_to_day(rng, found + delay)
    assigned[rng.random(n) < 0.004] = NEVER

    def work(start: NDArray[np.int64], median: float) -> tuple[NDArray[np.int64], ...]:
        factor = rng.lognormal(math.log(median), 0.75, n)
        work_min = np.maximum(30, days * 1440 * factor)
        slow = rng.random(n) < slow_p
        work_min[slow] += rng.exponential(45 * 1440, int(slow.sum()))
        rect = _shift_to_day(rng, np.where(start < NEVER, start + work_min.astype(np.int64), NEVER))
        rect[slow & (rng.random(n) < 0.1)] = NEVER
        wait = np.clip(rng.lognormal(math.log(2.5 * 1440), 0.9, n), 60, 40 * 1440)
        backlog = rng.random(n) < 0.15  # the inspector's verification visit is late
        wait[backlog] += rng.exponential(25 * 1440, int(backlog.sum()))
        close = _shift_to_day(rng, np.where(rect < NEVER, rect + wait.astype(np.int64), NEVER))
        close[rng.random(n) < 0.01] = NEVER  # verification lost in the shuffle
        return rect, close

    rectified, closed = work(assigned, 0.3)
    reopened = np.zeros(n, dtype=np.int64)
    chance = rng.random(n) < 0.07  # a re-inspection (回头看) reopens the closed problem
    for again_p in (0.12, 0.0):
        again = _shift_to_day(rng, closed + rng.integers(2 * 1440, 25 * 1440, n))
        hit = chance & (closed < REF_MINUTES) & (again < REF_MINUTES)
        rect2, close2 = work(again, 0.3)
        reopened[hit] += 1
        assigned[hit], rectified[hit], closed[hit] = again[hit], rect2[hit], close2[hit]
        chance = hit & (rng.random(n) < again_p)
    return found, assigned, deadline, rectified, closed, reopened


def _units(
    ctx: Context,
    points: list[InspectionPoint],
    link: NDArray[np.int64],
    category: NDArray[np.str_],
    lon: Array,
    lat: Array,
) -> list[str]:
    """Responsible unit: the linked point's unit (mostly), else by category and place."""
    streets = _street_index(ctx, lon, lat)
    rng = ctx.rng
    own = ("办事处", "人民政府", "城管局")  # general-purpose units take any category
    pick = rng.random(len(link))
    out: list[str] = []
    for i, cat in enumerate(category.tolist()):
        street = ctx.levels[1][streets[i]]
        district = ctx.district_of(street).name
        kind = points[link[i]].kind if link[i] >= 0 else ""
        if kind and (cat in _top_categories(kind) or points[link[i]].unit.endswith(own)):
            out.append(points[link[i]].unit)
        elif cat in (
            "illegal_ads",
            "litter",
            "street_vending",
            "disorderly_parking",
            "broken_facility",
        ):
            out.append(district + "城管局" if pick[i] < 0.6 else street_unit(street))
        else:
            out.append(
                {
                    "traffic_violation": "市公安局交警支队",
                    "food_hygiene": district + "市场监管局",
                    "construction_dust": "市住建局",
                    "greenbelt_damage": "市园林绿化局",
                    "public_smoking": "市卫生健康委",
                    "missing_psa": "市文明办" if pick[i] < 0.4 else street_unit(street),
                }.get(cat, street_unit(street))
            )
    return out


@functools.cache
def _top_categories(kind: str) -> frozenset[str]:
    """The three most common categories at a point kind: its unit's own business."""
    table = KIND_CATEGORIES[kind]
    return frozenset(sorted(table, key=lambda c: -table[c])[:3])


def _street_index(ctx: Context, lon: Array, lat: Array) -> NDArray[np.int64]:
    tree = STRtree([a.geom for a in ctx.levels[1]])
    p_idx, s_idx = tree.query(shapely.points(lon, lat), predicate="intersects")
    out = np.full(len(lon), -1)
    for p, s in zip(p_idx[::-1].tolist(), s_idx[::-1].tolist(), strict=True):
        out[p] = s  # lowest street index wins on a shared edge
    assert (out >= 0).all(), "problem outside every street"
    return out


def _descriptions(
    ctx: Context,
    points: list[InspectionPoint],
    link: NDArray[np.int64],
    category: NDArray[np.str_],
    lon: Array,
    lat: Array,
) -> list[str]:
    """Short Chinese descriptions from per-category templates and a place phrase."""
    rng = ctx.rng
    tree = STRtree([a.geom for a in ctx.levels[2]])
    nearest_comm = tree.query_nearest(shapely.points(lon, lat), all_matches=False)[1]
    out: list[str] = []
    r = rng.random((len(link), 4))
    for i, cat in enumerate(category.tolist()):
        templates = DESCRIPTIONS[cat]
        template = templates[int(r[i, 0] * len(templates))]
        if cat in HOUSING_CATEGORIES:
            base = points[link[i]].name if link[i] >= 0 else ctx.levels[2][nearest_comm[i]].name
            place = f"{base}{int(r[i, 1] * 30) + 1}幢"
        elif link[i] >= 0:
            p = points[link[i]]
            words = PLACE_WORDS.get(p.kind) or PLACE_WORDS[KINDS[p.kind].geom]
            place = p.name + words[int(r[i, 1] * len(words))]
        else:
            words = PLACE_WORDS["road"]
            place = ctx.roads[int(r[i, 2] * len(ctx.roads))] + words[int(r[i, 1] * len(words))]
        out.append(template.format(p=place))
    return out


def _campaigns(
    rng: np.random.Generator,
    kinds: NDArray[np.str_],
    category: NDArray[np.str_],
    found: NDArray[np.int64],
) -> list[str]:
    """Campaign of each problem: the first matching rule, tagged for a minority only."""
    end_of_august = (datetime(2026, 9, 1, tzinfo=TZ) - START_TIME) // timedelta(minutes=1)
    p_tag = np.where(found < end_of_august, 0.45, 0.3)
    tag = rng.random(len(kinds)) < p_tag
    out: list[str] = []
    for kind, cat, t in zip(kinds.tolist(), category.tolist(), tag.tolist(), strict=True):
        name = ""
        if t:
            for campaign, rule_kinds, cats in CAMPAIGN_RULES:
                if cat in cats and (rule_kinds is None or kind in rule_kinds):
                    name = campaign
                    break
        out.append(name)
    return out


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


# ---------------------------------------------------------------------------- writing
def _num(v: float) -> str:
    s = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _coords(geom: BaseGeometry) -> str:
    def seq(cs: Any) -> str:
        return "[" + ",".join(f"[{_num(x)},{_num(y)}]" for x, y in cs) + "]"

    if geom.geom_type == "Point":
        return f"[{_num(geom.x)},{_num(geom.y)}]"
    if geom.geom_type == "LineString":
        return seq(geom.coords)
    rings = [geom.exterior, *geom.interiors]
    return "[" + ",".join(seq(r.coords) for r in rings) + "]"


def write_geojson(path: Path, features: Sequence[tuple[dict[str, Any], BaseGeometry]]) -> None:
    """RFC 7946 FeatureCollection, one feature per line, coordinates with ≤ 6 decimals."""
    lines = []
    for props, geom in features:
        p = json.dumps(props, ensure_ascii=False, separators=(",", ":"))
        g = f'{{"type":"{geom.geom_type}","coordinates":{_coords(geom)}}}'
        lines.append(f'{{"type":"Feature","properties":{p},"geometry":{g}}}')
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")


def _iso(minutes: int, future_ok: bool = False) -> str:
    """ISO 8601 with +08:00; empty for an event that has not happened by the snapshot."""
    if minutes >= REF_MINUTES and not future_ok:
        return ""
    return (START_TIME + timedelta(minutes=int(minutes))).isoformat()


def write_problems(path: Path, pr: Problems) -> dict[str, int]:
    """Write problems.csv (UTF-8, no BOM, ``\\n`` line ends); return status counts."""
    counts: dict[str, int] = {"found": 0, "assigned": 0, "rectified": 0, "closed": 0}
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for i in range(len(pr.lon)):
            closed, rect = _iso(pr.closed[i]), _iso(pr.rectified[i])
            assigned = pr.assigned[i] < REF_MINUTES
            status = (
                "closed" if closed else "rectified" if rect else "assigned" if assigned else "found"
            )
            counts[status] += 1
            w.writerow(
                [
                    f"DEMO-{i + 1:06d}",
                    f"{pr.lon[i]:.6f}",
                    f"{pr.lat[i]:.6f}",
                    pr.category[i],
                    pr.description[i],
                    _iso(pr.found[i]),
                    status,
                    pr.unit[i] if assigned else "",
                    _iso(pr.deadline[i], future_ok=True) if assigned else "",
                    rect if status in ("rectified", "closed") else "",
                    closed,
                    int(pr.reopened[i]),
                    pr.campaign[i],
                    pr.point_code[i],
                ]
            )
    return counts


def area_features(
    areas: Sequence[Area], with_parent: bool = True
) -> list[tuple[dict[str, Any], BaseGeometry]]:
    """(properties, geometry) pairs for an area level."""
    out = []
    for a in areas:
        props: dict[str, Any] = {"code": a.code, "name": a.name}
        if with_parent:
            props["parent_code"] = a.parent_code
        out.append((props, a.geom))
    return out


# ------------------------------------------------------------------------------- main
def build_areas(
    streams: Sequence[np.random.Generator], n_grids: int, log: Callable[[str], None]
) -> tuple[Area, list[list[Area]], Polygon, Density, NameMaker]:
    """City, districts, streets, communities and grids (EPSG:4326), verified exact.

    ``streams``: random generators for the upper levels, the grids and the names.
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


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/demo"), help="output folder")
    parser.add_argument("--grids", type=int, default=1500, help="approximate number of grids")
    parser.add_argument("--problems", type=int, default=20000, help="number of problems")
    parser.add_argument("--points", type=int, default=800, help="approximate inspection points")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[make_demo_city {time.perf_counter() - t0:6.1f}s] {msg}", flush=True)

    # one independent stream per stage, so a size knob only changes its own layer
    streams = np.random.default_rng(SEED).spawn(5)
    city, levels, city_utm, density, names = build_areas(streams[:3], args.grids, log)
    roads = [names.stem() + ("大道" if i % 6 == 0 else "路") for i in range(80)]
    ctx = Context(streams[3], density, city, city_utm, levels, names, roads)
    points = make_points(ctx, args.points)
    log(f"inspection points: {len(points)}")
    ctx.rng = streams[4]
    problems = make_problems(ctx, points, args.problems)
    verify_problems(ctx, points, problems)
    log(f"problems: {args.problems}")

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_geojson(out / "city.geojson", area_features([city], with_parent=False))
    write_geojson(out / "districts.geojson", area_features(levels[0]))
    for name, areas in zip(("streets", "communities", "grids"), levels[1:], strict=True):
        write_geojson(out / f"{name}.geojson", area_features(areas))
    write_geojson(
        out / "points.geojson",
        [
            (
                {
                    "code": p.code,
                    "name": p.name,
                    "kind": p.kind,
                    "address": p.address,
                    "unit": p.unit,
                },
                p.geom,
            )
            for p in points
        ],
    )
    counts = write_problems(out / "problems.csv", problems)
    sizes = ", ".join(
        f"{len(a)} {n}"
        for n, a in zip(("districts", "streets", "communities", "grids"), levels, strict=True)
    )
    log(f"wrote {out}: {sizes}, {len(points)} points, {args.problems} problems {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
