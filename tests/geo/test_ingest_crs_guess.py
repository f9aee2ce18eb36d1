"""The coordinate-system safety net of an ingest: rows that name an inspection point but
sit a consistent few hundred metres from it in the GCJ-02 (or BD-09) direction are
reported with the flag to use, refused with ``strict``, and never converted silently."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from geo.core.crs import wgs84_to_bd09, wgs84_to_gcj02
from geo.core.errors import IngestError
from geo.core.text import en
from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.storage.models import Problem
from tests.helpers import load_tiny_city_with_points, table_counts, write_csv

# P1 (120.82, 32.01) and P3 (120.96, 32.03) of tests.helpers.POINTS, a few metres around
TRUTH = [("P1", 120.82, 32.01), ("P3", 120.96, 32.03)] * 3
JITTER = np.linspace(-0.0001, 0.0001, len(TRUTH))


@pytest.fixture
def city(engine, tmp_path):
    load_tiny_city_with_points(engine, tmp_path)
    return engine


def _survey(tmp_path, convert=None):
    lines = ["id,lon,lat,category,found_at,点位编码"]
    for i, ((code, lon, lat), d) in enumerate(zip(TRUTH, JITTER, strict=True)):
        x, y = lon + d, lat - d
        if convert is not None:
            x, y = (float(v) for v in convert(x, y))
        lines.append(f"R{i},{x:.7f},{y:.7f},litter,2024-05-01 10:00,{code}")
    return write_csv(tmp_path / "amap.csv", "\n".join(lines) + "\n")


@pytest.mark.parametrize(("convert", "flag"), [(wgs84_to_gcj02, "gcj02"), (wgs84_to_bd09, "bd09")])
def test_amap_coordinates_read_as_wgs84_are_noticed(city, tmp_path, convert, flag) -> None:
    path = _survey(tmp_path, convert)
    result = ingest_file(city, path, IngestOptions())
    assert result.accepted == len(TRUTH)
    assert result.crs_hint is not None and f"re-run with --crs {flag}" in en(result.crs_hint)
    assert "rows naming a point code sit a median" in en(result.crs_hint)
    assert f"请用 --crs {flag} 重新运行" in result.crs_hint
    assert result.to_dict(lang="en")["crs_hint"] == en(result.crs_hint)
    with city.connect() as conn:  # never converted silently: stored as read
        lon = conn.execute(sa.select(Problem.lon).where(Problem.external_id == "R0")).scalar()
    assert lon == pytest.approx(float(convert(120.82 - 0.0001, 32.01 + 0.0001)[0]), abs=1e-6)


def test_strict_refuses_and_writes_nothing(city, tmp_path) -> None:
    before = table_counts(city)
    with pytest.raises(IngestError) as info:
        ingest_file(city, _survey(tmp_path, wgs84_to_gcj02), IngestOptions(strict=True))
    message = str(info.value)
    assert "amap.csv" in message and "坐标疑似 GCJ-02（高德/腾讯）" in message
    assert "these coordinates look like GCJ-02 (AMap/Tencent)" in info.value.message("en")
    assert "--crs gcj02" in message
    assert table_counts(city) == before


def test_right_crs_or_honest_gps_says_nothing(city, tmp_path) -> None:
    right = ingest_file(city, _survey(tmp_path, wgs84_to_gcj02), IngestOptions(crs="gcj02"))
    assert right.accepted == len(TRUTH) and right.crs_hint is None
    gps = ingest_file(city, _survey(tmp_path), IngestOptions(source="gps", strict=True))
    assert gps.accepted == len(TRUTH) and gps.crs_hint is None


def test_gcj02_rows_declared_bd09_are_noticed(city, tmp_path) -> None:
    result = ingest_file(city, _survey(tmp_path, wgs84_to_gcj02), IngestOptions(crs="bd09"))
    assert result.crs_hint is not None and "--crs gcj02" in en(result.crs_hint)
