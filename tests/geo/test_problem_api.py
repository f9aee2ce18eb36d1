"""geo/protocols/problem_api.py (list and read within a scope) and the scope check of
geo/ingest/intake.py create_problem."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from geo.access.scope import Principal, Scope, resolve_scope
from geo.core.errors import (
    ForbiddenError,
    InvalidParameterError,
    NotFoundError,
)
from geo.core.taxonomy_file import default_taxonomy
from geo.ingest.intake import create_problem
from geo.protocols.problem_api import get_problem, list_problems
from geo.protocols.problem_query import ProblemQuery
from geo.storage.db import transaction
from geo.storage.models import Problem
from tests.helpers import area_ids, load_scoped_city, raises_msg, table_counts

TAX = default_taxonomy()
CITY = Principal("token", "nightly", "city_officer")


@pytest.fixture
def city(engine, tmp_path):
    return engine, load_scoped_city(engine, tmp_path)


def _grid_manager(engine) -> Principal:
    grids = area_ids(engine, "grid")
    with transaction(engine, write=False) as s:
        scope = resolve_scope(s, [grids["329901001000001"], grids["329901001000002"]])
    return Principal("user", "gm", "grid_manager", scope)


def test_create_problem_in_scope_only(city) -> None:
    engine, _ = city
    gm = _grid_manager(engine)
    body = {"lon": 120.821, "lat": 32.011, "category": "litter", "found_at": "2024-06-01 09:30"}
    with transaction(engine) as s:
        problem = create_problem(s, body, gm.actor, TAX, scope=gm.scope)
        item = get_problem(s, gm.scope, problem.id, TAX)
    assert item["grid"] == "329901001000001" and item["found_at"] == "2024-06-01T01:30:00Z"
    before = table_counts(engine)
    for lon in (120.92, 125.0):  # another district; outside every area
        with raises_msg(ForbiddenError, "outside your scope"), transaction(engine) as s:
            create_problem(s, {**body, "lon": lon}, gm.actor, TAX, scope=gm.scope)
    assert table_counts(engine) == before


def test_get_problem_out_of_scope_is_not_found(city) -> None:
    engine, ids = city
    gm = _grid_manager(engine)
    with transaction(engine, write=False) as s:
        assert get_problem(s, gm.scope, ids["IN1"], TAX)["description"] == "IN-GRID-MARKER"
        for key in ("MID1", "OUT1", "FAR1"):
            with raises_msg(NotFoundError, str(ids[key])):
                get_problem(s, gm.scope, ids[key], TAX)
        with pytest.raises(NotFoundError):
            get_problem(s, Scope.city(), 2**40, TAX)  # beyond any integer column


def _page(engine, scope, **args):
    filters = ProblemQuery.from_args(args, TAX, "Asia/Shanghai")
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
    assert _page(engine, everyone, grid="329901001000001") == (1, ["IN1"])
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
    assert _page(engine, gm, grid="329901002000001") == (0, [])
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
        {"grdi": "329901001000001"},
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


def test_status_filter_takes_every_status_including_held_and_voided() -> None:
    query = ProblemQuery.from_args({"status": "held,voided,found"}, TAX, "Asia/Shanghai")
    assert query.status == ("held", "voided", "found")
    with raises_msg(InvalidParameterError, "voided"):  # the message lists them all
        ProblemQuery.from_args({"status": "open"}, TAX, "Asia/Shanghai")
