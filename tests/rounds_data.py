"""A tiny city with inspection points and one round, for the rounds / coverage / notice tests.

Points (street in brackets): M1 market (东门 329901001, unit 东门街道办事处), M2 market
(西门 329901002), A1 back alley (东门), A2 back alley (南湖 329902001), S1 school
surroundings (北岭 329902101). The round "2026年第四季度实地测评" (1 Oct – 31 Dec 2026)
covers markets and back alleys in district 329901 and street 329902001: M1, M2, A1, A2.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from geo.areas.loading import AreaLoadOptions, load_areas
from geo.areas.points import load_points
from geo.core.taxonomy_file import default_taxonomy
from geo.rounds.rounds import RoundSpec, VisitInput, create_round, find_round, record_visit
from geo.storage.db import transaction
from tests.helpers import (
    XSS,
    line_feature,
    load_tiny_city,
    point_feature,
    polygon_feature,
    write_geojson,
)
from tests.lifecycle_data import GRIDS

ROUND = "2026年第四季度实地测评"
SPEC = RoundSpec(
    name=ROUND,
    starts_on=date(2026, 10, 1),
    ends_on=date(2026, 12, 31),
    point_kinds=("market", "背街小巷"),
    areas=("district:329901", "329902001"),
    created_by="市创建办",
)
POINTS = [
    polygon_feature(
        [(120.815, 32.005), (120.825, 32.005), (120.825, 32.015), (120.815, 32.015)],
        code="M1",
        name=f"东门农贸市场{XSS}",
        kind="market",
        unit="东门街道办事处",
    ),
    point_feature(120.86, 32.02, code="M2", name="西门菜场", kind="market"),
    line_feature([(120.81, 32.03), (120.83, 32.03)], code="A1", name="东门后街", kind="back_alley"),
    line_feature([(120.91, 32.03), (120.93, 32.03)], code="A2", name="南湖巷", kind="back_alley"),
    point_feature(120.96, 32.01, code="S1", name="北岭小学", kind="school_surroundings"),
]

# Visits (times UTC; +8 h in Beijing): M1 fails with two problems; M2 passes; A1 first
# fails seriously, then passes a re-visit; A2 is not visited; S1 is out of scope.
VISITS = [
    VisitInput(
        "M1",
        datetime(2026, 11, 16, 2, 0),
        "测评员甲",
        "fail",
        "入口垃圾堆放",
        (("litter", "入口垃圾堆放"), ("street_vending", "店外经营")),
    ),
    VisitInput("M2", datetime(2026, 11, 16, 3, 0), "测评员甲", "合格"),
    VisitInput(
        "A1",
        datetime(2026, 11, 16, 4, 0),
        "测评员乙",
        "serious_fail",
        problems=(("illegal_ads", "墙面小广告"),),
    ),
    VisitInput("A1", datetime(2026, 11, 20, 4, 0), "测评员乙", "pass", "已整改"),
]


def load_round_city(engine: Engine, tmp_path: Path, visits: bool = True) -> int:
    """Tiny city, grids, the five points, the round and (optionally) the visits; returns
    the round id."""
    load_tiny_city(engine, tmp_path)
    load_areas(engine, write_geojson(tmp_path / "grids.geojson", GRIDS), AreaLoadOptions("grid"))
    load_points(engine, write_geojson(tmp_path / "round-points.geojson", POINTS))
    taxonomy = default_taxonomy()
    with transaction(engine) as session:
        rnd = create_round(session, SPEC, taxonomy)
        round_id = rnd.id
        if visits:
            for visit in VISITS:
                record_visit(session, rnd, visit, taxonomy)
    return round_id


def round_of(engine: Engine) -> object:
    with transaction(engine, write=False) as session:
        return find_round(session, ROUND)
