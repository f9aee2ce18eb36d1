"""Roles, the permission table, scopes and the one scope filter, on both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import (
    ACTIONS,
    PERMISSIONS,
    ROLES,
    Principal,
    Scope,
    can,
    check_scope_levels,
    require,
    require_whole_city,
    resolve_scope,
    scoped,
    visible,
)
from geo.core.errors import ForbiddenError, InvalidParameterError
from geo.core.taxonomy_file import default_taxonomy
from geo.reports import queries
from geo.storage.models import Area, AreaSummary, InspectionPoint, Problem
from tests.helpers import area_ids, load_scoped_city, raises_msg


def test_permission_table() -> None:
    assert all(can("admin", a) for a in ACTIONS)
    assert not can("city_officer", "manage_users") and can("city_officer", "ingest")
    assert can("district_officer", "assign") and not can("district_officer", "ingest")
    assert can("grid_manager", "rectify") and not can("grid_manager", "close")
    assert not can("grid_manager", "assign")
    assert can("planner", "export") and not can("planner", "report")
    assert can("public", "view") and not can("public", "export")
    assert not can("nobody", "view")
    assert set(PERMISSIONS) == {*ROLES, "public"}


def test_unknown_action_is_a_programming_error_not_a_grant() -> None:
    with raises_msg(ValueError, "unknown action"):
        can("admin", "veiw")


def test_require_names_the_role_and_action() -> None:
    planner = Principal("user", "p", "planner")
    with raises_msg(ForbiddenError, r"planner.*ingest"):
        require(planner, "ingest")
    district = Principal("token", "t", "city_officer", Scope(False, frozenset({1})))
    with raises_msg(ForbiddenError, "whole-city"):
        require_whole_city(district, "ingest")


@pytest.mark.parametrize(
    ("role", "levels", "fragment"),
    [
        ("grid_manager", [], "needs at least one area"),
        ("district_officer", [], "needs at least one area"),
        ("grid_manager", ["district"], "cannot be scoped to district"),
        ("planner", ["grid"], "cannot be scoped to grid"),
        ("admin", ["district"], "whole city only"),
        ("mayor", [], "unknown role"),
    ],
)
def test_scope_levels_fit_the_role(role, levels, fragment) -> None:
    with raises_msg(InvalidParameterError, fragment):
        check_scope_levels(role, levels)


def test_scope_contains() -> None:
    scope = Scope(False, districts=frozenset({1}), grids=frozenset({9}))
    assert scope.contains(1, 2, None, None)
    assert scope.contains(3, 4, 5, 9)
    assert not scope.contains(3, 4, 5, 8)
    assert not scope.contains(None, None, None, None)  # outside every area
    assert Scope.city().contains(None, None, None, None)
    assert not Scope.nothing().contains(1, 2, 3, 4)


@pytest.fixture
def city(engine, tmp_path):
    ids = load_scoped_city(engine, tmp_path)
    return engine, ids


def _scope(engine, *codes: tuple[str, str]) -> Scope:
    with so.Session(engine) as session:
        ids = [area_ids(engine, level)[code] for level, code in codes]
        return resolve_scope(session, ids)


def test_resolve_scope(city) -> None:
    engine, _ = city
    assert _scope(engine) == Scope.city()
    district = _scope(engine, ("district", "329901"))
    assert district.districts and not district.grids and not district.whole_city
    with so.Session(engine) as session:
        assert resolve_scope(session, [999_999]) == Scope(False)  # gone areas see nothing


def _codes(engine, stmt) -> list[str]:
    with so.Session(engine) as session:
        return sorted(session.scalars(stmt))


def test_one_filter_for_problems_points_areas_and_summary(city) -> None:
    engine, _ = city
    district = _scope(engine, ("district", "329901"))
    grids = _scope(engine, ("grid", "329901001000001"), ("grid", "329901001000002"))
    problems = sa.select(Problem.external_id)
    assert _codes(engine, scoped(problems, Scope.city(), Problem)) == [
        "FAR1",
        "IN1",
        "MID1",
        "OUT1",
    ]
    assert _codes(engine, scoped(problems, district, Problem)) == ["IN1", "MID1"]
    assert _codes(engine, scoped(problems, grids, Problem)) == ["IN1"]
    assert _codes(engine, scoped(problems, Scope.nothing(), Problem)) == []

    points = sa.select(InspectionPoint.code)
    assert _codes(engine, scoped(points, district, InspectionPoint)) == ["P1"]
    assert _codes(engine, scoped(points, grids, InspectionPoint)) == ["P1"]

    areas = sa.select(Area.code)
    assert _codes(engine, scoped(areas, grids, Area)) == ["329901001000001", "329901001000002"]
    in_district = _codes(engine, scoped(areas, district, Area))
    assert "329901" in in_district and "329901002000001" in in_district
    assert not [c for c in in_district if c.startswith("329902")]

    summary = sa.select(sa.func.sum(AreaSummary.n)).where(
        AreaSummary.cube == "total", visible(grids, AreaSummary)
    )
    with so.Session(engine) as session:
        # Grid rows only (1 problem): the street and district rows would count MID1.
        assert session.scalar(summary) == 1


def test_aliases_are_filtered_too(city) -> None:
    engine, _ = city
    grids = _scope(engine, ("grid", "329901001000001"))
    alias = so.aliased(Problem)
    assert _codes(engine, scoped(sa.select(alias.external_id), grids, alias)) == ["IN1"]
    with pytest.raises(TypeError):
        visible(grids, object())


def test_queries_never_leak_out_of_scope_counts(city) -> None:
    engine, _ = city
    grids = _scope(engine, ("grid", "329901001000001"), ("grid", "329901001000002"))
    with so.Session(engine) as session:
        counts = queries.counts(session, scope=grids)
        everything = queries.counts(session, scope=Scope.city())
        extent = queries.city_extent(session, scope=grids)
        areas = queries.areas_geojson(session, "district", scope=grids)
        points = queries.points_geojson(session, default_taxonomy(), scope=grids)
    assert counts == {
        "city": 0,
        "district": 0,
        "street": 0,
        "community": 0,
        "grid": 2,
        "points": 1,
        "problems": 1,
    }
    assert everything["problems"] == 4 and everything["grid"] == 8
    assert extent is not None and (extent.min_lon, extent.max_lon) == pytest.approx(
        (120.80, 120.85)
    )
    assert '"features":[]' in areas
    assert "枫桥路" not in points and "P1" in points


def test_permission_table_agrees_with_the_approval_right() -> None:
    from geo.access.actions import ACTIONS, APPROVER_ROLES
    from geo.access.scope import PERMISSIONS

    for role, allowed in PERMISSIONS.items():
        for name, action in ACTIONS.items():
            if action.needs_right and role not in APPROVER_ROLES:
                assert name not in allowed, (role, name)
    assert {"approve_extension", "void"} <= PERMISSIONS["city_officer"]
    assert "rectify" in PERMISSIONS["grid_manager"] and "assign" not in PERMISSIONS["grid_manager"]
