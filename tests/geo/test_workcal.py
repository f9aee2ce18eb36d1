"""The working calendar (geo/core/workcal.py): National Day week, working Saturdays,
holidays, bad files, and the one deadline rule (N working days end on the N-th working
day after the local day at the same local clock time; N natural days are N x 24 hours),
as the lifecycle applies it to assignments, with the shipped or a city-edited calendar."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from geo.core.workcal import (
    DEFAULT_CALENDAR_PATH,
    CalendarError,
    deadline_for,
    default_calendar,
    end_of_local_day,
    load_calendar,
)
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import Change, Rules
from geo.lifecycle.selection import Selection
from geo.storage.db import transaction
from geo.storage.models import Problem
from geo.summary import counts as summary
from tests.helpers import raises_msg
from tests.lifecycle_data import load_lifecycle_city, problem_id

CAL = default_calendar()


def test_national_day_week_is_skipped() -> None:
    # Wed 30 Sep + 3 working days: 1–7 Oct are holidays; Thu 8, Fri 9, Sat 10 (adjusted).
    assert CAL.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_adjusted_working_weekend_days_count() -> None:
    assert CAL.is_working_day(date(2026, 10, 10))  # Saturday, 国庆调休
    assert CAL.is_working_day(date(2026, 9, 20))  # Sunday, 国庆调休
    assert not CAL.is_working_day(date(2026, 10, 3))  # Saturday, holiday
    assert not CAL.is_working_day(date(2026, 10, 17))  # an ordinary Saturday


def test_problem_found_on_a_holiday_starts_counting_after_it() -> None:
    # Found Sunday 4 Oct (holiday), 1 working day → Thu 8 Oct.
    assert CAL.add_working_days(date(2026, 10, 4), 1) == date(2026, 10, 8)


def test_spring_festival_and_its_working_saturdays() -> None:
    assert CAL.is_working_day(date(2026, 2, 14)) and CAL.is_working_day(date(2026, 2, 28))
    assert CAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CAL.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


def test_deadline_keeps_the_local_clock_time() -> None:
    found = datetime(2026, 9, 30, 1, 0)  # 09:00 Beijing time
    due = deadline_for(found, 3, "working", CAL, "Asia/Shanghai")
    assert due == datetime(2026, 10, 10, 1, 0)  # Saturday 10 October, 09:00 Beijing time
    natural = deadline_for(found, 3, "natural", CAL, "Asia/Shanghai")
    assert natural == datetime(2026, 10, 3, 1, 0)  # 3 x 24 hours


def test_local_day_not_utc_day_decides() -> None:
    found = datetime(2026, 10, 8, 17, 0)  # 01:00 on Fri 9 Oct in Beijing
    # Sat 10 Oct (adjusted working day) 01:00 Beijing; the UTC day would give Fri 9 Oct.
    assert deadline_for(found, 1, "working", CAL, "Asia/Shanghai") == datetime(2026, 10, 9, 17, 0)


def test_a_date_given_as_deadline_ends_with_the_local_day() -> None:
    assert end_of_local_day(date(2026, 10, 10), "Asia/Shanghai") == datetime(
        2026, 10, 10, 15, 59, 59
    )


def test_unknown_deadline_unit_refused() -> None:
    with pytest.raises(CalendarError) as excinfo:
        deadline_for(datetime(2026, 10, 8), 1, "fortnight", CAL, "Asia/Shanghai")
    assert str(excinfo.value) == "未知的时限单位 'fortnight'"
    assert excinfo.value.message("en") == "unknown deadline unit 'fortnight'"


@given(st.dates(date(2026, 1, 1), date(2027, 12, 1)), st.integers(0, 40))
def test_working_days_between_inverts_add(start: date, days: int) -> None:
    end = CAL.add_working_days(start, days)
    assert CAL.working_days_between(start, end) == days
    assert days == 0 or CAL.is_working_day(end)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[years.2026]\nholidays = ["2026-13-01"]\n', "malformed date '2026-13-01'"),
        ('[years.2026]\nholidays = ["2026-10-10"]\nworking_days = ["2026-10-10"]\n', "both"),
        ('[years.2026]\nholidays = ["2026-10-01", "2026-10-01"]\n', "2026-10-01 重复列出"),
        ('[years.2026]\nholidays = ["2026-10-1x"]\n', "malformed date '2026-10-1x'"),
        ('[years.2026]\nholidays = "2026-10-01"\n', "must be a list of dates"),
        ('[years.2026]\nholidays = ["2027-01-01"]\n', "not in year 2026"),
        ("[years.2026\n", "syntax error"),
        ("title = 'x'\n", "no [years.YYYY]"),
    ],
)
def test_bad_calendar_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cal.toml"
    path.write_text(text, encoding="utf-8")
    with raises_msg(CalendarError, message.replace("[", r"\[").replace(".", r"\.")):
        load_calendar(path)


def test_negative_days_refused() -> None:
    with raises_msg(CalendarError, "≥ 0，实为 -1"):
        CAL.add_working_days(date(2026, 1, 5), -1)
    with raises_msg(CalendarError, "must be ≥ 0, got -1"):
        CAL.add_working_days(date(2026, 1, 5), -1)


def test_warning_days_count_back_over_weekends_and_holidays() -> None:
    assert CAL.working_days_before(date(2026, 11, 23), 1) == date(2026, 11, 20)  # Mon → Fri
    # Thursday 8 October: 1 working day back jumps the National Day week to 30 September.
    assert CAL.working_days_before(date(2026, 10, 8), 1) == date(2026, 9, 30)
    # Monday 12 October: the Saturday before (10 October) is an adjusted working day.
    assert CAL.working_days_before(date(2026, 10, 12), 1) == date(2026, 10, 10)
    assert CAL.working_days_before(date(2026, 10, 12), 0) == date(2026, 10, 12)
    with raises_msg(CalendarError, "must be ≥ 0, got -2"):
        CAL.working_days_before(date(2026, 10, 12), -2)


def test_bad_calendar_file_stops_the_app_with_its_reason(tmp_path: Path) -> None:
    from web import create_app

    bad = tmp_path / "cal.toml"
    bad.write_text('[years.2026]\nholidays = ["2026-02-30"]\n', encoding="utf-8")
    with raises_msg(CalendarError, "malformed date '2026-02-30'"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "CALENDAR": str(bad)})


# Assignments: the lifecycle gives each problem its category's default deadline.


@pytest.fixture
def city(engine, tmp_path: Path):
    load_lifecycle_city(engine, tmp_path)
    return engine


def _assign_as(engine, external_id: str, category: str, at: datetime, rules=None) -> datetime:
    pid = problem_id(engine, external_id)
    with transaction(engine) as session:
        session.execute(sa.update(Problem).where(Problem.id == pid).values(category=category))
        summary.rebuild(session)
    change = Change("assign", "街道创建办", unit="云溪区城管局", at=at)
    lifecycle.apply(engine, Selection(ids=(pid,)), change, rules=rules)
    with transaction(engine, write=False) as session:
        deadline = session.get_one(Problem, pid).deadline
    assert deadline is not None
    return deadline


# Times are naive UTC; 02:00 UTC is 10:00 in Beijing.
CASES = [
    # public_smoking, 3 working days from Wednesday 30 September 2026: 1–7 October are
    # holidays; Thursday 8, Friday 9 and Saturday 10 (adjusted working day) count.
    ("A1", "public_smoking", datetime(2026, 9, 30, 2, 0), datetime(2026, 10, 10, 2, 0)),
    # food_hygiene, 5 working days from Friday 9 October: Sat 10 (working), Mon 12 … Thu 15.
    ("A2", "food_hygiene", datetime(2026, 10, 9, 2, 0), datetime(2026, 10, 15, 2, 0)),
    # assigned on Sunday 4 October (a holiday): counting starts after it → Fri 9 … Sat 10.
    ("A3", "public_smoking", datetime(2026, 10, 4, 2, 0), datetime(2026, 10, 10, 2, 0)),
    # natural days ignore the calendar: litter, 1 day from Wednesday 30 September.
    ("B1", "litter", datetime(2026, 9, 30, 2, 0), datetime(2026, 10, 1, 2, 0)),
]


@pytest.mark.parametrize(("external_id", "category", "at", "due"), CASES)
def test_deadline_follows_the_official_calendar(city, external_id, category, at, due) -> None:
    assert _assign_as(city, external_id, category, at) == due


def test_a_city_edited_calendar_changes_deadlines(city, tmp_path: Path) -> None:
    # The city declares Thursday 8 October a local holiday too: one more day to wait.
    text = DEFAULT_CALENDAR_PATH.read_text(encoding="utf-8")
    edited = text.replace('"2026-10-07",', '"2026-10-07", "2026-10-08",', 1)
    assert edited != text
    path = tmp_path / "calendar.toml"
    path.write_text(edited, encoding="utf-8")
    rules = Rules(load_calendar(path))
    due = _assign_as(city, "A1", "public_smoking", datetime(2026, 9, 30, 2, 0), rules)
    assert due == datetime(2026, 10, 12, 2, 0)  # Fri 9, Sat 10 (working), Mon 12
