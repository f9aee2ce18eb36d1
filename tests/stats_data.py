"""Hand-checked problems for the rates, rankings and scores tests (week 2026-W47)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from geo.areas.loading import AreaLoadOptions, load_areas
from geo.ingest.pipeline import IngestOptions, ingest_file
from tests.helpers import load_tiny_city, write_csv, write_geojson
from tests.lifecycle_data import GRIDS

U1, U2 = "东门街道办事处", "枫桥区市场监管局"
H = ",found_at,status,unit,deadline,rectified_at,closed_at,reopened\n"
# 2026-W47 is Mon 16 – Sun 22 November 2026 (Beijing time). Street 329901001 = 东门.
CSV = (
    "id,lon,lat,category"
    + H
    + "\n".join(
        [
            # due, closed on time
            f"P1,120.82,32.01,litter,2026-11-16T09:00+08:00,closed,{U1},2026-11-17T09:00+08:00,"
            "2026-11-17T08:00+08:00,2026-11-17T08:30+08:00,0",
            # due, closed late (same category and spot as P1: one indicator)
            f"P2,120.82,32.01,litter,2026-11-16T09:00+08:00,closed,{U1},2026-11-18T09:00+08:00,"
            "2026-11-19T09:00+08:00,2026-11-20T09:00+08:00,0",
            # due, unresolved → overdue
            f"P3,120.83,32.02,illegal_ads,2026-11-16T09:00+08:00,assigned,{U1},"
            "2026-11-19T09:00+08:00,,,0",
            # due, reworked, closed only after the week → not closed, overdue at the week's end
            f"P4,120.84,32.03,street_vending,2026-11-10T09:00+08:00,closed,{U1},"
            "2026-11-20T09:00+08:00,2026-11-12T09:00+08:00,2026-11-24T09:00+08:00,1",
            # deadline in the week before, unresolved → overdue backlog, not due this week
            f"P5,120.81,32.005,litter,2026-11-01T09:00+08:00,assigned,{U1},"
            "2026-11-10T09:00+08:00,,,0",
            # found this week, due next week
            f"P6,120.83,32.02,illegal_ads,2026-11-20T09:00+08:00,assigned,{U1},"
            "2026-11-27T09:00+08:00,,,0",
            # found this week, not assigned yet
            "P7,120.815,32.035,unsafe_charging,2026-11-18T09:00+08:00,found,,,,,0",
            # 南湖 (329902001): due and closed on time
            f"Q1,120.91,32.01,litter,2026-11-17T09:00+08:00,closed,{U2},2026-11-18T09:00+08:00,"
            "2026-11-17T21:00+08:00,2026-11-18T08:00+08:00,0",
        ]
    )
)


# Not cached (tests/dbcache.py): its figures depend on what is around it in the run.
LATE_CSV = (
    # P9 of 东门, found in W47, due Thu 19 Nov and closed on time, filed after the week
    # was published (a file: no recorded events).
    "id,lon,lat,category,found_at,status,unit,deadline,rectified_at,closed_at,reopened\n"
    f"P9,120.82,32.01,litter,2026-11-18T09:00+08:00,closed,{U1},2026-11-19T09:00+08:00,"
    "2026-11-19T08:00+08:00,2026-11-19T08:30+08:00,0\n"
)


def load_stats_city(engine: Engine, tmp_path: Path) -> None:
    """Tiny city with grids and the eight problems above (source 's')."""
    load_tiny_city(engine, tmp_path)
    load_areas(engine, write_geojson(tmp_path / "grids.geojson", GRIDS), AreaLoadOptions("grid"))
    ingest_file(engine, write_csv(tmp_path / "s.csv", CSV), IngestOptions(source="s"))
