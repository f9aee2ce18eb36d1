"""Every survey format, from the real-shaped samples in tests/data/surveys/, on both backends.

The samples (made by tests/data/make_samples.py) hold the same three problems; whatever
the layout, the same rows must come out: ids, WGS-84 lon/lat, category codes, UTC times.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import IngestError
from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.storage.models import IngestBatch, Problem
from tests.helpers import load_tiny_city, raises_msg, table_counts

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "surveys"
MAKER = SAMPLES.parent / "make_samples.py"

PLAIN_IDS = ["A1", "A2", "A3"]
UUIDS = [
    "8e1c2f0a-3b4d-4c5e-9f60-718293a4b5c6",
    "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b",
    "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
]
EXPECTED = [
    (120.821234, 32.012345, "litter", datetime(2024, 5, 1, 1, 15)),
    (120.912345, 32.021234, "disorderly_parking", datetime(2024, 5, 1, 2, 30)),
    (120.962345, 32.031234, "illegal_ads", datetime(2024, 5, 2, 6, 5)),
]
CASES = {
    "kobo.csv": ("csv", UUIDS, {}),
    "kobo.xlsx": ("xlsx", UUIDS, {}),
    "odk.csv": ("csv", [f"uuid:{u}" for u in UUIDS], {}),
    "gbk.csv": ("csv", PLAIN_IDS, {}),
    "bom.csv": ("csv", PLAIN_IDS, {}),
    "merged_header.xlsx": ("xlsx", PLAIN_IDS, {}),
    "legacy_crs.geojson": ("geojson", PLAIN_IDS, {}),
    "problems.gpkg": ("gpkg", PLAIN_IDS, {}),
    "problems_shp": ("shp", PLAIN_IDS, {}),
    "problems_shp.zip": ("shp", PLAIN_IDS, {}),
    "gcj02.csv": ("csv", PLAIN_IDS, {"crs": "gcj02"}),
}


@pytest.fixture
def city(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    return engine


def _rows(engine) -> list[Problem]:
    with so.Session(engine) as session:
        return list(session.scalars(sa.select(Problem).order_by(Problem.found_at)))


@pytest.mark.parametrize("name", list(CASES))
def test_sample_format(city, name) -> None:
    fmt, ids, extra = CASES[name]
    result = ingest_file(city, SAMPLES / name, IngestOptions(source="s", **extra))
    assert (result.format, result.accepted, result.rejects) == (fmt, 3, [])
    rows = _rows(city)
    assert [r.external_id for r in rows] == ids
    for row, (lon, lat, category, found) in zip(rows, EXPECTED, strict=True):
        # 1e-7° ≈ 1 cm: GCJ-02 samples are rounded to 7 decimals, GPKG went through UTM.
        assert row.lon == pytest.approx(lon, abs=1e-7)
        assert row.lat == pytest.approx(lat, abs=1e-7)
        assert (row.category, row.found_at) == (category, found)
        assert row.district_id is not None and not row.outside
    assert rows[0].description == "" if name == "gcj02.csv" else "菜场门口垃圾堆放"
    again = ingest_file(city, SAMPLES / name, IngestOptions(source="s", **extra))
    assert (again.accepted, again.duplicates) == (0, 3)


def test_encodings_and_crs_are_recorded(city) -> None:
    assert ingest_file(city, SAMPLES / "gbk.csv", IngestOptions(source="a")).encoding == "gb18030"
    assert ingest_file(city, SAMPLES / "bom.csv", IngestOptions(source="b")).encoding == "utf-8-sig"
    legacy = ingest_file(city, SAMPLES / "legacy_crs.geojson", IngestOptions(source="c"))
    assert legacy.crs == "EPSG:4490"
    gpkg = ingest_file(city, SAMPLES / "problems.gpkg", IngestOptions(source="d"))
    assert gpkg.crs == "EPSG:32651"
    with so.Session(city) as session:
        batches = {b.source: b for b in session.scalars(sa.select(IngestBatch))}
    assert (batches["a"].file_format, batches["a"].encoding) == ("csv", "gb18030")
    assert batches["c"].input_crs == "EPSG:4490" and batches["d"].file_format == "gpkg"
    assert batches["a"].file_bytes == (SAMPLES / "gbk.csv").stat().st_size


def test_formula_cells_are_stored_as_text(city) -> None:
    ingest_file(city, SAMPLES / "merged_header.xlsx")
    a3 = next(r for r in _rows(city) if r.external_id == "A3")
    assert a3.description == '=HYPERLINK("http://example.invalid/photo/A3.jpg","照片")'


def test_non_point_geometries_rejected_per_feature(city) -> None:
    result = ingest_file(city, SAMPLES / "mixed_geometries.geojson")
    assert result.accepted == 1 and result.row_label == "feature"
    assert [(r.row, r.reason_en) for r in result.rejects] == [
        (2, "geometry is a LineString, problems must be points"),
        (3, "geometry is a Polygon, problems must be points"),
    ]
    assert [r.external_id for r in _rows(city)] == ["A1"]


def test_non_point_geometries_strict_writes_nothing(city) -> None:
    before = table_counts(city)
    with pytest.raises(IngestError) as excinfo:
        ingest_file(city, SAMPLES / "mixed_geometries.geojson", IngestOptions(strict=True))
    assert "第 2 要素: 几何类型为 LineString" in str(excinfo.value)
    assert "feature 2: geometry is a LineString" in excinfo.value.message("en")
    assert table_counts(city) == before


def test_sheet_option(city, tmp_path) -> None:
    import openpyxl

    book = openpyxl.load_workbook(SAMPLES / "kobo.xlsx")
    book.create_sheet("说明", 0)["A1"] = "本表为导出说明"
    path = tmp_path / "two_sheets.xlsx"
    book.save(path)
    with raises_msg(IngestError, "no data rows below the header"):
        ingest_file(city, path)  # the first sheet is the note
    assert ingest_file(city, path, IngestOptions(sheet="暗访问题")).accepted == 3
    with raises_msg(IngestError, "no sheet 'nope'; sheets: 说明, 暗访问题") as excinfo:
        ingest_file(city, path, IngestOptions(sheet="nope"))
    assert "没有工作表 'nope'; 工作表: 说明, 暗访问题" in str(excinfo.value)


def test_make_samples_writes_every_sample(tmp_path) -> None:
    spec = importlib.util.spec_from_file_location("make_samples", MAKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.main(tmp_path)
    assert {p.name for p in written} == set(module.SAMPLES)
    assert all(p.exists() for p in written)
    for name in ("kobo.csv", "odk.csv", "gbk.csv", "bom.csv", "gcj02.csv", "legacy_crs.geojson"):
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name
