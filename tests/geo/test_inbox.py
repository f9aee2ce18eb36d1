"""The inbox's notices (issue 17 item 6): every kind arrives for the problems of the
user's scope, one's own actions are no news, and each occurrence is stored once."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from geo.access.scope import resolve_scope
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import Change
from geo.lifecycle.selection import Selection
from geo.reports import inbox
from geo.storage.access_models import User
from geo.storage.db import transaction
from geo.storage.models import Area
from tests.helpers import add_user
from tests.lifecycle_data import load_lifecycle_city, problem_id

ME = "user:gm"  # the grid manager whose inbox this is
NOW = datetime(2026, 11, 18, 3, 0)  # 11:00 Beijing; "tomorrow" is 19 Nov local
TZ = "Asia/Shanghai"


@pytest.fixture
def city(engine, tmp_path: Path):
    load_lifecycle_city(engine, tmp_path)
    return engine


def _act(engine, pid: int, change: Change) -> None:
    lifecycle.apply(engine, Selection(ids=(pid,)), change)


def _history(engine) -> dict[str, int]:
    """C1 (assigned, in my grid): an extension approved, then another refused — both
    asked by me; A2 assigned by the office and sent back by the unit; A3 assigned by
    me. B1 lies outside my grid: assigned, no notice for me."""
    c1, a2, a3, b1 = (problem_id(engine, k) for k in ("C1", "A2", "A3", "B1"))
    at = datetime(2026, 11, 10, 2, 0)
    tomorrow = datetime(2026, 11, 19, 8, 0)  # 16:00 Beijing on 19 Nov
    later = datetime(2026, 11, 25, 8, 0)
    _act(engine, c1, Change("request_extension", ME, "需协调", deadline=tomorrow, at=at))
    boss = "user:boss"
    _act(engine, c1, Change("approve_extension", boss, at=at.replace(hour=3), role="admin"))
    _act(engine, c1, Change("request_extension", ME, "再延", deadline=later, at=at.replace(hour=4)))
    _act(
        engine, c1, Change("refuse_extension", boss, "不同意", at=at.replace(hour=5), role="admin")
    )
    day = datetime(2026, 11, 17, 2, 0)
    _act(engine, a2, Change("assign", boss, unit="东门街道办事处", at=day))
    _act(engine, a2, Change("send_back", "user:unit", "非本单位职责", at=day.replace(hour=3)))
    _act(engine, a3, Change("assign", ME, unit="东门街道办事处", at=day))
    _act(engine, b1, Change("assign", boss, unit="枫桥区市场监管局", at=day))
    return {"C1": c1, "A2": a2, "A3": a3, "B1": b1}


def test_notices_of_every_kind_once_and_never_of_my_own_actions(city) -> None:
    ids = _history(city)
    user = add_user(city, "gm", "grid_manager", ["grid:329901001001001"])
    with transaction(city) as session:
        user_id = session.scalar(sa.select(User.id).where(User.username == user))
        grid = session.scalar(sa.select(Area.id).where(Area.code == "329901001001001"))
        scope = resolve_scope(session, [grid])
        found = inbox.new_notices(session, user_id, ME, scope, NOW, TZ)
        assert inbox.store(session, user_id, found) == len(found)
    events = sorted((n["problem_id"], n["kind"]) for n in found if n["key"].startswith("event:"))
    assert events == sorted(
        [
            (ids["C1"], "approve_extension"),
            (ids["C1"], "refuse_extension"),
            (ids["A2"], "assign"),
            (ids["A2"], "send_back"),
        ]
    )  # not A3 (assigned by me), not B1 (outside my grid), not my requests
    deadlines = {(n["problem_id"], n["kind"]) for n in found if not n["key"].startswith("event:")}
    assert (ids["C1"], "due_tomorrow") in deadlines
    assert all(pid not in (ids["B1"],) for pid, _ in deadlines)
    with transaction(city) as session:  # a second look finds nothing new: stored once
        assert inbox.new_notices(session, user_id, ME, scope, NOW, TZ) == []
        assert inbox.unread_count(session, user_id) == len(found)
