"""Summary counts always agree with a recount of the problems table."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from geo import summary
from geo.areas import AreaLoadOptions, load_areas
from geo.db import transaction
from geo.ingest import ingest_file
from geo.models import Area, AreaSummary
from tests.helpers import box_feature, load_tiny_city, write_geojson

CSV = (
    "id,lon,lat,category,found_at,status\n"
    "1,120.82,32.01,litter,2026-11-01T09:00:00+08:00,found\n"
    "2,120.82,32.02,litter,2026-11-01T09:00:00+08:00,closed\n"
    "3,120.96,32.02,illegal_ads,2026-11-01T09:00:00+08:00,assigned\n"
    "4,121.50,32.02,illegal_ads,2026-11-01T09:00:00+08:00,found\n"
)


def _counts(engine) -> dict[tuple[str, str, str], int]:
    with transaction(engine, write=False) as session:
        rows = session.execute(
            sa.select(Area.code, AreaSummary.category, AreaSummary.status, AreaSummary.n)
            .join(Area, Area.id == AreaSummary.area_id)
            .where(AreaSummary.n != 0)
        ).all()
    return {(c, cat, st): n for c, cat, st, n in rows}


def test_ingest_updates_summary_at_every_level(engine, tmp_path: Path) -> None:
    load_tiny_city(engine, tmp_path)
    path = tmp_path / "p.csv"
    path.write_text(CSV, encoding="utf-8")
    ingest_file(engine, path)
    counts = _counts(engine)
    assert counts[("329901", "litter", "found")] == 1
    assert counts[("329901", "litter", "closed")] == 1
    assert counts[("329901001", "litter", "found")] == 1  # street level too
    assert counts[("329902", "illegal_ads", "assigned")] == 1
    assert sum(counts.values()) == 6  # 3 problems inside × (district + street); 1 outside
    with transaction(engine, write=False) as session:
        assert summary.mismatches(session).empty


def test_reassignment_moves_counts(engine, tmp_path: Path) -> None:
    load_tiny_city(engine, tmp_path)
    path = tmp_path / "p.csv"
    path.write_text(CSV, encoding="utf-8")
    ingest_file(engine, path)
    # Street 329901002 grows west over the litter problems at lon 120.82.
    moved = [
        box_feature(120.80, 32.00, 120.81, 32.04, code="329901001", name="东门街道"),
        box_feature(120.81, 32.00, 120.90, 32.04, code="329901002", name="西门街道"),
    ]
    load_areas(engine, write_geojson(tmp_path / "s2.geojson", moved), AreaLoadOptions("street"))
    counts = _counts(engine)
    assert counts[("329901002", "litter", "found")] == 1
    assert ("329901001", "litter", "found") not in counts
    assert counts[("329901", "litter", "found")] == 1  # same district
    with transaction(engine, write=False) as session:
        assert summary.mismatches(session).empty


def test_rebuild_restores_a_damaged_summary(engine, tmp_path: Path) -> None:
    load_tiny_city(engine, tmp_path)
    path = tmp_path / "p.csv"
    path.write_text(CSV, encoding="utf-8")
    ingest_file(engine, path)
    with transaction(engine) as session:
        session.execute(sa.update(AreaSummary).values(n=AreaSummary.n + 5))
    with transaction(engine) as session:
        assert not summary.mismatches(session).empty
        summary.rebuild(session)
    with transaction(engine, write=False) as session:
        assert summary.mismatches(session).empty


def test_weighted_rows_count_as_many_problems(engine, tmp_path: Path) -> None:
    load_tiny_city(engine, tmp_path)
    with transaction(engine, write=False) as session:
        street = session.scalar(sa.select(Area).where(Area.code == "329901001"))
        assert street is not None
        row = {
            "district_id": street.district_id,
            "street_id": street.id,
            "community_id": None,
            "grid_id": None,
            "category": "litter",
            "status": "found",
        }
    import pandas as pd

    with transaction(engine) as session:
        summary.apply_changes(session, None, pd.DataFrame([{**row, "n": 3}, {**row, "n": 2}]))
        summary.apply_changes(session, pd.DataFrame([row]), None)  # unweighted: one problem
    counts = _counts(engine)
    assert counts[("329901001", "litter", "found")] == 4
    assert counts[("329901", "litter", "found")] == 4
