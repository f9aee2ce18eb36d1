"""The dashboard's backlog chart: unresolved and overdue problems at each period's end.

Overdue is the rankings' own figure (``rates_for_periods``' ``overdue``, summed by the
caller over the districts in scope); unresolved is the bulletin's "waiting for
rectification at the period's end" (``geo.storage.statuses.open_at_sql``, the one rule),
counted for every period end in one scan of the problems table.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.periods import Period
from geo.reports.stats import period_cutoff
from geo.storage.models import Problem
from geo.storage.statuses import open_at_sql


def unresolved_at_ends(
    session: so.Session,
    periods: list[Period],
    districts: frozenset[int] | None,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> list[int]:
    """Problems waiting for rectification at each period's cutoff (its end, or ``now``
    while it runs; naive UTC), in the districts ``districts`` (None: all)."""
    cutoffs = [period_cutoff(p, tz, now)[1] for p in periods]
    stmt = sa.select(*(sa.func.count().filter(open_at_sql(c)) for c in cutoffs))
    if districts is not None:
        stmt = stmt.where(Problem.district_id.in_(sorted(districts)))
    row = session.execute(stmt).one()
    return [int(v) for v in row]
