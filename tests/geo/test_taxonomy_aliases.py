"""Category synonyms: surveys written by people use everyday names (小广告, 乱停放...);
``aliases`` in the taxonomy make them match after folding width, spaces and punctuation,
an unknown name is answered with the closest categories, and an ambiguous alias is
refused when the taxonomy loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.core.errors import TaxonomyError
from geo.core.taxonomy_file import default_taxonomy, load_taxonomy
from geo.ingest.pipeline import IngestOptions, ingest_file
from tests.geo.test_taxonomy_file import MINIMAL
from tests.helpers import load_tiny_city, table_counts, write_csv


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("小广告", "illegal_ads"),
        ("乱涂写", "illegal_ads"),
        ("暴露垃圾", "litter"),
        ("占道经营", "street_vending"),
        ("店外经营", "street_vending"),
        ("飞线充电", "unsafe_charging"),
        ("电动车上楼", "unsafe_charging"),
        ("乱停放", "disorderly_parking"),
        ("共享单车乱停放", "non_motor_parking"),
        # width, spaces and punctuation do not matter
        ("小广告、乱张贴、乱涂写", "illegal_ads"),
        ("小广告 / 乱张贴 / 乱涂写", "illegal_ads"),
        ("占道经营／店外经营", "street_vending"),
        (" 飞 线 充 电 ", "unsafe_charging"),
        ("设施破损（玻璃、照明）", "broken_facility"),
        ("ILLEGAL ADS", "illegal_ads"),
    ],
)
def test_everyday_names_resolve(name: str, code: str) -> None:
    assert default_taxonomy().resolve_category(name).code == code


def test_every_part_of_a_slash_label_is_a_name() -> None:
    taxonomy = default_taxonomy()
    for category in taxonomy.categories.values():
        if "(" in category.zh:  # 设施破损(玻璃/照明): the bracket qualifies, 设施破损 is the name
            assert taxonomy.resolve_category(category.zh.split("(")[0]).code == category.code
            continue
        for part in category.zh.split("/"):
            assert taxonomy.resolve_category(part).code == category.code, part


def test_unknown_name_suggests_the_closest_categories() -> None:
    taxonomy = default_taxonomy()
    assert [c.code for c in taxonomy.suggest_categories("小广吿")][:1] == ["illegal_ads"]
    assert taxonomy.suggest_categories("xyz123") == ()
    with pytest.raises(TaxonomyError, match="illegal_ads"):
        taxonomy.resolve_category("小广吿")


CITY = MINIMAL.replace('en = "Exposed litter"\n', 'en = "Exposed litter"\naliases = ["垃圾"]\n')


def _taxonomy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "city_taxonomy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_city_adds_its_own_aliases(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(_taxonomy_file(tmp_path, CITY))
    assert taxonomy.resolve_category("垃 圾").code == "litter"


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (  # an alias two categories share
            CITY.replace('en = "Street vending"\n', 'en = "Street vending"\naliases = ["垃圾"]\n'),
            ["categories.street_vending.aliases[0]", "categories.litter.aliases[0]", "'垃圾'"],
        ),
        (  # an alias equal to another category's label, up to width and punctuation
            CITY.replace(
                'en = "Street vending"\n', 'en = "Street vending"\naliases = ["暴露　垃圾!"]\n'
            ),
            ["categories.street_vending.aliases[0]", "categories.litter.zh", "ambiguous"],
        ),
        (  # not a list of texts
            CITY.replace('aliases = ["垃圾"]', 'aliases = "垃圾"'),
            ["categories.litter.aliases", "list of non-empty texts"],
        ),
    ],
)
def test_colliding_aliases_are_refused_at_load(tmp_path: Path, text: str, fragments) -> None:
    path = _taxonomy_file(tmp_path, text)
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    message = info.value.message("en")
    assert str(path) in message and str(path) in str(info.value)
    for fragment in fragments:
        assert fragment in message, message


def test_survey_in_everyday_words_is_accepted(engine, tmp_path: Path) -> None:
    load_tiny_city(engine, tmp_path)
    survey = write_csv(
        tmp_path / "s.csv",
        "编号,经度,纬度,问题类别,发现时间\n"
        "A1,120.82,32.02,小广告,2024-05-01 10:00\n"
        "A2,120.83,32.02,暴露垃圾,2024-05-01 10:00\n"
        "A3,120.84,32.02,占道经营,2024-05-01 10:00\n"
        "A4,120.85,32.02,飞线充电,2024-05-01 10:00\n"
        "A5,120.86,32.02,乱停放,2024-05-01 10:00\n"
        "A6,120.87,32.02,小广吿,2024-05-01 10:00\n",
    )
    result = ingest_file(engine, survey, IngestOptions(source="t"))
    assert (result.accepted, result.rejected) == (5, 1)
    assert result.rejects[0].reason_zh == "未知的问题类别 '小广吿'，是否为：小广告/乱张贴/乱涂写？"
    assert (
        "did you mean: Illegal ads / posting / graffiti (illegal_ads)"
        in result.rejects[0].reason_en
    )
    assert table_counts(engine)["problems"] == 5
