"""Search (geo/reports/search.py): what each kind of query finds, scoped, and odd input."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, resolve_scope
from geo.reports.search import MAX_QUERY, initials, search
from geo.storage.models import InspectionPoint
from tests.helpers import area_ids, load_heat_city, table_counts


@pytest.fixture
def city(engine, tmp_path: Path):
    load_heat_city(engine, tmp_path)
    with engine.begin() as conn:  # an address to find (the test city's points have none)
        conn.execute(
            sa.update(InspectionPoint)
            .where(InspectionPoint.code == "P3")
            .values(address="临江路88号")
        )
    return engine


def _found(results, group: str) -> list[str]:
    return [h.code for h in getattr(results, group)]


def test_a_problem_number_is_found_and_marked_exact(city) -> None:
    with so.Session(city) as session:
        results = search(session, Scope.city(), " #3 ")
    assert results.problems[0].id == 3 and results.exact_problem == 3
    assert results.problems[0].level == "grid" and results.problems[0].area_code


def test_points_by_code_or_name_areas_by_name_code_or_initials(city) -> None:
    with so.Session(city) as session:
        by_code = search(session, Scope.city(), "p2")
        by_name = search(session, Scope.city(), "农贸")
        street = search(session, Scope.city(), "东门")
        pinyin = search(session, Scope.city(), "DMJD")
        code = search(session, Scope.city(), "329902")
        address = search(session, Scope.city(), "临江路")
    assert _found(by_code, "points") == ["P2"]
    assert _found(by_name, "points") == ["P1"]
    assert _found(street, "areas") == ["329901001"]
    assert _found(pinyin, "areas") == ["329901001"] and initials("东门街道") == "dmjd"
    assert _found(code, "areas")[0] == "329902"  # the district itself first
    assert _found(address, "addresses") == ["P3"] and address.addresses[0].detail == "临江路88号"
    assert by_name.exact_problem is None


def test_a_grid_manager_finds_only_their_grids(city) -> None:
    grids = area_ids(city, "grid")
    with so.Session(city) as session:
        scope = resolve_scope(session, [grids["329901001000001"]])
        grids_found = search(session, scope, "网格")
        elsewhere = search(session, scope, "枫桥")
        far_problem = search(session, scope, "6")  # problem 6 lies in the other district
    assert _found(grids_found, "areas") == ["329901001000001"]
    assert elsewhere.total == 0
    assert far_problem.problems == [] and far_problem.exact_problem is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "%",
        "\\",
        "' OR 1=1 --",
        "%'; DROP TABLE problems; --",
        ".*",
        "[a-z]+",
        "(",
        "\ud800",
        None,
    ],
)
def test_odd_input_finds_nothing_and_writes_nothing(city, text) -> None:
    before = table_counts(city)
    with so.Session(city) as session:
        results = search(session, Scope.city(), text)
    assert results.total == 0
    assert table_counts(city) == before


def test_like_wildcards_are_taken_literally(city) -> None:
    with so.Session(city) as session:
        underscore = search(session, Scope.city(), "_")
    # only P1's name holds an underscore (window.__xss); "_" is not "any character"
    assert _found(underscore, "points") == ["P1"] and underscore.areas == []


def test_a_very_long_query_is_cut_and_flagged(city) -> None:
    with so.Session(city) as session:
        results = search(session, Scope.city(), "农贸" + "x" * 10_000)
    assert results.truncated and len(results.query) == MAX_QUERY and results.total == 0


def test_a_group_with_more_hits_than_shown_says_so(city) -> None:
    with so.Session(city) as session:
        few = search(session, Scope.city(), "P", limit=1)
        all_of_them = search(session, Scope.city(), "p2", limit=1)
    assert len(few.points) == 1 and "points" in few.more  # P1, P2, P3 match "P"
    assert _found(all_of_them, "points") == ["P2"] and "points" not in all_of_them.more
