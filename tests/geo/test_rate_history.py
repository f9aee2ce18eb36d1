"""Period figures as they stood at the period's end (issue 16, item 1), hand-computed on
the week of tests/stats_data.py (2026-W47, street 东门 329901001, P1–P7).

At W47's end 东门 had found 5 (P1 P2 P3 P6 P7), due 4 (P1–P4), closed 2 (P1 P2), closed
on time 1 (P1), reworked 1 (P4), overdue 2 (P3, P5; P4 was rectified in time). A reopen,
hold or void recorded after that end leaves those figures and changes the periods still
open at its time (here W49, 30 Nov – 6 Dec); one recorded inside the week changes it.
The summary stays equal to a recount of the problems plus what history froze."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from geo.core.periods import parse_period
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import Change
from geo.lifecycle.selection import Selection
from geo.reports import stats
from geo.storage.db import transaction
from geo.storage.models import Problem, RateFrozen
from geo.summary import counts as summary
from tests.stats_data import load_stats_city

LATER = datetime(2026, 12, 2, 2, 0)  # Wed 2 Dec 10:00 Beijing, in W49
FRIDAY = datetime(2026, 11, 20, 2, 0)  # Fri 20 Nov 10:00 Beijing, in W47
NOW = datetime(2026, 12, 10)  # W49 is over too
EAST = "329901001"
BOSS = "city_officer"
FIGURES = ("found", "due", "closed", "closed_on_time", "reworked", "overdue")


@pytest.fixture
def city(engine, tmp_path: Path):
    load_stats_city(engine, tmp_path)
    return engine


def _act(engine, external_id: str, *changes: Change) -> None:
    with engine.connect() as conn:
        pid = conn.execute(sa.select(Problem.id).where(Problem.external_id == external_id))
        ids = (pid.scalar_one(),)
    for change in changes:
        lifecycle.apply(engine, Selection(ids=ids), change)


def _east(engine, period: str, level: str = "street") -> tuple[int, ...]:
    with transaction(engine, write=False) as session:
        frame = stats.rates(session, level, parse_period(period), now=NOW)
    row = frame.set_index("code").loc[EAST]
    return tuple(int(row[c]) for c in FIGURES)


def _hold(engine, external_id: str, at: datetime) -> None:
    _act(
        engine,
        external_id,
        Change("request_hold", "东门", "需整体改造", at=at),
        Change("approve_hold", "市创建办", at=at, role=BOSS),
    )


def _consistent(engine) -> None:
    """The stored summary is the recount plus the frozen part, also after a rebuild."""
    with transaction(engine) as session:
        assert summary.mismatches(session).empty
        summary.rebuild(session)
        assert summary.mismatches(session).empty


def test_a_reopen_after_the_week_leaves_it_and_counts_in_the_open_week(city) -> None:
    _act(city, "P1", Change("reopen", "市创建办", "回头看发现反弹", at=LATER))
    # W47 as it stood: P1 was closed on time (recounted from today it would be due 3,
    # closed 1: P1's new deadline is in W49).
    assert _east(city, "2026-W47") == (5, 4, 2, 1, 1, 2)
    # W48 (23–29 Nov): due P6 (27 Nov), unresolved; overdue at its end P3 P5 P6.
    assert _east(city, "2026-W48") == (0, 1, 0, 0, 0, 3)
    # W49: P1 reopened Wed 10:00, litter 1 day → due Thu 3 Dec, not closed, reworked;
    # overdue at its end P1 P3 P5 P6.
    assert _east(city, "2026-W49") == (0, 1, 0, 0, 1, 4)
    _consistent(city)
    assert _east(city, "2026-W47") == (5, 4, 2, 1, 1, 2)  # a rebuild keeps history


def test_a_hold_after_the_week_leaves_it_and_counts_in_the_open_week(city) -> None:
    _hold(city, "P3", LATER)
    assert _east(city, "2026-W47") == (5, 4, 2, 1, 1, 2)  # P3 still due and overdue
    assert _east(city, "2026-W48") == (0, 1, 0, 0, 0, 3)
    # W49: P3 held since Wednesday → overdue at its end only P5 P6.
    assert _east(city, "2026-W49") == (0, 0, 0, 0, 0, 2)
    _consistent(city)


def test_a_void_after_the_month_leaves_its_found_count(city) -> None:
    _act(city, "P7", Change("void", "市创建办", "重复上报", at=LATER, role=BOSS))
    # P7 (found 18 Nov) was a new problem of W47 and of November when they ended.
    assert _east(city, "2026-W47")[0] == 5
    # November: found P1–P7 (P4 10 Nov, P5 1 Nov); due P1–P6 but P5 (due 10 Nov) too.
    assert _east(city, "2026-11")[0] == 7
    with transaction(city, write=False) as session:
        frozen = session.scalar(sa.select(sa.func.sum(RateFrozen.found)))
    # Street, district, grid (and community when it has one) rows of W47, Nov, Q4 keep it.
    assert frozen and frozen > 0
    _consistent(city)


def test_a_hold_inside_the_week_changes_it(city) -> None:
    _hold(city, "P3", FRIDAY)
    # Held before W47 ended: due P1 P2 P4, closed P1 P2, overdue P5 only.
    assert _east(city, "2026-W47") == (5, 3, 2, 1, 1, 1)
    _consistent(city)
