"""Tests for the civicgrid CLI (web/cli/main.py) through Flask's CLI runner, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pyproj import Transformer

from geo.storage.db import make_engine
from geo.storage.schema import current_revision, head_revision
from tests.geo.test_loader_crs import gcj_street_file
from tests.helpers import (
    DISTRICTS,
    STREETS,
    box_feature,
    point_feature,
    table_counts,
    write_csv,
    write_geojson,
)

NEXT_MONTH = (datetime.now() + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
ERROR_PREFIX = "错误:"
EN = {"LC_ALL": "en_US.UTF-8"}  # an English terminal; without it messages are Chinese

SURVEY = (
    "id,lon,lat,category,found_at\n"
    "P1,120.82,32.02,litter,2024-05-01 10:00\n"
    "P2,120.96,32.03,小广告/乱张贴/乱涂写,2024-05-01 10:00\n"
    "P3,125.00,32.00,litter,2024-05-01 10:00\n"
)


def _ok(result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _load_city(runner, tmp_path: Path) -> None:
    d = write_geojson(tmp_path / "districts.geojson", DISTRICTS)
    s = write_geojson(tmp_path / "streets.geojson", STREETS)
    _ok(runner.invoke(args=["areas", "load", str(d), "--level", "district"]))
    _ok(runner.invoke(args=["areas", "load", str(s), "--level", "street"]))


def _one_line_error(result, prefix: str = ERROR_PREFIX) -> str:
    assert result.exit_code not in (0, None), result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(prefix)]
    assert len(errors) == 1, result.output
    assert "Traceback" not in result.output
    return errors[0]


def test_init_is_idempotent(runner, engine):
    output = _ok(runner.invoke(args=["init"], env=EN))
    assert "database ready" in output
    assert current_revision(engine) == head_revision()


def test_init_creates_the_schema(tmp_path):
    from web import create_app

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    runner = create_app({"DATABASE_URL": url, "TESTING": True}).test_cli_runner()
    output = _ok(runner.invoke(args=["init"]))
    assert "数据库已就绪" in output and "database ready" not in output
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_areas_load_output(runner, engine, tmp_path):
    d = write_geojson(tmp_path / "districts.geojson", DISTRICTS)
    output = _ok(runner.invoke(args=["areas", "load", str(d), "--level", "district"]))
    assert "districts.geojson: 2 个district" in output
    assert "新增 2" in output and "更新 0" in output
    s = write_geojson(tmp_path / "streets.geojson", STREETS)
    output = _ok(runner.invoke(args=["areas", "load", str(s), "--level", "street"], env=EN))
    assert "streets.geojson: 4 street features — inserted 4" in output
    assert "parents found by containment: 2" in output
    again = _ok(runner.invoke(args=["areas", "load", str(s), "--level", "street"]))
    assert "新增 0" in again and "未变 4" in again
    assert table_counts(engine)["areas"] == 6


def test_areas_load_reports_overlaps_repairs_and_options(runner, engine, tmp_path):
    features = [
        box_feature(120.80, 32.00, 120.90, 32.04, dm="329901", mc="云溪区"),
        box_feature(120.89, 32.00, 121.00, 32.04, dm="329902", mc="枫桥区"),
    ]
    path = write_geojson(tmp_path / "d.geojson", features)
    args = ["areas", "load", str(path), "--level", "district"]
    output = _ok(runner.invoke(args=[*args, "--code-field", "dm", "--name-field", "mc"]))
    assert "重叠: 329901 × 329902:" in output
    assert "m²" in output


def test_points_load_output(runner, engine, tmp_path):
    _load_city(runner, tmp_path)
    features = [
        point_feature(120.96, 32.02, code="S1", name="北岭小学", kind="学校周边"),
        point_feature(122.50, 31.00, code="H1", name="远处宾馆", kind="hotel"),
    ]
    path = write_geojson(tmp_path / "points.geojson", features)
    output = _ok(runner.invoke(args=["points", "load", str(path), "--school-buffer", "150"]))
    assert "points.geojson: 2 个点位" in output
    assert "新增 2" in output and "区域外 1" in output
    assert table_counts(engine)["inspection_points"] == 2


def test_ingest_output(runner, engine, tmp_path):
    _load_city(runner, tmp_path)
    path = write_csv(tmp_path / "survey.csv", SURVEY, bom=True)
    args = ["ingest", str(path), "--source", "team-a", "--actor", "bob"]
    output = _ok(runner.invoke(args=args, env=EN))
    assert "survey.csv: 3 rows" in output
    assert "accepted 3" in output
    assert "duplicates skipped 0" in output
    assert "outside 1" in output
    assert "batch 1" in output
    again = _ok(runner.invoke(args=["ingest", str(path), "--source", "team-a"]))
    assert "survey.csv: 3 行" in again
    assert "导入 0" in again and "已存在跳过 3" in again
    assert table_counts(engine)["problems"] == 3


# --- bad input: exit code != 0, one line "错误: ..." ("error: ..."), database unchanged ---


def _garbage(tmp_path):
    path = tmp_path / "garbage.geojson"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00 not geojson at all \xff\xfe")
    return ["areas", "load", str(path), "--level", "street"], "not a readable"


def _missing_file(tmp_path):
    return ["areas", "load", str(tmp_path / "nope.geojson"), "--level", "street"], "not found"


def _missing_field(tmp_path):
    path = write_geojson(tmp_path / "s.geojson", STREETS)
    args = ["areas", "load", str(path), "--level", "street", "--code-field", "jddm"]
    return args, "missing field 'jddm' (--code-field)"


def _duplicate_code(tmp_path):
    features = [
        box_feature(120.80, 32.00, 120.85, 32.04, code="329901009", name="a"),
        box_feature(120.85, 32.00, 120.90, 32.04, code="329901009", name="b"),
    ]
    path = write_geojson(tmp_path / "s.geojson", features)
    return ["areas", "load", str(path), "--level", "street"], "feature 2: duplicate code"


def _unknown_parent(tmp_path):
    features = [box_feature(120.80, 32.00, 120.85, 32.04, code="9", name="a", parent_code="1")]
    path = write_geojson(tmp_path / "s.geojson", features)
    return ["areas", "load", str(path), "--level", "community"], "parent code '1'"


def _unknown_kind(tmp_path):
    features = [point_feature(120.86, 32.03, code="X", name="x", kind="菜场摊点")]
    path = write_geojson(tmp_path / "p.geojson", features)
    return ["points", "load", str(path)], "feature 1"


def _bad_survey_row(tmp_path):
    text = SURVEY + "P4,120.83,32.02,乱扔东西,2024-05-01 10:00\n"
    path = write_csv(tmp_path / "bad.csv", text)
    return ["ingest", str(path), "--strict"], "row 5"


def _header_only_survey(tmp_path):
    path = write_csv(tmp_path / "empty.csv", "id,lon,lat,category,found_at\n")
    return ["ingest", str(path)], "no data rows"


def _gcj02_streets_read_as_bd09(tmp_path):
    path = gcj_street_file(tmp_path)
    args = ["areas", "load", str(path), "--level", "street", "--crs", "bd09", "--strict"]
    return args, "look like GCJ-02 (AMap/Tencent), not BD-09 (Baidu)"


def _projected_without_crs(tmp_path):
    x0, y0 = Transformer.from_crs(4326, 32651, always_xy=True).transform(120.80, 32.00)
    feature = box_feature(x0, y0, x0 + 3000, y0 + 3000, code="329901009", name="utm")
    path = write_geojson(tmp_path / "utm.geojson", [feature])
    return ["areas", "load", str(path), "--level", "street"], "coordinates are not longitude"


def _found_at_in_the_future(tmp_path):
    path = write_csv(tmp_path / "sheet.csv", "经度,纬度,问题类别\n120.83,32.02,小广告\n")
    return ["ingest", str(path), "--found-at", NEXT_MONTH], "in the future"


CLI_BAD_INPUTS = {
    "garbage-area-file": _garbage,
    "missing-area-file": _missing_file,
    "missing-field": _missing_field,
    "duplicate-code": _duplicate_code,
    "unknown-parent": _unknown_parent,
    "unknown-kind": _unknown_kind,
    "bad-survey-row": _bad_survey_row,
    "header-only-survey": _header_only_survey,
    "gcj02-streets-read-as-bd09": _gcj02_streets_read_as_bd09,
    "projected-without-crs": _projected_without_crs,
    "found-at-in-the-future": _found_at_in_the_future,
}


@pytest.mark.parametrize("case", list(CLI_BAD_INPUTS))
def test_bad_input_one_line_error_and_nothing_written(runner, engine, tmp_path, case):
    _load_city(runner, tmp_path)
    _ok(runner.invoke(args=["ingest", str(write_csv(tmp_path / "ok.csv", SURVEY))]))
    before = table_counts(engine)
    args, fragment = CLI_BAD_INPUTS[case](tmp_path)
    result = runner.invoke(args=args, env=EN)
    line = _one_line_error(result, "error:")
    assert result.exit_code == 1
    assert fragment in line, line
    assert table_counts(engine) == before


def test_unknown_level_refused_by_the_option(runner, engine, tmp_path):
    path = write_geojson(tmp_path / "d.geojson", DISTRICTS)
    result = runner.invoke(args=["areas", "load", str(path), "--level", "village"])
    assert result.exit_code == 2  # click usage error
    assert "village" in result.output
    assert table_counts(engine)["areas"] == 0


@pytest.mark.parametrize(
    "args",
    [
        ["areas", "load", "{d}", "--level", "district"],
        ["points", "load", "{d}"],
        ["ingest", "{csv}"],
    ],
    ids=["areas", "points", "ingest"],
)
def test_uninitialised_database_exit_2_with_hint(tmp_path, args):
    from web import create_app

    db = tmp_path / "empty.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{db}", "TESTING": True})
    d = write_geojson(tmp_path / "districts.geojson", DISTRICTS)
    csv = write_csv(tmp_path / "s.csv", SURVEY)
    result = app.test_cli_runner().invoke(args=[a.format(d=d, csv=csv) for a in args])
    assert result.exit_code == 2, result.output
    line = _one_line_error(result)
    assert "civicgrid init" in line
    engine = make_engine(f"sqlite:///{db}")
    try:
        assert current_revision(engine) is None  # nothing was created behind our back
    finally:
        engine.dispose()


def test_areas_load_gcj02_and_the_warning(runner, engine, tmp_path):
    d = write_geojson(tmp_path / "districts.geojson", DISTRICTS)
    _ok(runner.invoke(args=["areas", "load", str(d), "--level", "district"]))
    path = gcj_street_file(tmp_path)
    warned = runner.invoke(args=["areas", "load", str(path), "--level", "street"])
    assert warned.exit_code == 0, warned.output
    assert "警告:" in warned.stderr and "请用 --crs gcj02 重新运行" in warned.stderr
    right = runner.invoke(args=["areas", "load", str(path), "--level", "street", "--crs", "gcj02"])
    assert right.exit_code == 0 and right.stderr == "", right.output
    assert "更新 2" in right.output
