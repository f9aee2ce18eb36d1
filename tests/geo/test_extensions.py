"""Extension 延期, hold 挂账, send back 回退 and void 作废: paths, history, summary counts,
the approval right, and every bad input refused with its message and nothing changed."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from geo.access.actions import allowed_actions, may_approve
from geo.core.errors import (
    InvalidParameterError,
    PermissionDeniedError,
    TransitionError,
)
from geo.core.periods import parse_period
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import Change, Rules
from geo.lifecycle.selection import Selection
from geo.reports import stats
from geo.storage.db import transaction
from geo.storage.models import Problem, ProblemEvent
from geo.summary import counts as summary
from tests.helpers import raises_msg, table_counts
from tests.lifecycle_data import load_lifecycle_city, problem_id

NOW = datetime(2026, 11, 10, 2, 0)  # Tue 10:00 Beijing; C1 is due 11 Nov 09:00 (01:00 UTC)
C1_DEADLINE = datetime(2026, 11, 11, 1, 0)
BOSS = "city_officer"


@pytest.fixture
def city(engine, tmp_path: Path):
    load_lifecycle_city(engine, tmp_path)
    return engine


def _act(engine, pid: int, change: Change, rules: Rules | None = None):
    return lifecycle.apply(engine, Selection(ids=(pid,)), change, rules=rules)


def _problem(engine, pid: int) -> Problem:
    with transaction(engine, write=False) as session:
        return session.get_one(Problem, pid)


def _events(engine, pid: int) -> list[ProblemEvent]:
    with transaction(engine, write=False) as session:
        stmt = sa.select(ProblemEvent).where(ProblemEvent.problem_id == pid)
        return list(session.scalars(stmt.order_by(ProblemEvent.id)))


def _consistent(engine) -> bool:
    with transaction(engine, write=False) as session:
        return summary.mismatches(session).empty


def test_extension_requested_then_approved_moves_the_deadline(city) -> None:
    pid = problem_id(city, "C1")
    asked = datetime(2026, 11, 20, 15, 59, 59)
    _act(city, pid, Change("request_extension", "东门街道", "需协调物业", deadline=asked, at=NOW))
    problem = _problem(city, pid)
    assert (problem.status, problem.pending, problem.requested_deadline) == (
        "assigned",
        "extension",
        asked,
    )
    assert problem.deadline == C1_DEADLINE and allowed_actions("assigned", "extension") == [
        "rectify",
        "approve_extension",
        "refuse_extension",
        "send_back",
        "void",
    ]
    result = _act(city, pid, Change("approve_extension", "市创建办", at=NOW, role=BOSS))
    problem = _problem(city, pid)
    assert (problem.deadline, problem.extension_count, problem.pending) == (asked, 1, None)
    assert result.version == 3 and result.status == "assigned"
    events = _events(city, pid)
    assert [(e.action, e.from_status, e.to_status, e.actor) for e in events] == [
        ("request_extension", "assigned", "assigned", "东门街道"),
        ("approve_extension", "assigned", "assigned", "市创建办"),
    ]
    assert events[0].note == "需协调物业" and events[0].deadline == asked == events[1].deadline
    assert _consistent(city)


def test_supervisor_may_approve_another_date_and_refuse_with_a_reason(city) -> None:
    pid = problem_id(city, "C1")
    asked = datetime(2026, 12, 1)
    _act(city, pid, Change("request_extension", "东门街道", "工期长", deadline=asked, at=NOW))
    shorter = datetime(2026, 11, 25)
    _act(city, pid, Change("approve_extension", "市创建办", deadline=shorter, at=NOW, role=BOSS))
    assert _problem(city, pid).deadline == shorter
    _act(city, pid, Change("request_extension", "东门街道", "再延", deadline=asked, at=NOW))
    _act(city, pid, Change("refuse_extension", "市创建办", "理由不充分", at=NOW, role="admin"))
    problem = _problem(city, pid)
    assert (problem.deadline, problem.extension_count, problem.pending) == (shorter, 1, None)
    assert _events(city, pid)[-1].note == "理由不充分"


def test_hold_approved_then_resumed(city) -> None:
    pid = problem_id(city, "C1")
    _act(city, pid, Change("request_hold", "东门街道", "需整体改造，列入明年计划", at=NOW))
    assert _problem(city, pid).pending == "hold"
    _act(city, pid, Change("approve_hold", "市创建办", at=NOW, role=BOSS))
    problem = _problem(city, pid)
    assert (problem.status, problem.pending) == ("held", None)
    assert allowed_actions("held") == ["resume"] and _consistent(city)
    later = NOW + timedelta(days=30)
    _act(city, pid, Change("resume", "市创建办", "改造资金已落实", at=later, role=BOSS))
    problem = _problem(city, pid)
    assert (problem.status, problem.assigned_at) == ("assigned", later)
    assert problem.deadline == later + timedelta(days=1)  # litter: 1 natural day, afresh
    assert _events(city, pid)[-1].unit_id == problem.unit_id and _consistent(city)


def test_refused_hold_leaves_the_problem_assigned(city) -> None:
    pid = problem_id(city, "C1")
    _act(city, pid, Change("request_hold", "东门街道", "困难", at=NOW))
    _act(city, pid, Change("refuse_hold", "市创建办", "可以整改", at=NOW, role=BOSS))
    problem = _problem(city, pid)
    assert (problem.status, problem.pending, problem.deadline) == ("assigned", None, C1_DEADLINE)


def test_send_back_returns_to_the_assigning_office_and_can_be_reassigned(city) -> None:
    pid = problem_id(city, "C1")
    _act(
        city,
        pid,
        Change("request_extension", "东门街道", "x", deadline=NOW + timedelta(days=3), at=NOW),
    )
    _act(city, pid, Change("send_back", "东门街道", "不属于本单位职责，应由城管局处理", at=NOW))
    problem = _problem(city, pid)
    assert (problem.status, problem.unit_id, problem.deadline, problem.pending) == (
        "found",
        None,
        None,
        None,
    )
    back = _events(city, pid)[-1]
    assert (back.action, back.from_status, back.to_status) == ("send_back", "assigned", "found")
    assert back.unit_id is not None  # the unit it came back from
    _act(city, pid, Change("assign", "区创建办", unit="云溪区城管局", at=NOW))
    assert _problem(city, pid).status == "assigned" and _consistent(city)


def test_void_a_false_report(city) -> None:
    from geo.lifecycle.problems import unresolved_count

    pid = problem_id(city, "A1")
    street = _problem(city, pid).street_id
    with transaction(city, write=False) as session:
        before = unresolved_count(session, street)
    _act(city, pid, Change("void", "市创建办", "重复上报，现场无此问题", at=NOW, role=BOSS))
    assert _problem(city, pid).status == "voided" and allowed_actions("voided") == []
    assert _consistent(city)
    with transaction(city, write=False) as session:
        assert unresolved_count(session, street) == before - 1  # a false report is no problem


def test_bulk_approval_of_a_street_pending_requests(city) -> None:
    ids = [problem_id(city, e) for e in ("A1", "A2")]
    lifecycle.apply(
        city, Selection(ids=tuple(ids)), Change("assign", "区", unit="东门街道办事处", at=NOW)
    )
    asked = NOW + timedelta(days=5)
    for pid in ids:
        _act(city, pid, Change("request_extension", "东门", "雨天", deadline=asked, at=NOW))
    result = lifecycle.apply(
        city,
        Selection(level="street", area_code="329901001"),
        Change("approve_extension", "市创建办", at=NOW, role=BOSS),
    )
    assert sorted(result.ids) == sorted(ids)  # C1 has no request: not picked
    assert all(_problem(city, pid).deadline == asked for pid in ids)


def test_may_approve() -> None:
    assert may_approve("city_officer") and may_approve(" admin ")
    assert not may_approve("unit") and not may_approve(None) and not may_approve("")


def _snapshot(engine) -> tuple:
    columns = (Problem.id, Problem.status, Problem.version, Problem.deadline, Problem.pending)
    with engine.connect() as conn:
        problems = conn.execute(sa.select(*columns).order_by(Problem.id)).all()
    return table_counts(engine), problems


def _pending_extension(engine) -> None:
    pid = problem_id(engine, "C1")
    asked = NOW + timedelta(days=5)
    _act(engine, pid, Change("request_extension", "东门街道", "雨天", deadline=asked, at=NOW))


BAD = [
    # (problem, set-up, change, error, message)
    (
        "C3",
        None,
        Change("request_extension", "枫桥", "晚了", deadline=datetime(2026, 12, 1), at=NOW),
        TransitionError,
        "is closed: cannot request extension",
    ),
    (
        "C1",
        None,
        Change("request_extension", "东门", "太久", deadline=datetime(2026, 12, 20), at=NOW),
        InvalidParameterError,
        "beyond the maximum of 30 days",
    ),
    (
        "C1",
        None,
        Change("request_extension", "东门", "提前", deadline=datetime(2026, 11, 10, 12), at=NOW),
        InvalidParameterError,
        "must be later than the current one",
    ),
    (
        "C1",
        None,
        Change("request_extension", "东门", "无时限", at=NOW),
        InvalidParameterError,
        "needs the new deadline",
    ),
    (
        "C1",
        None,
        Change("request_extension", "东门", "", deadline=datetime(2026, 11, 20), at=NOW),
        InvalidParameterError,
        "a note is required",
    ),
    (
        "C1",
        _pending_extension,
        Change("approve_extension", "东门街道", at=NOW, role="unit"),
        PermissionDeniedError,
        "role 'unit' may not approve extension",
    ),
    (
        "C1",
        _pending_extension,
        Change("approve_extension", "某人", at=NOW),
        PermissionDeniedError,
        "无权批准延期",
    ),
    (
        "C1",
        None,
        Change("approve_extension", "市创建办", at=NOW, role=BOSS),
        TransitionError,
        "has no pending extension request",
    ),
    (
        "C1",
        _pending_extension,
        Change("request_hold", "东门", "另一个", at=NOW),
        TransitionError,
        "already has a pending extension request",
    ),
    (
        "A1",
        None,
        Change("void", "网格员", "假的", at=NOW, role="grid_manager"),
        PermissionDeniedError,
        "may not void",
    ),
    (
        "C1",
        None,
        Change("send_back", "东门", "  ", at=NOW),
        InvalidParameterError,
        "a note is required to send back",
    ),
    (
        "C1",
        None,
        Change("rectify", "东门", "好了", deadline=datetime(2026, 12, 1), at=NOW),
        InvalidParameterError,
        "only applies to assign, reopen and extensions",
    ),
    (
        "C3",
        None,
        Change("resume", "市创建办", "恢复", at=NOW, role=BOSS),
        TransitionError,
        "cannot resume",
    ),
    (
        "C3",
        None,
        Change("void", "市创建办", "作废", at=NOW, role=BOSS),
        TransitionError,
        "cannot void",
    ),
]


def test_bad_changes_are_refused_and_change_nothing(city) -> None:
    for external_id, setup, change, error, message in BAD:
        if setup is not None:
            setup(city)
        before = _snapshot(city)
        with raises_msg(error, message):
            _act(city, problem_id(city, external_id), change)
        assert _snapshot(city) == before, (external_id, change.action)
        with transaction(city) as session:  # undo the set-up for the next case
            session.execute(sa.update(Problem).values(pending=None, requested_deadline=None))
    assert _consistent(city)


def test_extension_maximum_is_a_setting(city) -> None:
    pid = problem_id(city, "C1")
    change = Change("request_extension", "东门", "工期", deadline=datetime(2026, 11, 16), at=NOW)
    with raises_msg(InvalidParameterError, "maximum of 3 days"):
        _act(city, pid, change, Rules(max_extension_days=3))
    _act(city, pid, change, Rules(max_extension_days=10))
    assert _problem(city, pid).pending == "extension"


def test_extensions_survive_a_send_back(city) -> None:
    pid = problem_id(city, "C1")
    asked = NOW + timedelta(days=5)
    _act(city, pid, Change("request_extension", "东门街道", "需协调", deadline=asked, at=NOW))
    _act(city, pid, Change("approve_extension", "市创建办", "同意", at=NOW, role=BOSS))
    _act(city, pid, Change("send_back", "东门街道", "不属于本单位职责", at=NOW))
    assert _problem(city, pid).extension_count == 1  # history, not reset by the send-back
    _act(city, pid, Change("assign", "区创建办", unit="云溪区城管局", at=NOW))
    problem = _problem(city, pid)
    assert (problem.status, problem.extension_count) == ("assigned", 1) and _consistent(city)
    assert problem.deadline == datetime(2026, 11, 11, 2, 0)  # litter: 1 day from NOW
    with transaction(city, write=False) as session:
        week = stats.rates(session, "street", parse_period("2026-W46"), now=datetime(2026, 11, 20))
    east = week.set_index("code").loc["329901001"]
    # C1 is 东门's only problem due in W46 (9–15 Nov), by its new deadline, and it had an
    # approved extension before the send-back: 延期率 1 of 1.
    assert (east.due, east.extended, east.extension_rate) == (1, 1, 1.0)
