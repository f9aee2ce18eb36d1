"""`civicgrid ingest` options (web/cli/ingest.py) through Flask's CLI runner, both backends."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from geo.core.crs import wgs84_to_gcj02
from tests.helpers import load_tiny_city, load_tiny_city_with_points, table_counts, write_csv

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "surveys"
NEXT_MONTH = (datetime.now() + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
ERROR_PREFIX = "错误:"
EN = {"LC_ALL": "en_US.UTF-8"}  # an English terminal; without it messages are Chinese
HEADER = "id,lon,lat,category,found_at,description\n"
MIXED = (
    HEADER
    + "P1,120.82,32.02,litter,2024-05-01 10:00,菜场门口\n"
    + "P2,abc,32.02,litter,2024-05-01 10:00,\n"
    + "P3,32.03,120.91,illegal_ads,2024-05-01 11:00,颠倒\n"
)


@pytest.fixture
def city(runner, engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    return engine


def _ok(result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _one_error(result, prefix: str = ERROR_PREFIX) -> str:
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith(prefix)]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]


def test_summary_lists_rejects_by_reason(runner, city, tmp_path) -> None:
    path = write_csv(tmp_path / "mixed.csv", MIXED)
    output = _ok(runner.invoke(args=["ingest", str(path)]))
    assert "mixed.csv: 3 行 — 导入 1, 拒绝 2" in output
    assert "拒绝 1: 坐标不是数字" in output
    assert "第 3 行: 坐标不是数字" in output
    assert "第 4 行: 经纬度疑似颠倒" in output and "--fix-swapped" in output
    assert "批次 1" in output and "non-numeric" not in output
    assert table_counts(city)["problems"] == 1
    output = _ok(runner.invoke(args=["ingest", str(path), "--dry-run"], env=EN))
    assert "mixed.csv: 3 rows — accepted 0, rejected 2, duplicates skipped 1" in output
    assert "rejected 1: non-numeric lon" in output
    assert "row 3: non-numeric lon" in output
    assert "row 4: " in output and "--fix-swapped" in output and "坐标" not in output


def test_fix_swapped_rejects_file_and_json(runner, city, tmp_path) -> None:
    path = write_csv(tmp_path / "mixed.csv", MIXED)
    report = tmp_path / "rejects.csv"
    args = ["ingest", str(path), "--fix-swapped", "--rejects", str(report), "--json"]
    summary = json.loads(_ok(runner.invoke(args=args)).strip().splitlines()[-1])
    assert (summary["accepted"], summary["rejected"], summary["swapped_fixed"]) == (2, 1, 1)
    assert summary["rejects"] == [
        {"row": 3, "reason_zh": "坐标不是数字", "reason_en": "non-numeric lon", "external_id": "P2"}
    ]
    assert summary["batch_id"] == 1 and len(summary["sha256"]) == 64
    assert report.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "non-numeric lon" in report.read_text(encoding="utf-8-sig")


def test_quiet_prints_nothing(runner, city, tmp_path) -> None:
    path = write_csv(tmp_path / "s.csv", MIXED)
    assert _ok(runner.invoke(args=["ingest", str(path), "--quiet"])) == ""


def test_dry_run_writes_nothing(runner, city, tmp_path) -> None:
    before = table_counts(city)
    output = _ok(
        runner.invoke(args=["ingest", str(write_csv(tmp_path / "s.csv", MIXED)), "--dry-run"])
    )
    assert "试运行，未写入" in output and "导入 1" in output
    args = ["ingest", str(tmp_path / "s.csv"), "--dry-run"]
    output = _ok(runner.invoke(args=args, env=EN))
    assert "dry run, nothing written" in output and "accepted 1" in output
    assert table_counts(city) == before


def test_strict_refuses_with_one_line(runner, city, tmp_path) -> None:
    before = table_counts(city)
    result = runner.invoke(args=["ingest", str(write_csv(tmp_path / "s.csv", MIXED)), "--strict"])
    line = _one_error(result)
    assert "第 3 行: 坐标不是数字（共 2 行有误）" in line
    args = ["ingest", str(tmp_path / "s.csv"), "--strict"]
    line = _one_error(runner.invoke(args=args, env=EN), "error:")
    assert "row 3: non-numeric lon (2 bad rows in all)" in line
    assert table_counts(city) == before


def test_json_error(runner, city, tmp_path) -> None:
    args = ["ingest", str(write_csv(tmp_path / "h.csv", HEADER)), "--json"]
    result = runner.invoke(args=args, env=EN)
    line = _one_error(result, "error:")
    assert "no data rows" in line
    payload = json.loads(result.output.splitlines()[0])
    assert "no data rows" in payload["error"]


def test_map_crs_and_link_distance(runner, city, tmp_path) -> None:
    glon, glat = wgs84_to_gcj02(120.82, 32.02)
    row = f"M1,{float(glon):.7f},{float(glat):.7f},litter,2024-05-01\n"
    text = "编码,X坐标,Y坐标,问题小类,检查日期\n" + row
    path = write_csv(tmp_path / "amap.csv", text)
    args = ["ingest", str(path), "--crs", "gcj02", "--link-distance", "0", "--json"]
    args += ["--map", "id=编码", "--map", "lon=X坐标", "--map", "lat=Y坐标"]
    args += ["--map", "category=问题小类", "--map", "found_at=检查日期"]
    summary = json.loads(_ok(runner.invoke(args=args)).strip())
    assert (summary["accepted"], summary["crs"], summary["linked"]) == (1, "gcj02", 0)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--map", "colour=颜色"], "unknown column name 'colour'"),
        (["--crs", "mars"], "unknown coordinate system 'mars'"),
        (["--format", "xlsx"], "the file holds CSV, not XLSX"),
        (["--encoding", "nope-8"], "unknown encoding 'nope-8'"),
        (["--found-at", "yesterday-ish"], "--found-at 'yesterday-ish': malformed time"),
        (["--found-at", NEXT_MONTH], "found time is in the future"),
    ],
)
def test_bad_options_one_line_and_nothing_written(runner, city, tmp_path, extra, fragment) -> None:
    before = table_counts(city)
    path = write_csv(tmp_path / "s.csv", MIXED)
    line = _one_error(runner.invoke(args=["ingest", str(path), *extra], env=EN), "error:")
    assert fragment in line, line
    assert table_counts(city) == before


def test_sheet_and_format_options(runner, city) -> None:
    args = ["ingest", str(SAMPLES / "kobo.xlsx"), "--format", "kobo", "--sheet", "1", "--json"]
    summary = json.loads(_ok(runner.invoke(args=args)).strip())
    assert (summary["format"], summary["accepted"]) == ("xlsx", 3)


def test_shapefile_folder_argument(runner, city) -> None:
    summary = json.loads(
        _ok(runner.invoke(args=["ingest", str(SAMPLES / "problems_shp"), "--json"])).strip()
    )
    assert (summary["format"], summary["accepted"], summary["row_label"]) == ("shp", 3, "feature")


def test_progress_bar_only_on_a_terminal(monkeypatch, tmp_path) -> None:
    from web.cli import ingest as ingest_cli

    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (ingest_cli._PROGRESS_MIN_BYTES + 1))

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(ingest_cli.sys, "stderr", terminal)
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    with ingest_cli._progress(big, enabled=True) as update:
        assert update is not None
        update(big.stat().st_size // 2, big.stat().st_size)
        update(big.stat().st_size, big.stat().st_size)
    assert "big.csv" in terminal.getvalue() and "100%" in terminal.getvalue()
    assert "finishing" in terminal.getvalue()
    with ingest_cli._progress(big, enabled=False) as update:
        assert update is None  # --quiet / --json
    monkeypatch.setattr(ingest_cli.sys, "stderr", io.StringIO())  # not a terminal
    with ingest_cli._progress(big, enabled=True) as update:
        assert update is None
    small = write_csv(tmp_path / "small.csv", MIXED)
    monkeypatch.setattr(ingest_cli.sys, "stderr", terminal)
    with ingest_cli._progress(small, enabled=True) as update:
        assert update is None  # a few rows: no bar


def test_no_time_column_defaults_to_ingest_time(runner, city, tmp_path) -> None:
    path = write_csv(tmp_path / "sheet.csv", "经度,纬度,问题类别\n120.82,32.02,小广告\n")
    output = _ok(runner.invoke(args=["ingest", str(path)]))
    assert "未给发现时间、取默认: 1" in output
    assert "文件没有时间列，发现时间取导入时间" in output
    summary = json.loads(_ok(runner.invoke(args=["ingest", str(path), "--json"])).strip())
    assert summary["found_at_defaulted"] == 0 and summary["duplicates"] == 1
    line = _one_error(runner.invoke(args=["ingest", str(path), "--strict", "--source", "x"]))
    assert "缺少时间列" in line and "--found-at" in line


def test_crs_hint_goes_to_stderr(runner, engine, tmp_path) -> None:
    load_tiny_city_with_points(engine, tmp_path)
    lines = ["id,lon,lat,category,found_at,点位编码"]
    for i in range(4):
        lon, lat = wgs84_to_gcj02(120.82 + i * 1e-5, 32.01)
        lines.append(f"R{i},{float(lon):.7f},{float(lat):.7f},litter,2024-05-01 10:00,P1")
    path = write_csv(tmp_path / "amap.csv", "\n".join(lines) + "\n")
    result = runner.invoke(args=["ingest", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert "警告:" in result.stderr and "--crs gcj02" in result.stderr
    assert json.loads(result.stdout.strip())["crs_hint"].endswith("请用 --crs gcj02 重新运行")


def test_help_says_what_a_user_needs(runner) -> None:
    text = runner.invoke(args=["ingest", "--help"]).output
    for fragment in (
        "lon          必需 required    lon, lng, long, longitude, 经度",
        "category     必需 required    category, 问题类别",
        "found_at     可选 optional    found_at, 发现时间",
        "AMap/Gaode or Tencent maps are gcj02",
        "Baidu maps give bd09",
        "same --source",
        "civicgrid ingest 暗访督查.xlsx --source 2024-w18 --crs gcj02",
        "civicgrid ingest kobo.csv",
    ):
        assert fragment in text, fragment


def test_no_internal_column_names_in_messages(runner, city, tmp_path) -> None:
    path = tmp_path / "points.geojson"
    feature = {"type": "Feature", "properties": {"备注": "x"}}
    feature["geometry"] = {"type": "Point", "coordinates": [120.82, 32.02]}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    for extra in ([], ["--map", "category=问题"]):
        line = _one_error(runner.invoke(args=["ingest", str(path), *extra]))
        assert "文件中的列: 备注" in line, line
        assert "__" not in line, line
