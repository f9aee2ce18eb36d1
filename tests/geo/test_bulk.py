"""Bulk writing (geo/storage/bulk.py): numpy-built WKB, text that needs escaping in COPY, and the
bulk-load mode that drops and rebuilds the problems indexes (and PostGIS foreign keys)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import IngestError
from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.storage import bulk
from geo.storage.models import Problem
from geo.summary import counts as summary
from tests.helpers import load_tiny_city, raises_msg, table_counts, write_csv

HEADER = "id,lon,lat,category,found_at,description\n"


def test_point_wkb_matches_shapely() -> None:
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-180, 180, 100), rng.uniform(-90, 90, 100)
    points = shapely.points(lon, lat)
    assert bulk.point_wkb(lon, lat) == list(shapely.to_wkb(points))
    ewkb = shapely.to_wkb(shapely.set_srid(points, 4326), include_srid=True)
    assert bulk.point_wkb(lon, lat, srid=4326) == list(ewkb)


@pytest.fixture
def city(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    return engine


def _schema(engine) -> tuple[set[str], int]:
    inspector = sa.inspect(engine)
    indexes = {ix["name"] for ix in inspector.get_indexes("problems")}
    return indexes, len(inspector.get_foreign_keys("problems"))


def test_text_needing_escapes_round_trips(city, tmp_path) -> None:
    text = HEADER + 'E1,120.82,32.02,litter,2024-05-01,"a\\tb\\\\c\nline\tTAB"\n'
    ingest_file(city, write_csv(tmp_path / "e.csv", text))
    with so.Session(city) as session:
        stored = session.scalar(sa.select(Problem.description))
    assert stored == "a\\tb\\\\c\nline\tTAB"


def test_a_cell_reading_backslash_n_is_text_not_null(city, tmp_path) -> None:
    """COPY's text format reads \\N as NULL: a cell with that text must be escaped."""
    text = HEADER + "N1,120.82,32.02,litter,2024-05-01,\\N\nN2,120.83,32.02,litter,2024-05-01,"
    text += '"x\\Ny\t\\"\n'
    ingest_file(city, write_csv(tmp_path / "n.csv", text))
    with so.Session(city) as session:
        stored = dict(session.execute(sa.select(Problem.external_id, Problem.description)).all())
    assert stored == {"N1": "\\N", "N2": "x\\Ny\t\\"}


def test_bulk_load_rebuilds_indexes_and_keys(city, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1)
    before = _schema(city)
    assert len(before[0]) >= 12
    rows = "".join(f"B{i},120.8{i},32.02,litter,2024-05-01,\n" for i in range(1, 6))
    result = ingest_file(
        city, write_csv(tmp_path / "b.csv", HEADER + rows), IngestOptions(chunk_rows=2)
    )
    assert result.accepted == 5
    city.dispose()
    assert _schema(city) == before
    with so.Session(city) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Problem)) == 5
        assert summary.mismatches(session).empty  # counts per chunk add up


def test_failed_bulk_load_leaves_schema_and_data_as_they_were(city, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1)
    before_schema, before_counts = _schema(city), table_counts(city)
    rows = "B1,120.81,32.02,litter,2024-05-01,\nB2,120.82,32.02,litter,2024-05-01,\n"
    rows += "B3,abc,32.02,litter,2024-05-01,\n"
    path = write_csv(tmp_path / "b.csv", HEADER + rows)
    with raises_msg(IngestError, "row 4"):
        ingest_file(city, path, IngestOptions(chunk_rows=2, strict=True))
    city.dispose()
    assert _schema(city) == before_schema
    assert table_counts(city) == before_counts


def test_rows_written_meanwhile_by_another_ingest(city, tmp_path, monkeypatch) -> None:
    """Two ingests of one file racing: the loser's insert hits the unique (source, id)
    constraint; it is refused as a whole with a hint to re-run, nothing half-written."""
    import geo.ingest.pipeline

    rows = "".join(f"R{i},120.8{i},32.02,litter,2024-05-01,\n" for i in range(1, 5))
    path = write_csv(tmp_path / "r.csv", HEADER + rows)
    ingest_file(city, path)
    before = table_counts(city)
    # As if the other ingest committed after this one checked for stored ids.
    monkeypatch.setattr(geo.ingest.pipeline, "source_has_rows", lambda session, source: False)
    with raises_msg(IngestError, "another ingest wrote the same problems"):
        ingest_file(city, path, IngestOptions(chunk_rows=2))
    assert table_counts(city) == before


def test_postgis_writes_to_other_problems_are_not_blocked_by_a_bulk_load(
    city, tmp_path, monkeypatch
) -> None:
    """Issue 22: a big batch holds its transaction open for minutes; on PostgreSQL a
    lifecycle write of a stored problem must not wait for it (no table lock taken)."""
    if city.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time by design (busy timeout, then 503)")
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1)
    ingest_file(
        city, write_csv(tmp_path / "a.csv", HEADER + "A1,120.81,32.02,litter,2024-05-01,\n")
    )
    with so.Session(city) as loading, loading.begin():
        # The ingest's start: decide, suspend what it would suspend, write a row, stay open.
        bulk.begin_bulk_load(loading, bulk.is_bulk_load(loading, 1_000_000))
        loading.execute(sa.text("SELECT 1 FROM problems LIMIT 1"))
        with city.connect() as other, other.begin():
            other.exec_driver_sql("SET LOCAL lock_timeout = '1s'")
            changed = other.execute(
                sa.update(Problem).where(Problem.external_id == "A1").values(version=2)
            )
            assert changed.rowcount == 1
            assert other.execute(sa.select(sa.func.count()).select_from(Problem)).scalar() == 1
