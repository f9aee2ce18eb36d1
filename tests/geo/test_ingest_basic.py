"""Tests for geo.ingest.pipeline.ingest_file on both backends: rows, ancestry, times,
lifecycle, errors.

Survey CSVs are written inline; the tiny city (tests.helpers) gives the areas.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.areas.points import load_points
from geo.core.errors import IngestError
from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.storage.models import IngestBatch, Problem, ResponsibleUnit
from tests.helpers import (
    area_ids,
    box_feature,
    load_tiny_city,
    message_for,
    raises_msg,
    table_counts,
    write_csv,
    write_geojson,
)

SURVEY = (
    "id,lon,lat,category,found_at,description\n"
    "P1,120.82,32.02,litter,2024-05-01T10:00:00+08:00,菜场门口垃圾\n"
    "P2,120.96,32.03,小广告/乱张贴/乱涂写,2024-05-01 10:00,\n"
    "P3,120.88,32.01,illegal_ads,2024-05-01T10:00:00Z,电线杆小广告\n"
    "P4,125.00,32.00,litter,2024-05-01 10:00,城外\n"
)


def _problems(engine) -> dict[str, Problem]:
    with so.Session(engine) as session:
        return {p.external_id: p for p in session.scalars(sa.select(Problem))}


@pytest.fixture
def city(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    return engine


@pytest.mark.parametrize("bom", [False, True], ids=["utf8", "utf8-bom"])
def test_ingest_utf8_csv(city, tmp_path, bom):
    path = write_csv(tmp_path / "survey.csv", SURVEY, bom=bom)
    result = ingest_file(city, path, IngestOptions(source="team-a", actor="alice"))
    assert (result.rows, result.accepted, result.duplicates, result.outside) == (4, 4, 0, 1)
    assert result.rejects == []
    assert result.file_name == "survey.csv"
    rows = _problems(city)
    assert set(rows) == {"P1", "P2", "P3", "P4"}  # the BOM did not eat the "id" header

    districts = area_ids(city, "district")
    streets = area_ids(city, "street")
    assert (rows["P1"].district_id, rows["P1"].street_id) == (
        districts["329901"],
        streets["329901001"],
    )
    assert (rows["P2"].district_id, rows["P2"].street_id) == (
        districts["329902"],
        streets["329902101"],
    )
    assert rows["P1"].grid_id is None and rows["P1"].community_id is None

    # Times: +08:00 → −8 h; no offset → Asia/Shanghai; Z stays. Stored naive UTC.
    assert rows["P1"].found_at == datetime(2024, 5, 1, 2, 0)
    assert rows["P2"].found_at == datetime(2024, 5, 1, 2, 0)
    assert rows["P3"].found_at == datetime(2024, 5, 1, 10, 0)
    assert rows["P1"].found_at.tzinfo is None

    assert rows["P2"].category == "illegal_ads"  # from the zh label
    assert rows["P1"].category == "litter"
    assert rows["P1"].description == "菜场门口垃圾"
    assert rows["P2"].description == ""
    assert (rows["P1"].lon, rows["P1"].lat) == (120.82, 32.02)
    assert (rows["P1"].geom.x, rows["P1"].geom.y) == (120.82, 32.02)
    assert rows["P1"].source == "team-a"
    assert rows["P1"].status == "found" and rows["P1"].reopen_count == 0

    with so.Session(city) as session:
        batch = session.scalars(sa.select(IngestBatch)).one()
    assert batch.id == result.batch_id == rows["P1"].batch_id
    assert (batch.source, batch.actor, batch.file_name) == ("team-a", "alice", "survey.csv")
    assert (batch.rows_total, batch.accepted, batch.rejected, batch.outside) == (4, 4, 0, 1)
    assert len(batch.sha256) == 64 and batch.finished_at is not None


def test_point_outside_all_areas_kept_and_flagged(city, tmp_path):
    ingest_file(city, write_csv(tmp_path / "s.csv", SURVEY))
    far = _problems(city)["P4"]
    assert far.outside is True
    assert (far.district_id, far.street_id, far.community_id, far.grid_id) == (None,) * 4
    assert _problems(city)["P1"].outside is False


def test_local_time_zone_option(city, tmp_path):
    csv = "id,lon,lat,category,found_at\nT1,120.82,32.02,litter,2024-05-01 10:00\n"
    ingest_file(city, write_csv(tmp_path / "s.csv", csv), IngestOptions(tz="UTC"))
    assert _problems(city)["T1"].found_at == datetime(2024, 5, 1, 10, 0)


def test_rerun_adds_nothing_and_counts_duplicates(city, tmp_path):
    path = write_csv(tmp_path / "survey.csv", SURVEY)
    ingest_file(city, path)
    problems = table_counts(city)["problems"]
    again = ingest_file(city, path)
    assert (again.accepted, again.duplicates) == (0, 4)
    assert table_counts(city)["problems"] == problems
    # A file that overlaps partly adds only the new row.
    more = SURVEY + "P5,120.83,32.02,litter,2024-05-02 10:00,新\n"
    third = ingest_file(city, write_csv(tmp_path / "more.csv", more))
    assert (third.accepted, third.duplicates) == (1, 4)
    assert table_counts(city)["problems"] == problems + 1
    # The same ids from another source are other problems.
    other = ingest_file(city, path, IngestOptions(source="team-b"))
    assert other.accepted == 4


def test_rows_without_id_are_deduplicated_by_content(city, tmp_path):
    csv = "lon,lat,category,found_at\n120.82,32.02,litter,2024-05-01 10:00\n"
    path = write_csv(tmp_path / "noid.csv", csv)
    assert ingest_file(city, path).accepted == 1
    assert ingest_file(city, path).duplicates == 1
    assert table_counts(city)["problems"] == 1


def test_lifecycle_columns(city, tmp_path):
    market = box_feature(
        120.81, 32.01, 120.82, 32.02, code="M1", name="东门农贸市场", kind="market"
    )
    load_points(city, write_geojson(tmp_path / "points.geojson", [market]))
    csv = (
        "id,lon,lat,category,found_at,status,unit,deadline,reopened,campaign,point_code\n"
        "L1,120.815,32.015,litter,2024-05-01 09:00,assigned,城管局,2024-05-03 18:00,2,"
        "market_environment,M1\n"
        "L2,120.86,32.03,illegal_ads,2024-05-01 09:00,,,,,,\n"
        "L3,120.87,32.03,illegal_ads,2024-05-01 09:00,closed,城管局,,0,公益广告提升行动,\n"
    )
    result = ingest_file(city, write_csv(tmp_path / "life.csv", csv))
    assert result.accepted == 3
    rows = _problems(city)
    with so.Session(city) as session:
        units = dict(session.execute(sa.select(ResponsibleUnit.name, ResponsibleUnit.id)).all())
        point_id = session.scalar(sa.text("SELECT id FROM inspection_points WHERE code = 'M1'"))
    assert list(units) == ["城管局"]  # created once for both rows

    l1 = rows["L1"]
    assert l1.status == "assigned"
    assert l1.unit_id == units["城管局"]
    assert l1.deadline == datetime(2024, 5, 3, 10, 0)  # 18:00 Shanghai
    assert l1.assigned_at == datetime(2024, 5, 1, 1, 0)
    assert l1.reopen_count == 2
    assert l1.campaign == "market_environment"
    assert l1.point_id == point_id

    l2 = rows["L2"]
    assert (l2.status, l2.unit_id, l2.deadline, l2.reopen_count) == ("found", None, None, 0)
    assert (l2.campaign, l2.point_id, l2.assigned_at) == (None, None, None)

    l3 = rows["L3"]
    assert l3.status == "closed"
    assert l3.campaign == "psa_upgrade"  # from the zh label


# --- strict mode: one bad row refuses the file, nothing is written -------------------
# (non-strict is the default: see tests/geo/test_ingest_wild.py for mixed files)

HEADER = "id,lon,lat,category,found_at,point_code\n"
GOOD = "B1,120.82,32.02,litter,2024-05-01 10:00,\n"

BAD_FILES = {
    "unknown-category": (
        HEADER + GOOD + "B2,120.83,32.02,乱扔东西,2024-05-01 10:00,\n",
        ["第 3 行", "row 3", "unknown category '乱扔东西'"],
    ),
    "first-data-row-is-row-2": (
        HEADER + "B2,120.83,32.02,nope,2024-05-01 10:00,\n" + GOOD,
        ["row 2:", "unknown category 'nope'"],
    ),
    "non-numeric-coordinate": (
        HEADER + GOOD + "B2,abc,32.02,litter,2024-05-01 10:00,\n",
        ["row 3", "non-numeric lon"],
    ),
    "comma-decimal": (
        HEADER + GOOD + 'B2,120.83,"32,02",litter,2024-05-01 10:00,\n',
        ["row 3", "comma decimal in lat"],
    ),
    "zero-zero": (
        HEADER + GOOD + "B2,0,0,litter,2024-05-01 10:00,\n",
        ["row 3", "coordinates are 0,0"],
    ),
    "out-of-range": (
        HEADER + GOOD + "B2,200.5,32.02,litter,2024-05-01 10:00,\n",
        ["row 3", "coordinates out of range"],
    ),
    "swapped": (
        HEADER + GOOD + "B2,32.02,120.83,litter,2024-05-01 10:00,\n",  # lat/lon swapped
        ["row 3", "latitude and longitude look swapped (use --fix-swapped)"],
    ),
    "malformed-time": (
        HEADER + GOOD + "B2,120.83,32.02,litter,2024-13-45 10:00,\n",
        ["row 3", "malformed time in found_at"],
    ),
    "missing-time": (
        HEADER + GOOD + "B2,120.83,32.02,litter,,\n",
        ["row 3", "missing found_at"],
    ),
    "duplicate-id-in-file": (
        HEADER + GOOD + "B1,120.83,32.02,litter,2024-05-01 11:00,\n",
        ["row 3", "duplicate id in file: 'B1' (also row 2)"],
    ),
    "unknown-point-code": (
        HEADER + GOOD + "B2,120.83,32.02,litter,2024-05-01 10:00,NOPE\n",
        ["row 3", "unknown point code 'NOPE'"],
    ),
    "several-bad-rows": (
        HEADER + GOOD + "B2,abc,32.02,litter,2024-05-01 10:00,\nB3,0,0,litter,2024-05-01,\n",
        ["row 3", "non-numeric lon", "2 bad rows in all"],
    ),
    "missing-required-column": (
        "id,lon,lat,found_at\nB1,120.82,32.02,2024-05-01 10:00\n",
        ["missing required column(s): category"],
    ),
    "empty-file": ("", ["empty file"]),
    "header-only": (HEADER, ["no data rows"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_strict_mode_refuses_bad_file_and_writes_nothing(city, tmp_path, case):
    text, fragments = BAD_FILES[case]
    ingest_file(city, write_csv(tmp_path / "earlier.csv", SURVEY))  # tables are not empty
    before = table_counts(city)
    path = write_csv(tmp_path / "bad.csv", text)
    with pytest.raises(IngestError) as excinfo:
        ingest_file(city, path, IngestOptions(strict=True))
    for message in (str(excinfo.value), excinfo.value.message("en")):
        assert message.startswith(str(path)) and "\n" not in message
    for fragment in fragments:
        message = message_for(excinfo.value, fragment)
        assert fragment in message, message
    after = table_counts(city)
    assert after["problems"] == before["problems"]
    assert after["ingest_batches"] == before["ingest_batches"]
    assert after == before


def test_non_strict_mode_writes_good_rows_and_reports_bad_ones(city, tmp_path):
    text = HEADER + GOOD + "B2,abc,32.02,litter,2024-05-01 10:00,\n"
    result = ingest_file(city, write_csv(tmp_path / "s.csv", text), IngestOptions(strict=False))
    assert result.accepted == 1
    assert [(r.row, r.reason_en) for r in result.rejects] == [(3, "non-numeric lon")]
    assert set(_problems(city)) == {"B1"}


def test_unknown_encoding_refused(city, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(
        b"id,lon,lat,category,found_at\nX\xff\xfe\x80,120.82,32.02,litter,2024-05-01\n"
    )
    before = table_counts(city)
    with raises_msg(IngestError, "unknown encoding"):
        ingest_file(city, path)
    assert table_counts(city) == before


def test_chinese_headers(city, tmp_path):
    csv = "编号,经度,纬度,问题类别,发现时间\nC1,120.82,32.02,暴露垃圾/环境卫生差,2024-05-01 08:00\n"
    ingest_file(city, write_csv(tmp_path / "zh.csv", csv, bom=True))
    row = _problems(city)["C1"]
    assert (row.category, row.found_at) == ("litter", datetime(2024, 5, 1, 0, 0))
