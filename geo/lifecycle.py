"""The problem lifecycle: found → assigned → rectified → closed, and reopen (返工).

``transition`` changes one problem, ``bulk_transition`` every problem a ``Selection``
picks, each in three statements whatever the number of problems: one INSERT … SELECT
of the history events, one UPDATE, one summary update. Every change records who, when,
from, to and a note, bumps ``version``, and moves the per-area summary counts in the same
transaction. A change made against a stale version raises ``StaleVersionError``; an
action the state does not allow raises ``TransitionError``; nothing is written then.

Times are naive UTC; deadlines default from the category's days in the taxonomy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.engine import Engine

from geo import summary
from geo.db import transaction
from geo.deadlines import default_deadline
from geo.errors import InvalidParameterError, NotFoundError, StaleVersionError, TransitionError
from geo.models import Area, Problem, ProblemEvent, ResponsibleUnit
from geo.taxonomy import Taxonomy, default_taxonomy


@dataclass(frozen=True)
class Action:
    """A lifecycle action: the states it starts from, the state it leads to, its labels."""

    name: str
    sources: frozenset[str]
    target: str
    zh: str
    en: str
    note_required: bool

    def label(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("assign", frozenset({"found"}), "assigned", "交办", "Assign", False),
        Action("rectify", frozenset({"assigned"}), "rectified", "整改", "Rectify", True),
        Action("close", frozenset({"rectified"}), "closed", "销号", "Close", True),
        Action("reopen", frozenset({"rectified", "closed"}), "assigned", "返工", "Reopen", True),
    )
}
"""The four actions; reopen (回头看发现反弹) counts as rework in ``reopen_count``."""

SELECTION_LEVELS = ("district", "street", "community", "grid")
MAX_NOTE = 2000
MAX_ACTOR = 100


@dataclass(frozen=True)
class Selection:
    """Which problems to act on: explicit ids, and/or filters that all must hold.

    With ``ids`` only, every id must exist and allow the action (else an error). With
    filters, the problems whose state does not allow the action are simply not picked.
    """

    ids: tuple[int, ...] = ()
    level: str | None = None
    area_code: str | None = None
    category: str | None = None
    unit: str | None = None
    overdue: bool = False

    @property
    def has_filters(self) -> bool:
        return bool(self.area_code or self.category or self.unit or self.overdue)


@dataclass(frozen=True)
class Change:
    """What to do: the action, who does it and why; assignment details; the version seen."""

    action: str
    actor: str
    note: str = ""
    unit: str | None = None
    deadline: datetime | None = None  # naive UTC; None → the category's default
    photo: str | None = None
    version: int | None = None  # the version the actor saw (one problem only)
    at: datetime | None = None  # naive UTC; None → now


@dataclass
class TransitionResult:
    """How many problems changed, their ids (up to ``ID_SAMPLE``) and the new status."""

    action: str
    changed: int
    status: str
    ids: list[int] = field(default_factory=list)
    version: int | None = None  # the new version, when one problem changed


ID_SAMPLE = 1000


def apply(
    engine: Engine,
    selection: Selection,
    change: Change,
    taxonomy: Taxonomy | None = None,
    tz: str = "Asia/Shanghai",
) -> TransitionResult:
    """Run ``bulk_transition`` in its own write transaction (committed on success)."""
    with transaction(engine) as session:
        return bulk_transition(session, selection, change, taxonomy, tz)


def transition(
    session: so.Session,
    problem_id: int,
    change: Change,
    taxonomy: Taxonomy | None = None,
    tz: str = "Asia/Shanghai",
) -> TransitionResult:
    """Apply ``change`` to one problem; see ``bulk_transition``."""
    return bulk_transition(session, Selection(ids=(problem_id,)), change, taxonomy, tz)


def bulk_transition(
    session: so.Session,
    selection: Selection,
    change: Change,
    taxonomy: Taxonomy | None = None,
    tz: str = "Asia/Shanghai",
) -> TransitionResult:
    """Apply ``change`` to every problem ``selection`` picks, in the caller's transaction.

    Steps: validate the change → pick and lock the problems → record the events → update
    the problems (status, times, unit, deadline, version + 1) → move the summary counts.
    Raises ``NotFoundError`` (unknown id, area or unit), ``TransitionError``,
    ``StaleVersionError`` or ``InvalidParameterError`` before anything is written.
    """
    taxonomy = taxonomy or default_taxonomy()
    action = _action(change.action)
    now = change.at or datetime.now(UTC).replace(tzinfo=None)
    _validate(change, action, now, selection)
    unit_id = _unit_id(session, change.unit) if action.name == "assign" else None
    where = _conditions(session, selection, action, change, taxonomy, now)
    before = _problem_rows(session, where, lock=True)
    if selection.ids and not selection.has_filters:
        _check_explicit(session, selection, change, action, before, taxonomy)
    if before.empty:
        return TransitionResult(action.name, 0, action.target)
    values = _new_values(action, change, now, unit_id, before, taxonomy, tz)
    _record_events(session, where, action, change, now, values)
    updated = cast(
        "sa.CursorResult[Any]", session.execute(sa.update(Problem).where(*where).values(**values))
    )
    if updated.rowcount != len(before):
        raise StaleVersionError(_STALE)
    after = _problem_rows(session, [Problem.id.in_(_ids(before))], chunk=_ids(before))
    summary.apply_changes(session, before, after)
    return _result(action, after)


_STALE = (
    "问题已被他人修改，请刷新后重试 / the problem was changed by someone else "
    "since you loaded it: reload and try again"
)


def _action(name: str) -> Action:
    if name not in ACTIONS:
        raise InvalidParameterError(
            f"未知的操作 / unknown action '{name}'; 可选 / one of: {', '.join(ACTIONS)}"
        )
    return ACTIONS[name]


def _validate(change: Change, action: Action, now: datetime, selection: Selection) -> None:
    if not change.actor.strip():
        raise InvalidParameterError("请填写操作人 / the actor (who acts) is required")
    if len(change.actor) > MAX_ACTOR:
        raise InvalidParameterError(f"操作人过长 / actor longer than {MAX_ACTOR} characters")
    if action.note_required and not change.note.strip():
        raise InvalidParameterError(
            f"{action.zh}需要填写说明 / a note is required to {action.en.lower()}"
        )
    if len(change.note) > MAX_NOTE:
        raise InvalidParameterError(f"说明过长 / note longer than {MAX_NOTE} characters")
    if action.name == "assign" and not (change.unit or "").strip():
        raise InvalidParameterError("交办需要责任单位 / assigning needs a responsible unit")
    if change.deadline is not None and change.deadline <= now:
        raise InvalidParameterError(
            f"整改时限已过 / the deadline {change.deadline:%Y-%m-%d %H:%M} UTC is in the past"
        )
    if change.version is not None and len(selection.ids) != 1:
        raise InvalidParameterError("版本号只能用于单个问题 / a version applies to one problem")
    if not selection.ids and not selection.has_filters:
        raise InvalidParameterError(
            "请指定问题编号或筛选条件 / give problem ids or at least one filter"
        )


def _unit_id(session: so.Session, name: str | None) -> int:
    wanted = (name or "").strip()
    found = session.scalar(sa.select(ResponsibleUnit.id).where(ResponsibleUnit.name == wanted))
    if found is None:
        raise InvalidParameterError(
            f"未知的责任单位 / unknown responsible unit '{wanted}' "
            "(add it first: civicgrid units add NAME)"
        )
    return found


def _conditions(
    session: so.Session,
    selection: Selection,
    action: Action,
    change: Change,
    taxonomy: Taxonomy,
    now: datetime,
) -> list[Any]:
    where: list[Any] = [Problem.status.in_(sorted(action.sources))]
    if selection.ids:
        where.append(Problem.id.in_(selection.ids))
    if change.version is not None:
        where.append(Problem.version == change.version)
    if selection.area_code:
        where.append(_area_condition(session, selection.level or "", selection.area_code))
    if selection.category:
        where.append(Problem.category == taxonomy.resolve_category(selection.category).code)
    if selection.unit:
        unit = session.scalar(
            sa.select(ResponsibleUnit.id).where(ResponsibleUnit.name == selection.unit)
        )
        if unit is None:
            raise NotFoundError(f"未知的责任单位 / unknown responsible unit '{selection.unit}'")
        where.append(Problem.unit_id == unit)
    if selection.overdue:
        where.append(Problem.deadline < now)
    return where


def _area_condition(session: so.Session, level: str, code: str) -> Any:
    if level not in SELECTION_LEVELS:
        raise InvalidParameterError(
            f"未知的区域层级 / unknown level '{level}'; 可选 / one of: "
            f"{', '.join(SELECTION_LEVELS)}"
        )
    area_id = session.scalar(sa.select(Area.id).where(Area.level == level, Area.code == code))
    if area_id is None:
        raise NotFoundError(f"未找到区域 / no {level} with code '{code}'")
    return getattr(Problem, f"{level}_id") == area_id


def _problem_rows(
    session: so.Session, where: list[Any], lock: bool = False, chunk: list[int] | None = None
) -> pd.DataFrame:
    """Whole problem rows (every column but the geometry) as a DataFrame."""
    columns = [c for c in Problem.__table__.c if c.name != "geom"]
    names = [c.name for c in columns]
    if chunk is not None:  # re-read by id, 10,000 at a time (bound-parameter limits)
        parts = [
            session.execute(sa.select(*columns).where(Problem.id.in_(chunk[i : i + 10_000]))).all()
            for i in range(0, len(chunk), 10_000)
        ]
        rows = [r for part in parts for r in part]
    else:
        stmt = sa.select(*columns).where(*where).order_by(Problem.id)
        rows = list(session.execute(stmt.with_for_update() if lock else stmt).all())
    return pd.DataFrame(rows, columns=names)


def _check_explicit(
    session: so.Session,
    selection: Selection,
    change: Change,
    action: Action,
    picked: pd.DataFrame,
    taxonomy: Taxonomy,
) -> None:
    """With explicit ids, explain why any of them was not picked."""
    missing = set(selection.ids) - set(_ids(picked))
    if not missing:
        return
    found = session.execute(
        sa.select(Problem.id, Problem.status, Problem.version).where(Problem.id.in_(missing))
    ).all()
    unknown = sorted(missing - {r.id for r in found})
    if unknown:
        raise NotFoundError(f"问题不存在 / no problem with id {', '.join(map(str, unknown))}")
    for row in sorted(found):
        if change.version is not None and row.version != change.version:
            raise StaleVersionError(f"{_STALE} (#{row.id}: v{change.version} → v{row.version})")
        raise TransitionError(
            f"问题 #{row.id} 当前状态为「{taxonomy.status_label(row.status)}」，"
            f"不能{action.zh} / problem #{row.id} "
            f"is {row.status}: cannot {action.en.lower()} (allowed from "
            f"{', '.join(sorted(action.sources))})"
        )


def _new_values(
    action: Action,
    change: Change,
    now: datetime,
    unit_id: int | None,
    before: pd.DataFrame,
    taxonomy: Taxonomy,
    tz: str,
) -> dict[str, Any]:
    values: dict[str, Any] = {"status": action.target, "version": Problem.version + 1}
    if action.name == "assign":
        values.update(unit_id=unit_id, assigned_at=now)
    if action.name in ("assign", "reopen"):
        values["deadline"] = _deadline_expr(change, now, before, taxonomy, tz)
    if action.name == "rectify":
        values["rectified_at"] = now
    if action.name == "close":
        values["closed_at"] = now
    if action.name == "reopen":
        values.update(
            assigned_at=now,
            rectified_at=None,
            closed_at=None,
            reopen_count=Problem.reopen_count + 1,
        )
    return values


def _deadline_expr(
    change: Change, now: datetime, before: pd.DataFrame, taxonomy: Taxonomy, tz: str
) -> Any:
    """The given deadline, else a CASE giving each category its default from ``now``."""
    if change.deadline is not None:
        return change.deadline
    whens = {
        code: default_deadline(taxonomy.categories[code], now, tz)
        for code in sorted(set(before["category"]))
        if code in taxonomy.categories
    }
    if not whens:
        return Problem.deadline
    return sa.case(whens, value=Problem.category, else_=Problem.deadline)


def _record_events(
    session: so.Session,
    where: list[Any],
    action: Action,
    change: Change,
    now: datetime,
    values: dict[str, Any],
) -> None:
    selected = sa.select(
        Problem.id,
        sa.literal(now, sa.DateTime()),
        sa.literal(change.actor.strip(), sa.String()),
        sa.literal(action.name, sa.String()),
        Problem.status,
        sa.literal(action.target, sa.String()),
        sa.literal(change.note.strip(), sa.Text()),
        _as_column(_event_unit(action, values), sa.Integer()),
        _as_column(values.get("deadline"), sa.DateTime()),
        sa.literal(change.photo, sa.String()),
    ).where(*where)
    columns = ["problem_id", "at", "actor", "action", "from_status", "to_status", "note"]
    session.execute(
        sa.insert(ProblemEvent).from_select([*columns, "unit_id", "deadline", "photo"], selected)
    )


def _event_unit(action: Action, values: dict[str, Any]) -> Any:
    """The unit an assignment hands the problem to; on reopen, the unit it goes back to."""
    if action.name == "assign":
        return values["unit_id"]
    return Problem.unit_id if action.name == "reopen" else None


def _as_column(value: Any, type_: Any) -> Any:
    if not isinstance(value, sa.sql.ClauseElement) and not hasattr(value, "__clause_element__"):
        return sa.literal(value, type_)
    return value


def _ids(frame: pd.DataFrame) -> list[int]:
    return [int(i) for i in frame["id"]]


def _result(action: Action, after: pd.DataFrame) -> TransitionResult:
    ids = _ids(after)
    version = int(after["version"].iloc[0]) if len(after) == 1 else None
    return TransitionResult(action.name, len(ids), action.target, ids[:ID_SAMPLE], version)
