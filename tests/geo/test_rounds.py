"""Rounds and visits: creation, scope, visits by hand with their problems, coverage
figures against a hand count (tests/rounds_data.py), the map layer, and bad input."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from geo.core.errors import InvalidParameterError, NotFoundError, TaxonomyError
from geo.core.taxonomy_file import default_taxonomy
from geo.rounds import coverage
from geo.rounds.rounds import RoundSpec, VisitInput, create_round, find_round, record_visit
from geo.storage.db import transaction
from geo.storage.models import Problem
from geo.storage.round_models import Visit, VisitProblem
from geo.summary import counts as summary
from tests.helpers import raises_msg, table_counts
from tests.rounds_data import ROUND, SPEC, load_round_city

TAX = default_taxonomy()


@pytest.fixture
def city(engine, tmp_path: Path):
    load_round_city(engine, tmp_path)
    return engine


def _coverage(engine, level: str = "street", area: str | None = None) -> coverage.Coverage:
    with transaction(engine, write=False) as session:
        return coverage.round_coverage(session, find_round(session, ROUND), TAX, level, "zh", area)


def test_coverage_matches_the_hand_count(city) -> None:
    cov = _coverage(city)
    # In scope: M1 M2 A1 A2 (S1 is a school in 北岭: neither kind nor area). Latest results:
    # M1 fail, M2 pass, A1 pass (re-visit after a serious fail), A2 not visited.
    t = cov.total
    assert (t.points, t.visited, t.not_visited, t.passed, t.failed, t.serious) == (4, 3, 1, 2, 1, 0)
    assert t.coverage == 0.75 and t.fail_rate == pytest.approx(1 / 3)
    assert (cov.visits, cov.problems) == (4, 3)
    kinds = {r["key"]: r for r in cov.by_kind}
    assert (kinds["market"]["visited"], kinds["market"]["fail_rate"]) == (2, 0.5)
    assert (kinds["back_alley"]["not_visited"], kinds["back_alley"]["fail_rate"]) == (1, 0.0)
    areas = {r["key"]: r for r in cov.by_area}
    assert list(areas) == ["329901001", "329901002", "329902001"]
    assert areas["329901001"]["fail_rate"] == 0.5 and areas["329902001"]["fail_rate"] is None
    assert areas["329902001"]["label"] == "南湖街道" and areas["329902001"]["coverage"] == 0.0


def test_coverage_by_district_and_for_one_area(city) -> None:
    districts = {r["key"]: r for r in _coverage(city, "district").by_area}
    assert districts["329901"]["points"] == 3 and districts["329902"]["visited"] == 0
    one = _coverage(city, "street", "329901001")
    assert (one.total.points, one.total.visited, one.total.failed, one.visits) == (2, 2, 1, 3)
    with raises_msg(InvalidParameterError, "unknown level"):
        _coverage(city, "planet")
    with raises_msg(NotFoundError, "no street with code '999'"):
        _coverage(city, "street", "999")


def test_map_layer_colours_points_by_latest_result(city) -> None:
    with transaction(city, write=False) as session:
        rnd = find_round(session, ROUND)
        every = json.loads(coverage.round_points_geojson(session, rnd, TAX))
        todo = json.loads(coverage.round_points_geojson(session, rnd, TAX, visited=False))
        done = json.loads(coverage.round_points_geojson(session, rnd, TAX, "en", visited=True))
    props = {f["properties"]["code"]: f["properties"] for f in every["features"]}
    assert set(props) == {"M1", "M2", "A1", "A2"}
    assert (props["M1"]["result"], props["M1"]["color"]) == ("fail", "#ef6c00")
    assert (props["A1"]["result"], props["A1"]["visited_at"]) == ("pass", "2026-11-20 12:00")
    assert props["A2"]["result"] is None and props["A2"]["radius"] > props["M2"]["radius"]
    assert props["A2"]["kind_label"] == "背街小巷 · 未测评"
    assert [f["properties"]["code"] for f in todo["features"]] == ["A2"]
    assert {f["properties"]["result_label"] for f in done["features"]} == {"Fail", "Pass"}


def test_visit_with_problems_writes_them_with_summary_counts(city) -> None:
    with transaction(city, write=False) as session:
        assert summary.mismatches(session).empty
        linked = session.execute(
            sa.select(Problem.category, Problem.status, Problem.point_id, Visit.result)
            .join(VisitProblem, VisitProblem.problem_id == Problem.id)
            .join(Visit, Visit.id == VisitProblem.visit_id)
            .order_by(Problem.id)
        ).all()
    assert [(c, s, r) for c, s, _, r in linked] == [
        ("litter", "found", "fail"),
        ("street_vending", "found", "fail"),
        ("illegal_ads", "found", "serious_fail"),
    ]


def test_round_scope_defaults_to_everything(engine, tmp_path: Path) -> None:
    load_round_city(engine, tmp_path, visits=False)
    spec = RoundSpec("全市暗访", date(2026, 11, 1), date(2026, 11, 30))
    with transaction(engine) as session:
        rnd = create_round(session, spec, TAX)
        total = coverage.round_coverage(session, rnd, TAX).total
    assert (total.points, total.visited, total.fail_rate) == (5, 0, None)


def _visit(engine, visit: VisitInput) -> None:
    with transaction(engine) as session:
        record_visit(session, find_round(session, ROUND), visit, TAX)


def _round(engine, spec: RoundSpec) -> None:
    with transaction(engine) as session:
        create_round(session, spec, TAX)


AT = datetime(2026, 11, 18, 2, 0)
BAD_VISITS = [
    (VisitInput("NOPE", AT, "甲", "pass"), NotFoundError, "unknown point code 'NOPE'"),
    (VisitInput("S1", AT, "甲", "pass"), InvalidParameterError, "outside the scope of round"),
    (
        VisitInput("M2", datetime(2027, 1, 1, 2), "甲", "pass"),
        InvalidParameterError,
        "outside the round's period 2026-10-01 – 2026-12-31",
    ),
    (
        VisitInput("M2", datetime(2026, 9, 30, 17), "甲", "pass"),  # 1 Oct 01:00 Beijing: in
        None,
        "",
    ),
    (VisitInput("M2", AT, "甲", "so-so"), InvalidParameterError, "unknown result 'so-so'"),
    (VisitInput("M2", AT, " ", "pass"), InvalidParameterError, "inspector"),
    (
        VisitInput("M2", datetime(2026, 11, 16, 3, 0), "甲", "pass"),
        InvalidParameterError,
        "already recorded",
    ),
    (
        VisitInput("M2", AT, "甲", "fail", problems=(("no_such_thing", "x"),)),
        TaxonomyError,
        "unknown category",
    ),
]


def test_bad_visits_are_refused_and_write_nothing(city) -> None:
    for visit, error, message in BAD_VISITS:
        before = table_counts(city)
        if error is None:
            _visit(city, visit)
            assert table_counts(city)["visits"] == before["visits"] + 1
            continue
        with raises_msg(error, re.escape(message)):
            _visit(city, visit)
        assert table_counts(city) == before, visit


BAD_ROUNDS = [
    (
        RoundSpec("倒序", date(2026, 12, 31), date(2026, 10, 1)),
        "the round ends (2026-10-01) before it starts (2026-12-31)",
    ),
    (RoundSpec(ROUND, date(2026, 10, 1), date(2026, 10, 2)), "already exists"),
    (RoundSpec("  ", date(2026, 10, 1), date(2026, 10, 2)), "1–200 characters"),
    (RoundSpec("x", date(2026, 10, 1), date(2026, 10, 2), ("spaceport",)), "unknown point kind"),
    (RoundSpec("x", date(2026, 10, 1), date(2026, 10, 2), areas=("street:1",)), "no area"),
    (RoundSpec("x", date(2026, 10, 1), date(2026, 10, 2), areas=("moon:1",)), "unknown level"),
]


def test_bad_rounds_are_refused_and_write_nothing(city) -> None:
    for spec, message in BAD_ROUNDS:
        before = table_counts(city)
        errors = (InvalidParameterError, NotFoundError, TaxonomyError)
        with raises_msg(errors, re.escape(message)):
            _round(city, spec)
        assert table_counts(city) == before, spec.name


def test_find_round_by_id_or_name(city) -> None:
    with transaction(city, write=False) as session:
        rnd = find_round(session, ROUND)
        assert find_round(session, str(rnd.id)).name == ROUND == SPEC.name
        assert [a.code for a in rnd.areas] == ["329901", "329902001"]
        with raises_msg(NotFoundError, "no round '第九轮'"):
            find_round(session, "第九轮")
