"""Notices (抄告单): content for a street and round, warning dates on the working calendar,
numbering within the year, issuing with assignment, photos, files, and bad input."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from geo.areas.units import unit_ids
from geo.core.errors import InvalidParameterError, NotFoundError
from geo.core.taxonomy_file import default_taxonomy
from geo.core.workcal import default_calendar
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import Change
from geo.lifecycle.selection import Selection
from geo.rounds.notice_render import render_document, write_notice
from geo.rounds.notices import NoticeSettings, build_notice, issue_notice, issued_notice
from geo.rounds.rounds import find_round
from geo.storage.db import transaction
from geo.storage.models import Problem
from geo.storage.round_models import Notice
from geo.summary import counts as summary
from tests.helpers import XSS, raises_msg, table_counts
from tests.rounds_data import ROUND, load_round_city

TAX = default_taxonomy()
SETTINGS = NoticeSettings(default_calendar(), prefix="青岚", warning_days=1)
EAST, SOUTH = "329901001", "329902001"
ISSUED = datetime(2026, 11, 20, 2, 0)  # Friday 10:00 Beijing


@pytest.fixture
def city(engine, tmp_path: Path):
    load_round_city(engine, tmp_path)
    with transaction(engine) as session:
        unit_ids(session, ["东门街道办事处"])
    return engine


def _draft(engine, street: str = EAST, settings: NoticeSettings = SETTINGS):
    with transaction(engine, write=False) as session:
        return build_notice(session, find_round(session, ROUND), street, TAX, settings, ISSUED)


def _issue(engine, street: str = EAST, unit: str | None = None, at: datetime = ISSUED) -> Notice:
    with transaction(engine) as session:
        rnd = find_round(session, ROUND)
        return issue_notice(session, rnd, street, "市创建办", TAX, SETTINGS, unit, now=at)


def test_draft_lists_failed_points_and_their_problems(city) -> None:
    doc = _draft(city)
    # 东门: M1 failed (2 problems); A1 failed seriously but passed its re-visit → left out.
    assert [p.code for p in doc.points] == ["M1"] and doc.number is None
    point = doc.points[0]
    assert (point.result_label, point.inspector, point.visited_at) == (
        "不合格",
        "测评员甲",
        "2026-11-16 10:00",
    )
    assert [(q.category, q.status, q.unit, q.deadline) for q in point.problems] == [
        ("暴露垃圾/环境卫生差", "发现", "东门街道办事处", None),
        ("占道经营/店外经营", "发现", "东门街道办事处", None),
    ]
    assert all(q.unit_is_point_unit for q in point.problems)  # the point's unit, not assigned
    assert doc.problem_count == 2 and doc.serious == 0


def test_issue_numbers_records_and_assigns(city) -> None:
    notice = _issue(city, unit="东门街道办事处")
    assert (notice.number, notice.year, notice.seq) == ("青岚〔2026〕第1号", 2026, 1)
    with transaction(city, write=False) as session:
        doc = issued_notice(session, notice.id, TAX, SETTINGS)
        assert summary.mismatches(session).empty
        events = session.scalars(
            sa.select(Problem.status).where(Problem.id.in_(notice.problem_ids))
        ).all()
    assert events == ["assigned", "assigned"] and doc.issued_by == "市创建办"
    # litter: 1 natural day from Friday 10:00 → Saturday 10:00; warning: 1 working day
    # before Saturday 21 November → Friday 20 November. street_vending: 3 natural days →
    # Monday 23 November; warning Friday 20 November (the weekend does not count).
    lines = [(q.deadline, q.warning) for q in doc.points[0].problems]
    assert lines == [("2026-11-21 10:00", "2026-11-20"), ("2026-11-23 10:00", "2026-11-20")]
    assert _issue(city).number == "青岚〔2026〕第2号"
    next_year = _issue(city, at=datetime(2026, 12, 31, 17, 0))  # 1 January 2027 in Beijing
    assert (next_year.number, next_year.seq) == ("青岚〔2027〕第1号", 1)


def test_warning_date_jumps_the_national_day_week(city) -> None:
    pid = _issue(city).problem_ids[0]
    with transaction(city) as session:  # a deadline on Thursday 8 October 2026
        session.execute(
            sa.update(Problem)
            .where(Problem.id == pid)
            .values(status="assigned", deadline=datetime(2026, 10, 8, 2, 0))
        )
        summary.rebuild(session)
    doc = _draft(city)
    line = next(q for q in doc.points[0].problems if q.id == pid)
    assert (line.deadline, line.warning, line.overdue) == ("2026-10-08 10:00", "2026-09-30", True)
    two_days = NoticeSettings(default_calendar(), warning_days=2)
    line = next(q for q in _draft(city, settings=two_days).points[0].problems if q.id == pid)
    assert line.warning == "2026-09-29"


def test_issued_notice_keeps_its_problems_and_leaves_out_voided(city) -> None:
    notice = _issue(city)
    first, second = notice.problem_ids
    lifecycle.apply(
        city,
        Selection(ids=(second,)),
        Change("void", "市创建办", "重复", at=ISSUED, role="city_officer"),
    )
    with transaction(city, write=False) as session:
        doc = issued_notice(session, notice.id, TAX, SETTINGS)
    assert [q.id for q in doc.points[0].problems] == [first]
    assert [q.id for q in _draft(city).points[0].problems] == [first]


def test_photos_are_embedded_in_files(city, tmp_path: Path) -> None:
    from PIL import Image

    notice = _issue(city, unit="东门街道办事处")
    photos = tmp_path / "photos"
    name = f"{notice.problem_ids[0]}/{'a' * 32}.png"
    (photos / name).parent.mkdir(parents=True)
    Image.new("RGB", (8, 8), "#2e7d32").save(photos / name)
    lifecycle.apply(
        city,
        Selection(ids=(notice.problem_ids[0],)),
        Change("rectify", "东门", "已清理", photo=name, at=ISSUED),
    )
    with transaction(city, write=False) as session:
        doc = issued_notice(session, notice.id, TAX, SETTINGS)
    assert doc.points[0].problems[0].photo == name
    html_path = write_notice(doc, tmp_path / "n.html", photos)
    html = html_path.read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "青岚〔2026〕第1号" in html
    assert XSS not in html and "&lt;img src=x" in html  # the point's name is escaped
    pdf = write_notice(doc, tmp_path / "n.pdf", photos)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_english_notice(city) -> None:
    with transaction(city, write=False) as session:
        doc = build_notice(session, find_round(session, ROUND), EAST, TAX, SETTINGS, lang="en")
    html = render_document(doc, lambda _i, _n: None, "en")
    assert "DRAFT" in html and "Fail" in html and "Street vending" in html


def test_bad_notices_are_refused_and_record_nothing(city, tmp_path: Path) -> None:
    cases = [
        (lambda: _issue(city, street=SOUTH), InvalidParameterError, "nothing to notify"),
        (lambda: _issue(city, street="999"), NotFoundError, "no street with code '999'"),
        (
            lambda: _issue(city, unit="不存在的单位"),
            InvalidParameterError,
            "unknown responsible unit",
        ),
    ]
    for call, error, message in cases:
        before = table_counts(city)
        with raises_msg(error, message):
            call()
        assert table_counts(city) == before
    with transaction(city) as session:
        rnd = find_round(session, ROUND)
        with raises_msg(InvalidParameterError, "who issues"):
            issue_notice(session, rnd, EAST, " ", TAX, SETTINGS)
    with raises_msg(InvalidParameterError, r"\.html or \.pdf"):
        write_notice(_draft(city), tmp_path / "n.docx", tmp_path)
    assert table_counts(city)["notices"] == 0
