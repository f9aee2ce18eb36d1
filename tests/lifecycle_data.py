"""A tiny city with grids, units and problems in every state, for lifecycle/stats tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from geo.areas.loading import AreaLoadOptions, load_areas
from geo.ingest.pipeline import IngestOptions, ingest_file
from tests.dbcache import cached_city
from tests.helpers import box_feature, load_tiny_city, write_csv, write_geojson

# One grid per street (same boxes), 15-digit codes.
GRIDS = [
    box_feature(120.80, 32.00, 120.85, 32.04, code="329901001001001", name="东门一网格"),
    box_feature(120.85, 32.00, 120.90, 32.04, code="329901002001001", name="西门一网格"),
    box_feature(120.90, 32.00, 120.95, 32.04, code="329902001001001", name="南湖一网格"),
    box_feature(120.95, 32.00, 121.00, 32.04, code="329902101001001", name="北岭一网格"),
]

UNITS = ("云溪区城管局", "东门街道办事处", "枫桥区市场监管局")

# Problems in street 329901001 (lon 120.82) unless said otherwise; times +08:00.
PROBLEMS_CSV = (
    "id,lon,lat,category,description,found_at,status,unit,deadline,rectified_at,closed_at,reopened\n"
    "A1,120.82,32.01,litter,垃圾<b>堆</b>,2026-11-16T09:00:00+08:00,found,,,,,0\n"
    "A2,120.82,32.02,litter,垃圾,2026-11-16T10:00:00+08:00,found,,,,,0\n"
    "A3,120.83,32.02,illegal_ads,小广告,2026-11-16T11:00:00+08:00,found,,,,,0\n"
    "B1,120.96,32.02,illegal_ads,小广告,2026-11-17T09:00:00+08:00,found,,,,,0\n"
    "C1,120.82,32.03,litter,垃圾,2026-11-10T09:00:00+08:00,assigned,东门街道办事处,"
    "2026-11-11T09:00:00+08:00,,,0\n"
    "C2,120.86,32.03,street_vending,占道,2026-11-10T09:00:00+08:00,rectified,云溪区城管局,"
    "2026-11-13T09:00:00+08:00,2026-11-12T09:00:00+08:00,,0\n"
    "C3,120.91,32.03,street_vending,占道,2026-11-10T09:00:00+08:00,closed,枫桥区市场监管局,"
    "2026-11-13T09:00:00+08:00,2026-11-12T09:00:00+08:00,2026-11-12T18:00:00+08:00,1\n"
)


@cached_city
def load_lifecycle_city(engine: Engine, tmp_path: Path) -> None:
    """Tiny city (2 districts, 4 streets, 4 grids), 3 units and 7 problems (A*, B1, C*)."""
    load_tiny_city(engine, tmp_path)
    load_areas(engine, write_geojson(tmp_path / "grids.geojson", GRIDS), AreaLoadOptions("grid"))
    with_unit = PROBLEMS_CSV.replace(
        "0\n", "0\n", 1
    )  # units are created from the unit column on ingest
    ingest_file(
        engine,
        write_csv(tmp_path / "problems.csv", with_unit),
        IngestOptions(source="t", actor="test"),
    )
    from geo.areas.units import unit_ids
    from geo.storage.db import transaction

    with transaction(engine) as session:
        unit_ids(session, UNITS)


def problem_id(engine: Engine, external_id: str) -> int:
    """Database id of a problem by its external id (source 't')."""
    import sqlalchemy as sa

    from geo.storage.models import Problem

    with engine.connect() as conn:
        return conn.execute(
            sa.select(Problem.id).where(Problem.external_id == external_id)
        ).scalar_one()
