"""The lifecycle state machine: legal paths, history, versions, bulk actions, bad input."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import InvalidParameterError, NotFoundError, StaleVersionError, TransitionError
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import Change
from geo.lifecycle.selection import Selection
from geo.storage.db import transaction
from geo.storage.models import Problem, ProblemEvent
from geo.summary import counts as summary
from tests.helpers import raises_msg, table_counts
from tests.lifecycle_data import load_lifecycle_city, problem_id

NOW = datetime(2026, 11, 18, 2, 0)  # naive UTC = 10:00 Beijing time


@pytest.fixture
def city(engine, tmp_path: Path):
    load_lifecycle_city(engine, tmp_path)
    return engine


def _problem(engine, pid: int) -> Problem:
    with transaction(engine, write=False) as session:
        return session.get_one(Problem, pid)


def _events(engine, pid: int) -> list[ProblemEvent]:
    with transaction(engine, write=False) as session:
        stmt = (
            sa.select(ProblemEvent)
            .options(so.joinedload(ProblemEvent.unit))
            .where(ProblemEvent.problem_id == pid)
            .order_by(ProblemEvent.id)
        )
        return list(session.scalars(stmt))


def _snapshot(engine) -> tuple:
    with engine.connect() as conn:
        problems = conn.execute(sa.select(Problem.id, Problem.status, Problem.version)).all()
    return table_counts(engine), sorted(problems)


def test_full_path_records_who_when_from_to_and_bumps_version(city) -> None:
    pid = problem_id(city, "A1")
    steps = [
        Change("assign", "张三", note="请尽快处理", unit="东门街道办事处", version=1, at=NOW),
        Change("rectify", "李四", note="已清理", version=2, at=NOW + timedelta(hours=5)),
        Change("close", "王五", note="复核通过", version=3, at=NOW + timedelta(hours=8)),
    ]
    for change in steps:
        lifecycle.apply(city, Selection(ids=(pid,)), change)
    problem = _problem(city, pid)
    assert (problem.status, problem.version) == ("closed", 4)
    assert problem.assigned_at == NOW and problem.closed_at == NOW + timedelta(hours=8)
    assert problem.deadline == NOW + timedelta(days=1)  # litter: 1 natural day
    events = _events(city, pid)
    assert [(e.action, e.from_status, e.to_status, e.actor) for e in events] == [
        ("assign", "found", "assigned", "张三"),
        ("rectify", "assigned", "rectified", "李四"),
        ("close", "rectified", "closed", "王五"),
    ]
    assert events[0].unit is not None and events[0].unit.name == "东门街道办事处"
    assert events[0].deadline == problem.deadline and events[2].note == "复核通过"


def test_reopen_counts_rework_and_gives_a_new_deadline(city) -> None:
    pid = problem_id(city, "C3")  # closed street_vending, reopened once before
    later = NOW + timedelta(days=1)
    result = lifecycle.apply(
        city, Selection(ids=(pid,)), Change("reopen", "督查组", note="回头看反弹", at=later)
    )
    problem = _problem(city, pid)
    assert result.version == 2 and problem.status == "assigned"
    assert problem.reopen_count == 2 and problem.closed_at is None and problem.rectified_at is None
    assert problem.deadline == later + timedelta(days=3)
    assert _events(city, pid)[-1].unit_id == problem.unit_id


def test_working_day_deadline_skips_the_weekend(city) -> None:
    pid = problem_id(city, "A3")  # illegal_ads: 1 natural day
    with transaction(city) as session:
        session.execute(
            sa.update(Problem).where(Problem.id == pid).values(category="public_smoking")
        )
        summary.rebuild(session)
    friday = datetime(2026, 11, 20, 2, 0)  # Friday 10:00 Beijing
    lifecycle.apply(
        city, Selection(ids=(pid,)), Change("assign", "张三", unit="云溪区城管局", at=friday)
    )
    # public_smoking: 3 working days → Mon, Tue, Wed → Wednesday 25 Nov 10:00 Beijing
    assert _problem(city, pid).deadline == datetime(2026, 11, 25, 2, 0)


BAD_CHANGES = [
    ("A1", Change("close", "张三", note="x"), TransitionError, "cannot close"),
    ("A1", Change("rectify", "张三", note="x"), TransitionError, "不能整改"),
    ("C1", Change("reopen", "张三", note="x"), TransitionError, "cannot reopen"),
    ("C1", Change("rectify", "张三", note="   "), InvalidParameterError, "note is required"),
    ("C2", Change("close", "张三"), InvalidParameterError, "需要填写说明"),
    ("C3", Change("reopen", "张三", note=""), InvalidParameterError, "note is required"),
    (
        "A1",
        Change("assign", "张三", unit="不存在的单位"),
        InvalidParameterError,
        "unknown responsible unit",
    ),
    ("A1", Change("assign", "张三"), InvalidParameterError, "responsible unit"),
    ("A1", Change("assign", "", unit="云溪区城管局"), InvalidParameterError, "actor"),
    (
        "A1",
        Change("assign", "张三", unit="云溪区城管局", deadline=datetime(2020, 1, 1)),
        InvalidParameterError,
        "in the past",
    ),
    (
        "A1",
        Change("assign", "张三", unit="云溪区城管局", version=7),
        StaleVersionError,
        "reload",
    ),
    ("A1", Change("destroy", "张三"), InvalidParameterError, "unknown action"),
]


def test_bad_changes_are_refused_and_change_nothing(city) -> None:
    before = _snapshot(city)
    for external, change, error, message in BAD_CHANGES:
        pid = problem_id(city, external)
        with raises_msg(error, message):
            lifecycle.apply(city, Selection(ids=(pid,)), change)
        assert _snapshot(city) == before, (external, change)


def test_unknown_problem_id_is_not_found(city) -> None:
    before = _snapshot(city)
    with raises_msg(NotFoundError, "99999"):
        lifecycle.apply(city, Selection(ids=(99999,)), Change("rectify", "张三", note="x"))
    assert _snapshot(city) == before


def test_stale_version_is_refused_after_someone_else_acted(city) -> None:
    pid = problem_id(city, "C1")
    seen = _problem(city, pid).version
    lifecycle.apply(city, Selection(ids=(pid,)), Change("rectify", "甲", note="先到", version=seen))
    before = _snapshot(city)
    with pytest.raises(StaleVersionError):
        lifecycle.apply(
            city, Selection(ids=(pid,)), Change("rectify", "乙", note="后到", version=seen)
        )
    assert _snapshot(city) == before
    assert [e.actor for e in _events(city, pid)] == ["甲"]


def test_bulk_assign_every_found_problem_of_a_category_in_a_street(city) -> None:
    selection = Selection(level="street", area_code="329901001", category="暴露垃圾/环境卫生差")
    result = lifecycle.apply(
        city, selection, Change("assign", "街道创建办", unit="东门街道办事处", at=NOW)
    )
    assert result.changed == 2  # A1, A2; C1 is litter there too but already assigned
    assert sorted(result.ids) == sorted([problem_id(city, "A1"), problem_id(city, "A2")])
    assert _problem(city, problem_id(city, "A3")).status == "found"  # other category
    with transaction(city, write=False) as session:
        assert summary.mismatches(session).empty
        assert session.scalar(sa.select(sa.func.count(ProblemEvent.id))) == 2


def test_bulk_filters_refuse_unknown_area_level_or_nothing(city) -> None:
    before = _snapshot(city)
    change = Change("assign", "x", unit="云溪区城管局")
    with raises_msg(NotFoundError, "no street with code"):
        lifecycle.apply(city, Selection(level="street", area_code="000"), change)
    with raises_msg(InvalidParameterError, "unknown level"):
        lifecycle.apply(city, Selection(level="planet", area_code="1"), change)
    with raises_msg(InvalidParameterError, "filter"):
        lifecycle.apply(city, Selection(), change)
    assert _snapshot(city) == before


def test_bulk_with_nothing_matching_changes_nothing(city) -> None:
    result = lifecycle.apply(
        city, Selection(level="street", area_code="329902101"), Change("rectify", "x", note="y")
    )
    assert result.changed == 0


def test_overdue_filter_picks_only_past_deadline(city) -> None:
    result = lifecycle.apply(
        city, Selection(overdue=True), Change("rectify", "x", note="催办后整改", at=NOW)
    )
    assert result.ids == [problem_id(city, "C1")]


def test_two_people_acting_at_once_never_overwrite_each_other(city) -> None:
    """B starts while A's change is uncommitted: B waits for A's lock, then is refused."""
    import threading

    from geo.storage.db import session_factory, writer

    pid = problem_id(city, "C1")
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            lifecycle.apply(
                city, Selection(ids=(pid,)), Change("rectify", "乙", note="乙", version=1)
            )
            outcome["b"] = "applied"
        except StaleVersionError as exc:
            outcome["b"] = exc

    with session_factory(writer(city))() as session, session.begin():
        lifecycle.transition(session, pid, Change("rectify", "甲", note="甲", version=1))
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive()  # B is waiting for A's transaction
    thread.join(timeout=30)
    assert isinstance(outcome["b"], StaleVersionError)
    assert [e.actor for e in _events(city, pid)] == ["甲"]
