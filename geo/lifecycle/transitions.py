"""The problem lifecycle: found → assigned → rectified → closed, reopen (返工), and the
side paths of geo/access/actions.py: extension 延期, hold 挂账, send back 回退, void 作废.

``transition`` changes one problem, ``bulk_transition`` every problem a ``Selection``
picks, each in three statements whatever the number of problems: one INSERT … SELECT
of the history events, one UPDATE, one summary update. Every change records who, when,
from, to and a note, bumps ``version``, and moves the per-area summary counts in the same
transaction. A change made against a stale version raises ``StaleVersionError``; an
action the state does not allow raises ``TransitionError``; an action that needs the
approval right, taken by a role without it, raises ``PermissionDeniedError``; nothing is
written then.

Times are naive UTC; deadlines default from the category's days in the taxonomy, on the
working calendar of ``Rules`` (geo/core/deadlines.py). An extension may move a deadline by at
most ``Rules.max_extension_days`` natural days past the current one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.engine import Engine

from geo.access.actions import (
    ACTIONS,
    Action,
    allows,
    check_extension,
    check_right,
    pending_refusal,
)
from geo.access.scope import Scope, visible
from geo.core.deadlines import default_deadline
from geo.core.errors import InvalidParameterError, NotFoundError, StaleVersionError, TransitionError
from geo.core.taxonomy import Taxonomy
from geo.core.taxonomy_file import default_taxonomy
from geo.core.text import tr
from geo.core.workcal import WorkCalendar, default_calendar
from geo.storage.db import transaction
from geo.storage.models import Area, Problem, ProblemEvent, ResponsibleUnit
from geo.summary import counts as summary

__all__ = ["ACTIONS", "Action", "Change", "Rules", "Selection", "apply", "bulk_transition"]

DEFAULT_MAX_EXTENSION_DAYS = 30
DEADLINE_ACTIONS = ("assign", "request_extension", "approve_extension")
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
    scope: Scope | None = None  # the actor's areas (geo/access/scope.py); None: the whole city

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
    role: str | None = None  # the actor's role, for actions that need the approval right


@dataclass(frozen=True)
class Rules:
    """The city's policy: the working calendar for deadlines in working days, and the
    longest extension, in natural days past the current deadline."""

    calendar: WorkCalendar = field(default_factory=default_calendar)
    max_extension_days: int = DEFAULT_MAX_EXTENSION_DAYS


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
    rules: Rules | None = None,
) -> TransitionResult:
    """Run ``bulk_transition`` in its own write transaction (committed on success)."""
    with transaction(engine) as session:
        return bulk_transition(session, selection, change, taxonomy, tz, rules)


def transition(
    session: so.Session,
    problem_id: int,
    change: Change,
    taxonomy: Taxonomy | None = None,
    tz: str = "Asia/Shanghai",
    rules: Rules | None = None,
) -> TransitionResult:
    """Apply ``change`` to one problem; see ``bulk_transition``."""
    return bulk_transition(session, Selection(ids=(problem_id,)), change, taxonomy, tz, rules)


def bulk_transition(
    session: so.Session,
    selection: Selection,
    change: Change,
    taxonomy: Taxonomy | None = None,
    tz: str = "Asia/Shanghai",
    rules: Rules | None = None,
) -> TransitionResult:
    """Apply ``change`` to every problem ``selection`` picks, in the caller's transaction.

    Steps: validate the change and the actor's right → pick and lock the problems →
    check requested deadlines → record the events → update the problems (status, times,
    unit, deadline, pending request, version + 1) → move the summary counts.
    Raises ``NotFoundError`` (unknown id, area or unit), ``TransitionError``,
    ``StaleVersionError``, ``PermissionDeniedError`` or ``InvalidParameterError``
    before anything is written.
    """
    taxonomy = taxonomy or default_taxonomy()
    rules = rules or Rules()
    action = _action(change.action)
    now = change.at or datetime.now(UTC).replace(tzinfo=None)
    _validate(change, action, now, selection)
    check_right(action, change.role)
    unit_id = _unit_id(session, change.unit) if action.name == "assign" else None
    where = _conditions(session, selection, action, change, taxonomy, now)
    before = _problem_rows(session, where, lock=True)
    if selection.ids and not selection.has_filters:
        _check_explicit(session, selection, change, action, before, taxonomy)
    if before.empty:
        return TransitionResult(action.name, 0, _status(action))
    check_extension(action, change.deadline, before, rules.max_extension_days, now)
    values = _new_values(action, change, now, unit_id, before, taxonomy, tz, rules)
    _record_events(session, where, action, change, now, values)
    updated = cast(
        "sa.CursorResult[Any]", session.execute(sa.update(Problem).where(*where).values(**values))
    )
    if updated.rowcount != len(before):
        raise StaleVersionError(_STALE)
    after = _problem_rows(session, [Problem.id.in_(_ids(before))], chunk=_ids(before))
    summary.apply_changes(session, before, after)
    return _result(action, after)


_STALE = tr(
    "问题已被他人修改，请刷新后重试",
    "the problem was changed by someone else since you loaded it: reload and try again",
)


def _action(name: str) -> Action:
    if name not in ACTIONS:
        raise InvalidParameterError(
            tr(
                f"未知的操作 '{name}'; 可选: {', '.join(ACTIONS)}",
                f"unknown action '{name}'; one of: {', '.join(ACTIONS)}",
            )
        )
    return ACTIONS[name]


def _validate(change: Change, action: Action, now: datetime, selection: Selection) -> None:
    if not change.actor.strip():
        raise InvalidParameterError(tr("请填写操作人", "the actor (who acts) is required"))
    if len(change.actor) > MAX_ACTOR:
        raise InvalidParameterError(tr("操作人过长", f"actor longer than {MAX_ACTOR} characters"))
    if action.note_required and not change.note.strip():
        raise InvalidParameterError(
            tr(f"{action.zh}需要填写说明", f"a note is required to {action.en.lower()}")
        )
    if len(change.note) > MAX_NOTE:
        raise InvalidParameterError(tr("说明过长", f"note longer than {MAX_NOTE} characters"))
    if action.name == "assign" and not (change.unit or "").strip():
        raise InvalidParameterError(tr("交办需要责任单位", "assigning needs a responsible unit"))
    if action.name == "request_extension" and change.deadline is None:
        raise InvalidParameterError(
            tr("申请延期需要新的整改时限", "an extension request needs the new deadline")
        )
    if change.deadline is not None and action.name not in DEADLINE_ACTIONS:
        raise InvalidParameterError(
            tr(
                f"整改时限只用于交办和延期，不能用于{action.zh}",
                f"a deadline only applies to assign and extensions, not to {action.en.lower()}",
            )
        )
    if change.deadline is not None and change.deadline <= now:
        raise InvalidParameterError(
            tr(
                f"整改时限 {change.deadline:%Y-%m-%d %H:%M} UTC 已过",
                f"the deadline {change.deadline:%Y-%m-%d %H:%M} UTC is in the past",
            )
        )
    if change.version is not None and len(selection.ids) != 1:
        raise InvalidParameterError(
            tr("版本号只能用于单个问题", "a version applies to one problem")
        )
    if not selection.ids and not selection.has_filters:
        raise InvalidParameterError(
            tr("请指定问题编号或筛选条件", "give problem ids or at least one filter")
        )


def _unit_id(session: so.Session, name: str | None) -> int:
    wanted = (name or "").strip()
    found = session.scalar(sa.select(ResponsibleUnit.id).where(ResponsibleUnit.name == wanted))
    if found is None:
        raise InvalidParameterError(
            tr(
                f"未知的责任单位 '{wanted}'",
                f"unknown responsible unit '{wanted}' (add it first: civicgrid units add NAME)",
            )
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
    if action.needs_pending is not None:
        where.append(Problem.pending == action.needs_pending)
    elif action.no_pending:
        where.append(Problem.pending.is_(None))
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
            raise NotFoundError(
                tr(
                    f"未知的责任单位 '{selection.unit}'",
                    f"unknown responsible unit '{selection.unit}'",
                )
            )
        where.append(Problem.unit_id == unit)
    if selection.overdue:
        where.append(Problem.deadline < now)
    if selection.scope is not None:
        where.append(visible(selection.scope, Problem))
    return where


def _area_condition(session: so.Session, level: str, code: str) -> Any:
    if level not in SELECTION_LEVELS:
        raise InvalidParameterError(
            tr(
                f"未知的区域层级 '{level}'; 可选: {', '.join(SELECTION_LEVELS)}",
                f"unknown level '{level}'; one of: {', '.join(SELECTION_LEVELS)}",
            )
        )
    area_id = session.scalar(sa.select(Area.id).where(Area.level == level, Area.code == code))
    if area_id is None:
        raise NotFoundError(tr(f"未找到区域 '{code}'", f"no {level} with code '{code}'"))
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
    stmt = sa.select(Problem.id, Problem.status, Problem.version, Problem.pending).where(
        Problem.id.in_(missing)
    )
    if selection.scope is not None:  # out of scope reads as unknown: ids reveal nothing
        stmt = stmt.where(visible(selection.scope, Problem))
    found = session.execute(stmt).all()
    unknown = sorted(missing - {r.id for r in found})
    if unknown:
        ids = ", ".join(map(str, unknown))
        raise NotFoundError(tr(f"问题不存在: {ids}", f"no problem with id {ids}"))
    for row in sorted(found):
        if change.version is not None and row.version != change.version:
            versions = f" (#{row.id}: v{change.version} → v{row.version})"
            raise StaleVersionError(tr(str.__str__(_STALE) + versions, _STALE.en + versions))
        if row.status in action.sources and not allows(action, row.status, row.pending):
            raise TransitionError(pending_refusal(row.id, action, row.pending))
        raise TransitionError(
            tr(
                (
                    f"问题 #{row.id} 当前状态为「"
                    f"{taxonomy.status_label(row.status)}」，不能{action.zh}（只能"
                    f"从 {', '.join(sorted(action.sources))} 状态{action.zh}）"
                ),
                (
                    f"problem #{row.id} is {row.status}: cannot "
                    f"{action.en.lower()} (allowed from "
                    f"{', '.join(sorted(action.sources))})"
                ),
            )
        )


def _new_values(
    action: Action,
    change: Change,
    now: datetime,
    unit_id: int | None,
    before: pd.DataFrame,
    taxonomy: Taxonomy,
    tz: str,
    rules: Rules,
) -> dict[str, Any]:
    values: dict[str, Any] = {"version": Problem.version + 1}
    if action.target is not None:
        values["status"] = action.target
    if action.group != "request":  # any other action settles a pending request
        values.update(pending=None, requested_deadline=None)
    name = action.name
    if name in ("assign", "reopen", "resume"):
        values["assigned_at"] = now
        values["deadline"] = _deadline_expr(change, now, before, taxonomy, tz, rules)
    if name == "assign":
        values["unit_id"] = unit_id
    elif name == "rectify":
        values["rectified_at"] = now
    elif name == "close":
        values["closed_at"] = now
    elif name == "reopen":
        values.update(rectified_at=None, closed_at=None, reopen_count=Problem.reopen_count + 1)
    elif name == "request_extension":
        values.update(pending="extension", requested_deadline=change.deadline)
    elif name == "request_hold":
        values.update(pending="hold", requested_deadline=None)
    elif name == "approve_extension":
        values["deadline"] = change.deadline or Problem.requested_deadline
        values["extension_count"] = Problem.extension_count + 1
    elif name == "send_back":
        values.update(unit_id=None, assigned_at=None, deadline=None, extension_count=0)
    return values


def _deadline_expr(
    change: Change,
    now: datetime,
    before: pd.DataFrame,
    taxonomy: Taxonomy,
    tz: str,
    rules: Rules,
) -> Any:
    """The given deadline, else a CASE giving each category its default from ``now``."""
    if change.deadline is not None:
        return change.deadline
    whens = {
        code: default_deadline(taxonomy.categories[code], now, tz, rules.calendar)
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
        Problem.status if action.target is None else sa.literal(action.target, sa.String()),
        sa.literal(change.note.strip(), sa.Text()),
        _as_column(_event_unit(action, values), sa.Integer()),
        _as_column(_event_deadline(action, values), sa.DateTime()),
        sa.literal(change.photo, sa.String()),
    ).where(*where)
    columns = ["problem_id", "at", "actor", "action", "from_status", "to_status", "note"]
    session.execute(
        sa.insert(ProblemEvent).from_select([*columns, "unit_id", "deadline", "photo"], selected)
    )


def _event_unit(action: Action, values: dict[str, Any]) -> Any:
    """The unit an assignment hands the problem to; on reopen or resume, the unit it goes
    back to; on send back, the unit it comes back from."""
    if action.name == "assign":
        return values["unit_id"]
    return Problem.unit_id if action.name in ("reopen", "resume", "send_back") else None


def _event_deadline(action: Action, values: dict[str, Any]) -> Any:
    """The deadline set by the action; for an extension request, the one asked for."""
    if action.name == "request_extension":
        return values["requested_deadline"]
    return values.get("deadline")


def _as_column(value: Any, type_: Any) -> Any:
    if not isinstance(value, sa.sql.ClauseElement) and not hasattr(value, "__clause_element__"):
        return sa.literal(value, type_)
    return value


def _ids(frame: pd.DataFrame) -> list[int]:
    return [int(i) for i in frame["id"]]


def _status(action: Action) -> str:
    """The status an action leaves problems in (requests and decisions keep theirs)."""
    return action.target or min(action.sources)


def _result(action: Action, after: pd.DataFrame) -> TransitionResult:
    ids = _ids(after)
    version = int(after["version"].iloc[0]) if len(after) == 1 else None
    return TransitionResult(action.name, len(ids), _status(action), ids[:ID_SAMPLE], version)
