"""A hand-made inspection sheet without a time column: accepted with the ingest time
(or ``found_at``) as the found time and counted as ``found_at_defaulted``; refused with
``strict``; a time cell that is present but malformed is still a row error."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from geo.access.audit import utcnow
from geo.core.errors import IngestError, InvalidParameterError
from geo.core.text import en
from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.ingest.rows import explicit_found_at
from geo.storage.models import Problem
from tests.helpers import load_tiny_city, table_counts, write_csv

NO_TIME = "编号,经度,纬度,问题类别\nA1,120.82,32.02,小广告\nA2,120.91,32.03,暴露垃圾\n"


@pytest.fixture
def city(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    return engine


def _found(engine) -> dict[str, datetime]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Problem.external_id, Problem.found_at))
        return {external_id: found_at for external_id, found_at in rows}


def test_no_time_column_takes_the_ingest_time(city, tmp_path) -> None:
    before = utcnow().replace(microsecond=0)
    result = ingest_file(city, write_csv(tmp_path / "s.csv", NO_TIME), IngestOptions())
    after = utcnow()
    assert (result.accepted, result.rejected, result.found_at_defaulted) == (2, 0, 2)
    assert result.to_dict()["found_at_defaulted"] == 2
    assert any("no time column: found time = ingest time" in en(n) for n in result.notes)
    assert any("文件没有时间列，发现时间取导入时间" in n for n in result.notes)
    found = _found(city)
    assert set(found) == {"A1", "A2"}
    assert all(before <= t <= after for t in found.values())


def test_found_at_option_sets_it(city, tmp_path) -> None:
    when = explicit_found_at("2024-05-01 10:00", "Asia/Shanghai", utcnow())
    assert when == datetime(2024, 5, 1, 2, 0)
    options = IngestOptions(found_at=when)
    result = ingest_file(city, write_csv(tmp_path / "s.csv", NO_TIME), options)
    assert result.found_at_defaulted == 2 and not any("ingest time" in en(n) for n in result.notes)
    assert set(_found(city).values()) == {datetime(2024, 5, 1, 2, 0)}


def test_found_at_fills_empty_cells_but_a_malformed_time_stays_an_error(city, tmp_path) -> None:
    text = (
        "id,lon,lat,category,found_at\n"
        "B1,120.82,32.02,litter,2024-05-02 09:00\n"
        "B2,120.83,32.02,litter,\n"
        "B3,120.84,32.02,litter,五月一日上午\n"
    )
    options = IngestOptions(found_at=datetime(2024, 5, 1, 2, 0))
    result = ingest_file(city, write_csv(tmp_path / "s.csv", text), options)
    assert (result.accepted, result.found_at_defaulted) == (2, 1)
    assert [(r.row, r.reason_en) for r in result.rejects] == [(4, "malformed time in found_at")]
    assert _found(city)["B2"] == datetime(2024, 5, 1, 2, 0)


def test_empty_cell_without_found_at_is_still_missing(city, tmp_path) -> None:
    text = (
        "id,lon,lat,category,found_at\nB1,120.82,32.02,litter,2024-05-02\nB2,120.83,32.02,litter,\n"
    )
    result = ingest_file(city, write_csv(tmp_path / "s.csv", text), IngestOptions())
    assert result.found_at_defaulted == 0
    assert [(r.row, r.reason_en) for r in result.rejects] == [(3, "missing found_at")]


def test_strict_refuses_a_file_without_time_and_writes_nothing(city, tmp_path) -> None:
    before = table_counts(city)
    path = write_csv(tmp_path / "sheet.csv", NO_TIME)
    with pytest.raises(IngestError) as info:
        ingest_file(city, path, IngestOptions(strict=True))
    message = str(info.value)
    assert "sheet.csv" in message and "缺少时间列" in message and "--found-at" in message
    assert "no time column" in info.value.message("en")
    assert table_counts(city) == before
    # an explicit found time is not a default: strict accepts it
    result = ingest_file(city, path, IngestOptions(strict=True, found_at=datetime(2024, 5, 1)))
    assert result.accepted == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("5/1 morning", "--found-at '5/1 morning': malformed time"),
        ("", "malformed time"),
        ((datetime.now() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M"), "in the future"),
    ],
)
def test_bad_found_at_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        explicit_found_at(text, "Asia/Shanghai", utcnow())
    assert fragment in info.value.message("en")
