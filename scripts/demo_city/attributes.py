"""Per-problem attributes: responsible unit, Chinese description, campaign tag.

Problem lon/lat are EPSG:4326 degrees, matched against the EPSG:4326 streets and
communities; found times are integer minutes after ``START_TIME`` (UTC+08:00).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

import numpy as np
import shapely
from numpy.typing import NDArray

from .config import START_TIME, TZ, Array
from .hierarchy import Area
from .points import Context, InspectionPoint, street_unit
from .tables import (
    CAMPAIGN_RULES,
    DESCRIPTIONS,
    HOUSING_CATEGORIES,
    KIND_CATEGORIES,
    KINDS,
    PLACE_WORDS,
)

# categories any street office or the district's city management takes on
GENERAL_CATEGORIES = frozenset(
    {"illegal_ads", "litter", "street_vending", "disorderly_parking", "broken_facility"}
)
GENERAL_UNITS = ("办事处", "人民政府", "城管局")  # units that take any category at their point


def units(
    ctx: Context,
    points: list[InspectionPoint],
    link: NDArray[np.int64],
    category: NDArray[np.str_],
    lon: Array,
    lat: Array,
) -> list[str]:
    """Responsible unit: the linked point's unit (mostly), else by category and place."""
    streets = _street_index(ctx, lon, lat)
    pick = ctx.rng.random(len(link))
    out: list[str] = []
    for i, cat in enumerate(category.tolist()):
        street = ctx.levels[1][streets[i]]
        point = points[link[i]] if link[i] >= 0 else None
        if point is not None and (
            cat in _top_categories(point.kind) or point.unit.endswith(GENERAL_UNITS)
        ):
            out.append(point.unit)
        else:
            out.append(_category_unit(cat, ctx.district_of(street), street, float(pick[i])))
    return out


def _category_unit(cat: str, district: Area, street: Area, pick: float) -> str:
    """The unit for a category at a place; ``pick`` in [0, 1) splits shared categories."""
    if cat in GENERAL_CATEGORIES:
        return district.name + "城管局" if pick < 0.6 else street_unit(street)
    if cat == "missing_psa":
        return "市文明办" if pick < 0.4 else street_unit(street)
    return {
        "traffic_violation": "市公安局交警支队",
        "food_hygiene": district.name + "市场监管局",
        "construction_dust": "市住建局",
        "greenbelt_damage": "市园林绿化局",
        "public_smoking": "市卫生健康委",
    }.get(cat, street_unit(street))


@functools.cache
def _top_categories(kind: str) -> frozenset[str]:
    """The three most common categories at a point kind: its unit's own business."""
    table = KIND_CATEGORIES[kind]
    return frozenset(sorted(table, key=lambda c: -table[c])[:3])


def _street_index(ctx: Context, lon: Array, lat: Array) -> NDArray[np.int64]:
    """Index in ``ctx.levels[1]`` of the street holding each lon/lat (lowest on an edge)."""
    p_idx, s_idx = ctx.tree(1).query(shapely.points(lon, lat), predicate="intersects")
    out = np.full(len(lon), -1)
    for p, s in zip(p_idx[::-1].tolist(), s_idx[::-1].tolist(), strict=True):
        out[p] = s  # lowest street index wins on a shared edge
    assert (out >= 0).all(), "problem outside every street"
    return out


def descriptions(
    ctx: Context,
    points: list[InspectionPoint],
    link: NDArray[np.int64],
    category: NDArray[np.str_],
    lon: Array,
    lat: Array,
) -> list[str]:
    """Short Chinese descriptions from per-category templates and a place phrase."""
    nearest_comm = ctx.tree(2).query_nearest(shapely.points(lon, lat), all_matches=False)[1]
    out: list[str] = []
    r = ctx.rng.random((len(link), 4))
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


def campaigns(
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
        out.append(_campaign(kind, cat) if t else "")
    return out


def _campaign(kind: str, category: str) -> str:
    """The first campaign rule matching a point kind ("" if unlinked) and a category."""
    for campaign, rule_kinds, cats in CAMPAIGN_RULES:
        if category in cats and (rule_kinds is None or kind in rule_kinds):
            return campaign
    return ""
