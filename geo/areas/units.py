"""Responsible units (责任单位), kept as data and created on first mention."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.storage.models import ResponsibleUnit


def unit_ids(session: so.Session, names: Iterable[str | None]) -> dict[str, int]:
    """Map each non-empty unit name to its id, creating the units not yet known."""
    wanted = sorted({n for n in names if isinstance(n, str) and n})
    known = dict(
        session.execute(
            sa.select(ResponsibleUnit.name, ResponsibleUnit.id).where(
                ResponsibleUnit.name.in_(wanted)
            )
        ).all()
    )
    missing = [name for name in wanted if name not in known]
    if missing:
        session.execute(sa.insert(ResponsibleUnit), [{"name": n} for n in missing])
        known.update(
            session.execute(
                sa.select(ResponsibleUnit.name, ResponsibleUnit.id).where(
                    ResponsibleUnit.name.in_(missing)
                )
            ).all()
        )
    return known
