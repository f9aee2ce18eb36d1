"""geo/core/safety.py: formula neutralisation, safe upload names, type checks."""

from __future__ import annotations

import pytest

from geo.core.errors import UnsupportedFileError
from geo.core.safety import check_upload_type, neutralise_cell, safe_upload_name
from tests.helpers import raises_msg


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("菜场门口 =1", "菜场门口 =1"),
        ("", ""),
        (-3.5, -3.5),  # numbers stay numbers
        (None, None),
    ],
)
def test_neutralise_cell(cell, expected) -> None:
    assert neutralise_cell(cell) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("survey.csv", "survey.csv"),
        ("../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\windows\\win.ini.csv", "win.ini.csv"),
        ("/abs/path/问题 清单（五月）.csv", "问题 清单(五月).csv"),  # NFKC: ASCII brackets
        ("..", "upload"),
        ("....csv", "csv"),
        (".hidden.csv", "hidden.csv"),
        ("a\x00b\n.csv", "ab.csv"),
        ("a;rm -rf $(x).csv", "a_rm -rf _(x).csv"),
        (None, "upload"),
        ("x" * 500 + ".csv", "x" * 116 + ".csv"),
    ],
)
def test_safe_upload_name(name, expected) -> None:
    assert safe_upload_name(name) == expected
    assert "/" not in safe_upload_name(name) and "\\" not in safe_upload_name(name)


def test_upload_type_checks() -> None:
    assert check_upload_type("a.CSV", b"id,lon\n1,2\n") == ".csv"
    assert check_upload_type("a.csv", "编号,经度\n".encode("gb18030")) == ".csv"
    assert check_upload_type("a.csv", "编号".encode()[:-1]) == ".csv"  # cut mid-character
    with raises_msg(UnsupportedFileError, r"unsupported file type '\.exe'"):
        check_upload_type("a.exe", b"MZ")
    with raises_msg(UnsupportedFileError, r"\(none\)"):
        check_upload_type("noext", b"a,b")
    with raises_msg(UnsupportedFileError, r"content is not a \.csv"):
        check_upload_type("a.csv", b"\x89PNG\r\n\x1a\n\x00\x00")
    assert check_upload_type("a.xlsx", b"PK\x03\x04rest", {".xlsx": "zip"}) == ".xlsx"
    with pytest.raises(UnsupportedFileError):
        check_upload_type("a.xlsx", b"id,lon", {".xlsx": "zip"})
