"""Exports (geo/export/stream.py): every format read back with pyogrio, ogrinfo and spreadsheet
readers, RFC 7946 rules, GCJ-02, filters, and files never left half-written."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
import sqlalchemy as sa

from geo.core.crs import wgs84_to_gcj02
from geo.core.errors import ExportError
from geo.core.taxonomy_file import default_taxonomy
from geo.export import stream as export_module
from geo.export.query import Page
from geo.export.request import ExportRequest, marked_path
from geo.export.stream import export_to_file, feature_batches
from geo.reports.filters import ProblemFilter
from geo.storage.db import session_factory
from geo.storage.models import InspectionPoint, Problem
from tests.exportdata import PROBLEMS, load_export_city
from tests.helpers import XSS, raises_msg

TAX = default_taxonomy()
OFFSET_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


@pytest.fixture
def city(engine, tmp_path):
    load_export_city(engine, tmp_path)
    return engine


def export(engine, target, fmt, path, **kw):
    filt = kw.pop("filt", ProblemFilter())
    with session_factory(engine)() as session:
        return export_to_file(session, ExportRequest(target, fmt, filt, **kw), TAX, path)


def ogrinfo_count(path: Path) -> int:
    out = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return sum(int(n) for n in re.findall(r"Feature Count: (\d+)", out))


def coordinates(geometry):
    return shapely.get_coordinates(shapely.from_geojson(json.dumps(geometry)))


def test_geojson_follows_rfc7946(city, tmp_path) -> None:
    path = tmp_path / "points.geojson"
    result = export(city, "points", "geojson", path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert result.features == 3 and len(data["features"]) == 3
    assert "crs" not in data
    market = next(f for f in data["features"] if f["properties"]["code"] == "M1")
    polygon = shapely.from_geojson(json.dumps(market["geometry"]))
    assert shapely.is_ccw(polygon.exterior)  # drawn clockwise, exported counter-clockwise
    assert not shapely.is_ccw(polygon.interiors[0])  # holes clockwise
    all_xy = np.vstack([coordinates(f["geometry"]) for f in data["features"]])
    assert data["bbox"] == pytest.approx([*all_xy.min(axis=0), *all_xy.max(axis=0)])
    for feature in data["features"]:
        for number in re.findall(r"-?\d+\.\d+", json.dumps(feature["geometry"])):
            assert len(number.split(".")[1]) <= 6


def test_problems_geojson_properties_codes_labels_and_times(city, tmp_path) -> None:
    path = tmp_path / "problems.geojson"
    export(city, "problems", "geojson", path)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert "东门市场门口暴露垃圾" in text  # UTF-8, not \\u escapes
    props = [f["properties"] for f in data["features"]]
    assert [p["description"] for p in props] == [p[3] for p in PROBLEMS]
    first = props[0]
    assert first["category"] == "litter" and first["category_label"] == "暴露垃圾/环境卫生差"
    assert first["status_label"] == "发现" and first["point_kind_label"] == "农贸市场/集贸市场"
    assert first["campaign_label"] == "集贸市场及周边环境治理提升行动"
    assert first["found_at"] == "2024-05-01T09:00:00+08:00"
    assert first["district_name"] == "云溪区" and first["street_code"] == "329901001"
    assert [p["overdue"] for p in props] == [False, True, False, False, True, False]
    assert props[5]["outside"] is True and props[5]["district_code"] is None
    assert all(OFFSET_TIME.match(p["found_at"]) for p in props)
    assert data["features"][1]["geometry"]["coordinates"] == [120.861235, 32.011235]
    assert data["features"][0]["id"] == first["id"]


def test_database_and_python_renderings_agree(city, monkeypatch) -> None:
    """The fast path (features built by the database) equals the columnar Python path."""

    def features():
        with session_factory(city)() as session:
            request = ExportRequest("problems", "geojson")
            batches = feature_batches(session, request, TAX, Page())  # one text per feature
            return [json.loads(t) for b in batches for t in b.features]

    fast = features()
    monkeypatch.setattr(export_module, "sql_offset", lambda session, tz: None)
    slow = features()
    assert fast == slow and len(fast) == len(PROBLEMS)


@pytest.mark.parametrize("fmt", ["geojson", "geojsonseq", "csv", "gpkg"])
def test_every_format_reads_back_with_pyogrio_and_ogrinfo(city, tmp_path, fmt) -> None:
    suffix = {"geojsonseq": "geojsons"}.get(fmt, fmt)
    path = tmp_path / f"problems.{suffix}"
    export(city, "problems", fmt, path)
    with session_factory(city)() as session:
        stored = dict(session.execute(sa.select(Problem.external_id, Problem.description)).all())
    frame = pyogrio.read_dataframe(path)  # CSV: GDAL finds the geometry in the wkt column
    assert len(frame) == len(stored) == ogrinfo_count(path)
    assert dict(zip(frame["external_id"], frame["description"], strict=True)) == {
        k: ("'" + v if v[:1] in "=+-@" else v) if fmt == "csv" else v for k, v in stored.items()
    }
    assert set(frame["category_label"]) >= {"暴露垃圾/环境卫生差", "楼道堆物"}
    assert frame.geometry.notna().all()


def test_csv_is_excel_friendly(city, tmp_path) -> None:
    path = tmp_path / "problems.csv"
    export(city, "problems", "csv", path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel on Chinese Windows reads UTF-8
    raw.decode("utf-8")  # all UTF-8 (no GBK)
    assert b"\r\n" in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("ascii")
    table = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    descriptions = table["description"].tolist()
    assert descriptions[1] == '\'=HYPERLINK("http://evil")'
    assert descriptions[2].startswith("'+1") and descriptions[3].startswith("'@")
    assert descriptions[4].startswith("'-") and XSS in descriptions[4]
    assert "换行\n第二行" in descriptions[3]
    assert table["lon"].tolist()[1] == "120.861235"
    assert table["wkt"].tolist()[1] == "POINT (120.861235 32.011235)"
    assert table["found_at"].tolist()[0] == "2024-05-01T09:00:00+08:00"


def test_xlsx_has_typed_cells_and_an_about_sheet(city, tmp_path) -> None:
    path = tmp_path / "problems.xlsx"
    result = export(city, "problems", "xlsx", path)
    book = openpyxl.load_workbook(path)
    sheet, about = book.worksheets
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("问题ID", "外部编号", "来源", "问题类别代码", "问题类别")
    assert len(rows) == result.features + 1 == len(PROBLEMS) + 1
    formula = sheet.cell(row=3, column=9)
    assert formula.value == '\'=HYPERLINK("http://evil")' and formula.data_type == "s"
    assert rows[1][9].isoformat() == "2024-05-01T09:00:00"  # a real date-time, local time
    assert about.title == "说明 About"
    about_text = " ".join(str(c) for row in about.iter_rows(values_only=True) for c in row if c)
    assert "WGS 84" in about_text and "category_label" in about_text


def test_xlsx_neutralises_formula_cells_exactly_like_csv(city, tmp_path) -> None:
    export(city, "problems", "csv", tmp_path / "p.csv")
    export(city, "problems", "xlsx", tmp_path / "p.xlsx")
    table = pd.read_csv(tmp_path / "p.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    sheet = openpyxl.load_workbook(tmp_path / "p.xlsx").worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("问题描述")
    cells = [r[column] or "" for r in rows[1:]]
    assert cells == table["description"].tolist()
    risky = [c for c in cells if c[1:2] in ("=", "+", "-", "@")]
    assert len(risky) >= 4 and all(c.startswith("'") for c in risky)
    data_types = {sheet.cell(row=i + 2, column=column + 1).data_type for i in range(len(cells))}
    assert "f" not in data_types  # no formula cell at all


def test_points_and_areas_export_to_geopackage(city, tmp_path) -> None:
    export(city, "points", "gpkg", tmp_path / "points.gpkg")
    points = pyogrio.read_dataframe(tmp_path / "points.gpkg")
    assert sorted(points["code"]) == ["M1", "P1", "P2"]
    assert points.crs.to_epsg() == 4326
    assert f"云溪路口{XSS}" in set(points["name"])
    streets = ProblemFilter.from_args({"level": "street"}, TAX, "areas")
    export(city, "areas", "gpkg", tmp_path / "streets.gpkg", filt=streets)
    areas = pyogrio.read_dataframe(tmp_path / "streets.gpkg")
    assert sorted(areas["code"]) == ["329901001", "329901002", "329902001", "329902101"]
    counts = dict(zip(areas["code"], areas["problems_total"], strict=True))
    assert counts == {"329901001": 1, "329901002": 1, "329902001": 1, "329902101": 2}
    assert ogrinfo_count(tmp_path / "streets.gpkg") == 4


def test_empty_export_is_still_a_valid_file(city, tmp_path) -> None:
    nothing = ProblemFilter.from_args({"category": "food_hygiene"}, TAX)
    for fmt in ("geojson", "gpkg", "csv"):
        path = tmp_path / f"empty.{fmt}"
        assert export(city, "problems", fmt, path, filt=nothing).features == 0
        assert ogrinfo_count(path) == 0


def test_gcj02_is_shifted_and_marked(city, tmp_path) -> None:
    path = marked_path(tmp_path / "problems.geojson", "gcj02")
    assert path.name == "problems-gcj02.geojson"
    export(city, "problems", "geojson", path, crs="gcj02")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert "GCJ-02" in data["civicgrid"]["coordinate_system"]
    lon, lat = wgs84_to_gcj02(PROBLEMS[0][1], PROBLEMS[0][2])
    assert data["features"][0]["geometry"]["coordinates"] == [
        round(float(lon), 6),
        round(float(lat), 6),
    ]
    export(city, "problems", "gpkg", tmp_path / "p.gpkg", crs="gcj02")
    assert pyogrio.list_layers(tmp_path / "p.gpkg")[0][0] == "problems_gcj02"
    assert "GCJ-02" in pyogrio.read_info(tmp_path / "p.gpkg")["layer_metadata"]["DESCRIPTION"]
    export(city, "problems", "csv", tmp_path / "p.csv", crs="gcj02")
    assert "lon_gcj02,lat_gcj02,wkt_gcj02" in (tmp_path / "p.csv").read_text(encoding="utf-8-sig")


def test_filtered_export_matches_the_filter(city, tmp_path) -> None:
    filt = ProblemFilter.from_args({"status": "unresolved", "area": "329902"}, TAX)
    result = export(city, "problems", "geojsonseq", tmp_path / "p.geojsons", filt=filt)
    texts = (tmp_path / "p.geojsons").read_text(encoding="utf-8").split("\x1e")[1:]
    descriptions = [json.loads(t)["properties"]["description"] for t in texts]
    assert result.features == 2 and descriptions == [PROBLEMS[2][3], PROBLEMS[4][3]]


def test_unwritable_path_is_refused_before_anything_is_written(city, tmp_path) -> None:
    with raises_msg(ExportError, "无法写入"):
        export(city, "problems", "geojson", tmp_path / "missing" / "p.geojson")
    with raises_msg(ExportError, "cannot write"):
        export(city, "problems", "geojson", tmp_path / "missing" / "p.geojson")
    with raises_msg(ExportError, "directory"):
        export(city, "problems", "geojson", tmp_path)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_interrupted_export_leaves_no_partial_file(city, tmp_path, monkeypatch, fmt) -> None:
    path = tmp_path / f"p.{fmt}"
    path.write_text("previous export")

    def broken(*args, **kw):
        yield from ()
        raise KeyboardInterrupt

    target = "_csv" if fmt == "csv" else "_chunks" if fmt == "gpkg" else "feature_batches"
    monkeypatch.setattr(export_module, target, broken)
    with pytest.raises(KeyboardInterrupt):
        export(city, "problems", fmt, path)
    assert path.read_text() == "previous export"  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("p.")] == [path.name]


def test_xlsx_refuses_more_rows_than_excel_holds(city, tmp_path, monkeypatch) -> None:
    from geo.export import xlsx as export_xlsx

    monkeypatch.setattr(export_xlsx, "MAX_ROWS", 3)
    with raises_msg(ExportError, "CSV"):
        export(city, "problems", "xlsx", tmp_path / "p.xlsx")
    assert not list(tmp_path.glob("p.xlsx*"))


def test_points_keep_their_geometry_types(city, tmp_path) -> None:
    export(city, "points", "geojsonseq", tmp_path / "p.geojsons")
    frame = pyogrio.read_dataframe(tmp_path / "p.geojsons")
    assert sorted(frame.geom_type) == ["LineString", "Point", "Polygon"]
    with session_factory(city)() as session:
        assert session.scalar(sa.select(sa.func.count(InspectionPoint.id))) == 3


def test_small_chunks_give_the_same_file(city, tmp_path) -> None:
    """Rendering in many id ranges (several connections at once) keeps order and rows."""
    export(city, "problems", "geojson", tmp_path / "a.geojson")
    export(city, "problems", "geojson", tmp_path / "b.geojson", chunk_rows=2)
    a, b = (
        json.loads((tmp_path / n).read_text(encoding="utf-8")) for n in ("a.geojson", "b.geojson")
    )
    assert a["features"] == b["features"] and a["bbox"] == b["bbox"]


@pytest.mark.parametrize("target", ["problems", "points", "areas"])
def test_geopackage_is_version_1_2_read_by_gdal_3_6_without_warnings(city, tmp_path, target):
    import sqlite3

    path = tmp_path / f"{target}.gpkg"
    export(city, target, "gpkg", path)
    # Debian's ogrinfo (GDAL 3.6) warns about 1.4 files, odd date-times, missing triggers
    done = subprocess.run(["ogrinfo", "-ro", "-al", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and "Feature Count" in done.stdout
    assert "Warning" not in done.stderr + done.stdout, done.stderr
    with sqlite3.connect(path) as db:
        assert db.execute("pragma user_version").fetchone()[0] == 10200
        triggers = {r[0] for r in db.execute("select name from sqlite_master where type='trigger'")}
    names = {
        f"rtree_{target}_geom_{t}"
        for t in ("insert", "update1", "update2", "update3", "update4", "delete")
    }
    assert names <= triggers
    if target == "problems":
        with sqlite3.connect(path) as db:
            found = db.execute("select found_at from problems order by fid limit 1").fetchone()[0]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", found)
