"""geo/core/params.py: the one place that checks integers, ids, text and JSON from outside."""

from __future__ import annotations

import pytest

from geo.core.errors import InvalidParameterError
from geo.core.params import MAX_ID, as_int, check_text, int_param, load_json, record_id


@pytest.mark.parametrize(
    "text", ["1e18", "1e20", "9" * 40, str(2**63), str(2**70), "²", "١٢", "1.5", "", "x" * 10_000]
)
def test_what_is_not_a_bounded_integer(text: str) -> None:
    assert as_int(text) is None


def test_integers_and_bounds() -> None:
    assert as_int(" 42 ") == 42 and as_int("-3") == -3 and as_int(True) is None
    assert as_int("5", 1, 4) is None and as_int(7, 1, 10) == 7
    assert record_id(str(MAX_ID)) == MAX_ID and record_id(str(MAX_ID + 1)) is None
    assert record_id("0") is None and record_id("-1") is None
    assert int_param("page", None, 1, 1, 10) == 1
    with pytest.raises(InvalidParameterError) as excinfo:
        int_param("page", "1e20", 1, 1, 10)
    assert "page must be an integer from 1 to 10" in excinfo.value.message("en")
    assert "page" in str(excinfo.value)  # Chinese names the parameter too


def test_text_and_json() -> None:
    assert check_text("note", "好", 10) == "好"
    for bad in (123, ["a"], {"a": 1}, "x" * 11, "\ud800"):
        with pytest.raises(InvalidParameterError) as excinfo:
            check_text("note", bad, 10)
        assert "note" in excinfo.value.message("en")
    assert load_json(b'{"a": [1, {"b": "\\u4e2d"}]}') == {"a": [1, {"b": "中"}]}
    for raw, fragment in [
        (b"[" * 40 + b"]" * 40, "nested deeper"),
        (b'{"a": "\\ud800"}', "body.a holds invalid Unicode"),
        (b"\xed\xa0\x80", "not UTF-8"),
        (b'{"a": ', "not valid JSON"),
    ]:
        with pytest.raises(InvalidParameterError) as excinfo:
            load_json(raw)
        message = excinfo.value.message("en")
        assert fragment in message
        message.encode("utf-8")  # always encodable, whatever the input
