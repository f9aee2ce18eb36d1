"""The weekly bulletin: its figures, and a PDF whose text (Chinese) can be extracted."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from geo.core.periods import parse_period
from geo.core.taxonomy_file import default_taxonomy
from geo.reports import bulletin
from geo.storage.db import transaction
from tests.stats_data import load_stats_city

AFTER = datetime(2026, 12, 1)


@pytest.fixture
def city(sqlite_engine, tmp_path: Path):
    load_stats_city(sqlite_engine, tmp_path)
    return sqlite_engine


def test_bulletin_figures(city) -> None:
    with transaction(city, write=False) as session:
        b = bulletin.build_bulletin(
            session, parse_period("2026-W47"), default_taxonomy(), now=AFTER
        )
    # found P1 P2 P3 P6 P7 Q1; closed P1 P2 Q1; overdue P3 P5 (P4 rectified in time);
    # open P3..P7
    assert b.totals == {"found": 6, "closed": 3, "unresolved": 5, "overdue": 2}
    assert b.rising[0] == {"category": "暴露垃圾/环境卫生差", "now": 3, "before": 0, "rise": 3}
    unit = b.overdue_units[0]
    assert unit["unit"] == "东门街道办事处" and unit["count"] == 2
    assert [i["days"] for i in unit["items"]] == [12, 3]
    district = dict(b.lists)["district"]
    assert list(district.red["name"]) == ["枫桥区"] and list(district.black["name"]) == ["云溪区"]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_bulletin_pdf_has_chinese_text(city, tmp_path: Path) -> None:
    out = tmp_path / "w47.pdf"
    with transaction(city, write=False) as session:
        bulletin.write_bulletin(
            session, parse_period("2026-W47"), out, default_taxonomy(), now=AFTER
        )
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    text = "".join(text.split())  # letter-spaced titles come out with spaces
    assert "文明城市创建工作周通报" in text and "东门街道办事处" in text and "红榜" in text
