"""Rectification deadlines (整改时限) from the taxonomy: natural or working days.

Working days follow the official Chinese holiday calendar with its adjusted working
weekends (调休), through the ``chinese_calendar`` package; for years it does not know
yet, Monday–Friday are taken as working days. Times are naive UTC; days are counted on
the local calendar of ``tz`` and the deadline keeps the local clock time of the start.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from geo.taxonomy import Category


def default_deadline(category: Category, start: datetime, tz: str = "Asia/Shanghai") -> datetime:
    """The category's default deadline counted from ``start`` (naive UTC → naive UTC).

    ``deadline_days`` natural days are added as 24-hour days; working days are added
    one working day at a time on the local calendar, keeping the local clock time.
    """
    if category.deadline_unit == "natural":
        return start + timedelta(days=category.deadline_days)
    zone = ZoneInfo(tz)
    local = start.replace(tzinfo=UTC).astimezone(zone)
    day = add_working_days(local.date(), category.deadline_days)
    moved = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone)
    return moved.astimezone(UTC).replace(tzinfo=None)


def add_working_days(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (``n`` ≥ 0; 0 returns ``day``)."""
    current = day
    left = n
    while left > 0:
        current += timedelta(days=1)
        if is_workday(current):
            left -= 1
    return current


def is_workday(day: date) -> bool:
    """True on official working days (holidays off, adjusted weekends on)."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package has no official calendar for
        return day.weekday() < 5


def end_of_local_day(day: date, tz: str = "Asia/Shanghai") -> datetime:
    """23:59:59 local time on ``day``, as naive UTC (a deadline given as a date)."""
    local = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).replace(tzinfo=None)
