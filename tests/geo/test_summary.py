"""Summary counts always agree with a recount of the problems table."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.areas.assign import assign_lonlat, load_area_index
from geo.areas.loading import AreaLoadOptions, load_areas
from geo.areas.points import load_points
from geo.core.periods import utc_offset_minutes
from geo.ingest.pipeline import ingest_file
from geo.storage.db import backend_name, transaction
from geo.storage.models import ANCESTRY_COLUMNS, Area, AreaSummary, InspectionPoint, Problem
from geo.storage.sqltypes import geometry_to_db
from geo.summary import clock
from geo.summary import counts as summary
from tests.helpers import (
    POINTS,
    box_feature,
    load_tiny_city,
    point_feature,
    raises_msg,
    write_geojson,
)

CSV = (
    "id,lon,lat,category,found_at,status,deadline,closed_at,campaign\n"
    "1,120.82,32.01,litter,2026-11-01T09:00:00+08:00,found,2026-11-03T09:00:00+08:00,,\n"
    "2,120.82,32.02,litter,2026-11-01T07:00:00+08:00,closed,2026-11-03T09:00:00+08:00,"
    "2026-11-02T09:00:00+08:00,\n"
    "3,120.96,32.02,illegal_ads,2026-11-01T09:00:00+08:00,assigned,2099-01-01T00:00:00Z,,"
    "psa_upgrade\n"
    "4,121.50,32.02,illegal_ads,2026-11-01T09:00:00+08:00,found,,,\n"
)


def _ingest(engine, tmp_path: Path) -> None:
    load_tiny_city(engine, tmp_path)
    path = tmp_path / "p.csv"
    path.write_text(CSV, encoding="utf-8")
    ingest_file(engine, path)


def _rows(engine, cube: str) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    with transaction(engine, write=False) as session:
        rows = session.execute(
            sa.select(
                Area.code,
                AreaSummary.k1,
                AreaSummary.n,
                AreaSummary.unresolved,
                AreaSummary.overdue,
                AreaSummary.closed_on_time,
            )
            .join(Area, Area.id == AreaSummary.area_id)
            .where(AreaSummary.cube == cube, AreaSummary.n != 0)
        ).all()
    return {(code, k1): tuple(m) for code, k1, *m in rows}


def _assert_consistent(engine) -> None:
    with transaction(engine, write=False) as session:
        bad = summary.mismatches(session)
    assert bad.empty, bad.to_string()


def test_ingest_updates_every_cube_at_every_level(engine, tmp_path: Path) -> None:
    _ingest(engine, tmp_path)
    total = _rows(engine, "total")
    # district 329901: problem 1 (found, deadline passed: overdue), 2 (closed on time)
    assert total[("329901", "")] == (2, 1, 1, 1)
    assert total[("329901001", "")] == (2, 1, 1, 1)  # its street too
    assert total[("329902", "")] == (1, 1, 0, 0)  # deadline in 2099: not overdue
    assert sum(v[0] for v in total.values()) == 6  # 3 inside × (district + street)
    assert _rows(engine, "campaign")[("329902", "psa_upgrade")][0] == 1
    days = _rows(engine, "day")
    # 07:00 in Beijing is still the same local day, though the previous day in UTC
    assert days[("329901", "2026-11-01")][0] == 2
    _assert_consistent(engine)


def test_reassignment_moves_counts(engine, tmp_path: Path) -> None:
    _ingest(engine, tmp_path)
    # Street 329901002 grows west over the litter problems at lon 120.82.
    moved = [
        box_feature(120.80, 32.00, 120.81, 32.04, code="329901001", name="东门街道"),
        box_feature(120.81, 32.00, 120.90, 32.04, code="329901002", name="西门街道"),
    ]
    load_areas(engine, write_geojson(tmp_path / "s2.geojson", moved), AreaLoadOptions("street"))
    total = _rows(engine, "total")
    assert total[("329901002", "")][0] == 2
    assert ("329901001", "") not in total
    assert total[("329901", "")][0] == 2  # same district
    _assert_consistent(engine)


def test_rebuild_restores_a_damaged_summary(engine, tmp_path: Path) -> None:
    _ingest(engine, tmp_path)
    with transaction(engine) as session:
        session.execute(sa.update(AreaSummary).values(n=AreaSummary.n + 5))
    with transaction(engine) as session:
        assert not summary.mismatches(session).empty
        summary.rebuild(session)
    _assert_consistent(engine)


def test_rebuild_takes_the_local_day_from_the_zone(engine, tmp_path: Path) -> None:
    _ingest(engine, tmp_path)
    with transaction(engine) as session:
        assert summary.read_meta(session).day_offset_minutes == 480  # the schema's default
        summary.rebuild(session, tz="Asia/Kolkata")  # UTC+05:30, not an hour multiple
        assert summary.read_meta(session).day_offset_minutes == 330
        summary.rebuild(session)  # no zone, no offset: keep the stored one
        assert summary.read_meta(session).day_offset_minutes == 330
        summary.rebuild(session, tz="Asia/Shanghai")
        assert summary.read_meta(session).day_offset_minutes == 480
    _assert_consistent(engine)


def test_zone_offsets_come_from_the_iana_zone() -> None:
    assert utc_offset_minutes("Asia/Shanghai") == 480
    assert utc_offset_minutes("UTC") == 0
    # A zone with daylight saving time: the offset in force at the given instant.
    assert utc_offset_minutes("Europe/Berlin", datetime(2026, 1, 15)) == 60
    assert utc_offset_minutes("Europe/Berlin", datetime(2026, 7, 15)) == 120


def test_advancing_the_clock_counts_newly_overdue_problems(engine, tmp_path: Path) -> None:
    _ingest(engine, tmp_path)
    with transaction(engine) as session:
        clock.advance_clock(session, datetime(2099, 1, 2))
    assert _rows(engine, "total")[("329902", "")] == (1, 1, 1, 0)
    _assert_consistent(engine)
    with transaction(engine) as session:
        assert clock.advance_clock(session, datetime(2099, 1, 1)) == 0  # never backwards


def test_versions_move_with_changes(engine, tmp_path: Path) -> None:
    with transaction(engine, write=False) as session:
        before = summary.read_meta(session)
    _ingest(engine, tmp_path)
    with transaction(engine, write=False) as session:
        after = summary.read_meta(session)
    assert after.problems_version > before.problems_version
    assert after.areas_version > before.areas_version
    assert not after.stale


def test_a_point_changing_kind_moves_its_problems(engine, tmp_path: Path) -> None:
    load_tiny_city(engine, tmp_path)
    load_points(engine, write_geojson(tmp_path / "points.geojson", POINTS))
    path = tmp_path / "p.csv"
    path.write_text(
        "id,lon,lat,category,found_at,point_code\n1,120.82,32.01,litter,2026-11-01T09:00:00Z,P1\n",
        encoding="utf-8",
    )
    ingest_file(engine, path)
    assert _rows(engine, "kind")[("329901", "market")][0] == 1
    changed = [dict(POINTS[0], properties={**POINTS[0]["properties"], "kind": "hotel"})]
    load_points(engine, write_geojson(tmp_path / "p2.geojson", changed))
    kinds = _rows(engine, "kind")
    assert kinds[("329901", "hotel")][0] == 1 and ("329901", "market") not in kinds
    _assert_consistent(engine)


def test_frames_without_the_source_columns_are_refused(engine) -> None:
    with transaction(engine) as session, raises_msg(ValueError, "deadline"):
        summary.apply_changes(session, None, pd.DataFrame({"category": ["litter"]}))


# --- property: any sequence of inserts, status changes and clock moves keeps it exact ----

T0 = datetime(2026, 11, 1)
_problem = st.fixed_dictionaries(
    {
        "lon": st.floats(120.79, 121.01),
        "lat": st.sampled_from([32.01, 32.03, 32.05]),  # 32.05 is outside every area
        "category": st.sampled_from(["litter", "illegal_ads", "street_vending"]),
        "status": st.sampled_from(["found", "assigned", "rectified", "closed"]),
        "campaign": st.sampled_from([None, "psa_upgrade"]),
        "point": st.sampled_from([None, "P1", "P2"]),
        "found_h": st.integers(0, 24 * 20),
        "deadline_h": st.one_of(st.none(), st.integers(-48, 24 * 30)),
        "closed_h": st.integers(0, 24 * 40),
    }
)
_step = st.one_of(
    st.tuples(st.just("insert"), st.lists(_problem, min_size=1, max_size=6)),
    st.tuples(
        st.just("status"),
        st.lists(st.integers(0, 100), min_size=1, max_size=4),
        st.sampled_from(["found", "assigned", "rectified", "closed"]),
    ),
    st.tuples(st.just("clock"), st.integers(1, 24 * 30)),
)


@pytest.fixture
def city_with_points(engine, tmp_path: Path):
    load_tiny_city(engine, tmp_path)
    features = [point_feature(120.82, 32.01, code="P1", name="市场", kind="market")]
    features.append(point_feature(120.96, 32.02, code="P2", name="路口", kind="intersection"))
    load_points(engine, write_geojson(tmp_path / "pp.geojson", features))
    return engine


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.slow  # property-based: many examples
@given(steps=st.lists(_step, min_size=1, max_size=6))
def test_summary_equals_recount_after_any_changes(city_with_points, steps) -> None:
    engine = city_with_points
    with transaction(engine) as session:
        points = dict(session.execute(sa.select(InspectionPoint.code, InspectionPoint.id)).all())
        now = T0
        for step in steps:
            if step[0] == "insert":
                _insert(session, step[1], points)
            elif step[0] == "status":
                _change_status(session, step[1], step[2])
            else:
                now += timedelta(hours=step[1])
                clock.advance_clock(session, now)
            bad = summary.mismatches(session)
            assert bad.empty, bad.to_string()
        session.rollback()


def _insert(session, problems: list[dict], points: dict[str, int]) -> None:
    frame = pd.DataFrame(problems)
    assigned = assign_lonlat(load_area_index(session), frame["lon"], frame["lat"])
    start = session.scalar(sa.select(sa.func.coalesce(sa.func.max(Problem.id), 0))) + 1
    hours = lambda c: [None if pd.isna(h) else T0 + timedelta(hours=int(h)) for h in frame[c]]  # noqa: E731
    records = pd.DataFrame(
        {
            "id": range(start, start + len(frame)),
            "source": "t",
            "external_id": [f"x{i}" for i in range(start, start + len(frame))],
            "category": frame["category"],
            "lon": frame["lon"],
            "lat": frame["lat"],
            "geom": list(
                geometry_to_db(shapely.points(frame["lon"], frame["lat"]), backend_name(session))
            ),
            "status": frame["status"],
            "campaign": frame["campaign"],
            "point_id": frame["point"].map(points),
            "found_at": hours("found_h"),
            "deadline": hours("deadline_h"),
            "closed_at": [
                T0 + timedelta(hours=int(h)) if s == "closed" else None
                for h, s in zip(frame["closed_h"], frame["status"], strict=True)
            ],
            "outside": assigned["outside"].to_numpy(),
            **{c: assigned[c].to_numpy() for c in ANCESTRY_COLUMNS},
        }
    ).astype(object)
    records = records.where(records.notna(), None)
    session.execute(sa.insert(Problem), records.to_dict("records"))
    summary.apply_changes(session, None, summary.snapshot(session, records["id"]))


def _change_status(session, picks: list[int], status: str) -> None:
    ids = session.scalars(sa.select(Problem.id).order_by(Problem.id)).all()
    if not ids:
        return
    chosen = sorted({ids[p % len(ids)] for p in picks})
    before = summary.snapshot(session, chosen)
    closed_at = T0 + timedelta(days=3) if status == "closed" else None
    session.execute(
        sa.update(Problem).where(Problem.id.in_(chosen)).values(status=status, closed_at=closed_at)
    )
    summary.apply_changes(session, before, summary.snapshot(session, chosen))
