"""Which problems a lifecycle change acts on: the ``Selection`` (explicit ids and/or
filters), its SQL conditions, and the problem rows it picks (as a DataFrame, for the
summary counts). Times are naive UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.actions import Action
from geo.access.scope import Scope, visible
from geo.core.errors import InvalidParameterError, NotFoundError
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.storage.models import Area, Problem, ResponsibleUnit

SELECTION_LEVELS = ("district", "street", "community", "grid")


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


def conditions(
    session: so.Session,
    selection: Selection,
    action: Action,
    version: int | None,
    taxonomy: Taxonomy,
    now: datetime,
) -> list[Any]:
    """The WHERE conditions picking the problems ``selection`` means for ``action``: in a
    status (and pending state) the action applies to, at ``version`` when given."""
    where: list[Any] = [Problem.status.in_(sorted(action.sources))]
    if action.needs_pending is not None:
        where.append(Problem.pending == action.needs_pending)
    elif action.no_pending:
        where.append(Problem.pending.is_(None))
    if selection.ids:
        where.append(Problem.id.in_(selection.ids))
    if version is not None:
        where.append(Problem.version == version)
    if selection.area_code:
        where.append(area_condition(session, selection.level or "", selection.area_code))
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


def area_condition(session: so.Session, level: str, code: str) -> Any:
    """SQL condition: the problem lies in the area of ``level`` with ``code``."""
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


def problem_rows(
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
