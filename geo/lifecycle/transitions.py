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

The problems a ``Selection`` picks are read in geo/lifecycle/selection.py; what a
``Change`` writes (new values, history events) is built in geo/lifecycle/changes.py.

Times are naive UTC; deadlines default from the category's days in the taxonomy, on the
working calendar of ``Rules`` (geo/core/workcal.py). An extension may move a deadline by at
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
from geo.access.scope import visible
from geo.core.errors import InvalidParameterError, NotFoundError, StaleVersionError, TransitionError
from geo.core.taxonomy import Taxonomy
from geo.core.taxonomy_file import default_taxonomy
from geo.core.text import tr
from geo.lifecycle.changes import Change, Rules, new_values, record_events, validate
from geo.lifecycle.selection import Selection, conditions, problem_rows
from geo.storage.db import transaction
from geo.storage.models import Problem, ResponsibleUnit
from geo.summary import counts as summary

__all__ = ["ACTIONS", "Action", "apply", "bulk_transition", "transition"]


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
    validate(change, action, now, selection)
    check_right(action, change.role)
    unit_id = _unit_id(session, change.unit) if action.name == "assign" else None
    where = conditions(session, selection, action, change.version, taxonomy, now)
    before = problem_rows(session, where, lock=True)
    if selection.ids and not selection.has_filters:
        _check_explicit(session, selection, change, action, before, taxonomy)
    if before.empty:
        return TransitionResult(action.name, 0, _status(action))
    check_extension(action, change.deadline, before, rules.max_extension_days, now)
    values = new_values(action, change, now, unit_id, before, taxonomy, tz, rules)
    record_events(session, where, action, change, now, values)
    updated = cast(
        "sa.CursorResult[Any]", session.execute(sa.update(Problem).where(*where).values(**values))
    )
    if updated.rowcount != len(before):
        raise StaleVersionError(_STALE)
    after = problem_rows(session, [Problem.id.in_(_ids(before))], chunk=_ids(before))
    summary.apply_changes(session, before, after, as_of=now)  # ended periods stay as they stood
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


def _ids(frame: pd.DataFrame) -> list[int]:
    return [int(i) for i in frame["id"]]


def _status(action: Action) -> str:
    """The status an action leaves problems in (requests and decisions keep theirs)."""
    return action.target or min(action.sources)


def _result(action: Action, after: pd.DataFrame) -> TransitionResult:
    ids = _ids(after)
    version = int(after["version"].iloc[0]) if len(after) == 1 else None
    return TransitionResult(action.name, len(ids), _status(action), ids[:ID_SAMPLE], version)
