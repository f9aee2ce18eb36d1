"""Rounds of field evaluation (实地测评 / 暗访督查 "四不两直") and their visits.

A round has a name, a period of local calendar days (CIVICGRID_TIMEZONE) and a scope: the
inspection point kinds and the areas (any level) it covers, each empty meaning "all". A
visit records that an inspector went to a point in scope during the period, when (naive
UTC), the result — pass 合格, fail 不合格 or serious fail 严重不合格 — and a note; the
problems found in it are linked through ``visit_problems``. Surveys carry visits through
the ingest pipeline (geo/ingest/visits.py); ``record_visit`` records one by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import InvalidParameterError, NotFoundError
from geo.core.params import record_id
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.storage.bulk import insert_problems
from geo.storage.models import ANCESTRY_COLUMNS, LEVELS, Area, InspectionPoint, Problem
from geo.storage.round_models import InspectionRound, RoundArea, Visit, VisitProblem
from geo.summary import counts as summary

RESULTS: dict[str, tuple[str, str]] = {
    "pass": ("合格", "Pass"),
    "fail": ("不合格", "Fail"),
    "serious_fail": ("严重不合格", "Serious fail"),
}
"""Visit results, best first, with zh / en labels."""

FAILED: tuple[str, ...] = ("fail", "serious_fail")
VISIT_SOURCE = "visit"  # source of the problems recorded with ``record_visit``
_RESULT_WORDS = {
    **{k: k for k in RESULTS},
    **{zh: k for k, (zh, _) in RESULTS.items()},
    **{en.lower(): k for k, (_, en) in RESULTS.items()},
    "passed": "pass",
    "ok": "pass",
    "通过": "pass",
    "达标": "pass",
    "failed": "fail",
    "不达标": "fail",
    "serious": "serious_fail",
    "serious fail": "serious_fail",
}


@dataclass(frozen=True)
class RoundSpec:
    """What a new round is: name, first and last local day, scope, description.

    ``point_kinds`` are kind codes or labels; ``areas`` are ``level:code`` (or a code
    unique across levels). Empty means every kind / the whole city.
    """

    name: str
    starts_on: date
    ends_on: date
    point_kinds: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    description: str = ""
    created_by: str = "cli"


@dataclass(frozen=True)
class VisitInput:
    """One visit to record: point code, time (naive UTC), inspector, result, note, and the
    problems found there as (category, description) pairs."""

    point_code: str
    visited_at: datetime
    inspector: str
    result: str
    note: str = ""
    problems: tuple[tuple[str, str], ...] = ()


def result_label(result: str | None, lang: str = "zh") -> str:
    """The label of a visit result; "not visited" for None."""
    if result is None:
        return "Not visited" if lang == "en" else "未测评"
    zh, en = RESULTS[result]
    return en if lang == "en" else zh


def parse_result(value: object) -> str | None:
    """A result code from a code, zh / en label or common synonym; None if unknown."""
    text = str(value or "").strip().lower()
    return _RESULT_WORDS.get(text)


def create_round(session: so.Session, spec: RoundSpec, taxonomy: Taxonomy) -> InspectionRound:
    """Create a round (in the caller's transaction). Raises ``InvalidParameterError`` for
    an empty or taken name or an end before the start, ``TaxonomyError`` for an unknown
    point kind and ``NotFoundError`` for an unknown area; nothing is written then."""
    name = _check_spec(session, spec)
    kinds = [taxonomy.resolve_kind(k).code for k in spec.point_kinds]
    area_ids = [resolve_area(session, ref)[0] for ref in spec.areas]
    rnd = InspectionRound(
        name=name,
        starts_on=spec.starts_on,
        ends_on=spec.ends_on,
        point_kinds=sorted(set(kinds)),
        description=spec.description.strip(),
        created_at=datetime.now(UTC).replace(tzinfo=None),
        created_by=spec.created_by.strip() or "cli",
    )
    session.add(rnd)
    session.flush()
    if area_ids:
        session.execute(
            sa.insert(RoundArea), [{"round_id": rnd.id, "area_id": a} for a in set(area_ids)]
        )
    return rnd


def find_round(session: so.Session, ref: int | str) -> InspectionRound:
    """A round by id or name; ``NotFoundError`` when there is none."""
    text = str(ref).strip()
    rnd = None
    number = record_id(text)
    if number is not None:
        rnd = session.get(InspectionRound, number)
    if rnd is None:
        rnd = session.scalar(sa.select(InspectionRound).where(InspectionRound.name == text))
    if rnd is None:
        raise NotFoundError(tr(f"未找到测评轮次 '{text}'", f"no round '{text}'"))
    return rnd


def list_rounds(session: so.Session) -> list[InspectionRound]:
    """Every round, the latest first."""
    stmt = sa.select(InspectionRound).order_by(
        InspectionRound.starts_on.desc(), InspectionRound.id.desc()
    )
    return list(session.scalars(stmt))


def resolve_area(session: so.Session, ref: str) -> tuple[int, str, str]:
    """(id, level, code) of an area given as ``level:code`` or a code unique across levels."""
    level, _, code = ref.strip().rpartition(":")
    stmt = sa.select(Area.id, Area.level, Area.code).where(Area.code == code.strip())
    if level:
        if level not in LEVELS:
            raise InvalidParameterError(
                tr(
                    f"未知的区域层级 '{level}'; 可选: {', '.join(LEVELS)}",
                    f"unknown level '{level}'; one of: {', '.join(LEVELS)}",
                )
            )
        stmt = stmt.where(Area.level == level)
    rows = session.execute(stmt).all()
    if not rows:
        raise NotFoundError(tr(f"未找到区域 '{ref.strip()}'", f"no area with code '{ref.strip()}'"))
    if len(rows) > 1:
        raise InvalidParameterError(
            tr(
                (
                    f"区域编码 '{code}' 有歧义，存在于多个层级（"
                    f"{', '.join(r.level for r in rows)}）：请写成 层级:编码"
                ),
                (
                    f"area code '{code}' exists at several levels "
                    f"({', '.join(r.level for r in rows)}): write level:code"
                ),
            )
        )
    return rows[0].id, rows[0].level, rows[0].code


def scope_conditions(session: so.Session, rnd: InspectionRound) -> list[Any]:
    """SQL conditions on ``InspectionPoint`` selecting the points in the round's scope."""
    where: list[Any] = []
    if rnd.point_kinds:
        where.append(InspectionPoint.kind.in_(list(rnd.point_kinds)))
    areas = session.execute(
        sa.select(Area.id, Area.level)
        .join(RoundArea, RoundArea.area_id == Area.id)
        .where(RoundArea.round_id == rnd.id)
    ).all()
    if areas and not any(a.level == "city" for a in areas):
        by_level: dict[str, list[int]] = {}
        for area_id, level in areas:
            by_level.setdefault(level, []).append(area_id)
        where.append(
            sa.or_(*(getattr(InspectionPoint, f"{lv}_id").in_(ids) for lv, ids in by_level.items()))
        )
    return where


def scope_label(rnd: InspectionRound, taxonomy: Taxonomy, lang: str = "zh") -> str:
    """The round's scope in words: kinds and areas, or "all"."""
    every = "all" if lang == "en" else "全部"
    kinds = "、".join(taxonomy.kind_label(k, lang) for k in rnd.point_kinds) or every
    areas = "、".join(a.name for a in rnd.areas) or ("whole city" if lang == "en" else "全市")
    return f"{kinds} · {areas}"


def in_period(rnd: InspectionRound, times: pd.Series, tz: str) -> pd.Series:
    """Which naive UTC ``times`` fall on the round's local days (first to last)."""
    local = pd.to_datetime(times).dt.tz_localize("UTC").dt.tz_convert(tz).dt.date
    return (local >= rnd.starts_on) & (local <= rnd.ends_on)


def record_visit(
    session: so.Session,
    rnd: InspectionRound,
    visit: VisitInput,
    taxonomy: Taxonomy,
    tz: str = "Asia/Shanghai",
) -> Visit:
    """Record one visit and the problems found in it (at the point's representative
    location, EPSG:4326), in the caller's transaction, with the summary counts.

    Raises ``NotFoundError`` (unknown point), ``InvalidParameterError`` (point outside
    the round's scope, time outside its period, unknown result, no inspector, a visit
    already recorded at that time) or ``TaxonomyError`` (unknown category) before
    anything is written.
    """
    point = _point_in_scope(session, rnd, visit.point_code)
    result = _check_visit(session, rnd, point, visit, tz)
    categories = [taxonomy.resolve_category(c).code for c, _ in visit.problems]
    row = Visit(
        round_id=rnd.id,
        point_id=point.id,
        visited_at=visit.visited_at,
        inspector=visit.inspector.strip(),
        result=result,
        note=visit.note.strip(),
    )
    session.add(row)
    session.flush()
    if categories:
        descriptions = [d.strip() for _, d in visit.problems]
        _add_problems(session, row, point, categories, descriptions)
    return row


def link_problems(session: so.Session, links: pd.DataFrame) -> int:
    """Insert (problem_id, visit_id) links in one statement; returns how many."""
    if links.empty:
        return 0
    records = [
        {"problem_id": int(p), "visit_id": int(v)}
        for p, v in links[["problem_id", "visit_id"]].itertuples(index=False)
    ]
    session.execute(sa.insert(VisitProblem), records)
    return len(records)


def visit_problems(session: so.Session, visit_ids: Sequence[int]) -> dict[int, list[Problem]]:
    """The problems found in each visit (by visit id), oldest first."""
    rows = session.execute(
        sa.select(VisitProblem.visit_id, Problem)
        .join(Problem, Problem.id == VisitProblem.problem_id)
        .options(so.joinedload(Problem.unit), so.selectinload(Problem.events))
        .where(VisitProblem.visit_id.in_(list(visit_ids)))
        .order_by(Problem.found_at, Problem.id)
    ).all()
    found: dict[int, list[Problem]] = {}
    for visit_id, problem in rows:
        found.setdefault(visit_id, []).append(problem)
    return found


def _check_spec(session: so.Session, spec: RoundSpec) -> str:
    name = spec.name.strip()
    if not name or len(name) > 200:
        raise InvalidParameterError(
            tr("轮次名称应为 1–200 个字符", "round name must be 1–200 characters")
        )
    if spec.ends_on < spec.starts_on:
        raise InvalidParameterError(
            tr(
                f"结束日期 {spec.ends_on} 早于开始日期 {spec.starts_on}",
                f"the round ends ({spec.ends_on}) before it starts ({spec.starts_on})",
            )
        )
    taken = session.scalar(sa.select(InspectionRound.id).where(InspectionRound.name == name))
    if taken is not None:
        raise InvalidParameterError(
            tr(f"轮次名称已存在 '{name}'", f"a round named '{name}' already exists")
        )
    return name


def _point_in_scope(session: so.Session, rnd: InspectionRound, code: str) -> InspectionPoint:
    code = code.strip()
    point = session.scalar(sa.select(InspectionPoint).where(InspectionPoint.code == code))
    if point is None:
        raise NotFoundError(tr(f"未知的点位编码 '{code}'", f"unknown point code '{code}'"))
    scoped = session.scalar(
        sa.select(InspectionPoint.id).where(
            InspectionPoint.id == point.id, *scope_conditions(session, rnd)
        )
    )
    if scoped is None:
        raise InvalidParameterError(
            tr(
                f"点位 {code} 不在「{rnd.name}」的测评范围内",
                f"point {code} is outside the scope of round '{rnd.name}'",
            )
        )
    return point


def _check_visit(
    session: so.Session, rnd: InspectionRound, point: InspectionPoint, visit: VisitInput, tz: str
) -> str:
    result = parse_result(visit.result)
    if result is None:
        raise InvalidParameterError(
            tr(
                (
                    f"未知的测评结果 '{visit.result}'（合格 pass、不合格 fail、严"
                    "重不合格 serious_fail）"
                ),
                f"unknown result '{visit.result}' (pass, fail or serious_fail)",
            )
        )
    if not visit.inspector.strip() or len(visit.inspector) > 100:
        raise InvalidParameterError(
            tr("请填写测评员", "the inspector (1–100 characters) is required")
        )
    if not bool(in_period(rnd, pd.Series([visit.visited_at]), tz).iloc[0]):
        local = visit.visited_at.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))
        raise InvalidParameterError(
            tr(
                f"测评时间 {local:%Y-%m-%d %H:%M} 不在本轮期间 {rnd.starts_on} – {rnd.ends_on}",
                f"the visit time is outside the round's period {rnd.starts_on} – {rnd.ends_on}",
            )
        )
    clash = session.scalar(
        sa.select(Visit.id).where(
            Visit.round_id == rnd.id,
            Visit.point_id == point.id,
            Visit.visited_at == visit.visited_at,
        )
    )
    if clash is not None:
        raise InvalidParameterError(
            tr(
                f"点位 {point.code} 此时的测评已登记",
                f"a visit of {point.code} at that time is already recorded",
            )
        )
    return result


def _add_problems(
    session: so.Session,
    visit: Visit,
    point: InspectionPoint,
    categories: Iterable[str],
    descriptions: list[str],
) -> None:
    """The problems of a hand-recorded visit, at the point, as found, one bulk insert."""
    codes = list(categories)
    ancestry = {c: getattr(point, c) for c in ANCESTRY_COLUMNS}
    frame = pd.DataFrame(
        {
            "source": VISIT_SOURCE,
            "external_id": [f"{visit.id}-{i + 1}" for i in range(len(codes))],
            "category": codes,
            "description": descriptions,
            "lon": point.lon,
            "lat": point.lat,
            "outside": bool(point.outside),
            **{c: pd.array([v] * len(codes), dtype="Int64") for c, v in ancestry.items()},
            "point_id": pd.array([point.id] * len(codes), dtype="Int64"),
            "status": "found",
            "unit_id": pd.array([None] * len(codes), dtype="Int64"),
            "found_at": pd.Series([visit.visited_at] * len(codes), dtype="datetime64[us]"),
            "assigned_at": pd.Series([pd.NaT] * len(codes), dtype="datetime64[us]"),
            "deadline": pd.Series([pd.NaT] * len(codes), dtype="datetime64[us]"),
            "rectified_at": pd.Series([pd.NaT] * len(codes), dtype="datetime64[us]"),
            "closed_at": pd.Series([pd.NaT] * len(codes), dtype="datetime64[us]"),
            "reopen_count": 0,
            "campaign": None,
            "batch_id": pd.array([None] * len(codes), dtype="Int64"),
            "version": 1,
            "extension_count": 0,
        }
    )
    insert_problems(session, frame)
    ids = session.execute(
        sa.select(Problem.id).where(
            Problem.source == VISIT_SOURCE, Problem.external_id.in_(list(frame["external_id"]))
        )
    ).scalars()
    link_problems(session, pd.DataFrame({"problem_id": list(ids), "visit_id": visit.id}))
    summary.apply_changes(session, None, frame[list(summary.SOURCE_COLUMNS)])
