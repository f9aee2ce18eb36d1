"""Tests for geo.core.taxonomy: the shipped data/taxonomy.toml and the loader's validation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from geo.core.errors import CivicgridError, TaxonomyError
from geo.core.taxonomy import Category, Taxonomy
from geo.core.taxonomy_file import DEFAULT_TAXONOMY_PATH, default_taxonomy, load_taxonomy
from tests.helpers import raises_msg

KINDS = {
    "market", "back_alley", "school_surroundings", "old_residential", "residential",
    "commercial_street", "main_road", "intersection", "construction_site", "hotel",
    "internet_cafe", "small_restaurant", "public_place", "service_window",
    "practice_station", "village",
}  # fmt: skip
CATEGORIES = {
    "illegal_ads", "disorderly_parking", "non_motor_parking", "litter", "street_vending",
    "corridor_clutter", "unsafe_charging", "fire_access_blocked", "overhead_cables",
    "pet_nuisance", "public_smoking", "missing_psa", "greenbelt_damage", "broken_facility",
    "construction_dust", "traffic_violation", "food_hygiene",
}  # fmt: skip
CAMPAIGNS = {
    "psa_upgrade", "practice_station_upgrade", "main_road_management",
    "non_motor_governance", "residential_governance", "overhead_cable_governance",
    "market_environment", "pet_civility", "village_environment", "school_surroundings",
    "public_smoking_ban",
}  # fmt: skip
SCHEMES = {"civilized_city", "urban_management", "rural_environment"}


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return load_taxonomy()


# --- the shipped file -------------------------------------------------------------------


def test_default_file_has_every_section(tax: Taxonomy) -> None:
    assert set(tax.point_kinds) == KINDS
    assert set(tax.categories) == CATEGORIES
    assert set(tax.campaigns) == CAMPAIGNS
    assert set(tax.schemes) == SCHEMES
    assert (len(tax.point_kinds), len(tax.categories), len(tax.campaigns)) == (16, 17, 11)
    assert list(tax.statuses) == ["found", "assigned", "rectified", "closed", "held", "voided"]
    assert [tax.status_label(s) for s in tax.statuses] == [
        "发现",
        "已交办",
        "已整改",
        "已销号",
        "已挂账",
        "已作废",
    ]
    assert [tax.level_label(lv) for lv in tax.levels] == ["市", "区", "街道", "社区", "网格"]
    assert Path(tax.source) == DEFAULT_TAXONOMY_PATH
    assert DEFAULT_TAXONOMY_PATH.parts[-2:] == ("data", "taxonomy.toml")


def test_every_category_is_complete(tax: Taxonomy) -> None:
    for code, cat in tax.categories.items():
        assert cat.code == code
        assert cat.zh.strip() and cat.en.strip(), code
        assert isinstance(cat.deadline_days, int) and cat.deadline_days > 0, code
        assert cat.deadline_unit in ("working", "natural"), code
        assert set(cat.deductions) == SCHEMES, code
        assert all(isinstance(w, float) and 0 < w <= 5 for w in cat.deductions.values()), code
        assert cat.point_kinds and set(cat.point_kinds) <= KINDS, code


def test_category_details_follow_the_domain(tax: Taxonomy) -> None:
    assert tax.categories["illegal_ads"].zh == "小广告/乱张贴/乱涂写"
    gbt = {c: cat.gbt_code for c, cat in tax.categories.items() if cat.gbt_code}
    assert gbt == {
        "illegal_ads": "02-01",
        "disorderly_parking": "05-05",
        "non_motor_parking": "05-06",
        "litter": "01-02",
        "street_vending": "05-04",
        "construction_dust": "03-02",
    }
    days = {c: cat.deadline_days for c, cat in tax.categories.items()}
    assert days["illegal_ads"] <= 3 and days["litter"] <= 3
    assert days["disorderly_parking"] == 7
    assert 15 <= days["overhead_cables"] <= 30 and 15 <= days["broken_facility"] <= 30
    assert tax.categories["construction_dust"].point_kinds == ("construction_site",)


def test_point_kinds_geometry_and_colours(tax: Taxonomy) -> None:
    school = tax.point_kinds["school_surroundings"]
    assert (school.geometry, school.buffer_m) == ("Polygon", 200.0)
    assert [k for k, v in tax.point_kinds.items() if v.buffer_m is not None] == [
        "school_surroundings"
    ]
    expected = {
        "back_alley": "LineString",
        "main_road": "LineString",
        "market": "Polygon",
        "intersection": "Point",
        "hotel": "Point",
        "construction_site": "Polygon",
    }
    assert {k: tax.point_kinds[k].geometry for k in expected} == expected
    colours = [k.color.lower() for k in tax.point_kinds.values()]
    assert len(set(colours)) == len(colours)


def test_campaigns_and_schemes(tax: Taxonomy) -> None:
    for code, campaign in tax.campaigns.items():
        assert campaign.zh.endswith("提升行动") and campaign.en, code
        assert campaign.categories and set(campaign.categories) <= CATEGORIES, code
    assert tax.campaigns["overhead_cable_governance"].categories == ("overhead_cables",)
    assert tax.schemes["civilized_city"].zh == "全国文明城市测评"
    assert all(s.base_score == 100.0 for s in tax.schemes.values())


# --- resolving and labels ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "illegal_ads",
        " ILLEGAL_ADS ",
        "小广告/乱张贴/乱涂写",
        " 小广告/乱张贴/乱涂写\t",
        "Illegal ads / posting / graffiti",
        "illegal ADS /   posting / GRAFFITI",
    ],
)
def test_resolve_category_by_code_zh_en(tax: Taxonomy, value: str) -> None:
    assert tax.resolve_category(value).code == "illegal_ads"


def test_resolve_matches_full_width_brackets(tax: Taxonomy) -> None:
    assert tax.resolve_category("设施破损（玻璃/照明）").code == "broken_facility"
    assert tax.resolve_kind("新时代文明实践所（站）").code == "practice_station"


def test_resolve_kind_and_campaign(tax: Taxonomy) -> None:
    assert tax.resolve_kind("背街小巷").code == "back_alley"
    assert tax.resolve_kind("back alley").code == "back_alley"
    assert tax.resolve_kind("school_surroundings").buffer_m == 200.0
    assert tax.resolve_campaign("空中线缆治理提升行动").code == "overhead_cable_governance"
    assert tax.resolve_campaign("public smoking ban").code == "public_smoking_ban"
    assert tax.resolve_scheme("农村人居环境整治").code == "rural_environment"


@pytest.mark.parametrize(
    ("method", "fragment"),
    [
        ("resolve_category", "unknown category"),
        ("resolve_kind", "unknown point kind"),
        ("resolve_campaign", "unknown campaign"),
        ("resolve_scheme", "unknown evaluation scheme"),
    ],
)
def test_resolve_unknown_raises(tax: Taxonomy, method: str, fragment: str) -> None:
    with pytest.raises(TaxonomyError) as info:
        getattr(tax, method)("xyz 不存在")
    zh, en = str(info.value), info.value.message("en")
    assert "'xyz 不存在'" in zh and "未知" in zh
    assert "'xyz 不存在'" in en and fragment in en
    assert isinstance(info.value, ValueError) and isinstance(info.value, CivicgridError)


def test_resolve_does_not_cross_sections(tax: Taxonomy) -> None:
    with raises_msg(TaxonomyError, "unknown category"):
        tax.resolve_category("market")
    with raises_msg(TaxonomyError, "unknown point kind"):
        tax.resolve_kind("litter")


def test_labels(tax: Taxonomy) -> None:
    assert tax.category_label("litter") == "暴露垃圾/环境卫生差"
    assert tax.category_label("litter", "en") == "Exposed litter / poor sanitation"
    assert tax.kind_label("hotel", "en-US") == "Hotel"
    assert tax.kind_label("hotel", "zh-CN") == "宾馆酒店"
    assert tax.campaign_label("pet_civility") == "不文明养宠治理提升行动"
    assert tax.scheme_label("urban_management", "en") == "Long-term urban management assessment"
    assert tax.label("levels", "grid", "en") == "Grid"
    assert tax.point_kinds["village"].label("en") == "Village"
    with raises_msg(TaxonomyError, "unknown category: 'nope'"):
        tax.category_label("nope")


def test_categories_for_kind(tax: Taxonomy) -> None:
    codes = {c.code for c in tax.categories_for_kind("施工工地")}
    assert "construction_dust" in codes and "corridor_clutter" not in codes
    assert all(isinstance(c, Category) for c in tax.categories_for_kind("market"))


def test_default_taxonomy_is_cached_and_read_only() -> None:
    first = default_taxonomy()
    assert default_taxonomy() is first
    assert first == load_taxonomy()
    with pytest.raises(TypeError):
        first.categories["new"] = first.categories["litter"]  # type: ignore[index]
    with pytest.raises(TypeError):
        first.categories["litter"].deductions["civilized_city"] = 0.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        first.categories["litter"].deadline_days = 9  # type: ignore[misc]


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
