"""The official working calendar: which days are working days (工作日), and deadlines.

Deadlines (整改时限) are counted either in natural days or in working days on the
official calendar (data/calendar.toml, or the city's own file, CIVICGRID_CALENDAR:
public holidays off, adjusted working weekends 调休 on, Monday–Friday for years the file
does not cover). Times are naive UTC; days are local calendar dates of the configured
zone (CIVICGRID_TIMEZONE, passed as ``tz``).

The one rule for a deadline counted from moment T (an assignment 交办, the lifecycle's
default deadline): ``N`` natural days are N × 24 hours after T; ``N`` working days end
on the N-th working day after T's local day (that day itself never counts, working day
or not) at T's local clock time. So 3 working days from Friday 10:00 is Wednesday
10:00, and from Wednesday 30 September 2026 (National Day week follows) it is Saturday
10 October 10:00, an adjusted working day. A deadline given as a date ends at the end
of that local day (``end_of_local_day``).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from geo.core.errors import CivicgridError
from geo.core.text import tr

DEFAULT_CALENDAR_PATH = Path(__file__).resolve().parents[2] / "data" / "calendar.toml"
END_OF_DAY = time(23, 59, 59)


class CalendarError(CivicgridError, ValueError):
    """The calendar file is malformed, or a date falls outside the years it covers."""


@dataclass(frozen=True)
class WorkCalendar:
    """Holidays and adjusted working days for the covered years."""

    holidays: frozenset[date]
    working_days: frozenset[date]
    years: frozenset[int]

    def is_working_day(self, day: date) -> bool:
        """True for a working day: a weekday that is no holiday, or an adjusted working day.

        Days outside the covered years use the plain Monday–Friday rule.
        """
        if day in self.working_days:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts)."""
        if days < 0:
            raise CalendarError(
                tr(f"工作日数必须 ≥ 0，实为 {days}", f"working days must be ≥ 0, got {days}")
            )
        day = start
        remaining = days
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_before(self, end: date, days: int) -> date:
        """The ``days``-th working day before ``end`` (``end`` itself never counts): the
        warning date (预警时间) ``days`` working days ahead of a deadline on ``end``."""
        if days < 0:
            raise CalendarError(
                tr(f"工作日数必须 ≥ 0，实为 {days}", f"working days must be ≥ 0, got {days}")
            )
        day = end
        remaining = days
        while remaining:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many working days it took from start to end."""
        if end <= start:
            return 0
        return sum(
            self.is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1)
        )


def deadline_for(
    start: datetime,
    days: int,
    unit: str,
    calendar: WorkCalendar | None = None,
    tz: str = "Asia/Shanghai",
) -> datetime:
    """The deadline ``days`` natural or working days (``unit``: "natural" / "working", on
    ``calendar``, default the shipped one) after ``start`` (naive UTC → naive UTC); see
    the module docstring for the rule."""
    if unit == "natural":
        return start + timedelta(days=days)
    if unit != "working":
        raise CalendarError(tr(f"未知的时限单位 '{unit}'", f"unknown deadline unit '{unit}'"))
    zone = ZoneInfo(tz)
    local = start.replace(tzinfo=UTC).astimezone(zone)
    day = add_working_days(local.date(), days, calendar)
    moved = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone)
    return moved.astimezone(UTC).replace(tzinfo=None)


def add_working_days(day: date, n: int, calendar: WorkCalendar | None = None) -> date:
    """The ``n``-th working day after ``day`` (``n`` ≥ 0; 0 returns ``day``) on
    ``calendar`` (default the shipped one)."""
    return (calendar or default_calendar()).add_working_days(day, n)


def end_of_local_day(day: date, tz: str = "Asia/Shanghai") -> datetime:
    """23:59:59 local time on ``day``, as naive UTC (a deadline given as a date)."""
    local = datetime.combine(day, END_OF_DAY, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).replace(tzinfo=None)


def load_calendar(path: str | Path | None = None) -> WorkCalendar:
    """Read and validate a calendar TOML file (default data/calendar.toml)."""
    path = Path(path or DEFAULT_CALENDAR_PATH)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CalendarError(tr(f"{path}: 文件不存在", f"{path}: file not found")) from exc
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(
            tr(f"{path}: TOML 语法错误: {exc}", f"{path}: syntax error: {exc}")
        ) from exc
    holidays: set[date] = set()
    working: set[date] = set()
    years = raw.get("years")
    if not isinstance(years, dict) or not years:
        raise CalendarError(tr(f"{path}: 缺少 [years.YYYY]", f"{path}: no [years.YYYY] tables"))
    for year, table in years.items():
        holidays |= _dates(path, year, table, "holidays")
        working |= _dates(path, year, table, "working_days")
    both = sorted(holidays & working)
    if both:
        raise CalendarError(
            tr(
                f"{path}: {both[0]} 同时是假日和工作日",
                f"{path}: {both[0]} is listed both as holiday and as working day",
            )
        )
    return WorkCalendar(frozenset(holidays), frozenset(working), frozenset(int(y) for y in years))


@functools.lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    """The calendar shipped in data/calendar.toml, parsed once."""
    return load_calendar()


def calendar_from_setting(path: str | Path | None) -> WorkCalendar:
    """The calendar of CIVICGRID_CALENDAR: the shipped one when unset, else that file."""
    if not path or Path(path).resolve() == DEFAULT_CALENDAR_PATH:
        return default_calendar()
    return load_calendar(path)


def _dates(path: Path, year: str, table: object, key: str) -> set[date]:
    if not year.isdigit() or not isinstance(table, dict):
        raise CalendarError(
            tr(
                f"{path}: years.{year}: 年份须为数字",
                f"{path}: years.{year}: year must be a number",
            )
        )
    values = table.get(key, [])
    if not isinstance(values, list):
        raise CalendarError(
            tr(
                f"{path}: years.{year}.{key}: 须为日期列表",
                f"{path}: years.{year}.{key}: must be a list of dates",
            )
        )
    days: set[date] = set()
    for value in values:
        day = _parse_day(path, year, key, value)
        if day.year != int(year):
            raise CalendarError(
                tr(
                    f"{path}: years.{year}.{key}: {day} 不属于该年",
                    f"{path}: years.{year}.{key}: {day} is not in year {year}",
                )
            )
        if day in days:
            raise CalendarError(
                tr(
                    f"{path}: years.{year}.{key}: {day} 重复列出",
                    f"{path}: years.{year}.{key}: {day} is listed twice (a typo for another day?)",
                )
            )
        days.add(day)
    return days


def _parse_day(path: Path, year: str, key: str, value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CalendarError(
            tr(
                f"{path}: years.{year}.{key}: 日期格式错误 '{value}'",
                f"{path}: years.{year}.{key}: malformed date '{value}' (YYYY-MM-DD)",
            )
        ) from exc
