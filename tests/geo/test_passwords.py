"""The password policy (issue 19, item 3): long enough, not common, not a pattern, not
the username; the refusal says why, in both languages."""

from __future__ import annotations

import pytest

from geo.access.passwords import MIN_PASSWORD, check_password, common_passwords, weakness
from geo.core.errors import InvalidParameterError
from geo.core.text import in_lang
from tests.helpers import TEST_PASSWORD


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("password", "at least 12"),
        ("12345678", "at least 12"),
        (" " * 8, "at least 12"),
        ("aaaaaaaa", "at least 12"),
        ("qwertyui", "at least 12"),
        ("", "at least 12"),
        (" " * 12, "repeated"),
        ("a" * 20, "repeated"),
        ("abcabcabcabc", "repeated"),
        ("5201314" * 2, "repeated"),
        ("qwertyuiopasdf", "keyboard or number run"),
        ("1234567890123", "keyboard or number run"),
        ("0987654321098", "keyboard or number run"),
        ("2wsx3edc4rfv5tgb", "keyboard or number run"),
        ("abcdefghijklm", "keyboard or number run"),
        ("123456789abc", "very common"),
        ("qwertyuiop123", "very common"),
        ("1qaz2wsx3edc4rfv", "very common"),
        ("woaini1314woaini", "very common"),
        ("ILOVEYOU1314", "very common"),
        ("wangfang-secret-9", "username"),
        ("my WANGFANG pass", "username"),
        ("x" * 201, "longer than"),
        # dressed up: a common word, run or repeat with a few digits/symbols or look-alikes
        ("password1234", "digits or symbols added"),
        ("Password1234!", "digits or symbols added"),
        ("P@ssw0rd2024", "digits or symbols added"),
        ("Admin@2024!!", "digits or symbols added"),
        ("iloveyou1234", "digits or symbols added"),
        ("woaini123456", "digits or symbols added"),
        ("zxcvbnm12345", "digits or symbols added"),
        ("civicgrid2024", "digits or symbols added"),
        ("Aa123456789!", "digits or symbols added"),
        ("1234 5678 90ab", "digits or symbols added"),
        ("aaaaaaaaaaab", "digits or symbols added"),
        ("111111111112", "digits or symbols added"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    with pytest.raises(InvalidParameterError) as excinfo:
        check_password(password, "wangfang")
    assert why in excinfo.value.message("en")
    assert in_lang(excinfo.value, "zh") != excinfo.value.message("en")  # Chinese too


@pytest.mark.parametrize(
    "password",
    [
        TEST_PASSWORD,
        "correct horse battery staple",
        "plum river stone",  # not 4 words, but 16 characters
        "tea-pot-sun-map",  # a 4-word passphrase of 15 characters
        "城管巡查网格问题整改闭环要快",
        "J7#kq2!vLp9x",
        "password83517290",  # a common word, but 8 digits nobody guesses
        "dragon-fire-77",
        "Zhang.San.1990",
    ],
)
def test_good_passwords_pass(password: str) -> None:
    assert weakness(password, "wangfang") is None


def test_short_passphrases_of_four_words_pass() -> None:
    assert len("so we go up") < MIN_PASSWORD
    assert weakness("so we go up", "wangfang") is None
    assert weakness("a b c d e f", "wangfang") is not None  # words of one letter


def test_the_list_is_shipped_and_large() -> None:
    words = common_passwords()
    assert len(words) >= 10_000
    assert {"123456", "5201314", "woaini1314", "qwertyuiop", "1qaz2wsx", "password"} <= words
