"""Per-area summary counts of problems, kept up to date in the writer's transaction.

Heat maps and rankings read these instead of scanning the problems table, so their cost
does not grow with the number of problems. Every code path that inserts problems,
changes their status or moves them between areas calls ``apply_changes`` with the
affected rows as they were before and as they are after, in the same transaction.
``mismatches`` compares the stored counts with a recount (used by tests).

Contract for callers: ``before`` / ``after`` frames carry at least ``SOURCE_COLUMNS``
(extra columns are ignored); either may be None. A frame may also carry an integer
``WEIGHT_COLUMN`` (``n``): then each row stands for that many problems, so a bulk
writer can pass counts per combination instead of one row per problem.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from geo.assign import ANCESTRY_COLUMNS
from geo.db import is_postgres
from geo.models import AreaSummary, Problem

KEY_COLUMNS: tuple[str, ...] = ("category", "status")
"""What a summary row is counted by, besides its area."""

SOURCE_COLUMNS: tuple[str, ...] = (*ANCESTRY_COLUMNS, *KEY_COLUMNS)
"""Problem columns a caller must pass to ``apply_changes``."""

WEIGHT_COLUMN = "n"
"""Optional column: how many problems a row of ``before`` / ``after`` stands for."""


def apply_changes(
    session: so.Session, before: pd.DataFrame | None, after: pd.DataFrame | None
) -> int:
    """Move the summary counts from the ``before`` state of some problems to ``after``.

    Returns the number of summary rows touched.
    """
    parts = [
        _deltas(frame, sign) for frame, sign in ((before, -1), (after, 1)) if frame is not None
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return 0
    delta = pd.concat(parts).groupby(["area_id", *KEY_COLUMNS], as_index=False)["n"].sum()
    delta = delta[delta["n"] != 0]
    if delta.empty:
        return 0
    _upsert_add(session, delta)
    return len(delta)


def rebuild(session: so.Session) -> None:
    """Recompute every summary row from the problems table (after bulk repairs)."""
    session.execute(sa.delete(AreaSummary))
    for column in ANCESTRY_COLUMNS:
        area = getattr(Problem, column)
        counted = (
            sa.select(area, Problem.category, Problem.status, sa.func.count())
            .where(area.is_not(None))
            .group_by(area, Problem.category, Problem.status)
        )
        session.execute(
            sa.insert(AreaSummary).from_select(["area_id", "category", "status", "n"], counted)
        )


def mismatches(session: so.Session) -> pd.DataFrame:
    """Rows where the stored summary differs from a recount of the problems table."""
    stored = pd.DataFrame(
        session.execute(
            sa.select(
                AreaSummary.area_id, AreaSummary.category, AreaSummary.status, AreaSummary.n
            ).where(AreaSummary.n != 0)
        ).all(),
        columns=["area_id", *KEY_COLUMNS, "n"],
    )
    recount = _deltas(_problem_rows(session), 1)
    recount = recount.groupby(["area_id", *KEY_COLUMNS], as_index=False)["n"].sum()
    merged = stored.merge(
        recount, on=["area_id", *KEY_COLUMNS], how="outer", suffixes=("", "_true")
    )
    merged = merged.fillna({"n": 0, "n_true": 0})
    return merged[merged["n"] != merged["n_true"]].reset_index(drop=True)


def _problem_rows(session: so.Session) -> pd.DataFrame:
    columns = [getattr(Problem, c) for c in SOURCE_COLUMNS]
    return pd.DataFrame(session.execute(sa.select(*columns)).all(), columns=list(SOURCE_COLUMNS))


def _deltas(frame: pd.DataFrame, sign: int) -> pd.DataFrame:
    """One row per (area at any level, category, status) with ``n`` = sign × count."""
    if frame.empty:
        return pd.DataFrame(columns=["area_id", *KEY_COLUMNS, "n"])
    weighted = WEIGHT_COLUMN in frame
    keys = [*KEY_COLUMNS, WEIGHT_COLUMN] if weighted else list(KEY_COLUMNS)
    long = frame[[*ANCESTRY_COLUMNS, *keys]].melt(
        id_vars=keys, value_vars=list(ANCESTRY_COLUMNS), value_name="area_id"
    )
    long = long.dropna(subset=["area_id"])
    groups = long.groupby(["area_id", *KEY_COLUMNS], as_index=False)
    counts = groups[WEIGHT_COLUMN].sum() if weighted else groups.size()
    counts = counts.rename(columns={"size": "n"})
    counts["area_id"] = counts["area_id"].astype("int64")
    counts["n"] = counts["n"] * sign
    return counts


def _upsert_add(session: so.Session, delta: pd.DataFrame) -> None:
    records = [
        {"area_id": int(a), "category": str(c), "status": str(s), "n": int(n)}
        for a, c, s, n in delta[["area_id", *KEY_COLUMNS, "n"]].itertuples(index=False)
    ]
    if is_postgres(session):
        _upsert_add_postgres(session, delta)
        return
    stmt = sqlite.insert(AreaSummary)
    stmt = stmt.on_conflict_do_update(
        index_elements=["area_id", "category", "status"],
        set_={"n": AreaSummary.n + stmt.excluded.n},
    )
    session.connection().execute(stmt, records)


def _upsert_add_postgres(session: so.Session, delta: pd.DataFrame) -> None:
    """One statement whatever the size: the deltas travel as four arrays (unnest)."""
    arrays = {
        "area_id": sa.bindparam(
            "area_id", delta["area_id"].astype(int).tolist(), ARRAY(sa.Integer)
        ),
        "category": sa.bindparam(
            "category", delta["category"].astype(str).tolist(), ARRAY(sa.Text)
        ),
        "status": sa.bindparam("status", delta["status"].astype(str).tolist(), ARRAY(sa.Text)),
        "n": sa.bindparam("n", delta["n"].astype(int).tolist(), ARRAY(sa.Integer)),
    }
    rows = sa.func.unnest(*arrays.values()).table_valued(*arrays).render_derived()
    stmt = postgresql.insert(AreaSummary).from_select(
        list(arrays), sa.select(*(rows.c[name] for name in arrays))
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["area_id", "category", "status"],
        set_={"n": AreaSummary.n + stmt.excluded.n},
    )
    session.execute(stmt)
