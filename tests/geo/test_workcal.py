"""The working calendar: National Day week, working Saturdays, holidays, bad files."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.core.workcal import CalendarError, deadline_for, default_calendar, load_calendar
from tests.helpers import raises_msg

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


def test_deadline_in_utc_at_end_of_local_day() -> None:
    found = datetime(2026, 9, 30, 1, 0)  # 09:00 Beijing time
    due = deadline_for(found, 3, "working", CAL, "Asia/Shanghai")
    assert due == datetime(2026, 10, 10, 15, 59, 59)  # 23:59:59 Beijing time
    natural = deadline_for(found, 3, "natural", CAL, "Asia/Shanghai")
    assert natural == datetime(2026, 10, 3, 15, 59, 59)


def test_local_day_not_utc_day_decides() -> None:
    found = datetime(2026, 10, 8, 17, 0)  # 01:00 on Fri 9 Oct in Beijing
    assert deadline_for(found, 1, "working", CAL, "Asia/Shanghai").date() == date(2026, 10, 10)


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
