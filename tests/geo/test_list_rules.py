"""The red and black list rules per level (data/rankings.toml, geo/reports/list_rules.py):
the shipped file, a level overriding only what it names, and bad files refused with a
message naming the file and the table."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from geo.core.errors import InvalidParameterError
from geo.reports.list_rules import ListRule, default_list_rules, load_list_rules


def test_the_shipped_rules() -> None:
    rules = default_list_rules()
    assert rules.default == ListRule(3, Fraction(9, 10), Fraction(4, 5))
    assert rules.rule("district") == ListRule(2, Fraction(9, 10), Fraction(4, 5))
    assert rules.rule("grid").size == 10
    assert rules.rule("street") == rules.rule("unit") == rules.default


def test_a_level_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "rankings.toml"
    path.write_text(
        "[default]\nsize = 5\nred_min_on_time = 0.95\n\n[street]\nblack_max_closure = 0.6\n",
        encoding="utf-8",
    )
    rules = load_list_rules(path)
    # 0.95 is kept exactly (19/20), not as the float 0.9499999…
    assert rules.default == ListRule(5, Fraction(19, 20), Fraction(4, 5))
    assert rules.rule("street") == ListRule(5, Fraction(19, 20), Fraction(3, 5))


BAD = [
    ("[default]\nsize = 3\nred_min = 0.9\n", "[default] may only hold"),
    ("[grid]\nsize = -1\n", "[grid] size must be 0–1000"),
    ("[grid]\nsize = 2.5\n", "[grid] size must be 0–1000"),
    ("[street]\nred_min_on_time = 90\n", "[street] rates must be numbers from 0 to 1"),
    ("[street]\nblack_max_closure = true\n", "[street] rates must be numbers from 0 to 1"),
    ("[street]\nblack_max_closure = '0.8'\n", "[street] rates must be numbers from 0 to 1"),
    ("street = 3\n", "[street] may only hold"),
    ("[default\nsize = 3\n", "cannot read the list rules"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_rules_are_refused_with_a_message(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rankings.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidParameterError) as raised:
        load_list_rules(path)
    english = raised.value.message("en")
    assert message in english and str(path) in english
    assert "rankings.toml" in str(raised.value)  # the Chinese text names it too


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        load_list_rules(tmp_path / "none.toml")
    assert "无法读取排名规则" in str(raised.value)
