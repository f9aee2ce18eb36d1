"""Hot spots (Getis-Ord Gi*, queen contiguity) and rebounds (same category again soon
after closing) in geo/reports/hotspots.py and geo/reports/rebounds.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, resolve_scope
from geo.areas.loading import AreaLoadOptions, load_areas
from geo.ingest.pipeline import ingest_file
from geo.reports.heat import area_heat
from geo.reports.heat_filters import HeatFilters
from geo.reports.hotspots import hotspots
from geo.reports.rebounds import rebounds
from tests.dbcache import cached_city
from tests.helpers import area_ids, box_feature, load_heat_city, write_csv, write_geojson

SIZE = 7  # a 7 × 7 lattice of 0.01° grids; the 3 × 3 corner at (0, 0) holds the problems
CELL = 0.01


def _cell(i: int, j: int) -> tuple[float, float]:
    return 120.80 + i * CELL + CELL / 2, 32.00 + j * CELL + CELL / 2


@cached_city
def load_lattice_city(engine, tmp_path: Path) -> None:
    grids = [
        box_feature(*_cell(i, j), *_cell(i + 1, j + 1), code=f"G{i}{j}", name=f"格{i}{j}")
        for i in range(SIZE)
        for j in range(SIZE)
    ]
    for feature in grids:  # boxes from cell corners, not centres
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"][0] = [[x - CELL / 2, y - CELL / 2] for x, y in ring]
    load_areas(engine, write_geojson(tmp_path / "lattice.geojson", grids), AreaLoadOptions("grid"))
    lines = ["id,lon,lat,category,found_at"]
    n = 0
    for i in range(SIZE):
        for j in range(SIZE):
            many = 6 if i < 3 and j < 3 else (1 if (i + j) % 3 == 0 else 0)
            for _ in range(many):
                n += 1
                lon, lat = _cell(i, j)
                lines.append(f"H{n},{lon:.4f},{lat:.4f},litter,2026-11-0{1 + n % 8}T09:00:00+08:00")
    ingest_file(engine, write_csv(tmp_path / "lattice.csv", "\n".join(lines) + "\n"))


@pytest.fixture
def lattice(engine, tmp_path: Path):
    load_lattice_city(engine, tmp_path)
    return engine


def test_the_crowded_corner_is_a_hot_spot_and_counts_match_the_map(lattice) -> None:
    with so.Session(lattice) as session:
        result = hotspots(session, HeatFilters(status="all"))
        heat = area_heat(session, HeatFilters(level="grid", metric="count", status="all"))
    by_code = {s.code: s for s in result.spots}
    assert by_code["G11"].kind == "hot" and by_code["G11"].confidence >= 95
    assert by_code["G11"].z > 2
    assert by_code["G66"].kind != "hot"
    assert result.significant[0].kind == "hot"
    assert dict(zip(heat.catalog.codes, heat.count.tolist(), strict=True)) == {
        s.code: s.count for s in result.spots
    }  # the same counts as the heat map's


def test_the_same_data_give_the_same_result(lattice) -> None:
    with so.Session(lattice) as session:
        first = hotspots(session, HeatFilters(status="all"))
        second = hotspots(session, HeatFilters(status="all"))
    assert first.spots == second.spots


def test_nothing_to_test_says_why(lattice) -> None:
    with so.Session(lattice) as session:
        none = hotspots(session, HeatFilters(status="all", categories=("illegal_ads",)))
        grids = area_ids(lattice, "grid")
        few = hotspots(session, HeatFilters(status="all"), resolve_scope(session, [grids["G00"]]))
    assert none.reason == "no_variation" and none.significant == []
    assert few.reason == "too_few_grids" and len(few.spots) == 1


# --- rebounds -----------------------------------------------------------------------

REBOUND_CSV = (
    "id,lon,lat,category,found_at,status,closed_at,point_code\n"
    "R1,120.82,32.01,litter,2026-10-01T09:00:00+08:00,closed,2026-10-03T09:00:00+08:00,P1\n"
    "R2,120.821,32.011,litter,2026-10-20T09:00:00+08:00,found,,P1\n"  # 17 days later: rebound
    "R3,120.822,32.012,illegal_ads,2026-10-21T09:00:00+08:00,found,,\n"  # other category
    "R4,120.823,32.013,litter,2026-12-30T09:00:00+08:00,found,,\n"  # 88 days after R1
    "R5,120.96,32.03,litter,2026-10-02T09:00:00+08:00,closed,2026-10-04T09:00:00+08:00,P3\n"
    "R6,120.961,32.031,litter,2026-10-05T09:00:00+08:00,found,,P3\n"  # voided below
)


@pytest.fixture
def rebound_city(engine, tmp_path: Path):
    load_heat_city(engine, tmp_path)
    ingest_file(engine, write_csv(tmp_path / "rebounds.csv", REBOUND_CSV))
    from geo.storage.models import Problem

    with engine.begin() as conn:  # a false report: never a recurrence
        conn.execute(sa.update(Problem).where(Problem.external_id == "R6").values(status="voided"))
    return engine


def _ids(engine) -> dict[str, int]:
    from geo.storage.models import Problem

    with engine.connect() as conn:
        return dict(conn.execute(sa.select(Problem.external_id, Problem.id)).all())


def test_a_category_back_soon_after_closing_is_a_rebound(rebound_city) -> None:
    ids = _ids(rebound_city)
    with so.Session(rebound_city) as session:
        grids = rebounds(session, Scope.city(), days=30, by="grid")
        points = rebounds(session, Scope.city(), days=30, by="point")
        wide = rebounds(session, Scope.city(), days=120, by="grid")
    pairs = [(p.earlier_id, p.later_id) for place in grids for p in place.pairs]
    assert (ids["R1"], ids["R2"]) in pairs
    assert all(
        later != ids["R3"] and later != ids["R4"] and later != ids["R6"] for _, later in pairs
    )
    r1_r2 = next(p for place in grids for p in place.pairs if p.later_id == ids["R2"])
    assert r1_r2.gap_days == 17.0 and r1_r2.category == "litter"
    # heat city's #1 (litter at P1, 29 days after R1) and #6 (litter at P3) come back too
    at_points = {p.code: [q.later_id for q in p.pairs] for p in points}
    assert at_points == {"P1": [ids["1"], ids["R2"]], "P3": [ids["6"]]}  # newest first
    assert ids["R4"] not in [p.later_id for place in grids for p in place.pairs]
    assert ids["R4"] in [p.later_id for place in wide for p in place.pairs]  # within 120 days


def test_rebounds_stay_in_scope(rebound_city) -> None:
    grids = area_ids(rebound_city, "grid")
    with so.Session(rebound_city) as session:
        north = resolve_scope(session, [grids["329902101000001"]])  # P3's grid only
        quiet = resolve_scope(session, [grids["329901002000001"]])
        assert [p.code for p in rebounds(session, north, days=30)] == ["329902101000001"]
        assert rebounds(session, quiet, days=30) == []


def test_no_rebounds_without_closures(engine, tmp_path: Path) -> None:
    load_heat_city(engine, tmp_path)
    with so.Session(engine) as session:
        assert rebounds(session, Scope.city(), days=1, categories=("food_hygiene",)) == []
