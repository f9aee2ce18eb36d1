"""Tests for geo.core.taxonomy_file: a city's own taxonomy file is validated completely,
every error naming the file and the offending key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from geo.core.errors import TaxonomyError
from geo.core.taxonomy import Category, Taxonomy
from geo.core.taxonomy_file import load_taxonomy
from tests.helpers import raises_msg

# --- validation -------------------------------------------------------------------------

MINIMAL = """\
[point_kinds.market]
zh = "农贸市场"
en = "Market"
geometry = "Polygon"
color = "#1f77b4"

[point_kinds.school_surroundings]
zh = "学校周边"
en = "School surroundings"
geometry = "Polygon"
color = "#2ca02c"
buffer_m = 200

[categories.litter]
zh = "暴露垃圾"
en = "Exposed litter"
gbt_code = "01-02"
deadline_days = 1
deadline_unit = "natural"
point_kinds = ["market"]
[categories.litter.deductions]
civilized_city = 1.5
urban_management = 2.0

[categories.street_vending]
zh = "占道经营"
en = "Street vending"
deadline_days = 3
deadline_unit = "working"
point_kinds = ["market", "school_surroundings"]
[categories.street_vending.deductions]
civilized_city = 1.0
urban_management = 1.0

[campaigns.clean_up]
zh = "环境整治"
en = "Clean-up"
categories = ["litter"]

[schemes.civilized_city]
zh = "全国文明城市测评"
en = "Civilized city"
base_score = 100

[schemes.urban_management]
zh = "城市长效管理考核"
en = "Urban management"
base_score = 100
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "city_taxonomy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, f"test bug: {old!r} not in MINIMAL"
        return text.replace(old, new, 1)

    return edit


def _append(extra: str) -> Callable[[str], str]:
    return lambda text: text + "\n" + extra


def test_minimal_file_loads(tmp_path: Path) -> None:
    tax = load_taxonomy(_write(tmp_path, MINIMAL))
    assert list(tax.categories) == ["litter", "street_vending"]
    assert tax.categories["street_vending"].gbt_code is None
    assert tax.categories["street_vending"].deadline_unit == "working"
    assert tax.statuses == {} and tax.levels == {}
    assert tax.source.endswith("city_taxonomy.toml")
    assert tax.resolve_category("street VENDING").code == "street_vending"


BAD_CASES: list[tuple[str, Callable[[str], str], list[str]]] = [
    ("category missing zh", _replace('zh = "暴露垃圾"\n', ""),
     ["categories.litter.zh", "missing required key"]),
    ("kind missing en", _replace('en = "Market"\n', ""),
     ["point_kinds.market.en", "missing"]),
    ("empty label", _replace('en = "Market"', 'en = "  "'),
     ["point_kinds.market.en", "non-empty"]),
    ("unknown geometry", _replace('geometry = "Polygon"', 'geometry = "Polygone"'),
     ["point_kinds.market.geometry", "Polygone", "Point, LineString, Polygon"]),
    ("bad colour", _replace('color = "#1f77b4"', 'color = "blue"'),
     ["point_kinds.market.color", "#rrggbb"]),
    ("duplicate colour", _replace('color = "#2ca02c"', 'color = "#1F77B4"'),
     ["point_kinds.school_surroundings.color", "'market'"]),
    ("negative buffer", _replace("buffer_m = 200", "buffer_m = -5"),
     ["point_kinds.school_surroundings.buffer_m", "> 0"]),
    ("buffer on a point kind",
     _replace('geometry = "Polygon"\ncolor = "#2ca02c"', 'geometry = "Point"\ncolor = "#2ca02c"'),
     ["point_kinds.school_surroundings.buffer_m", "Polygon"]),
    ("deadline zero", _replace("deadline_days = 1", "deadline_days = 0"),
     ["categories.litter.deadline_days", "positive integer"]),
    ("deadline float", _replace("deadline_days = 1", "deadline_days = 1.5"),
     ["categories.litter.deadline_days", "positive integer", "1.5"]),
    ("deadline string", _replace("deadline_days = 1", 'deadline_days = "3"'),
     ["categories.litter.deadline_days", "positive integer"]),
    ("deadline bool", _replace("deadline_days = 1", "deadline_days = true"),
     ["categories.litter.deadline_days", "positive integer"]),
    ("deadline missing", _replace("deadline_days = 1\n", ""),
     ["categories.litter.deadline_days", "missing"]),
    ("deadline unit", _replace('deadline_unit = "natural"', 'deadline_unit = "weekdays"'),
     ["categories.litter.deadline_unit", "weekdays", "working, natural"]),
    ("gbt code format", _replace('gbt_code = "01-02"', 'gbt_code = "0102"'),
     ["categories.litter.gbt_code", "'0102'"]),
    ("unknown point kind", _replace('point_kinds = ["market"]', 'point_kinds = ["market", "moon"]'),
     ["categories.litter.point_kinds", "unknown point kind", "'moon'"]),
    ("duplicate point kind",
     _replace('point_kinds = ["market"]', 'point_kinds = ["market", "market"]'),
     ["categories.litter.point_kinds", "duplicate", "market"]),
    ("point kinds not a list", _replace('point_kinds = ["market"]', 'point_kinds = "market"'),
     ["categories.litter.point_kinds", "list of codes"]),
    ("deduction for unknown scheme",
     _replace("urban_management = 2.0", "urban_management = 2.0\ngalaxy = 1.0"),
     ["categories.litter.deductions.galaxy", "unknown evaluation scheme"]),
    ("deduction missing for a scheme", _replace("urban_management = 2.0\n", ""),
     ["categories.litter.deductions", "urban_management"]),
    ("negative deduction", _replace("civilized_city = 1.5", "civilized_city = -1.5"),
     ["categories.litter.deductions.civilized_city", ">= 0"]),
    ("deduction not a number", _replace("civilized_city = 1.5", 'civilized_city = "high"'),
     ["categories.litter.deductions.civilized_city", "number"]),
    ("deductions missing", _replace(
        "[categories.litter.deductions]\ncivilized_city = 1.5\nurban_management = 2.0\n", ""),
     ["categories.litter.deductions", "missing"]),
    ("campaign unknown category",
     _replace('categories = ["litter"]', 'categories = ["litter", "noise"]'),
     ["campaigns.clean_up.categories", "unknown category", "'noise'"]),
    ("campaign missing zh", _replace('zh = "环境整治"\n', ""),
     ["campaigns.clean_up.zh", "missing"]),
    ("scheme base score", _replace("base_score = 100", "base_score = 0"),
     ["schemes.civilized_city.base_score", "> 0"]),
    ("duplicate zh across categories", _replace('zh = "占道经营"', 'zh = "暴露垃圾"'),
     ["categories.street_vending.zh", "categories.litter.zh", "duplicates"]),
    ("duplicate en across categories (case-insensitive)",
     _replace('en = "Street vending"', 'en = " EXPOSED  Litter"'),
     ["categories.street_vending.en", "categories.litter.en"]),
    ("label equal to another code", _replace('en = "Street vending"', 'en = "litter"'),
     ["categories.street_vending.en", "categories.litter.code"]),
    ("duplicate kind labels", _replace('zh = "学校周边"', 'zh = "农贸市场"'),
     ["point_kinds.school_surroundings.zh", "point_kinds.market.zh"]),
    ("unknown key (typo)", _replace("deadline_days = 1", "deadline_days = 1\ndeadline_day = 2"),
     ["categories.litter.deadline_day", "unknown key"]),
    ("bad code", _append('[schemes.Rural-Env]\nzh = "农村"\nen = "Rural"\nbase_score = 100'),
     ["schemes.Rural-Env", "snake_case"]),
    ("entry not a table", _append('[levels]\ngrid = "网格"'),
     ["levels.grid", "must be a table"]),
    ("unknown section", _append('[colours]\nmarket = "#000000"'),
     ["colours", "unknown section"]),
    ("missing section", lambda text: text.split("[schemes.civilized_city]")[0]
     .replace("civilized_city = 1.5\nurban_management = 2.0\n", "")
     .replace("civilized_city = 1.0\nurban_management = 1.0\n", ""),
     ["schemes", "missing required section"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "fragments"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES]
)
def test_validation_errors_name_file_and_key(
    tmp_path: Path, edit: Callable[[str], str], fragments: list[str]
) -> None:
    path = _write(tmp_path, edit(MINIMAL))
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    zh, message = str(info.value), info.value.message("en")
    assert str(path) in zh and str(path) in message
    assert zh != message  # one language each
    for fragment in fragments:
        assert fragment in message


def test_toml_syntax_error_reports_file_and_line(tmp_path: Path) -> None:
    text = MINIMAL.replace('en = "Market"', 'en = "Market', 1)
    line = text.splitlines().index('en = "Market') + 1
    path = _write(tmp_path, text)
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    message = info.value.message("en")
    assert str(path) in message and "TOML" in message and f"line {line}" in message


def test_duplicate_table_is_a_syntax_error(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + '\n[campaigns.clean_up]\nzh = "x"\nen = "y"\n')
    with raises_msg(TaxonomyError, "TOML syntax error"):
        load_taxonomy(path)


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with raises_msg(TaxonomyError, r"nope\.toml"):
        load_taxonomy(missing)
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes(MINIMAL.encode("gb18030"))
    with raises_msg(TaxonomyError, "UTF-8"):
        load_taxonomy(str(gbk))


def test_constructed_taxonomy_is_checked_too() -> None:
    litter = Category("litter", "暴露垃圾", "Litter", None, 1, "natural", ("moon",), {})
    with raises_msg(TaxonomyError, r"categories\.litter\.point_kinds.*'moon'"):
        Taxonomy(point_kinds={}, categories={"litter": litter}, campaigns={}, schemes={})
