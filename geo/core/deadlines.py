"""Rectification deadlines (整改时限) from the taxonomy: natural or working days.

Working days follow the official calendar in data/calendar.toml (or the city's own file,
CIVICGRID_CALENDAR; see geo/core/workcal.py): public holidays off, adjusted working weekends
(调休) on, Monday–Friday for years the file does not cover. Times are naive UTC; days
are counted on the local calendar of ``tz``.

Rule for the default deadline of an assignment (交办) made at moment T: ``N`` natural days
are N × 24 hours after T; ``N`` working days end on the N-th working day after T's local
day (that day itself never counts, working day or not) at T's local clock time. So 3
working days from Friday 10:00 is Wednesday 10:00, and from Wednesday 30 September 2026
(National Day week follows) it is Saturday 10 October 10:00, an adjusted working day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from geo.core.taxonomy import Category
from geo.core.workcal import WorkCalendar, default_calendar


def default_deadline(
    category: Category,
    start: datetime,
    tz: str = "Asia/Shanghai",
    calendar: WorkCalendar | None = None,
) -> datetime:
    """The category's default deadline counted from ``start`` (naive UTC → naive UTC),
    in its ``deadline_unit`` (natural or working days on ``calendar``, default the
    shipped one); see the module docstring for the rule."""
    if category.deadline_unit == "natural":
        return start + timedelta(days=category.deadline_days)
    zone = ZoneInfo(tz)
    local = start.replace(tzinfo=UTC).astimezone(zone)
    day = add_working_days(local.date(), category.deadline_days, calendar)
    moved = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone)
    return moved.astimezone(UTC).replace(tzinfo=None)


def add_working_days(day: date, n: int, calendar: WorkCalendar | None = None) -> date:
    """The ``n``-th working day after ``day`` (``n`` ≥ 0; 0 returns ``day``)."""
    return (calendar or default_calendar()).add_working_days(day, n)


def is_workday(day: date, calendar: WorkCalendar | None = None) -> bool:
    """True on official working days (holidays off, adjusted weekends on)."""
    return (calendar or default_calendar()).is_working_day(day)


def end_of_local_day(day: date, tz: str = "Asia/Shanghai") -> datetime:
    """23:59:59 local time on ``day``, as naive UTC (a deadline given as a date)."""
    local = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).replace(tzinfo=None)
