"""Creating one problem (geo/ingest/intake.py): assignment rules, history, summary counts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from geo.core.errors import AlreadyExistsError, InvalidParameterError
from geo.core.taxonomy_file import default_taxonomy
from geo.ingest.intake import create_problem
from geo.storage.db import session_factory, transaction
from geo.storage.models import Area, Problem, ProblemEvent
from geo.summary import counts as summary
from tests.helpers import load_tiny_city, raises_msg, table_counts

TAX = default_taxonomy()


def test_created_problem_is_assigned_and_counted(engine, tmp_path) -> None:
    load_tiny_city(engine, tmp_path)
    with transaction(engine) as session:
        # On the shared edge of two districts (lon 120.90): the lower code wins, as in ingest.
        edge = create_problem(
            session, {"category": "litter", "lon": 120.90, "lat": 32.02}, "t", TAX
        )
        outside = create_problem(
            session, {"category": "楼道堆物", "lon": 121.5, "lat": 32.0}, "t", TAX
        )
        edge_id, outside_id = edge.id, outside.id
    with session_factory(engine)() as session:
        codes = dict(session.execute(sa.select(Area.id, Area.code)).all())
        edge = session.get(Problem, edge_id)
        assert codes[edge.district_id] == "329901" and codes[edge.street_id] == "329901002"
        outside = session.get(Problem, outside_id)
        assert outside.outside and outside.district_id is None
        assert outside.category == "corridor_clutter"
        assert session.scalar(sa.select(sa.func.count(ProblemEvent.id))) == 2
        assert summary.mismatches(session).empty


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"category": "litter", "lon": 120.9}, "missing lat"),
        ({"category": "litter", "lon": 200, "lat": 32}, "lon"),
        ({"category": "ufo", "lon": 120.9, "lat": 32}, "ufo"),
        ({"category": "litter", "lon": 120.9, "lat": 32, "found_at": "yesterday"}, "found_at"),
        ({"category": "litter", "lon": 120.9, "lat": 32, "point_code": "NOPE"}, "NOPE"),
        ({"category": "litter", "lon": 120.9, "lat": 32, "campaign": "moon"}, "moon"),
        ({"category": "litter", "lon": 120.9, "lat": 32, "description": "x" * 2001}, "2000"),
        ({"category": "litter", "lon": 120.9, "lat": 32, "colour": "red"}, "colour"),
    ],
)
def test_bad_reports_are_refused_and_write_nothing(engine, tmp_path, data, needle) -> None:
    load_tiny_city(engine, tmp_path)
    before = table_counts(engine)
    with raises_msg(InvalidParameterError, needle), transaction(engine) as session:
        create_problem(session, data, "t", TAX)
    assert table_counts(engine) == before


def test_same_external_id_twice_is_refused(engine, tmp_path) -> None:
    load_tiny_city(engine, tmp_path)
    data = {"category": "litter", "lon": 120.85, "lat": 32.02, "external_id": "A1"}
    with transaction(engine) as session:
        create_problem(session, data, "t", TAX)
    with (
        raises_msg(AlreadyExistsError, "already exists"),
        transaction(engine) as session,
    ):
        create_problem(session, data, "t", TAX)
