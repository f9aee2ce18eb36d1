"""Survey files in the wild, where rows are: coordinates (swapped, BD-09, far outside),
linking to inspection points, progress, odd encodings and headers.

Every bad-input case checks the message and that the database did not change.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.areas.points import load_points
from geo.core.crs import wgs84_to_bd09
from geo.core.errors import IngestError
from geo.ingest.pipeline import ingest_file
from geo.storage.models import Problem
from tests.geo.test_ingest_wild import GOOD, HEADER, _opts
from tests.helpers import box_feature, load_tiny_city, point_feature, table_counts, write_csv
from tests.helpers import write_geojson as write_features


@pytest.fixture
def city(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    ingest_file(engine, write_csv(tmp_path / "earlier.csv", HEADER + GOOD[0]), _opts("old"))
    return engine


# --- coordinates --------------------------------------------------------------------------


SWAPPED = HEADER + "S1,32.02,120.82,litter,2024-05-01,颠倒\n" + GOOD[1]


def test_swapped_coordinates_rejected_with_reason(city, tmp_path) -> None:
    result = ingest_file(city, write_csv(tmp_path / "s.csv", SWAPPED))
    assert [(r.row, r.reason_en) for r in result.rejects] == [
        (2, "latitude and longitude look swapped (use --fix-swapped)")
    ]


def test_swapped_coordinates_fixed_on_request(city, tmp_path) -> None:
    result = ingest_file(city, write_csv(tmp_path / "s.csv", SWAPPED), _opts(fix_swapped=True))
    assert (result.accepted, result.swapped_fixed, result.rejects) == (2, 1, [])
    with so.Session(city) as session:
        row = session.scalars(sa.select(Problem).where(Problem.external_id == "S1")).one()
    assert (row.lon, row.lat, row.outside) == (120.82, 32.02, False)


def test_swap_that_does_not_land_in_the_city_is_just_out_of_range(city, tmp_path) -> None:
    text = HEADER + "S1,45.0,100.0,litter,2024-05-01,\n" + GOOD[1]
    result = ingest_file(city, write_csv(tmp_path / "s.csv", text), _opts(fix_swapped=True))
    assert [r.reason_en for r in result.rejects] == ["coordinates out of range"]


def test_bd09_input(city, tmp_path) -> None:
    blon, blat = wgs84_to_bd09(120.82, 32.02)
    text = HEADER + f"D1,{float(blon):.8f},{float(blat):.8f},litter,2024-05-01,百度坐标\n"
    result = ingest_file(city, write_csv(tmp_path / "bd.csv", text), _opts(crs="bd09"))
    assert result.crs == "bd09"
    with so.Session(city) as session:
        row = session.scalars(sa.select(Problem).where(Problem.external_id == "D1")).one()
    assert row.lon == pytest.approx(120.82, abs=2e-7) and row.lat == pytest.approx(32.02, abs=2e-7)


def test_far_outside_flagged_but_kept(city, tmp_path) -> None:
    text = (
        HEADER + "F1,125.00,32.00,litter,2024-05-01,城外\n" + "F2,121.01,32.02,litter,2024-05-01,\n"
    )
    result = ingest_file(city, write_csv(tmp_path / "f.csv", text))
    assert (result.accepted, result.outside, result.far_outside, result.far_rows) == (2, 2, 1, [2])


# --- linking ------------------------------------------------------------------------------


@pytest.fixture
def points(city, tmp_path):
    features = [
        point_feature(120.8200, 32.0200, code="K1", name="东门小吃店", kind="small_restaurant"),
        box_feature(
            120.9100, 32.0300, 120.9110, 32.0310, code="M1", name="北岭市场", kind="market"
        ),
    ]
    load_points(city, write_features(tmp_path / "points.geojson", features))
    with so.Session(city) as session:
        rows = session.execute(sa.text("SELECT code, id FROM inspection_points")).all()
    return dict(rows)


def _point_ids(engine) -> dict[str, int | None]:
    with so.Session(engine) as session:
        return dict(session.execute(sa.select(Problem.external_id, Problem.point_id)).all())


def test_nearest_point_within_distance(city, points, tmp_path) -> None:
    text = (
        HEADER
        + "N1,120.8203,32.0200,litter,2024-05-01,约 28 米\n"  # 0.0003° lon ≈ 28 m
        + "N2,120.8210,32.0200,litter,2024-05-01,约 94 米\n"
        + "N3,120.9105,32.0305,litter,2024-05-01,市场内\n"
    )
    result = ingest_file(city, write_csv(tmp_path / "n.csv", text))
    ids = _point_ids(city)
    assert (ids["N1"], ids["N2"], ids["N3"]) == (points["K1"], None, points["M1"])
    assert result.linked == 2


def test_link_distance_option_and_point_code(city, points, tmp_path) -> None:
    text = (
        "id,lon,lat,category,found_at,point_code\n"
        "N2,120.8210,32.0200,litter,2024-05-01,\n"
        "N4,120.9600,32.0300,litter,2024-05-01,K1\n"
    )
    ingest_file(city, write_csv(tmp_path / "n.csv", text), _opts(link_distance_m=120))
    ids = _point_ids(city)
    assert (ids["N2"], ids["N4"]) == (points["K1"], points["K1"])
    off = HEADER + "N5,120.8203,32.0200,litter,2024-05-01,\n"
    ingest_file(city, write_csv(tmp_path / "o.csv", off), _opts(link_distance_m=0))
    assert _point_ids(city)["N5"] is None


# --- progress -----------------------------------------------------------------------------


def test_progress_reports_bytes_read(city, tmp_path) -> None:
    rows = "".join(f"P{i},120.8{i % 9},32.02,litter,2024-05-01,\n" for i in range(50))
    path = write_csv(tmp_path / "p.csv", HEADER + rows)
    calls: list[tuple[int, int]] = []
    ingest_file(city, path, _opts(chunk_rows=10, progress=lambda d, t: calls.append((d, t))))
    size = os.path.getsize(path)
    assert len(calls) == 5 and all(t == size for _, t in calls)
    assert calls[-1][0] == size and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_utf16_tab_separated_export(city, tmp_path) -> None:
    text = HEADER.replace(",", "\t") + GOOD[1].replace(",", "\t")
    path = tmp_path / "unicode.txt"
    path.write_bytes(text.encode("utf-16"))  # Excel "Unicode text": UTF-16 with BOM, tabs
    result = ingest_file(city, path)
    assert (result.format, result.encoding, result.accepted) == ("csv", "utf-16", 1)


def test_merged_header_hiding_the_coordinates(city, tmp_path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["编号", "位置", None, "问题类别", "发现时间"])
    sheet.merge_cells("B1:C1")  # one merged "位置" cell, no 经度/纬度 below it
    sheet.append(["X1", 120.82, 32.02, "litter", "2024-05-01"])
    path = tmp_path / "merged.xlsx"
    book.save(path)
    before = table_counts(city)
    with pytest.raises(IngestError) as excinfo:
        ingest_file(city, path)
    assert "missing required column(s): lon, lat" in excinfo.value.message("en")
    assert "--map lon=" in excinfo.value.message("en")
    assert table_counts(city) == before
    mapped = _opts(mapping={"lon": "位置", "lat": "column_3"})
    assert ingest_file(city, path, mapped).accepted == 1


def test_nearest_point_along_latitude(city, points, tmp_path) -> None:
    text = (
        HEADER
        + "L1,120.8200,32.0204,litter,2024-05-01,约 44 米\n"
        + "L2,120.8200,32.0205,litter,2024-05-01,约 55 米\n"
    )
    ingest_file(city, write_csv(tmp_path / "l.csv", text))
    ids = _point_ids(city)
    assert (ids["L1"], ids["L2"]) == (points["K1"], None)
