"""Rates with extensions, holds and voids against hand-computed figures.

Starts from the hand-checked week of tests/stats_data.py (2026-W47, street 东门 329901001:
P1–P7) and takes the side paths on three problems:

- P3 (due Thu 19 Nov, unresolved): extension requested and approved to Sat 21 Nov 23:59
  → still due this week, now *extended*, still overdue at the week's end;
- P5 (older backlog, due 10 Nov, unresolved → overdue): hold approved → not overdue
  at W47's end (W46, ended before the hold, keeps it due);
- P6 (found this week, due next week): voided as a false report → not *found*.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from geo.core.periods import parse_period
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import Change
from geo.lifecycle.selection import Selection
from geo.reports import stats
from geo.reports.bulletin import week_totals
from geo.storage.db import transaction
from geo.storage.models import Problem
from tests.stats_data import load_stats_city

AFTER = datetime(2026, 12, 1)
WEDNESDAY = datetime(2026, 11, 18, 2, 0)  # 10:00 Beijing
EAST = "329901001"


def _pid(engine, external_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(Problem.id).where(Problem.external_id == external_id)
        ).scalar_one()


def _act(engine, external_id: str, *changes: Change) -> None:
    for change in changes:
        lifecycle.apply(engine, Selection(ids=(_pid(engine, external_id),)), change)


@pytest.fixture
def city(engine, tmp_path: Path):
    load_stats_city(engine, tmp_path)
    boss = "city_officer"
    new_deadline = datetime(2026, 11, 21, 15, 59, 59)  # Sat 21 Nov 23:59:59 Beijing
    _act(
        engine,
        "P3",
        Change("request_extension", "东门", "材料未到", deadline=new_deadline, at=WEDNESDAY),
        Change("approve_extension", "市创建办", at=WEDNESDAY, role=boss),
    )
    _act(
        engine,
        "P5",
        Change("request_hold", "东门", "需整体改造", at=WEDNESDAY),
        Change("approve_hold", "市创建办", at=WEDNESDAY, role=boss),
    )
    _act(engine, "P6", Change("void", "市创建办", "重复上报", at=WEDNESDAY, role=boss))
    return engine


def test_rates_count_extensions_and_leave_out_held_and_voided(city) -> None:
    with transaction(city, write=False) as session:
        frame = stats.rates(session, "street", parse_period("2026-W47"), now=AFTER)
    east = frame.set_index("code").loc[EAST]
    # found: P1 P2 P3 P7 (P6 voided); due: P1 P2 P3 P4 (P3 by its extended deadline);
    # closed P1 P2; on time P1; reworked P4; extended P3;
    # overdue at the week's end: P3 (P5 is held; P4 was rectified in time).
    assert (east.found, east.due, east.closed, east.closed_on_time) == (4, 4, 2, 1)
    assert (east.reworked, east.extended, east.overdue) == (1, 1, 1)
    assert east.closure_rate == 0.5 and east.on_time_rate == 0.25
    assert east.rework_rate == 0.25 and east.extension_rate == 0.25


def test_held_and_voided_leave_the_previous_week_and_units(city) -> None:
    with transaction(city, write=False) as session:
        before = stats.rates(session, "street", parse_period("2026-W46"), now=AFTER)
        units = stats.rates(session, "unit", parse_period("2026-W47"), now=AFTER)
    east = before.set_index("code").loc[EAST]
    # W46: only P5 was due; its hold was approved in W47, after W46 ended, so W46 stands
    # as it was at its end: due 1, closed 0 (figures as of the period's end).
    assert (east.due, east.closed, east.closure_rate) == (1, 0, 0.0)
    assert units.set_index("code").loc["东门街道办事处"].extended == 1


def test_a_resumed_problem_counts_again(city) -> None:
    saturday = datetime(2026, 11, 21, 2, 0)  # 10:00 Beijing
    _act(city, "P5", Change("resume", "市创建办", "恢复整改", at=saturday, role="admin"))
    with transaction(city, write=False) as session:
        frame = stats.rates(session, "street", parse_period("2026-W47"), now=AFTER)
    east = frame.set_index("code").loc[EAST]
    # P5 resumed Saturday 10:00, litter: 1 natural day → due Sunday 10:00, in the week:
    # due P1 P2 P3 P4 P5, closed P1 P2, overdue P3 P5 (P4 rectified in time).
    assert (east.due, east.closed, east.overdue, east.extended) == (5, 2, 2, 1)
    assert east.closure_rate == 0.4 and east.extension_rate == 0.2


def test_bulletin_totals_leave_out_held_and_voided(city) -> None:
    start, cutoff = datetime(2026, 11, 15, 16), datetime(2026, 11, 22, 16)
    with transaction(city, write=False) as session:
        totals = week_totals(session, start, cutoff)
    # found this week: P1 P2 P3 P7 (+Q1 in 南湖; P6 voided); unresolved at the end:
    # P3, P4 (closed after), P7, plus older P5 held → not counted; overdue: P3 (P4 was
    # rectified before its deadline: awaiting verification, not overdue).
    assert totals == {"found": 5, "closed": 3, "unresolved": 3, "overdue": 1}


@pytest.mark.parametrize("source", ["summary", "problems"])
def test_heat_counts_held_as_unresolved_never_overdue_and_leaves_out_voided(
    city, source: str
) -> None:
    from datetime import date

    from geo.reports.heat import area_heat
    from geo.reports.heat_filters import HeatFilters
    from geo.reports.heat_io import heat_json

    # Dates and a category together are read from the problems table, else the summary.
    narrow = {"found_from": date(2026, 11, 1), "found_to": date(2026, 11, 30)}
    if source == "problems":
        narrow["categories"] = ("litter", "illegal_ads", "street_vending", "unsafe_charging")
    view = HeatFilters(level="street", status="all", **narrow)
    with transaction(city, write=False) as session:
        heat = area_heat(session, view, now=AFTER)
    assert heat.source.startswith(source)
    east = heat.catalog.codes.index(EAST)
    # Now: P1 P2 P4 closed, P3 assigned (extended to 21 Nov), P5 held, P6 voided, P7 found.
    # All 6 (not P6); 未销号 P3 P5 P7 (held included); 超期 on 1 Dec P3 only (P5 held,
    # P7 never assigned); closed P1 P2 P4 (not the voided P6); on time P1.
    figures = (heat.n[east], heat.unresolved[east], heat.overdue[east])
    assert figures == (6, 3, 1) and heat.closed_on_time[east] == 1
    assert json.loads(heat_json(heat, view))["closed"][east] == 3
