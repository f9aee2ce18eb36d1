"""Heat by area from the summary agrees with counting the problems table directly."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import mapclassify
import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from geo.reports import density, heat, shapes
from geo.reports.heat_filters import FilterError, HeatFilters
from geo.reports.problem_list import PAGE_SIZE, area_problems, find_area, problems_geojson
from geo.storage.db import transaction
from geo.storage.models import Area, AreaSummary, InspectionPoint, Problem
from geo.summary import counts as summary
from tests.helpers import GRIDS, load_heat_city, raises_msg

NOW = datetime(2026, 11, 22, 4, 0)


@pytest.fixture
def city(engine, tmp_path: Path):
    load_heat_city(engine, tmp_path)
    return engine


def _brute(engine, view: HeatFilters, now: datetime) -> pd.DataFrame:
    """Figures per area code of view.level, counted from the problems themselves."""
    with engine.connect() as conn:
        problems = pd.read_sql(
            sa.select(Problem, InspectionPoint.kind).outerjoin(
                InspectionPoint, InspectionPoint.id == Problem.point_id
            ),
            conn,
        )
        areas = pd.read_sql(sa.select(Area.id, Area.code).where(Area.level == view.level), conn)
    p = problems
    if view.categories:
        p = p[p["category"].isin(view.categories)]
    if view.kinds:
        p = p[p["kind"].isin(view.kinds)]
    if view.campaigns:
        p = p[p["campaign"].isin(view.campaigns)]
    local_day = (pd.to_datetime(p["found_at"]) + pd.Timedelta(hours=8)).dt.date
    if view.found_from:
        p = p[local_day >= view.found_from]
    if view.found_to:
        p = p[local_day.loc[p.index] <= view.found_to]
    unresolved = p["status"] != "closed"
    deadline = pd.to_datetime(p["deadline"])
    overdue = unresolved & deadline.notna() & (deadline < now)
    on_time = ~unresolved & (deadline.isna() | (pd.to_datetime(p["closed_at"]) <= deadline))
    frame = pd.DataFrame(
        {
            "id": p[f"{view.level}_id"],
            "n": 1,
            "unresolved": unresolved.astype(int),
            "overdue": overdue.astype(int),
            "closed_on_time": on_time.astype(int),
        }
    ).dropna(subset=["id"])
    sums = frame.groupby("id").sum()
    out = areas.set_index("id").join(sums).fillna(0)
    out = out.set_index("code").astype({m: int for m in summary.MEASURES})
    out.index.name = None
    return out


VIEWS = [
    HeatFilters(level="grid"),
    HeatFilters(level="district"),
    HeatFilters(level="street", categories=("litter",)),
    HeatFilters(level="grid", categories=("litter", "illegal_ads")),
    HeatFilters(level="grid", kinds=("market",)),
    HeatFilters(level="street", campaigns=("psa_upgrade",)),
    HeatFilters(level="grid", categories=("illegal_ads",), kinds=("market",)),
    HeatFilters(level="grid", found_from=date(2026, 11, 1), found_to=date(2026, 11, 3)),
    HeatFilters(level="street", found_from=date(2026, 10, 21)),
    HeatFilters(level="grid", found_to=date(2026, 11, 2), categories=("litter",)),
]


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: repr(v.query_args()))
def test_heat_equals_a_count_of_the_problems(city, view: HeatFilters) -> None:
    with transaction(city, write=False) as session:
        result = heat.area_heat(session, view, now=NOW)
    expected = _brute(city, view, NOW)
    got = pd.DataFrame(
        {m: getattr(result, m) for m in summary.MEASURES}, index=list(result.catalog.codes)
    ).sort_index()
    pd.testing.assert_frame_equal(
        got, expected.sort_index()[list(summary.MEASURES)], check_dtype=False
    )
    assert result.source.startswith("problems" if view.has_dates and view.has_attributes else "s")


def test_overdue_follows_the_clock_past_the_summary(city) -> None:
    # Problem 2 is due in 2099: not overdue now, overdue in 2100, even though the stored
    # counts were made before (the correction reads the problems due since then).
    view = HeatFilters(level="district", status="overdue")
    with transaction(city, write=False) as session:
        now = heat.area_heat(session, view, now=NOW)
        later = heat.area_heat(session, view, now=datetime(2100, 1, 1))
    codes = list(now.catalog.codes)
    i = codes.index("329901")
    assert now.count[i] == 1 and later.count[i] == 2
    assert later.source == "summary:total"


def test_values_for_each_metric(city) -> None:
    with transaction(city, write=False) as session:
        density_ = heat.area_heat(session, HeatFilters(level="district", metric="density"))
        ontime = heat.area_heat(session, HeatFilters(level="district", metric="ontime"))
    i = list(density_.catalog.codes).index("329901")
    assert density_.value[i] == pytest.approx(2 / density_.catalog.km2[i])
    # district 329901: closed 2 (one on time), overdue 1 → 1 / 3 due closed on time
    assert ontime.value[i] == pytest.approx(1 / 3)
    assert ontime.breaks == list(heat.ONTIME_BREAKS)


def test_district_filter_and_unknown_district(city) -> None:
    with transaction(city, write=False) as session:
        result = heat.area_heat(session, HeatFilters(level="grid", district="329902"))
        assert all(c.startswith("329902") for c in result.catalog.codes)
        assert len(result.catalog.codes) == 4
        with raises_msg(FilterError, "329999"):
            heat.area_heat(session, HeatFilters(level="grid", district="329999"))


def test_stale_summary_is_refused_with_advice(city) -> None:
    from geo.core.errors import ConfigError
    from geo.storage.models import SummaryMeta

    with transaction(city) as session:
        session.execute(sa.update(SummaryMeta).values(stale=True))
        with raises_msg(ConfigError, "rebuild"):
            heat.area_heat(session, HeatFilters())


def test_breaks_match_mapclassify_quantiles() -> None:
    values = np.random.default_rng(3).poisson(4, 500).astype(float)
    ours = heat.classify(values, "count")
    theirs = mapclassify.Quantiles(values[values > 0], k=5).bins
    assert ours == pytest.approx(list(np.unique(theirs)))
    assert heat.classify(np.array([0.0, 2.0, 2.0]), "count") == [2.0]
    assert heat.classify(np.zeros(3), "count") == []


def test_density_bins_and_caps_the_points(city) -> None:
    bbox = (120.8, 32.0, 121.0, 32.04)
    with transaction(city, write=False) as session:
        fine = density.density(session, HeatFilters(), bbox, zoom=18, now=NOW)
        coarse = density.density(session, HeatFilters(), bbox, zoom=5, now=NOW)
        overdue = density.density(session, HeatFilters(status="overdue"), bbox, 14, now=NOW)
    assert fine.problems == coarse.problems == 5  # unresolved inside the box
    assert len(coarse.points) == 1 and coarse.points[0, 2] == 5
    assert overdue.problems == 3
    assert density.cell_size((0.0, 0.0, 180.0, 80.0), 22) ** -2 * 180 * 80 <= density.MAX_POINTS


def test_shapes_round_trip_at_six_decimals(city) -> None:
    with transaction(city, write=False) as session:
        text = shapes.encode_shapes(session, "grid")
        stored = session.execute(sa.select(Area.code, Area.geom).where(Area.level == "grid"))
        stored_geoms = dict(stored.all())
    data = json.loads(text)
    assert data["codes"] == sorted(f["properties"]["code"] for f in GRIDS)
    assert data["names"][0] == "<b>网格</b>1"  # text, escaped by the page script
    for code, geom in zip(data["codes"], shapes.decode_shapes(data), strict=True):
        assert shapely.hausdorff_distance(geom, stored_geoms[code]) < 1e-6


def test_area_problems_sorted_and_paged(city) -> None:
    with transaction(city, write=False) as session:
        street = find_area(session, "street", "329901001")
        assert street is not None and street.ancestors == (("district", "329901", "云溪区"),)
        by_age = area_problems(session, street.ref, HeatFilters(), "age", now=NOW)
        by_deadline = area_problems(session, street.ref, HeatFilters(), "-deadline", now=NOW)
        everything = area_problems(session, street.ref, HeatFilters(status="all"), now=NOW)
        assert find_area(session, "grid", "nope") is None
        with pytest.raises(FilterError):
            area_problems(session, street.ref, HeatFilters(), "sideways")
    assert [r.id for r in by_age.rows] == [1, 2]  # unresolved, oldest first
    assert [r.id for r in by_deadline.rows] == [2, 1]
    assert by_age.rows[0].overdue_days is not None and by_age.rows[1].overdue_days is None
    assert everything.total == 4 and everything.pages == 1 and PAGE_SIZE >= 4


def test_problem_markers_carry_labels_and_raw_text(city) -> None:
    labels = {"categories": {"litter": "暴露垃圾"}, "statuses": {"found": "发现"}}
    with transaction(city, write=False) as session:
        street = find_area(session, "street", "329901001")
        assert street is not None
        data = json.loads(problems_geojson(session, street.ref, HeatFilters(), labels, NOW))
    assert data["total"] == 2
    first = next(f for f in data["features"] if f["properties"]["id"] == 1)
    assert first["properties"]["category"] == "暴露垃圾"
    assert first["properties"]["description"].startswith("<img")  # escaped by the page
    assert first["properties"]["overdue"] is True


def test_heat_cost_reads_summary_rows_not_problems(city) -> None:
    # Adding problems to an area does not add summary rows for the total cube.
    with transaction(city, write=False) as session:
        before = session.scalar(sa.select(sa.func.count()).where(AreaSummary.cube == "total"))
    frame_day = NOW - timedelta(days=1)
    with transaction(city) as session:
        rows = summary.snapshot(session, [2])
        for _ in range(3):
            session.execute(
                sa.insert(Problem).from_select(
                    [c.name for c in Problem.__table__.columns if c.name not in ("id",)],
                    sa.select(
                        *(
                            sa.literal(f"x{_}") if c.name == "external_id" else c
                            for c in Problem.__table__.columns
                            if c.name != "id"
                        )
                    ).where(Problem.id == 2),
                )
            )
            summary.apply_changes(session, None, rows)
        assert summary.mismatches(session).empty
        after = session.scalar(sa.select(sa.func.count()).where(AreaSummary.cube == "total"))
    assert after == before and frame_day < NOW
