"""Survey files as they arrive in the wild: bad input, rejects, dry runs, idempotency,
atomicity (a killed ingest). Coordinates, linking and progress: test_ingest_places.py.

Every bad-input case checks the message and that the database did not change.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import IngestError, InvalidParameterError
from geo.core.text import en
from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.storage.models import IngestBatch, Problem
from tests.helpers import (
    load_tiny_city,
    message_for,
    raises_msg,
    table_counts,
    write_csv,
)
from tests.helpers import write_geojson as write_features

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "data" / "surveys"
HEADER = "id,lon,lat,category,found_at,description\n"
GOOD = [
    "G1,120.82,32.02,litter,2024-05-01 10:00,菜场门口\n",
    "G2,120.91,32.03,illegal_ads,2024-05-01 11:00,电线杆\n",
    "G3,120.96,32.01,disorderly_parking,2024-05-01 12:00,人行道\n",
]


@pytest.fixture
def city(engine, tmp_path):
    load_tiny_city(engine, tmp_path)
    ingest_file(engine, write_csv(tmp_path / "earlier.csv", HEADER + GOOD[0]), _opts("old"))
    return engine


def _opts(source: str = "survey", **kw) -> IngestOptions:
    return IngestOptions(source=source, **kw)


def _ids(engine) -> set[str]:
    with so.Session(engine) as session:
        return set(session.scalars(sa.select(Problem.external_id)))


# --- bad input: message, and nothing written ------------------------------------------------


def _xlsx_named_csv(tmp_path: Path) -> Path:
    path = tmp_path / "really.csv"
    path.write_bytes((SAMPLES / "kobo.xlsx").read_bytes())
    return path


def _sparse(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(size)  # sparse: 2 GB on paper, nothing on disk
    return path


BAD = {
    "empty-file": (lambda p: write_csv(p / "e.csv", ""), {}, ["empty file"]),
    "header-only": (lambda p: write_csv(p / "h.csv", HEADER), {}, ["no data rows"]),
    "blank-lines-only": (lambda p: write_csv(p / "b.csv", HEADER + "\n,,,,,\n\n"), {}, ["no data"]),
    "binary-garbage": (
        lambda p: _bytes(p / "g.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff"),
        {},
        ["binary file, not a survey table"],
    ),
    "legacy-xls": (
        lambda p: _bytes(p / "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64),
        {},
        ["legacy .xls workbook: save it as .xlsx or CSV"],
    ),
    "csv-that-is-really-xlsx": (
        _xlsx_named_csv,
        {"format": "csv"},
        ["the file holds XLSX, not CSV (--format csv)"],
    ),
    "unknown-encoding": (
        lambda p: _bytes(
            p / "u.csv", HEADER.encode() + b"X1,120.82,32.02,litter,2024-05-01,\xff\xfe\x80\xff\n"
        ),
        {},
        ["unknown encoding", "--encoding"],
    ),
    "wrong-encoding-given": (
        lambda p: _bytes(
            p / "w.csv", (HEADER + "W1,120.82,32.02,litter,2024-05-01,垃圾\n").encode("gbk")
        ),
        {"encoding": "utf-8"},
        ["not utf-8"],
    ),
    "missing-coordinate-columns": (
        lambda p: write_csv(
            p / "m.csv", "编号,地址,问题类别,发现时间\nM1,东门路,litter,2024-05-01\n"
        ),
        {},
        ["missing required column(s): lon, lat", "经度"],
    ),
    "all-rows-bad": (
        lambda p: write_csv(
            p / "a.csv", HEADER + "B1,abc,32.02,litter,2024-05-01,\nB2,0,0,litter,2024-05-01,\n"
        ),
        {},
        [
            "no usable row, all 2 rows rejected",
            "row 2: non-numeric lon",
            "第 2 行: 坐标不是数字",
        ],
    ),
    "one-bad-row-strict": (
        lambda p: write_csv(p / "s.csv", HEADER + GOOD[1] + "B2,120.83,32.02,乱扔,2024-05-01,\n"),
        {"strict": True},
        [
            "第 3 行: 未知的问题类别 '乱扔'，是否为：暴露垃圾/环境卫生差？",
            "row 3: unknown category '乱扔'",
        ],
    ),
    "two-gigabytes": (
        lambda p: _sparse(p, 2 * 2**30),
        {"max_bytes": 1024 * 2**20},
        ["2,048 MB > 1,024 MB", "file too large"],
    ),
    "geojson-all-lines": (
        lambda p: write_features(
            p / "l.geojson",
            [
                {
                    "type": "Feature",
                    "properties": {"category": "litter", "found_at": "2024-05-01"},
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[120.81, 32.01], [120.82, 32.02]],
                    },
                }
            ],
        ),
        {},
        ["第 1 要素: 几何类型为", "feature 1: geometry is a LineString", "problems must be points"],
    ),
    "mapping-to-missing-header": (
        lambda p: write_csv(p / "x.csv", HEADER + GOOD[1]),
        {"mapping": {"category": "问题小类"}},
        ["--map category=问题小类", "no such column"],
    ),
    "missing-file": (lambda p: p / "nope.csv", {}, ["file not found"]),
}


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_clear_message_and_nothing_written(city, tmp_path, case) -> None:
    make, options, fragments = BAD[case]
    path = make(tmp_path)
    before = table_counts(city)
    with pytest.raises(IngestError) as excinfo:
        ingest_file(city, path, _opts(**options))
    for fragment in [str(path), *fragments]:
        message = message_for(excinfo.value, fragment)
        assert fragment in message, message
    assert excinfo.value.message("en").startswith(str(path))
    assert str(excinfo.value).startswith(str(path))
    assert "\n" not in message
    assert table_counts(city) == before


def test_unknown_crs_refused_before_reading(city, tmp_path) -> None:
    before = table_counts(city)
    with raises_msg(InvalidParameterError, "unknown coordinate system 'mars'"):
        ingest_file(city, write_csv(tmp_path / "s.csv", HEADER + GOOD[1]), _opts(crs="mars"))
    assert table_counts(city) == before


def test_csv_named_file_holding_xlsx_is_read_as_xlsx(city, tmp_path) -> None:
    result = ingest_file(city, _xlsx_named_csv(tmp_path))
    assert (result.format, result.accepted) == ("xlsx", 3)
    assert any("named .csv but holds XLSX" in en(note) for note in result.notes)


# --- mixed files, rejects and the report ------------------------------------------------------


MIXED = (
    HEADER
    + GOOD[1]
    + "B1,abc,32.02,litter,2024-05-01 10:00,坐标错\n"
    + GOOD[2]
    + 'B2,"120,83",32.02,litter,2024-05-01 10:00,逗号\n'
    + 'B3,120.84,32.02,乱扔东西,2024-05-01 10:00,"=HYPERLINK(""http://x"",""y"")"\n'
    + "G2,120.85,32.02,litter,2024-05-01 10:00,重复\n"
    + "B4,120.86,32.02,litter,,没时间\n"
    + "B5,120.87,32.02,litter,2024-05-01 10:00,东门,北门\n"
)


def test_mixed_file_accepts_good_rows_and_reports_bad_ones(city, tmp_path) -> None:
    before = table_counts(city)
    report = tmp_path / "out" / "rejects.csv"
    result = ingest_file(city, write_csv(tmp_path / "mixed.csv", MIXED), _opts(rejects_path=report))
    assert (result.rows, result.accepted, result.rejected) == (8, 2, 6)
    assert [(r.row, r.reason_en) for r in sorted(result.rejects, key=lambda r: r.row)] == [
        (3, "non-numeric lon"),
        (5, "comma decimal in lon"),
        (
            6,
            "unknown category '乱扔东西', did you mean: Exposed litter / poor sanitation (litter)?",
        ),
        (7, "duplicate id in file: 'G2' (also row 2)"),
        (8, "missing found_at"),
        (9, "7 cells for 6 headers (an unquoted separator?)"),
    ]
    by_reason = {(str(k), k.en): n for k, n in result.rejected_by_reason().items()}
    assert by_reason[("坐标不是数字", "non-numeric lon")] == 1
    assert _ids(city) == {"G1", "G2", "G3"}
    assert table_counts(city)["problems"] == before["problems"] + 2

    raw = report.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows the Chinese
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["行号 row", "原因", "reason", "编号 id", *HEADER.strip().split(",")]
    assert rows[1][:4] == ["3", "坐标不是数字", "non-numeric lon", "B1"]
    assert rows[1][5:7] == ["abc", "32.02"]
    assert rows[3][-1] == '\'=HYPERLINK("http://x","y")'  # never a live formula in Excel

    with so.Session(city) as session:
        batch = session.scalars(sa.select(IngestBatch).order_by(IngestBatch.id.desc())).first()
    assert batch is not None and batch.id == result.batch_id
    assert (batch.rows_total, batch.accepted, batch.rejected) == (8, 2, 6)
    assert batch.reject_reasons["缺少发现时间 / missing found_at"] == 1
    json.dumps(result.to_dict())  # serialisable for the HTTP upload


def test_rejects_report_written_when_the_file_is_refused(city, tmp_path) -> None:
    report = tmp_path / "rejects.csv"
    path = write_csv(tmp_path / "bad.csv", HEADER + "B1,abc,32.02,litter,2024-05-01,\n")
    with pytest.raises(IngestError):
        ingest_file(city, path, _opts(rejects_path=report))
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith("2,坐标不是数字,non-numeric lon,B1")


def test_formula_text_in_csv_stored_as_text(city, tmp_path) -> None:
    text = HEADER + 'F1,120.82,32.02,litter,2024-05-01,"=HYPERLINK(""http://x"",""y"")"\n'
    ingest_file(city, write_csv(tmp_path / "f.csv", text))
    with so.Session(city) as session:
        stored = session.scalar(sa.select(Problem.description).where(Problem.external_id == "F1"))
    assert stored == '=HYPERLINK("http://x","y")'


def test_dry_run_reports_and_writes_nothing(city, tmp_path) -> None:
    before = table_counts(city)
    result = ingest_file(city, write_csv(tmp_path / "m.csv", MIXED), _opts(dry_run=True))
    assert (result.accepted, result.rejected, result.batch_id, result.dry_run) == (2, 6, None, True)
    assert table_counts(city) == before


def test_duplicate_ids_across_chunks(city, tmp_path) -> None:
    text = HEADER + "".join(GOOD) + "G1,120.83,32.02,litter,2024-05-02,again\n"
    result = ingest_file(city, write_csv(tmp_path / "d.csv", text), _opts("new", chunk_rows=2))
    assert result.accepted == 3
    assert [(r.row, r.reason_en) for r in result.rejects] == [
        (5, "duplicate id in file: 'G1' (also row 2)")
    ]


def test_title_row_above_the_header_and_semicolons(city, tmp_path) -> None:
    text = (
        "2024年5月暗访问题清单;;;;;\n"
        + HEADER.replace(",", ";")
        + GOOD[1].replace(",", ";")
        + "X1;abc;32.02;litter;2024-05-01;\n"
    )
    result = ingest_file(city, write_csv(tmp_path / "t.csv", text))
    assert result.accepted == 1
    assert [(r.row, r.reason_en) for r in result.rejects] == [(4, "non-numeric lon")]


def test_nul_characters_in_cells_are_rejected_by_row(city, tmp_path) -> None:
    # PostgreSQL text cannot hold NUL: the row is refused with its number, never written.
    # (A NUL in the first 8 KB makes the whole file "binary"; this one comes later.)
    long = GOOD[1].replace("电线杆", "长" * 5000)
    text = HEADER + long + "N1,120.82,32.02,litter,2024-05-01 10:00,坏\x00字节\n"
    before = table_counts(city)
    result = ingest_file(city, write_csv(tmp_path / "nul.csv", text), _opts(dry_run=True))
    assert [(r.row, r.reason_en) for r in result.rejects] == [(3, "NUL character in description")]
    assert table_counts(city) == before
    result = ingest_file(city, write_csv(tmp_path / "nul.csv", text))
    assert result.accepted == 1 and "N1" not in _ids(city)


# --- idempotency and atomicity --------------------------------------------------------------


def test_overlapping_later_export_adds_only_new_rows(city, tmp_path) -> None:
    first = ingest_file(city, SAMPLES / "kobo.csv", _opts("kobo"))
    assert first.accepted == 3
    later = (SAMPLES / "kobo.csv").read_text(encoding="utf-8").splitlines()
    extra = later[1].replace(
        "8e1c2f0a-3b4d-4c5e-9f60-718293a4b5c6", "ffffffff-0000-4000-8000-000000000001"
    )
    path = tmp_path / "kobo_later.csv"
    path.write_text("\n".join([*later, extra]) + "\n", encoding="utf-8")
    second = ingest_file(city, path, _opts("kobo"))
    assert (second.accepted, second.duplicates, second.rejected) == (1, 3, 0)


KILLER = """
import os, signal, sys
sys.path.insert(0, {root!r})
from geo.storage.db import make_engine
from geo.ingest.pipeline import IngestOptions, ingest_file

def die(done, total):
    os.kill(os.getpid(), signal.SIGKILL)  # mid-batch: the first chunk is already written

ingest_file(make_engine({url!r}), {path!r}, IngestOptions(chunk_rows=2, progress=die))
"""


def test_killed_ingest_leaves_nothing_and_rerun_completes(city, tmp_path) -> None:
    path = write_csv(tmp_path / "k.csv", HEADER + "".join(GOOD[1:]) + GOOD[0].replace("G1", "G4"))
    before = table_counts(city)
    url = city.url.render_as_string(hide_password=False)
    script = KILLER.format(root=str(ROOT), url=url, path=str(path))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()
    city.dispose()  # forget pooled connections; the killed writer's are gone
    assert table_counts(city) == before
    result = ingest_file(city, path)
    assert (result.accepted, result.duplicates) == (3, 0)
    assert {"G2", "G3", "G4"} <= _ids(city)
