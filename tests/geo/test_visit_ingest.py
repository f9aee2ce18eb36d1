"""Surveys carrying visits through the ingest pipeline: visit-only rows (a point code and
a result, no category), visits with problems, the round from a column, an option or the
one round that fits, rows refused with their reason, strict mode and re-ingest."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from geo.core.errors import IngestError
from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.storage.db import transaction
from geo.storage.models import IngestBatch, Problem
from geo.storage.round_models import Visit, VisitProblem
from geo.summary import counts as summary
from tests.helpers import raises_msg, table_counts, write_csv
from tests.rounds_data import ROUND, load_round_city

HEADER = "id,点位编码,测评结果,问题类别,问题描述,检查时间,测评员,轮次,经度,纬度\n"
GOOD = (
    HEADER
    # a passed visit without coordinates: it takes the point's location
    + f"V1,M2,合格,,门前整洁,2026-11-17 09:00,丁,{ROUND},,\n"
    # a failed visit and two problems found in it (one visit: same point and time)
    + "V2,A2,不合格,litter,巷口垃圾,2026-11-17 10:00,丁,,120.92,32.03\n"
    + "V3,A2,,illegal_ads,电线杆小广告,2026-11-17 10:00,丁,,120.921,32.03\n"
    # a plain problem (no point, no result): as before
    + "P9,,,litter,路边垃圾,2026-11-17 11:00,,,120.84,32.01\n"
)


@pytest.fixture
def city(engine, tmp_path: Path):
    load_round_city(engine, tmp_path, visits=False)
    return engine


def _visits(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(Visit.point_id, Visit.result, Visit.inspector, Visit.note).order_by(Visit.id)
        ).all()


def test_visits_and_their_problems_are_ingested(city, tmp_path: Path) -> None:
    result = ingest_file(city, write_csv(tmp_path / "v.csv", GOOD), IngestOptions(source="r"))
    assert (result.accepted, result.rejected, result.visits) == (4, 0, 2)
    visits = _visits(city)
    assert [(r, i, n) for _, r, i, n in visits] == [("pass", "丁", "门前整洁"), ("fail", "丁", "")]
    with transaction(city, write=False) as session:
        linked = session.execute(
            sa.select(Problem.external_id, Visit.result)
            .join(VisitProblem, VisitProblem.problem_id == Problem.id)
            .join(Visit, Visit.id == VisitProblem.visit_id)
            .order_by(Problem.external_id)
        ).all()
        assert [tuple(r) for r in linked] == [("V2", "fail"), ("V3", "fail")]
        problems = session.scalars(sa.select(Problem.external_id).order_by(Problem.id)).all()
        assert problems == ["V2", "V3", "P9"]  # the visit-only row holds no problem
        assert summary.mismatches(session).empty
        batch = session.scalars(sa.select(IngestBatch)).one()
        assert batch.visits == 2
    again = ingest_file(city, write_csv(tmp_path / "v.csv", GOOD), IngestOptions(source="r"))
    assert again.visits == 0 and len(_visits(city)) == 2  # nothing twice


def test_worst_result_wins_and_problems_without_result_mean_fail(city, tmp_path: Path) -> None:
    text = (
        HEADER
        + "W1,M1,不合格,litter,垃圾,2026-11-18 09:00,戊,,120.82,32.01\n"
        + "W2,M1,严重不合格,street_vending,占道,2026-11-18 09:00,戊,,120.82,32.01\n"
        + "W3,A1,,litter,垃圾,2026-11-18 10:00,戊,,120.82,32.03\n"
    )
    result = ingest_file(city, write_csv(tmp_path / "w.csv", text), IngestOptions(source="w"))
    assert result.visits == 2
    assert [r for _, r, _, _ in _visits(city)] == ["serious_fail", "fail"]


def test_round_option_and_result_words(city, tmp_path: Path) -> None:
    text = "点位编码,结果,发现时间\nM1,pass,2026-11-19 09:00\nA1,Serious fail,2026-11-19 10:00\n"
    options = IngestOptions(source="o", round=ROUND, actor="督查组")
    result = ingest_file(city, write_csv(tmp_path / "o.csv", text), options)
    assert (result.visits, result.rejected) == (2, 0)
    assert [(r, i) for _, r, i, _ in _visits(city)] == [
        ("pass", "督查组"),
        ("serious_fail", "督查组"),
    ]


BAD_ROWS = [
    ("NOPE,合格,,,2026-11-17 09:00,丁,,120.82,32.01", "unknown point code 'NOPE'"),
    ("S1,合格,,,2026-11-17 09:00,丁,,120.96,32.01", "no round holds this point and time"),
    (f"S1,合格,,,2026-11-17 09:00,丁,{ROUND},120.96,32.01", "point outside the scope of round"),
    (f"M1,合格,,,2027-01-05 09:00,丁,{ROUND},120.82,32.01", "visit time outside the period"),
    ("M1,合格,,,2026-11-17 09:00,丁,第九轮,120.82,32.01", "unknown round '第九轮'"),
    ("M1,还行,,,2026-11-17 09:00,丁,,120.82,32.01", "unknown result"),
    (",合格,,,2026-11-17 09:00,丁,,120.82,32.01", "a visit needs a point code"),
    ("M1,,,,2026-11-17 09:00,丁,,120.82,32.01", "missing category"),
]


def test_bad_visit_rows_are_rejected_with_their_reason(city, tmp_path: Path) -> None:
    lines = "".join(f"B{i},{row}\n" for i, (row, _) in enumerate(BAD_ROWS))
    text = HEADER + lines + "OK,M2,合格,,,2026-11-17 09:00,丁,,120.86,32.02\n"
    result = ingest_file(city, write_csv(tmp_path / "b.csv", text), IngestOptions(source="b"))
    reasons = {r.row: r.reason_en for r in result.rejects}
    for i, (_, message) in enumerate(BAD_ROWS):
        assert message in reasons[i + 2], (i, reasons.get(i + 2))
    assert (result.accepted, result.visits) == (1, 1)


def test_strict_mode_refuses_a_file_with_a_bad_visit_and_writes_nothing(
    city, tmp_path: Path
) -> None:
    text = GOOD + f"X1,S1,合格,,,2026-11-17 09:00,丁,{ROUND},120.96,32.01\n"
    before = table_counts(city)
    with raises_msg(IngestError, r"row 6: .*outside the scope of round"):
        ingest_file(city, write_csv(tmp_path / "s.csv", text), IngestOptions(strict=True))
    assert table_counts(city) == before


def test_plain_problem_files_still_need_a_category(city, tmp_path: Path) -> None:
    text = "id,经度,纬度,发现时间\nX,120.82,32.01,2026-11-17 09:00\n"
    with raises_msg(IngestError, r"missing required column.*category"):
        ingest_file(city, write_csv(tmp_path / "n.csv", text), IngestOptions())
