"""Deadlines of assignments follow the working calendar file (data/calendar.toml or the
city's own): National Day week, an adjusted working Saturday, a problem assigned on a
holiday, natural days, and a city-edited calendar."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from geo.core.workcal import DEFAULT_CALENDAR_PATH, load_calendar
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.transitions import Change, Rules, Selection
from geo.storage.db import transaction
from geo.storage.models import Problem
from geo.summary import counts as summary
from tests.lifecycle_data import load_lifecycle_city, problem_id


@pytest.fixture
def city(engine, tmp_path: Path):
    load_lifecycle_city(engine, tmp_path)
    return engine


def _assign_as(engine, external_id: str, category: str, at: datetime, rules=None) -> datetime:
    pid = problem_id(engine, external_id)
    with transaction(engine) as session:
        session.execute(sa.update(Problem).where(Problem.id == pid).values(category=category))
        summary.rebuild(session)
    change = Change("assign", "街道创建办", unit="云溪区城管局", at=at)
    lifecycle.apply(engine, Selection(ids=(pid,)), change, rules=rules)
    with transaction(engine, write=False) as session:
        deadline = session.get_one(Problem, pid).deadline
    assert deadline is not None
    return deadline


# Times are naive UTC; 02:00 UTC is 10:00 in Beijing.
CASES = [
    # public_smoking, 3 working days from Wednesday 30 September 2026: 1–7 October are
    # holidays; Thursday 8, Friday 9 and Saturday 10 (adjusted working day) count.
    ("A1", "public_smoking", datetime(2026, 9, 30, 2, 0), datetime(2026, 10, 10, 2, 0)),
    # food_hygiene, 5 working days from Friday 9 October: Sat 10 (working), Mon 12 … Thu 15.
    ("A2", "food_hygiene", datetime(2026, 10, 9, 2, 0), datetime(2026, 10, 15, 2, 0)),
    # assigned on Sunday 4 October (a holiday): counting starts after it → Fri 9 … Sat 10.
    ("A3", "public_smoking", datetime(2026, 10, 4, 2, 0), datetime(2026, 10, 10, 2, 0)),
    # natural days ignore the calendar: litter, 1 day from Wednesday 30 September.
    ("B1", "litter", datetime(2026, 9, 30, 2, 0), datetime(2026, 10, 1, 2, 0)),
]


@pytest.mark.parametrize(("external_id", "category", "at", "due"), CASES)
def test_deadline_follows_the_official_calendar(city, external_id, category, at, due) -> None:
    assert _assign_as(city, external_id, category, at) == due


def test_a_city_edited_calendar_changes_deadlines(city, tmp_path: Path) -> None:
    # The city declares Thursday 8 October a local holiday too: one more day to wait.
    text = DEFAULT_CALENDAR_PATH.read_text(encoding="utf-8")
    edited = text.replace('"2026-10-07",', '"2026-10-07", "2026-10-08",', 1)
    assert edited != text
    path = tmp_path / "calendar.toml"
    path.write_text(edited, encoding="utf-8")
    rules = Rules(load_calendar(path))
    due = _assign_as(city, "A1", "public_smoking", datetime(2026, 9, 30, 2, 0), rules)
    assert due == datetime(2026, 10, 12, 2, 0)  # Fri 9, Sat 10 (working), Mon 12
