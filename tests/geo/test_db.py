"""Tests for geo.storage.db: migrations on both backends, SQLite pragmas, PostGIS geometry
columns."""

from __future__ import annotations

from datetime import datetime

import pytest
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so
from shapely.geometry import LineString, MultiPolygon, Point, box

from geo.core.errors import ConfigError
from geo.storage.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    backend_name,
    is_postgres,
    make_engine,
    transaction,
)
from geo.storage.models import Area, Base, InspectionPoint, Problem
from geo.storage.schema import current_revision, head_revision, require_schema
from geo.storage.sqltypes import Geometry
from geo.summary.upgrade import upgrade
from tests.helpers import raises_msg

TABLES = {"areas", "units", "inspection_points", "ingest_batches", "problems", "problem_events"}
GEOMETRY_COLUMNS = {
    ("areas", "geom"): "MULTIPOLYGON",
    ("inspection_points", "geom"): "GEOMETRY",
    ("inspection_points", "source_geom"): "GEOMETRY",
    ("problems", "geom"): "POINT",
}

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
postgis_only = pytest.mark.parametrize("db_url", ["postgis"], indirect=True)


def test_upgrade_creates_every_table_at_head(db_url):
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        names = set(sa.inspect(engine).get_table_names())
        assert names >= TABLES
        assert names >= {t.name for t in Base.metadata.sorted_tables}
        assert "alembic_version" in names
        assert current_revision(engine) == head_revision()
        require_schema(engine)  # no error once migrated
        upgrade(engine)  # idempotent
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_migrated_columns_match_the_models(engine):
    inspector = sa.inspect(engine)
    for table in Base.metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == set(table.columns.keys()), table.name


def test_require_schema_refuses_an_empty_database(db_url):
    engine = make_engine(db_url)
    try:
        with raises_msg(ConfigError, "civicgrid init") as excinfo:
            require_schema(engine)
        assert excinfo.value.exit_code == 2
        assert "not initialised" in excinfo.value.message("en")
        assert "未初始化" in str(excinfo.value)
    finally:
        engine.dispose()


def test_backend_name(engine):
    expected = "postgresql" if engine.url.get_backend_name() == "postgresql" else "sqlite"
    assert backend_name(engine) == expected
    with so.Session(engine) as session:
        assert backend_name(session) == expected
        assert is_postgres(session) is (expected == "postgresql")


@sqlite_only
def test_sqlite_wal_busy_timeout_and_foreign_keys(engine):
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    # WAL is a property of the file: a raw connection sees it too.
    import sqlite3

    raw = sqlite3.connect(engine.url.database)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


@sqlite_only
def test_sqlite_foreign_keys_enforced(engine):
    with pytest.raises(sa.exc.IntegrityError), transaction(engine) as session:
        session.add(_area("1", parent_id=999))


def test_sqlite_file_folder_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'nested' / 'deeper' / 'c.db'}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        assert (tmp_path / "nested" / "deeper" / "c.db").is_file()
    finally:
        engine.dispose()


def _model_geometry_columns() -> dict[tuple[str, str], str]:
    return {
        (table.name, column.name): column.type.geometry_type.upper()
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, Geometry)
    }


@postgis_only
def test_postgis_geometry_columns_have_srid_4326(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns "
                "WHERE f_table_schema = current_schema()"
            )
        ).all()
    found = {(t, c): (srid, kind) for t, c, srid, kind in rows}
    expected = _model_geometry_columns()
    assert set(GEOMETRY_COLUMNS) <= set(expected)  # the model still has the core columns
    assert set(found) == set(expected)
    for key, kind in expected.items():
        assert found[key] == (4326, kind), key


@postgis_only
def test_postgis_gist_indexes(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT tablename, indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema()"
            )
        ).all()
    gist = {(t, name) for t, name, definition in rows if "USING gist (geom)" in definition}
    assert gist >= {
        ("areas", "ix_areas_geom"),
        ("inspection_points", "ix_inspection_points_geom"),
        ("problems", "ix_problems_geom"),
    }


@postgis_only
def test_postgis_sees_real_geometries(engine):
    with transaction(engine) as session:
        session.add(_area("1"))
    with engine.connect() as conn:
        srid, valid, kind = conn.execute(
            sa.text("SELECT ST_SRID(geom), ST_IsValid(geom), GeometryType(geom) FROM areas")
        ).one()
        inside = conn.execute(
            sa.text(
                "SELECT count(*) FROM areas WHERE ST_Contains(geom, "
                "ST_SetSRID(ST_MakePoint(120.85, 32.02), 4326))"
            )
        ).scalar()
    assert (srid, valid, kind, inside) == (4326, True, "MULTIPOLYGON", 1)


def _area(code: str, parent_id: int | None = None) -> Area:
    geom = MultiPolygon([box(120.80, 32.00, 120.90, 32.04)])
    return Area(
        level="district",
        code=code,
        name=code,
        parent_id=parent_id,
        area_m2=1.0,
        min_lon=120.80,
        min_lat=32.00,
        max_lon=120.90,
        max_lat=32.04,
        geom=geom,
        updated_at=datetime(2024, 1, 1),
    )


def test_geometry_round_trip_through_the_orm(engine):
    school = Point(120.96, 32.02)
    zone = school.buffer(0.002)
    alley = LineString([(120.89, 32.02), (120.93, 32.02)])
    with transaction(engine) as session:
        session.add(_area("329901"))
        session.add_all(
            [
                InspectionPoint(
                    code="S1",
                    name="school",
                    kind="school_surroundings",
                    geom=zone,
                    source_geom=school,
                    lon=school.x,
                    lat=school.y,
                ),
                InspectionPoint(
                    code="A1", name="alley", kind="back_alley", geom=alley, lon=120.91, lat=32.02
                ),
            ]
        )
        session.add(
            Problem(
                source="t",
                external_id="1",
                category="litter",
                lon=120.123456789,
                lat=32.987654321,
                geom=Point(120.123456789, 32.987654321),
                status="found",
                found_at=datetime(2024, 5, 1),
            )
        )
    with so.Session(engine) as session:
        area = session.scalars(sa.select(Area)).one()
        points = {p.code: p for p in session.scalars(sa.select(InspectionPoint))}
        problem = session.scalars(sa.select(Problem)).one()
    assert shapely.equals_exact(area.geom, MultiPolygon([box(120.80, 32.00, 120.90, 32.04)]), 0)
    assert shapely.equals_exact(points["S1"].geom, zone, 0)
    assert shapely.equals_exact(points["S1"].source_geom, school, 0)
    assert shapely.equals_exact(points["A1"].geom, alley, 0)
    assert points["A1"].source_geom is None
    assert (problem.geom.x, problem.geom.y) == (120.123456789, 32.987654321)
    assert shapely.get_srid(problem.geom) in (0, 4326)


def test_geometry_round_trip_through_core(engine):
    table = sa.table("problems", sa.column("id"), sa.column("geom", Geometry("Point")))
    with transaction(engine) as session:
        session.add(
            Problem(
                source="t",
                external_id="1",
                category="litter",
                lon=120.5,
                lat=32.5,
                geom=Point(120.5, 32.5),
                status="found",
                found_at=datetime(2024, 5, 1),
            )
        )
    with engine.connect() as conn:
        geom = conn.execute(sa.select(table.c.geom)).scalar_one()
    assert geom.equals(Point(120.5, 32.5))


def test_transaction_rolls_back_on_error(engine):
    with pytest.raises(RuntimeError), transaction(engine) as session:
        session.add(_area("329901"))
        session.flush()
        raise RuntimeError("boom")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Area)).scalar() == 0
