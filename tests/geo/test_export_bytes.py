"""Exports streamed as bytes (geo/export/stream.py, geo/export/sql.py): the database hands over
each feature's UTF-8 bytes and the writer joins bytes; the files must be byte for byte
what assembling the same features as Python text gives, on both backends. Also: a
voided problem is resolved, so never exported as overdue."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import shapely
import sqlalchemy as sa

from geo.core.taxonomy_file import default_taxonomy
from geo.export import stream as export_module
from geo.export.query import Page
from geo.export.request import ExportRequest
from geo.export.sql import problem_features, sql_offset
from geo.export.stream import feature_batches, stream_export
from geo.reports.filters import ProblemFilter
from geo.storage.db import is_postgres, session_factory
from geo.storage.models import Problem
from tests.exportdata import load_export_city

TAX = default_taxonomy()
# Chinese text with characters outside the Basic Multilingual Plane (4 UTF-8 bytes).
RARE_TEXT = '𠮷野家门前"占道"经营 🚧\\ 第二行'
FIXED_META = {"target": "problems", "generator": "civicgrid", "exported_at": "2024-05-01"}


@pytest.fixture
def city(engine, tmp_path, monkeypatch):
    ids = load_export_city(engine, tmp_path)
    with engine.begin() as conn:
        conn.execute(sa.update(Problem).where(Problem.id == ids[0]).values(description=RARE_TEXT))
    # The metadata member holds the export time: fix it so two exports can be compared.
    monkeypatch.setattr(ExportRequest, "metadata", lambda self: {**FIXED_META})
    return engine


def streamed(engine, target: str, fmt: str, chunk_rows: int = 10_000) -> bytes:
    request = ExportRequest(target, fmt, chunk_rows=chunk_rows)
    with session_factory(engine)() as session:
        return b"".join(stream_export(session, request, TAX))


def reference(texts: list[str], target: str, fmt: str) -> bytes:
    """The export assembled the slow way: feature texts as str, encoded once at the end."""
    if fmt == "geojsonseq":
        return "".join(f"\x1e{t}\n" for t in texts).encode("utf-8")
    features = [json.loads(t) for t in texts]
    coords = [
        xy
        for f in features
        for xy in _flat_coordinates(f["geometry"]["coordinates"])  # bbox over every vertex
    ]
    lons, lats = [c[0] for c in coords], [c[1] for c in coords]
    bbox = json.dumps([min(lons), min(lats), max(lons), max(lats)])
    meta = json.dumps(FIXED_META, ensure_ascii=False)
    head = f'{{"type":"FeatureCollection","name":"{target}","civicgrid":{meta},"features":[\n'
    return (head + ",\n".join(texts) + f'\n],"bbox":{bbox}}}\n').encode("utf-8")


def _flat_coordinates(coords):
    if isinstance(coords[0], (int, float)):
        return [coords]
    return [xy for part in coords for xy in _flat_coordinates(part)]


def python_texts(engine, target: str, monkeypatch) -> list[str]:
    """Feature texts rendered column by column in Python (the slow path)."""
    with monkeypatch.context() as m:
        m.setattr(export_module, "sql_offset", lambda session, tz: None)
        return _decoded(engine, target)


def database_texts(engine) -> list[str]:
    """Problem feature texts as the database renders them, read back as text."""
    with session_factory(engine)() as session:
        stmt = problem_features(session, ProblemFilter(), TAX, "zh", 8 * 3600).subquery()
        as_text = (
            sa.func.convert_from(stmt.c.feature, sa.literal_column("'UTF8'"))
            if is_postgres(session)
            else sa.cast(stmt.c.feature, sa.Text)
        )
        return list(session.scalars(sa.select(as_text)))


def _decoded(engine, target: str) -> list[str]:
    """One text per feature: asked as a page (whole exports come in pre-joined runs)."""
    with session_factory(engine)() as session:
        batches = feature_batches(session, ExportRequest(target, "geojson"), TAX, Page())
        return [t.decode() for b in batches for t in b.features]


@pytest.mark.parametrize("chunk_rows", [10_000, 4])
@pytest.mark.parametrize("fmt", ["geojson", "geojsonseq"])
def test_streamed_problems_equal_the_text_reference(city, fmt, chunk_rows, monkeypatch) -> None:
    """Bytes from the database (runs of ``chunk_rows`` ids joined there) equal the same
    features assembled as Python text; on SQLite the database renders exactly what the
    columnar Python path renders."""
    data = streamed(city, "problems", fmt, chunk_rows)
    texts = python_texts(city, "problems", monkeypatch)
    if not is_postgres(city):
        assert data == reference(texts, "problems", fmt)
    # PostgreSQL writes JSON its own way (spaces, trailing zeros): the same values.
    db_texts = database_texts(city)
    assert data == reference(db_texts, "problems", fmt)
    assert [json.loads(t) for t in db_texts] == [json.loads(t) for t in texts]
    text = data.decode("utf-8")  # raw UTF-8, not \\u escapes
    assert "𠮷野家门前" in text and "🚧" in text and "东门市场门口" not in text


def test_six_decimals_and_chinese_survive_the_byte_path(city) -> None:
    data = json.loads(streamed(city, "problems", "geojson"))
    second = data["features"][1]
    assert second["geometry"]["coordinates"] == [120.861235, 32.011235]
    assert data["features"][0]["properties"]["description"] == RARE_TEXT
    assert data["features"][0]["properties"]["district_name"] == "云溪区"


def test_streamed_points_equal_the_text_reference(city, monkeypatch) -> None:
    """Points (the Python path, polygons rewound counter-clockwise) as bytes too."""
    texts = python_texts(city, "points", monkeypatch)
    assert streamed(city, "points", "geojson") == reference(texts, "points", "geojson")
    market = next(json.loads(t) for t in texts if '"M1"' in t)
    polygon = shapely.from_geojson(json.dumps(market["geometry"]))
    assert shapely.is_ccw(polygon.exterior) and not shapely.is_ccw(polygon.interiors[0])


def test_a_voided_problem_is_not_exported_as_overdue(city, monkeypatch) -> None:
    """Overdue is geo.storage.statuses' one rule (not voided, not held), on the database
    path and the Python path alike."""
    past = datetime(2024, 1, 1)
    with city.begin() as conn:
        conn.execute(sa.update(Problem).values(status="voided", deadline=past))
        held = conn.execute(sa.select(sa.func.min(Problem.id))).scalar_one()
        conn.execute(sa.update(Problem).where(Problem.id == held).values(status="held"))
        late = held + 1  # assigned, past its deadline, never rectified: overdue
        conn.execute(
            sa.update(Problem)
            .where(Problem.id == late)
            .values(status="assigned", rectified_at=None, closed_at=None)
        )

    def overdue(texts):
        return {f["properties"]["id"]: f["properties"]["overdue"] for f in map(json.loads, texts)}

    fast = overdue(_decoded(city, "problems"))
    slow = overdue(python_texts(city, "problems", monkeypatch))
    assert fast == slow
    assert fast.pop(late) is True
    assert set(fast.values()) == {False}  # held is unresolved but never overdue (one rule)


def test_the_shared_feature_expression_takes_each_request_s_time(city) -> None:
    """The feature expression is built once per labels/zone/backend and shared: the
    overdue rule must still be evaluated at each request's own time (a bound parameter)."""
    with city.begin() as conn:
        late = conn.execute(sa.select(sa.func.min(Problem.id))).scalar_one()
        conn.execute(
            sa.update(Problem)
            .where(Problem.id == late)
            .values(status="assigned", deadline=datetime(2024, 6, 1), rectified_at=None)
        )

    def overdue_at(as_of: datetime) -> bool:
        with session_factory(city)() as session:
            stmt = problem_features(
                session, ProblemFilter(as_of=as_of), TAX, "zh", 8 * 3600, Page(ids=[late])
            )
            (text, _, _) = session.connection().execute(stmt).one()
        return json.loads(text)["properties"]["overdue"]

    assert overdue_at(datetime(2024, 7, 1)) is True
    assert overdue_at(datetime(2024, 5, 1)) is False  # the same cached shape, an earlier time
    assert overdue_at(datetime(2024, 7, 1)) is True


def test_the_database_path_needs_a_fixed_offset(city) -> None:
    with session_factory(city)() as session:
        assert sql_offset(session, "Asia/Shanghai") == 8 * 3600
        assert sql_offset(session, "Asia/Shanghai") == 8 * 3600  # asked again: kept
        assert sql_offset(session, "Europe/Berlin") is None  # summer time: the Python path
