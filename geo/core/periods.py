"""Reporting periods: ISO weeks (``2026-W47``), months (``2026-11``), quarters (``2026-Q4``).

A period is a span of local calendar days (the city's time zone, e.g. Asia/Shanghai):
a week runs Monday 00:00 to the next Monday 00:00 local time. Stored times are naive
UTC, so :meth:`Period.utc_bounds` converts the local boundaries to naive UTC datetimes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from geo.core.errors import InvalidParameterError
from geo.core.text import en, tr

KINDS = ("week", "month", "quarter")

_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-Q(\d)$")


@dataclass(frozen=True)
class Period:
    """A week, month or quarter: ``start`` inclusive, ``end`` exclusive (local dates)."""

    kind: str
    year: int
    number: int
    start: date
    end: date

    @property
    def code(self) -> str:
        """The canonical text: ``2026-W47``, ``2026-11`` or ``2026-Q4``."""
        if self.kind == "week":
            return f"{self.year}-W{self.number:02d}"
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        return f"{self.year}-Q{self.number}"

    def label(self, lang: str = "zh") -> str:
        """Human label with the dates, e.g. ``2026年第47周（11月16日—11月22日）``."""
        last = self.end - timedelta(days=1)
        if lang == "en":
            return f"{self.code} ({self.start:%d %b} – {last:%d %b %Y})"
        unit = {"week": f"第{self.number}周", "month": f"{self.number}月"}
        name = unit.get(self.kind, f"第{self.number}季度")
        return (
            f"{self.year}年{name}（{self.start.month}月{self.start.day}日—"
            f"{last.month}月{last.day}日）"
        )

    def utc_bounds(self, tz: str = "Asia/Shanghai") -> tuple[datetime, datetime]:
        """Start and end as naive UTC datetimes (local midnight converted to UTC)."""
        return local_midnight_utc(self.start, tz), local_midnight_utc(self.end, tz)

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        return period_containing(self.start - timedelta(days=1), self.kind)

    def next(self) -> Period:
        """The period of the same kind just after this one."""
        return period_containing(self.end, self.kind)


def parse_period(text: str) -> Period:
    """Parse ``2026-W47``, ``2026-11`` or ``2026-Q4``; raise ``InvalidParameterError``."""
    value = (text or "").strip().upper()
    for pattern, build in ((_WEEK, _week), (_QUARTER, _quarter), (_MONTH, _month)):
        match = pattern.match(value)
        if match:
            return build(int(match.group(1)), int(match.group(2)), text)
    raise _bad(
        text, tr("格式应为 2026-W47、2026-11 或 2026-Q4", "expected 2026-W47, 2026-11 or 2026-Q4")
    )


def period_containing(day: date, kind: str) -> Period:
    """The week, month or quarter (``kind``) containing the local date ``day``."""
    if kind == "week":
        year, week, _ = day.isocalendar()
        return _week(year, week, "")
    if kind == "month":
        return _month(day.year, day.month, "")
    if kind == "quarter":
        return _quarter(day.year, (day.month - 1) // 3 + 1, "")
    raise InvalidParameterError(tr(f"未知的周期类型 '{kind}'", f"unknown period kind '{kind}'"))


def current_period(kind: str, tz: str = "Asia/Shanghai", now: datetime | None = None) -> Period:
    """The period of ``kind`` containing today in ``tz`` (``now`` is naive UTC)."""
    moment = (now or datetime.now(UTC).replace(tzinfo=None)).replace(tzinfo=UTC)
    return period_containing(moment.astimezone(ZoneInfo(tz)).date(), kind)


def utc_offset_minutes(tz: str, at: datetime | None = None) -> int:
    """The UTC offset of ``tz`` in minutes at ``at`` (naive UTC, default now): the fixed
    offset the summary counts bucket local days at (``summary_meta.day_offset_minutes``;
    480 for Asia/Shanghai). Derived from the zone, never assumed: a zone with daylight
    saving time gets the offset in force at ``at``."""
    moment = (at or datetime.now(UTC).replace(tzinfo=None)).replace(tzinfo=UTC)
    offset = moment.astimezone(ZoneInfo(tz)).utcoffset() or timedelta(0)
    return int(offset // timedelta(minutes=1))


def local_midnight_utc(day: date, tz: str) -> datetime:
    """Local midnight at the start of ``day`` in ``tz``, as a naive UTC datetime."""
    local = datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).replace(tzinfo=None)


def _week(year: int, week: int, text: str) -> Period:
    weeks_in_year = date(year, 12, 28).isocalendar()[1]
    if not 1 <= week <= weeks_in_year:
        raise _bad(
            text, tr(f"{year} 年只有 {weeks_in_year} 周", f"{year} has {weeks_in_year} weeks")
        )
    start = date.fromisocalendar(year, week, 1)
    return Period("week", year, week, start, start + timedelta(days=7))


def _month(year: int, month: int, text: str) -> Period:
    if not 1 <= month <= 12:
        raise _bad(text, tr("月份应为 1–12", "month must be 1–12"))
    end = date(year + month // 12, month % 12 + 1, 1)
    return Period("month", year, month, date(year, month, 1), end)


def _quarter(year: int, quarter: int, text: str) -> Period:
    if not 1 <= quarter <= 4:
        raise _bad(text, tr("季度应为 Q1–Q4", "quarter must be Q1–Q4"))
    first = 3 * (quarter - 1) + 1
    start = date(year, first, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, first + 3, 1)
    return Period("quarter", year, quarter, start, end)


def _bad(text: str, why: str) -> InvalidParameterError:
    return InvalidParameterError(
        tr(f"无效的统计周期 '{text}': {why}", f"invalid period '{text}': {en(why)}")
    )
