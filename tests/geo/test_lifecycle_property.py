"""Property: after any sequence of transitions, single or bulk, legal or not (main path,
extensions, holds, send back, void), the summary counts equal a recount of the problems
table, and every status and pending request follows the state machine (checked against
a tiny model kept in Python)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.access.actions import allows
from geo.core.errors import CivicgridError
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import Change
from geo.lifecycle.selection import Selection
from geo.lifecycle.transitions import ACTIONS
from geo.storage.db import session_factory, writer
from geo.storage.models import Problem
from geo.summary import counts as summary
from tests.lifecycle_data import load_lifecycle_city

STREETS = ("329901001", "329901002", "329902001", "329902101")
CATEGORIES = ("litter", "illegal_ads", "street_vending")

single = st.tuples(st.just("one"), st.sampled_from(sorted(ACTIONS)), st.integers(0, 6))
bulk = st.tuples(
    st.just("bulk"),
    st.sampled_from(sorted(ACTIONS)),
    st.tuples(st.sampled_from(STREETS), st.sampled_from((None, *CATEGORIES))),
)
steps = st.lists(st.one_of(single, bulk), min_size=1, max_size=12)


@pytest.fixture
def city(engine, tmp_path: Path):
    load_lifecycle_city(engine, tmp_path)
    return engine


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.slow  # property-based: many examples
@given(sequence=steps)
def test_summary_always_matches_a_recount(city, sequence) -> None:
    with session_factory(writer(city))() as session, session.begin():
        ids = list(session.scalars(sa.select(Problem.id).order_by(Problem.id)))
        model = _state(session)
        at = datetime(2026, 11, 20, 1, 0)
        for kind, name, target in sequence:
            at += timedelta(minutes=5)
            change = Change(
                name,
                "测试",
                note="说明",
                unit="云溪区城管局" if name == "assign" else None,
                deadline=at + timedelta(days=10) if name == "request_extension" else None,
                at=at,
                role="city_officer",
            )
            if kind == "one":
                selection = Selection(ids=(ids[target],))
            else:
                selection = Selection(level="street", area_code=target[0], category=target[1])
            expected = _expected(session, model, selection, name)
            try:
                result = lifecycle.bulk_transition(session, selection, change)
            except CivicgridError:
                assert kind == "one" and not expected  # only an illegal single change fails
            else:
                assert sorted(result.ids) == sorted(expected)
                for pid in expected:
                    model[pid] = _next(model[pid], name)
            assert summary.mismatches(session).empty
            assert _state(session) == model
        session.rollback()


def _state(session) -> dict[int, tuple[str, str | None]]:
    rows = session.execute(sa.select(Problem.id, Problem.status, Problem.pending)).all()
    return {pid: (status, pending) for pid, status, pending in rows}


def _next(state: tuple[str, str | None], name: str) -> tuple[str, str | None]:
    action = ACTIONS[name]
    pending = {"request_extension": "extension", "request_hold": "hold"}.get(name)
    return (action.target or state[0], pending)


def _expected(session, model, selection, name) -> list[int]:
    """Problem ids the selection should change, from the Python model of states."""
    action = ACTIONS[name]
    if selection.ids:
        return [pid for pid in selection.ids if allows(action, *model[pid])]
    from geo.storage.models import Area

    area = session.scalar(sa.select(Area.id).where(Area.code == selection.area_code))
    stmt = sa.select(Problem.id).where(Problem.street_id == area)
    if selection.category:
        stmt = stmt.where(Problem.category == selection.category)
    return [pid for pid in session.scalars(stmt) if allows(action, *model[pid])]
