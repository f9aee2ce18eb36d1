"""Rates, rankings, scores and periods against hand-computed figures (tests/stats_data.py)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from geo.core.errors import InvalidParameterError
from geo.core.periods import parse_period
from geo.core.taxonomy_file import default_taxonomy
from geo.core.workcal import add_working_days
from geo.reports import rankings, scores, stats
from geo.storage.db import transaction
from tests.helpers import raises_msg
from tests.stats_data import load_stats_city

AFTER = datetime(2026, 12, 1)  # the week is over: cutoff = its end


@pytest.fixture
def city(engine, tmp_path: Path):
    load_stats_city(engine, tmp_path)
    return engine


def _row(frame, code):
    return frame.set_index("code").loc[code]


def test_rates_of_a_street_match_the_hand_computation(city) -> None:
    with transaction(city, write=False) as session:
        frame = stats.rates(session, "street", parse_period("2026-W47"), now=AFTER)
    east = _row(frame, "329901001")
    # due: P1 P2 P3 P4; closed in the week: P1 P2; on time: P1; reworked: P4;
    # overdue at the week's end: P3, P5 (older backlog); not P4: rectified before its
    # deadline, awaiting verification (待核查) until it closed after the week
    assert (east.found, east.due, east.closed, east.closed_on_time) == (5, 4, 2, 1)
    assert (east.reworked, east.overdue) == (1, 2)
    assert east.closure_rate == 0.5 and east.on_time_rate == 0.25 and east.rework_rate == 0.25
    # rectify days: P1 23 h, P2 3 d, P4 2 d (assigned = found when imported)
    assert east.avg_rectify_days == pytest.approx((23 / 24 + 3 + 2) / 3, abs=1e-6)
    south = _row(frame, "329902001")
    assert (south.due, south.closed, south.closure_rate, south.on_time_rate) == (1, 1, 1.0, 1.0)
    empty = _row(frame, "329902101")
    assert empty.due == 0 and empty.closure_rate != empty.closure_rate  # NaN: nothing due


def test_rates_midweek_stop_at_now(city) -> None:
    midweek = datetime(2026, 11, 18, 4, 0)  # Wed 12:00 Beijing
    with transaction(city, write=False) as session:
        east = _row(
            stats.rates(session, "street", parse_period("2026-W47"), now=midweek), "329901001"
        )
    # due by Wednesday noon: P1 (Tue 09:00) and P2 (Wed 09:00)
    assert east.due == 2 and east.closed == 1  # P1 closed Tue; P2 only on Friday
    assert east.overdue == 2  # P2 (open past its deadline) and P5; P3/P4 not due yet
    assert east.found == 4  # P1, P2, P3, P7 (P6 is found on Friday)


def test_unit_rates_and_levels(city) -> None:
    with transaction(city, write=False) as session:
        units = stats.rates(session, "unit", parse_period("2026-W47"), now=AFTER)
        with raises_msg(InvalidParameterError, "unknown level"):
            stats.rates(session, "planet", parse_period("2026-W47"))
    assert _row(units, "东门街道办事处").due == 4
    assert _row(units, "枫桥区市场监管局").closure_rate == 1.0


def test_rankings_with_change_and_red_black_lists(city) -> None:
    with transaction(city, write=False) as session:
        ranking = rankings.rankings(session, "street", parse_period("2026-W47"), now=AFTER)
    rows = ranking.records()
    assert [r["code"] for r in rows[:2]] == ["329902001", "329901001"]
    assert [r["rank"] for r in rows] == [1, 2, None, None]
    east = rows[1]
    # previous week: only P5 was due (unresolved) → 东门 ranked 1st with closure 0
    assert east["previous_rank"] == 1 and east["rank_change"] == -1
    assert east["closure_rate_change"] == 0.5
    assert ranking.top == 1
    assert list(ranking.red["code"]) == ["329902001"] and list(ranking.black["code"]) == [
        "329901001"
    ]


def test_quarterly_scores_count_an_indicator_once_per_location(city) -> None:
    with transaction(city, write=False) as session:
        frame = scores.quarterly_scores(
            session, "street", parse_period("2026-Q4"), default_taxonomy()
        )
    east = _row(frame, "329901001")
    # indicators: litter@P1=P2, illegal_ads@P3=P6, street_vending@P4, litter@P5, charging@P7
    assert (east.indicators, east.problems) == (5, 7)
    assert east.civilized_city_deduction == 7.0 and east.civilized_city == 93.0
    assert east.urban_management == 92.5
    # The rural scheme covers towns and villages only: 东门 (street 001) gets no score,
    # the town 329902101 (sequence 101) gets its base.
    assert east.rural_environment is None and east.rural_environment_deduction is None
    town = _row(frame, "329902101")
    assert town.civilized_city == 100.0 and town.rural_environment == 100.0
    # Each deduction explained: litter at two locations × 1.5, illegal ads at one, …
    detail = {d["category"]: d for d in east.civilized_city_detail}
    assert detail["litter"]["locations"] == 2 and detail["litter"]["deduction"] == 3.0
    assert not any(d["capped"] for d in detail.values())


def test_scores_need_a_quarter(city) -> None:
    with transaction(city, write=False) as session, pytest.raises(InvalidParameterError):
        scores.quarterly_scores(session, "street", parse_period("2026-11"), default_taxonomy())


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-W47", date(2026, 11, 16), date(2026, 11, 23)),
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 4)),
        ("2026-11", date(2026, 11, 1), date(2026, 12, 1)),
        ("2026-12", date(2026, 12, 1), date(2027, 1, 1)),
        ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
        (" 2026-w1 ", date(2025, 12, 29), date(2026, 1, 5)),
    ],
)
def test_periods(text, start, end) -> None:
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)


def test_period_bounds_are_local_midnights_in_utc_and_previous() -> None:
    week = parse_period("2026-W47")
    assert week.utc_bounds() == (datetime(2026, 11, 15, 16), datetime(2026, 11, 22, 16))
    assert (
        week.previous().code == "2026-W46" and parse_period("2026-Q1").previous().code == "2025-Q4"
    )
    assert "第47周" in week.label() and "11月16日" in week.label()


@pytest.mark.parametrize(
    "text", ["2026-W60", "2026-W54", "2026-13", "2026-Q5", "2026-00", "W47", ""]
)
def test_bad_periods_are_refused(text) -> None:
    with raises_msg(InvalidParameterError, "invalid period"):
        parse_period(text)


def test_working_days_follow_the_official_calendar() -> None:
    # National Day 2026: 1–7 October off; Saturday 10 October is a working day.
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert add_working_days(date(2027, 3, 5), 1) == date(2027, 3, 8)  # unknown year: Mon–Fri
