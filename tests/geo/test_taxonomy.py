"""Tests for geo.core.taxonomy: the shipped data/taxonomy.toml, resolving names and labels.
The loader's validation: test_taxonomy_file.py."""

from __future__ import annotations

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
