"""Header recognition and explicit mapping (geo/ingest/columns.py)."""

from __future__ import annotations

import json

import pytest

from geo.core.errors import IngestError, InvalidParameterError
from geo.ingest.columns import normalise_header, parse_mapping, plan_columns
from tests.helpers import raises_msg


def test_usual_headers_in_chinese_and_english() -> None:
    plan = plan_columns(["编号", "经度", "纬度", "问题类别", "问题描述", "发现时间", "备注"])
    assert plan.columns == {
        "external_id": "编号",
        "lon": "经度",
        "lat": "纬度",
        "category": "问题类别",
        "description": "问题描述",
        "found_at": "发现时间",
    }
    plan = plan_columns(["ID", "Lng", "Latitude", "Category", "Time"])
    assert plan.columns["lon"] == "Lng" and plan.columns["external_id"] == "ID"
    assert plan.flavour == "plain"


def test_width_case_brackets_and_required_marks_ignored() -> None:
    assert normalise_header(" 经度（°）") == "经度"
    assert normalise_header("ＬＯＮ") == "lon"
    assert normalise_header("发现时间*") == "发现时间"
    plan = plan_columns(["经度(度)", "纬度(度)", "问题类别*", "发现时间"])
    assert plan.columns["lon"] == "经度(度)"


def test_kobo_layout() -> None:
    headers = [
        "start",
        "end",
        "problem/category",
        "problem/loc",
        "problem/_loc_latitude",
        "problem/_loc_longitude",
        "problem/_loc_altitude",
        "problem/_loc_precision",
        "_id",
        "_uuid",
        "_submission_time",
    ]
    plan = plan_columns(headers)
    assert plan.flavour == "kobo"
    assert plan.columns["lat"] == "problem/_loc_latitude"
    assert plan.columns["lon"] == "problem/_loc_longitude"
    assert plan.columns["accuracy"] == "problem/_loc_precision"
    assert "geopoint" not in plan.columns  # the split columns win over "lat lon alt acc"
    assert plan.columns["external_id"] == "_uuid"  # not the numeric _id
    assert plan.columns["category"] == "problem/category"
    assert plan.columns["found_at"] == "start"


def test_kobo_geopoint_only_and_submission_time_fallback() -> None:
    plan = plan_columns(["loc", "category", "_uuid", "_submission_time"])
    assert plan.columns["geopoint"] == "loc"
    assert plan.columns["found_at"] == "_submission_time"
    assert plan.utc == {"found_at"}  # Kobo submission times are UTC without offset


def test_odk_central_layout() -> None:
    headers = [
        "SubmissionDate",
        "g-category",
        "g-loc-Latitude",
        "g-loc-Longitude",
        "g-loc-Altitude",
        "g-loc-Accuracy",
        "meta-instanceID",
        "KEY",
    ]
    plan = plan_columns(headers)
    assert plan.flavour == "odk"
    assert (plan.columns["lat"], plan.columns["lon"]) == ("g-loc-Latitude", "g-loc-Longitude")
    assert plan.columns["accuracy"] == "g-loc-Accuracy"
    assert plan.columns["external_id"] == "meta-instanceID"
    assert plan.columns["found_at"] == "SubmissionDate"
    assert plan.columns["category"] == "g-category"


def test_explicit_mapping_wins() -> None:
    mapping = parse_mapping(["category=问题小类", "id=序号", "found_at=检查日期"])
    assert mapping == {"category": "问题小类", "external_id": "序号", "found_at": "检查日期"}
    plan = plan_columns(["序号", "lon", "lat", "问题类别", "问题小类", "检查日期"], mapping)
    assert plan.columns["category"] == "问题小类"
    assert plan.columns["external_id"] == "序号"


def test_mapping_file(tmp_path) -> None:
    toml = tmp_path / "map.toml"
    toml.write_text('[columns]\ncategory = "问题小类"\nlon = "X坐标"\n', encoding="utf-8")
    assert parse_mapping([str(toml)]) == {"category": "问题小类", "lon": "X坐标"}
    as_json = tmp_path / "map.json"
    as_json.write_text(json.dumps({"lat": "Y坐标"}, ensure_ascii=False), encoding="utf-8")
    assert parse_mapping([str(as_json), "id=编码"]) == {"lat": "Y坐标", "external_id": "编码"}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["colour=颜色"], "unknown column name 'colour'"),
        (["nothing-here"], "expected name=header or a mapping file"),
    ],
)
def test_bad_mapping_items(items, message) -> None:
    with raises_msg(InvalidParameterError, message):
        parse_mapping(items)


def test_bad_mapping_file(tmp_path) -> None:
    bad = tmp_path / "map.toml"
    bad.write_text("category = [1, 2]\n", encoding="utf-8")
    with raises_msg(InvalidParameterError, "must map names to header text"):
        parse_mapping([str(bad)])


def test_mapping_to_a_missing_header() -> None:
    with raises_msg(IngestError, r"--map category=问题小类: .*no such column"):
        plan_columns(["lon", "lat", "found_at"], {"category": "问题小类"})


def test_missing_required_columns_are_named_with_hints() -> None:
    with pytest.raises(IngestError) as excinfo:
        plan_columns(["名称", "地址", "问题类别", "发现时间"], where="f.csv: ")
    message = excinfo.value.message("en")
    assert message.startswith("f.csv: ")
    assert "missing required column(s): lon, lat" in message
    assert "经度" in message and "--map lon=" in message and "名称, 地址" in message
