"""Which responsible unit to hand a problem to: the area's own units first, and one
suggested from the category's past assignments.

The taxonomy (data/taxonomy.toml) names no responsible unit per category, so the
suggestion comes from history: the unit that problems of the category in the area were
assigned to most often (recorded ``assign`` events), else in the whole city. An area's own
units are those named after the area or one of its ancestors (a street office
"东门街道办事处" of street "东门街道", a department "云溪区城管局" of district "云溪区")
and those the area's problems were assigned to before.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.storage.models import Area, Problem, ProblemEvent, ResponsibleUnit

AREA_COLUMNS = {
    "district": Problem.district_id,
    "street": Problem.street_id,
    "community": Problem.community_id,
    "grid": Problem.grid_id,
}


@dataclass(frozen=True)
class UnitChoice:
    """Unit names for an assign form: ``own`` (the area's) then ``others``, both by name;
    ``suggested`` with ``basis`` ("area" or "city": where the past assignments were) and
    ``times`` (how many)."""

    own: list[str]
    others: list[str]
    suggested: str | None = None
    basis: str | None = None
    times: int = 0


def unit_choice(
    session: so.Session, level: str, area_id: int, category: str | None = None
) -> UnitChoice:
    """The units for assigning problems of the ``level`` area ``area_id`` (optionally of
    one ``category``): the area's own first, and the suggestion from past assignments."""
    column = AREA_COLUMNS[level]
    names = list(session.scalars(sa.select(ResponsibleUnit.name).order_by(ResponsibleUnit.name)))
    chain = _area_names(session, area_id)
    assigned_here = _assignments(session, column == area_id, None)
    own = [n for n in names if n in assigned_here or any(n.startswith(a) for a in chain)]
    suggested, basis, times = None, None, 0
    for where, label in ((column == area_id, "area"), (sa.true(), "city")):
        counts = _assignments(session, where, category)
        if counts:
            suggested = min(counts, key=lambda n: (-counts[n], n))  # ties: by name
            basis, times = label, counts[suggested]
            break
    others = [n for n in names if n not in own]
    return UnitChoice(own, others, suggested, basis, times)


def _area_names(session: so.Session, area_id: int) -> list[str]:
    """The names of the area and of its district and street (non-empty ones)."""
    row = session.execute(
        sa.select(Area.name, Area.district_id, Area.street_id).where(Area.id == area_id)
    ).first()
    if row is None:
        return []
    ids = [i for i in (row.district_id, row.street_id) if i is not None and i != area_id]
    more: list[str] = (
        list(session.scalars(sa.select(Area.name).where(Area.id.in_(ids)))) if ids else []
    )
    return [n for n in (row.name, *more) if n]


def _assignments(
    session: so.Session, where: sa.ColumnElement[bool], category: str | None
) -> dict[str, int]:
    """Unit name → number of recorded assignments of problems ``where`` picks."""
    stmt = (
        sa.select(ResponsibleUnit.name, sa.func.count())
        .select_from(ProblemEvent)
        .join(Problem, Problem.id == ProblemEvent.problem_id)
        .join(ResponsibleUnit, ResponsibleUnit.id == ProblemEvent.unit_id)
        .where(ProblemEvent.action == "assign", where)
        .group_by(ResponsibleUnit.name)
    )
    if category is not None:
        stmt = stmt.where(Problem.category == category)
    return {name: int(n) for name, n in session.execute(stmt)}
