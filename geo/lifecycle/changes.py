"""What a lifecycle change is and what it writes: the ``Change`` (action, actor, note,
assignment details), the city's ``Rules`` (working calendar, longest extension), the
checks a change must pass, the new column values (deadlines by geo/core/workcal.py's one
rule) and the history events. Times are naive UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.actions import Action
from geo.core.errors import InvalidParameterError
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.core.workcal import WorkCalendar, deadline_for, default_calendar
from geo.lifecycle.selection import Selection
from geo.storage.models import Problem, ProblemEvent

DEFAULT_MAX_EXTENSION_DAYS = 30
DEADLINE_ACTIONS = ("assign", "reopen", "request_extension", "approve_extension")
MAX_NOTE = 2000
MAX_ACTOR = 100


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


def validate(change: Change, action: Action, now: datetime, selection: Selection) -> None:
    """Refuse a change that is incomplete or inconsistent, before anything is read."""
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
                f"整改时限只用于交办、返工和延期，不能用于{action.zh}",
                "a deadline only applies to assign, reopen and extensions, "
                f"not to {action.en.lower()}",
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


def new_values(
    action: Action,
    change: Change,
    now: datetime,
    unit_id: int | None,
    before: pd.DataFrame,
    taxonomy: Taxonomy,
    tz: str,
    rules: Rules,
) -> dict[str, Any]:
    """The UPDATE's values for ``action``: status, times, unit, deadline, pending
    request, version + 1 (column expressions where they depend on the row)."""
    values: dict[str, Any] = {"version": Problem.version + 1}
    if action.target is not None:
        values["status"] = action.target
    if action.group != "request":  # any other action settles a pending request
        values.update(pending=None, requested_deadline=None)
    name = action.name
    if name in ("assign", "reopen", "resume"):
        values["assigned_at"] = now
        values["deadline"] = deadline_expr(change, now, before, taxonomy, tz, rules)
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
        # The approved extensions are history (延期率 counts them): a send-back keeps them.
        values.update(unit_id=None, assigned_at=None, deadline=None)
    return values


def deadline_expr(
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
    categories = {
        c: taxonomy.categories[c]
        for c in sorted(set(before["category"]))
        if c in taxonomy.categories
    }
    whens = {
        code: deadline_for(now, cat.deadline_days, cat.deadline_unit, rules.calendar, tz)
        for code, cat in categories.items()
    }
    if not whens:
        return Problem.deadline
    return sa.case(whens, value=Problem.category, else_=Problem.deadline)


def record_events(
    session: so.Session,
    where: list[Any],
    action: Action,
    change: Change,
    now: datetime,
    values: dict[str, Any],
) -> None:
    """INSERT … SELECT one history event per problem ``where`` picks: who, when, from,
    to, note, unit, deadline, photo."""
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
