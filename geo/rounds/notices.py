"""Notices (抄告单): what a street or town office must rectify after a round, by when.

For one street (level ``street``: 街道 or 镇) and one round, a notice lists the points in
the street whose latest result in the round is fail or serious fail, each with its
visit and the problems found at it in the round (voided reports left out): category,
description, responsible unit (the problem's, else the point's), deadline (整改时限),
warning date (预警时间: ``warning_days`` working days before the deadline, on the
official calendar) and the latest photo if any. Issuing a notice gives it a number —
``<prefix>〔<year>〕第<n>号``, n counting from 1 within the local year — and records it
(table ``notices``: who, when, which visits and problems), optionally assigning (交办)
the problems not yet assigned to a unit in the same transaction. Times are naive UTC,
shown in ``tz``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import InvalidParameterError, NotFoundError
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.core.workcal import WorkCalendar
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import Change, Rules
from geo.lifecycle.problems import area_ref, is_overdue
from geo.lifecycle.selection import Selection
from geo.rounds.coverage import with_latest_visit
from geo.rounds.rounds import FAILED, result_label, scope_conditions, visit_problems
from geo.storage.models import InspectionPoint
from geo.storage.round_models import InspectionRound, Notice, Visit
from geo.storage.statuses import VOIDED

DEFAULT_PREFIX = "文明创建督查"
DEFAULT_WARNING_DAYS = 1


@dataclass
class NoticeProblem:
    """One problem line of a notice (times already local text)."""

    id: int
    category: str
    description: str
    status: str
    unit: str | None
    unit_is_point_unit: bool
    deadline: str | None
    warning: str | None
    overdue: bool
    photo: str | None  # stored photo name (geo/lifecycle/photos.py), the latest one


@dataclass
class NoticePoint:
    """A failed point with its visit and problems."""

    code: str
    name: str
    kind: str
    address: str | None
    result: str
    result_label: str
    visited_at: str
    inspector: str
    note: str
    problems: list[NoticeProblem] = field(default_factory=list)


@dataclass
class NoticeDoc:
    """Everything a notice shows; ``number`` is None for a draft."""

    round_id: int
    round_name: str
    period: str
    street_code: str
    street_name: str
    warning_days: int
    generated_at: str
    points: list[NoticePoint]
    visit_ids: list[int]
    problem_ids: list[int]
    number: str | None = None
    notice_id: int | None = None
    issued_at: str | None = None
    issued_by: str | None = None

    @property
    def serious(self) -> int:
        return sum(p.result == "serious_fail" for p in self.points)

    @property
    def problem_count(self) -> int:
        return sum(len(p.problems) for p in self.points)


@dataclass(frozen=True)
class NoticeSettings:
    """Number prefix, warning days before the deadline, the calendar, the time zone."""

    calendar: WorkCalendar
    prefix: str = DEFAULT_PREFIX
    warning_days: int = DEFAULT_WARNING_DAYS
    tz: str = "Asia/Shanghai"


def build_notice(
    session: so.Session,
    rnd: InspectionRound,
    street_code: str,
    taxonomy: Taxonomy,
    settings: NoticeSettings,
    now: datetime | None = None,
    lang: str = "zh",
) -> NoticeDoc:
    """The draft notice of ``rnd`` for the street ``street_code`` (not numbered, not
    recorded), labels in ``lang``. ``NotFoundError`` for an unknown street."""
    street_id, street = area_ref(session, "street", street_code)
    visits = _failed_visits(session, rnd, street_id)
    return _doc(
        session, rnd, (street.code, street.name), visits, None, taxonomy, settings, now, lang
    )


def issued_notice(
    session: so.Session,
    notice_id: int,
    taxonomy: Taxonomy,
    settings: NoticeSettings,
    lang: str = "zh",
) -> NoticeDoc:
    """An issued notice as recorded: its number, visits and problems (current states)."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFoundError(tr(f"抄告单不存在: {notice_id}", f"no notice with id {notice_id}"))
    visits = list(
        session.scalars(
            sa.select(Visit)
            .options(so.joinedload(Visit.point).joinedload(InspectionPoint.unit))
            .where(Visit.id.in_([int(v) for v in notice.visit_ids]))
        )
    )
    return _doc(
        session,
        notice.round,
        (notice.area.code, notice.area.name),
        _sorted(visits),
        notice,
        taxonomy,
        settings,
        None,
        lang,
        keep={int(p) for p in notice.problem_ids},
    )


def issue_notice(
    session: so.Session,
    rnd: InspectionRound,
    street_code: str,
    actor: str,
    taxonomy: Taxonomy,
    settings: NoticeSettings,
    assign_unit: str | None = None,
    rules: Rules | None = None,
    now: datetime | None = None,
) -> Notice:
    """Number and record the notice (in the caller's transaction); with ``assign_unit``
    assign its problems still found (交办) to that unit first. Raises
    ``InvalidParameterError`` when the actor is missing or no point failed, and the
    lifecycle's errors for a bad assignment; nothing is written then."""
    actor = actor.strip()
    if not actor or len(actor) > 100:
        raise InvalidParameterError(tr("请填写签发人", "who issues the notice (1–100 characters)"))
    now = now or datetime.now(UTC).replace(tzinfo=None)
    draft = build_notice(session, rnd, street_code, taxonomy, settings, now)
    if not draft.points:
        raise InvalidParameterError(
            tr(
                f"「{rnd.name}」中{draft.street_name}没有不合格点位，无需抄告",
                f"no point of {draft.street_code} failed in round '{rnd.name}': nothing to notify",
            )
        )
    year, seq = _next_number(session, now, settings.tz)
    number = f"{settings.prefix}〔{year}〕第{seq}号"
    if assign_unit:
        _assign(session, draft, actor, assign_unit, number, taxonomy, settings, rules, now)
    notice = Notice(
        round_id=rnd.id,
        area_id=area_ref(session, "street", street_code)[0],
        year=year,
        seq=seq,
        number=number,
        issued_at=now,
        issued_by=actor,
        warning_days=settings.warning_days,
        visit_ids=draft.visit_ids,
        problem_ids=draft.problem_ids,
    )
    session.add(notice)
    session.flush()
    return notice


def list_notices(session: so.Session, round_id: int | None = None) -> list[Notice]:
    """Issued notices, the latest first (of one round when given)."""
    stmt = sa.select(Notice).options(so.joinedload(Notice.area), so.joinedload(Notice.round))
    if round_id is not None:
        stmt = stmt.where(Notice.round_id == round_id)
    return list(session.scalars(stmt.order_by(Notice.issued_at.desc(), Notice.id.desc())))


def _failed_visits(session: so.Session, rnd: InspectionRound, street_id: int) -> list[Visit]:
    """For each point of the street whose latest result in the round failed: the visits
    of the round at that point that failed (latest first)."""
    points = sa.select(InspectionPoint.id).select_from(InspectionPoint)
    failed_points = (
        with_latest_visit(points, session, rnd.id)
        .where(
            InspectionPoint.street_id == street_id,
            Visit.result.in_(FAILED),
            *scope_conditions(session, rnd),
        )
        .correlate(None)  # its visits are its own, not the enclosing query's
    )
    visits = session.scalars(
        sa.select(Visit)
        .options(so.joinedload(Visit.point).joinedload(InspectionPoint.unit))
        .where(
            Visit.round_id == rnd.id,
            Visit.point_id.in_(failed_points),
            Visit.result.in_(FAILED),
        )
    )
    return _sorted(list(visits))


def _sorted(visits: list[Visit]) -> list[Visit]:
    """Serious fails first, then by point code, latest visit first."""
    visits.sort(key=lambda v: v.visited_at, reverse=True)
    visits.sort(key=lambda v: (v.result != "serious_fail", v.point.code))
    return visits


def _doc(
    session: so.Session,
    rnd: InspectionRound,
    street: tuple[str, str],
    visits: list[Visit],
    notice: Notice | None,
    taxonomy: Taxonomy,
    settings: NoticeSettings,
    now: datetime | None,
    lang: str,
    keep: set[int] | None = None,
) -> NoticeDoc:
    zone = ZoneInfo(settings.tz)
    found = visit_problems(session, [v.id for v in visits])
    points: dict[str, NoticePoint] = {}
    problem_ids: list[int] = []
    for visit in visits:
        point = points.get(visit.point.code) or points.setdefault(
            visit.point.code, _point(visit, taxonomy, zone, lang)
        )
        for problem in found.get(visit.id, []):
            if problem.status == VOIDED or (keep is not None and problem.id not in keep):
                continue
            point.problems.append(_problem(problem, visit, taxonomy, settings, zone, lang))
            problem_ids.append(problem.id)
    warning_days = notice.warning_days if notice is not None else settings.warning_days
    return NoticeDoc(
        round_id=rnd.id,
        round_name=rnd.name,
        period=f"{rnd.starts_on:%Y-%m-%d} 至 {rnd.ends_on:%Y-%m-%d}",
        street_code=street[0],
        street_name=street[1],
        warning_days=warning_days,
        generated_at=_local(now or datetime.now(UTC).replace(tzinfo=None), zone),
        points=list(points.values()),
        visit_ids=[v.id for v in visits],
        problem_ids=problem_ids,
        number=notice.number if notice else None,
        notice_id=notice.id if notice else None,
        issued_at=_local(notice.issued_at, zone) if notice else None,
        issued_by=notice.issued_by if notice else None,
    )


def _point(visit: Visit, taxonomy: Taxonomy, zone: ZoneInfo, lang: str) -> NoticePoint:
    point = visit.point
    return NoticePoint(
        code=point.code,
        name=point.name,
        kind=taxonomy.kind_label(point.kind, lang),
        address=point.address,
        result=visit.result,
        result_label=result_label(visit.result, lang),
        visited_at=_local(visit.visited_at, zone),
        inspector=visit.inspector,
        note=visit.note,
    )


def _problem(
    problem: Any,
    visit: Visit,
    taxonomy: Taxonomy,
    settings: NoticeSettings,
    zone: ZoneInfo,
    lang: str,
) -> NoticeProblem:
    point_unit = visit.point.unit.name if visit.point.unit else None
    unit = problem.unit.name if problem.unit else point_unit
    deadline = problem.deadline
    warning = None
    if deadline is not None:
        local_day = deadline.replace(tzinfo=UTC).astimezone(zone).date()
        day = settings.calendar.working_days_before(local_day, settings.warning_days)
        warning = f"{day:%Y-%m-%d}"
    photos = [e.photo for e in problem.events if e.photo]
    return NoticeProblem(
        id=problem.id,
        category=taxonomy.category_label(problem.category, lang),
        description=problem.description,
        status=taxonomy.status_label(problem.status, lang),
        unit=unit,
        unit_is_point_unit=problem.unit is None and point_unit is not None,
        deadline=_local(deadline, zone) if deadline is not None else None,
        warning=warning,
        overdue=is_overdue(problem),
        photo=photos[-1] if photos else None,
    )


def _assign(
    session: so.Session,
    draft: NoticeDoc,
    actor: str,
    unit: str,
    number: str,
    taxonomy: Taxonomy,
    settings: NoticeSettings,
    rules: Rules | None,
    now: datetime,
) -> None:
    """Assign the notice's problems that are still found, then refresh the draft."""
    from geo.storage.models import Problem

    found = session.scalars(
        sa.select(Problem.id).where(Problem.id.in_(draft.problem_ids), Problem.status == "found")
    ).all()
    if not found:
        return
    change = Change("assign", actor, note=f"抄告单 {number}", unit=unit, at=now)
    selection = Selection(ids=tuple(found))
    lifecycle.bulk_transition(session, selection, change, taxonomy, settings.tz, rules)


def _next_number(session: so.Session, now: datetime, tz: str) -> tuple[int, int]:
    """The local year of ``now`` and the next sequence number within it."""
    year = now.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).year
    last = session.scalar(sa.select(sa.func.max(Notice.seq)).where(Notice.year == year))
    return year, int(last or 0) + 1


def _local(value: datetime, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.replace(tzinfo=UTC).astimezone(zone).strftime(fmt)
