"""geo/problems.py: create one problem like a survey row, list and read within a scope."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from geo.problem_filters import ProblemFilter

from geo import summary
from geo.access import Principal, Scope, resolve_scope
from geo.db import transaction
from geo.errors import (
    AlreadyExistsError,
    ForbiddenError,
    InvalidParameterError,
    NotFoundError,
    ValidationError,
)
from geo.models import IngestBatch, Problem
from geo.problems import create_problem, get_problem, list_problems
from geo.taxonomy import default_taxonomy
from tests.helpers import area_ids, load_scoped_city, table_counts

TAX = default_taxonomy()
CITY = Principal("token", "nightly", "city_officer")


@pytest.fixture
def city(engine, tmp_path):
    return engine, load_scoped_city(engine, tmp_path)


def _grid_manager(engine) -> Principal:
    grids = area_ids(engine, "grid")
    with transaction(engine, write=False) as s:
        scope = resolve_scope(s, [grids["329901001001"], grids["329901001002"]])
    return Principal("user", "gm", "grid_manager", scope)


def test_create_problem_goes_through_the_ingest_path(city) -> None:
    engine, _ = city
    data = {
        "id": "API-1",
        "lon": 120.821,
        "lat": 32.011,
        "category": "暴露垃圾/环境卫生差",  # a label, resolved like a survey cell
        "found_at": "2024-06-01 09:30",
        "description": "门口垃圾",
        "point_code": "P1",
        "unit": "东门街道办",
    }
    with transaction(engine) as s:
        new_id = create_problem(s, data, CITY, "api", TAX)
        item = get_problem(s, Scope.city(), new_id, TAX)
    assert item["category"] == "litter" and item["grid"] == "329901001001"
    assert item["found_at"] == "2024-06-01T01:30:00Z"  # local time → UTC
    assert item["point_code"] == "P1" and item["unit"] == "东门街道办"
    with transaction(engine, write=False) as s:
        batch = s.scalar(sa.select(IngestBatch).where(IngestBatch.file_name == "api:problem"))
        assert batch.actor == "token:nightly" and batch.accepted == 1
        assert summary.mismatches(s).empty  # summary counts kept in the same transaction


@pytest.mark.parametrize(
    ("data", "error", "fragment"),
    [
        ({"lon": "120,82"}, ValidationError, "comma decimal"),
        ({"lon": "abc"}, ValidationError, "non-numeric lon"),
        ({"lat": 95}, ValidationError, "out of range"),
        ({"category": "乱扔东西"}, ValidationError, "unknown category"),
        ({"found_at": "yesterday-ish"}, ValidationError, "malformed time"),
        ({"found_at": None}, ValidationError, "missing found_at"),
        ({"status": "lost"}, ValidationError, "unknown status"),
        ({"point_code": "NOPE"}, ValidationError, "unknown point code"),
        ({"colour": "red"}, ValidationError, "unknown field"),
        ({"description": ["a", "list"]}, ValidationError, "text or a number"),
        ({"lon": True}, ValidationError, "text or a number"),
        ({"id": "IN1"}, AlreadyExistsError, "exists already"),
        ({"lon": 120.92}, ForbiddenError, "outside your scope"),
        ({"lon": 125.0}, ForbiddenError, "outside your scope"),
    ],
)
def test_bad_problem_refused_with_reason_and_nothing_written(city, data, error, fragment) -> None:
    engine, _ = city
    body = {"lon": 120.82, "lat": 32.01, "category": "litter", "found_at": "2024-06-01 09:30"}
    body.update(data)
    before = table_counts(engine)
    with pytest.raises(error, match=fragment), transaction(engine) as s:
        create_problem(s, body, _grid_manager(engine), "seed" if "id" in data else "api", TAX)
    assert table_counts(engine) == before


def test_planner_cannot_report(city) -> None:
    engine, _ = city
    body = {"lon": 120.82, "lat": 32.01, "category": "litter", "found_at": "2024-06-01"}
    with pytest.raises(ForbiddenError, match="planner"), transaction(engine) as s:
        create_problem(s, body, Principal("user", "p", "planner"), "api", TAX)


def test_get_problem_out_of_scope_is_not_found(city) -> None:
    engine, ids = city
    gm = _grid_manager(engine)
    with transaction(engine, write=False) as s:
        assert get_problem(s, gm.scope, ids["IN1"], TAX)["description"] == "IN-GRID-MARKER"
        for key in ("MID1", "OUT1", "FAR1"):
            with pytest.raises(NotFoundError, match=str(ids[key])):
                get_problem(s, gm.scope, ids[key], TAX)
        with pytest.raises(NotFoundError):
            get_problem(s, Scope.city(), 2**40, TAX)  # beyond any integer column


def _page(engine, scope, **args):
    filters = ProblemFilter.from_args(args, TAX, "Asia/Shanghai")
    with transaction(engine, write=False) as s:
        page = list_problems(s, scope, filters, TAX)
    return page.total, [item["external_id"] for item in page.items]


def test_list_filters_and_paging(city) -> None:
    engine, _ = city
    everyone = Scope.city()
    assert _page(engine, everyone) == (4, ["IN1", "MID1", "OUT1", "FAR1"])
    assert _page(engine, everyone, category="illegal_ads") == (1, ["OUT1"])
    assert _page(engine, everyone, category="小广告/乱张贴/乱涂写") == (1, ["OUT1"])
    assert _page(engine, everyone, district="329901") == (2, ["IN1", "MID1"])
    assert _page(engine, everyone, grid="329901001001") == (1, ["IN1"])
    assert _page(engine, everyone, bbox="120.9,32.0,121.0,32.04") == (1, ["OUT1"])
    assert _page(engine, everyone, status="found,closed", limit="2", offset="1") == (
        4,
        ["MID1", "OUT1"],
    )
    assert _page(engine, everyone, found_from="2024-05-02") == (0, [])
    assert _page(engine, everyone, overdue="false")[0] == 4


def test_out_of_scope_filters_find_nothing_not_even_a_count(city) -> None:
    engine, _ = city
    gm = _grid_manager(engine).scope
    assert _page(engine, gm) == (1, ["IN1"])
    assert _page(engine, gm, district="329902") == (0, [])
    assert _page(engine, gm, grid="329901002001") == (0, [])
    assert _page(engine, gm, bbox="120.9,32.0,121.0,32.04") == (0, [])
    assert _page(engine, gm, bbox="-180,-90,180,90") == (1, ["IN1"])


@pytest.mark.parametrize(
    "args",
    [
        {"status": "found' OR '1'='1"},
        {"category": "litter'; DROP TABLE problems; --"},
        {"bbox": "1,2,3"},
        {"bbox": "120,32,nan,33"},
        {"bbox": "121,32,120,33"},
        {"limit": "0"},
        {"limit": "²"},
        {"offset": "-1"},
        {"found_from": "-1"},
        {"overdue": "maybe"},
        {"grdi": "329901001001"},
    ],
)
def test_bad_filters_are_400s(city, args) -> None:
    engine, _ = city
    with pytest.raises(InvalidParameterError):
        _page(engine, Scope.city(), **args)


def test_sql_metacharacters_are_just_text(city) -> None:
    engine, _ = city
    before = table_counts(engine)
    for value in ("329901' OR '1'='1", '329901" OR 1=1 --', "%", "_", "329901%"):
        assert _page(engine, Scope.city(), district=value) == (0, [])
        assert _page(engine, Scope.city(), source=value) == (0, [])
    assert table_counts(engine) == before
    with transaction(engine, write=False) as s:
        assert s.scalar(sa.select(sa.func.count(Problem.id))) == 4
