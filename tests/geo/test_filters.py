"""The map's filters (geo/reports/filters.py): parsing with clear errors, and what they select."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from geo.access.scope import Scope
from geo.core.errors import InvalidParameterError
from geo.core.taxonomy_file import default_taxonomy
from geo.reports.filters import ProblemFilter
from geo.storage.db import session_factory
from geo.storage.models import Area, InspectionPoint, Problem
from tests.exportdata import load_export_city
from tests.helpers import raises_msg

TAX = default_taxonomy()


def parse(args, target="problems", **kw):
    return ProblemFilter.from_args(args, TAX, target, **kw)


def test_values_by_code_label_repeated_or_comma_separated() -> None:
    filt = parse(
        MultiDict(
            [("category", "楼道堆物,litter"), ("category", "Illegal ads / posting / graffiti")]
        )
    )
    assert filt.categories == ("corridor_clutter", "litter", "illegal_ads")
    assert parse({"kind": "农贸市场/集贸市场"}).kinds == ("market",)
    assert parse({"campaign": "pet_civility"}).campaigns == ("pet_civility",)
    assert parse({"status": "all"}).status == ()
    assert parse({"status": "unresolved,closed"}).status == ("unresolved", "closed")


def test_dates_are_local_days_and_inclusive() -> None:
    filt = parse({"from": "2024-05-01", "to": "2024-05-01"}, tz="Asia/Shanghai")
    assert filt.found_from == datetime(2024, 4, 30, 16, 0)
    assert filt.found_to == datetime(2024, 5, 1, 16, 0)
    exact = parse({"from": "2024-05-01T08:00:00+08:00"})
    assert exact.found_from == datetime(2024, 5, 1, 0, 0)


@pytest.mark.parametrize(
    ("args", "target", "needles"),
    [
        (
            {"colour": "red"},
            "problems",
            ["colour", "status, category, kind, campaign, from, to, area"],
        ),
        ({"status": "open"}, "problems", ["open", "unresolved", "overdue", "rectified"]),
        ({"status": "found"}, "points", ["status", "kind, area"]),
        ({"category": "graffiti"}, "problems", ["graffiti", "litter", "corridor_clutter"]),
        ({"kind": "castle"}, "points", ["castle", "market"]),
        ({"from": "yesterday"}, "problems", ["from", "yesterday", "YYYY-MM-DD"]),
        ({"from": "2024-06-01", "to": "2024-05-01"}, "problems", ["from", "to"]),
        ({"area": "planet:1"}, "problems", ["planet", "district"]),
        ({"level": "planet"}, "areas", ["planet", "grid"]),
    ],
)
def test_bad_values_are_refused_with_the_allowed_ones(args, target, needles) -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse(args, target)
    for needle in needles:
        assert needle in info.value.message("en")


def test_query_args_keep_what_the_user_gave() -> None:
    args = {"category": "楼道堆物", "status": "overdue"}
    assert parse(args).query_args() == args


def _ids(engine, filt, model=Problem):
    with session_factory(engine)() as session:
        stmt = sa.select(model.id).order_by(model.id)
        if model is Problem:
            stmt = filt.apply(stmt)
        elif model is InspectionPoint:
            stmt = filt.apply_points(stmt)
        else:
            stmt = filt.apply_areas(stmt)
        return session.scalars(stmt).all()


def test_filters_select_the_right_rows(engine, tmp_path) -> None:
    ids = load_export_city(engine, tmp_path)
    assert _ids(engine, parse({})) == ids
    assert _ids(engine, parse({"status": "unresolved"})) == [i for n, i in enumerate(ids) if n != 3]
    as_of = parse({"status": "overdue"})
    assert _ids(engine, as_of) == [ids[1], ids[4]]  # deadlines past; the 2099 one is not
    assert _ids(engine, parse({"category": "litter"})) == [ids[0], ids[5]]
    assert _ids(engine, parse({"kind": "market,main_road"})) == [ids[0], ids[2]]
    assert _ids(engine, parse({"campaign": "market_environment"})) == [ids[0]]
    assert _ids(engine, parse({"from": "2024-05-02", "to": "2024-05-10"})) == ids[1:4]
    assert _ids(engine, parse({"area": "329901"})) == ids[:2]  # district, any level
    assert _ids(engine, parse({"area": "street:329902101"})) == ids[3:5]
    assert _ids(engine, parse({"area": "329901002,329902001"})) == ids[1:3]


def test_unknown_area_code_is_reported(engine, tmp_path) -> None:
    load_export_city(engine, tmp_path)
    with session_factory(engine)() as session:
        parse({"area": "329901"}).validate(session)
        with raises_msg(InvalidParameterError, "999999"):
            parse({"area": "999999"}).validate(session)


def test_scope_restricts_problems_points_and_areas(engine, tmp_path) -> None:
    ids = load_export_city(engine, tmp_path)
    with session_factory(engine)() as session:
        district = session.scalar(sa.select(Area.id).where(Area.code == "329902"))
    scoped = parse({}).within(Scope(False, districts=frozenset({district})))
    assert _ids(engine, scoped) == ids[2:5]
    points = _ids(
        engine,
        parse({}, "points").within(Scope(False, districts=frozenset({district}))),
        InspectionPoint,
    )
    assert len(points) == 1
    areas = _ids(
        engine, parse({}, "areas").within(Scope(False, districts=frozenset({district}))), Area
    )
    assert len(areas) == 3  # the district and its two streets
    assert _ids(engine, parse({}).within(Scope.nothing())) == []
    plain = parse({})
    assert plain.within(None) is plain


def test_voided_problems_are_not_unresolved(engine, tmp_path) -> None:
    from geo.protocols.open311 import STATUS_MAP

    ids = load_export_city(engine, tmp_path)
    unresolved = _ids(engine, parse({"status": "unresolved"}))
    with session_factory(engine)() as session:
        session.execute(
            sa.update(Problem).where(Problem.id == unresolved[0]).values(status="voided")
        )
        session.commit()
    assert _ids(engine, parse({"status": "unresolved"})) == unresolved[1:]
    assert unresolved[0] in _ids(engine, parse({"status": "voided"}))
    assert len(_ids(engine, parse({}))) == len(ids)
    assert STATUS_MAP["voided"] == "closed" and STATUS_MAP["held"] == "open"
