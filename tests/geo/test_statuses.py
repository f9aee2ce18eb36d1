"""The counting concepts (geo/storage/statuses.py), defined once: every status is
classified as DOMAIN.md says, and the SQL conditions and numpy predicates agree with
the status sets on every status (on each backend)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from shapely.geometry import Point

from geo.storage import statuses as st
from geo.storage.db import transaction
from geo.storage.models import Problem

NOW = datetime(2026, 11, 20, 12, 0)
DEADLINES = {"past": NOW - timedelta(days=1), "future": NOW + timedelta(days=1), "none": None}

# status: (unresolved, due, overdue-able per DOMAIN.md, overdue-able on the maps: the same)
EXPECTED = {
    "found": (True, True, True, True),
    "assigned": (True, True, True, True),
    "rectified": (True, True, True, True),
    "closed": (False, True, False, False),
    "held": (True, False, False, False),
    "voided": (False, False, False, False),
}


def test_every_status_is_classified() -> None:
    assert set(st.ALL_STATUSES) == set(EXPECTED)
    for status, (unresolved, due, overdue, map_overdue) in EXPECTED.items():
        assert (status in st.UNRESOLVED) is unresolved, status
        assert (status in st.RESOLVED) is not unresolved, status
        assert (status in st.DUE) is due, status
        assert (status in st.NOT_DUE) is not due, status
        assert (status in st.OVERDUE) is overdue, status
        assert (status in st.MAP_OVERDUE) is map_overdue, status


def test_compositions() -> None:
    assert set(st.OVERDUE) == set(st.UNRESOLVED) - set(st.NOT_DUE)
    assert st.MAP_OVERDUE == st.OVERDUE and st.map_overdue_sql is st.overdue_sql
    assert st.AWAITING == ("rectified",)
    assert set(st.UNRESOLVED) | set(st.RESOLVED) == set(st.ALL_STATUSES)
    assert not set(st.UNRESOLVED) & set(st.RESOLVED)


def test_numpy_predicates_agree_with_the_sets() -> None:
    codes = np.array(st.ALL_STATUSES, dtype=object)
    assert list(st.is_unresolved(codes)) == [s in st.UNRESOLVED for s in codes]
    assert list(st.is_due(codes)) == [s in st.DUE for s in codes]


def test_scalar_predicates() -> None:
    for status in st.ALL_STATUSES:
        for name, deadline in DEADLINES.items():
            late = name == "past"
            assert st.is_overdue(status, deadline, NOW) is (late and status in st.OVERDUE)
            assert st.is_map_overdue(status, deadline, NOW) is (late and status in st.MAP_OVERDUE)


def test_sql_conditions_agree_with_the_sets(engine) -> None:
    rows = {}
    with transaction(engine) as session:
        for status in st.ALL_STATUSES:
            for name, deadline in DEADLINES.items():
                problem = Problem(
                    source="t",
                    external_id=f"{status}-{name}",
                    category="litter",
                    lon=120.0,
                    lat=32.0,
                    geom=Point(120.0, 32.0),
                    status=status,
                    found_at=NOW - timedelta(days=10),
                    deadline=deadline,
                    closed_at=NOW - timedelta(days=5) if status == "closed" else None,
                )
                session.add(problem)
                session.flush()
                rows[problem.id] = (status, deadline)

    def matching(condition: sa.ColumnElement[bool]) -> set[int]:
        with transaction(engine, write=False) as session:
            return set(session.scalars(sa.select(Problem.id).where(condition)))

    def expected(test) -> set[int]:
        return {pid for pid, (status, deadline) in rows.items() if test(status, deadline)}

    unresolved = expected(lambda s, d: s in st.UNRESOLVED)
    assert matching(st.unresolved_sql()) == unresolved
    assert matching(st.unresolved_sql(indexed=True)) == unresolved
    assert matching(st.due_sql()) == expected(lambda s, d: s in st.DUE)
    for indexed in (False, True):
        map_late = matching(st.map_overdue_sql(NOW, indexed=indexed))
        assert map_late == expected(lambda s, d: st.is_map_overdue(s, d, NOW))
    # From the history: found before NOW, not closed before it, due; overdue past deadline.
    assert matching(st.open_at_sql(NOW)) == expected(lambda s, d: s in st.OVERDUE)
    assert matching(st.overdue_at_sql(NOW)) == expected(lambda s, d: st.is_overdue(s, d, NOW))


@pytest.mark.parametrize("status", ["closed", "found"])
def test_open_at_reads_the_history(engine, status: str) -> None:
    # Closed after the cutoff: still open at the cutoff (and overdue, its deadline passed).
    with transaction(engine) as session:
        session.add(
            Problem(
                source="t",
                external_id="late",
                category="litter",
                lon=120.0,
                lat=32.0,
                geom=Point(120.0, 32.0),
                status=status,
                found_at=NOW - timedelta(days=10),
                deadline=NOW - timedelta(days=2),
                closed_at=NOW + timedelta(days=1) if status == "closed" else None,
            )
        )
    with transaction(engine, write=False) as session:
        assert session.scalar(sa.select(sa.func.count()).where(st.open_at_sql(NOW))) == 1
        assert session.scalar(sa.select(sa.func.count()).where(st.overdue_at_sql(NOW))) == 1


def test_rectified_in_time_is_not_overdue(engine) -> None:
    """待核查 in time is not 超期; rectified after the deadline still is, until closed."""
    deadline = NOW - timedelta(days=2)
    cases = {"in_time": deadline - timedelta(hours=1), "late": deadline + timedelta(hours=1)}
    with transaction(engine) as session:
        for name, rectified_at in cases.items():
            session.add(
                Problem(
                    source="t",
                    external_id=name,
                    category="litter",
                    lon=120.0,
                    lat=32.0,
                    geom=Point(120.0, 32.0),
                    status="rectified",
                    found_at=NOW - timedelta(days=9),
                    deadline=deadline,
                    rectified_at=rectified_at,
                )
            )
    with transaction(engine, write=False) as session:
        for condition in (st.overdue_sql(NOW), st.overdue_at_sql(NOW)):
            late = session.scalars(sa.select(Problem.external_id).where(condition)).all()
            assert late == ["late"]
    assert not st.is_overdue("rectified", deadline, NOW, cases["in_time"])
    assert st.is_overdue("rectified", deadline, NOW, cases["late"])
    mask = st.overdue_mask(
        np.array(["rectified", "rectified", "held", "found"], dtype=object),
        np.array([deadline] * 4, dtype="datetime64[us]"),
        np.array([cases["in_time"], cases["late"], None, None], dtype="datetime64[us]"),
        np.datetime64(NOW),
    )
    assert mask.tolist() == [False, True, False, True]
