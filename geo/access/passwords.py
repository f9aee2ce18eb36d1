"""The password policy: long enough, not common, not a pattern, not the username.

A password is accepted when it has at least ``MIN_PASSWORD`` (12) characters, or is a
passphrase of at least ``PASSPHRASE_WORDS`` (4) words, and it is none of: one of the
commonest passwords (``common_passwords.txt`` beside this module: Chinese users'
favourites and the top 10,000 of a public list), one character repeated (or one
group repeated, ``abcabcabcabc``), a run along the keyboard or the digits
(``qwertyuiop[]``, ``1234567890123``, ``1qaz2wsx3edc``), anything containing the
username, or one of those dressed up: mostly one character (``aaaaaaaaaaab``), or a
common word, run or repeat written in look-alikes (``p@ssw0rd``) and/or with a few
digits or symbols, a run or a year before or after it (``password1234``,
``P@ssw0rd2024``, ``woaini123456``). The refusal says which rule failed, in the
reader's language.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from geo.core.errors import InvalidParameterError
from geo.core.text import Text, tr

MIN_PASSWORD = 12
PASSPHRASE_WORDS = 4
MIN_PASSPHRASE = 10
MAX_PASSWORD = 200

_RUNS = (
    "1234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop[]\\asdfghjkl;'zxcvbnm,./",
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
    "!qaz@wsx#edc$rfv%tgb^yhn&ujm*ik,(ol.)p;/",
    "1q2w3e4r5t6y7u8i9o0p",
    "!@#$%^&*()",
    "147258369",
    "159357",
    "159753",
    "741852963",
    "963852741",
)
"""Sequences whose stretches (either way, wrapping round) make weak passwords."""


def check_password(password: str, username: str) -> None:
    """Refuse a weak ``password`` for ``username`` with ``InvalidParameterError`` saying
    why (too short, common, one repeated character, a keyboard or number run, or
    containing the username)."""
    reason = weakness(password, username)
    if reason is not None:
        raise InvalidParameterError(reason)


def weakness(password: str, username: str) -> Text | None:
    """Why ``password`` is weak for ``username`` (a bilingual Text), or None."""
    folded = password.strip().lower()
    compact = re.sub(r"[\s_.\-]+", "", folded)
    if len(password) > MAX_PASSWORD:
        return tr(f"密码不能超过 {MAX_PASSWORD} 个字符", f"password longer than {MAX_PASSWORD}")
    if len(password) < MIN_PASSWORD and not _passphrase(password):
        return tr(
            f"密码至少 {MIN_PASSWORD} 个字符（或至少 {PASSPHRASE_WORDS} 个词的短语）",
            f"password needs at least {MIN_PASSWORD} characters "
            f"(or a passphrase of at least {PASSPHRASE_WORDS} words)",
        )
    name = username.strip().lower()
    if len(name) >= 3 and (name in folded or name in compact):
        return tr("密码不能包含用户名", "password must not contain the username")
    if _repeated(compact):
        return tr(
            "密码不能是同一个字符（或同一组字符）的重复", "password is one character repeated"
        )
    if folded in common_passwords() or compact in common_passwords():
        return tr("这是最常见的密码之一，请换一个", "password is a very common one")
    if _run(compact):
        return tr("密码不能是键盘或数字的连续序列", "password is a keyboard or number run")
    if _dressed_up(compact):
        return tr(
            "密码只是常见密码（或键盘序列、重复字符）加上数字或符号，请换一个",
            "password is a common one (or a run or repeat) with digits or symbols added",
        )
    return None


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of the commonest passwords (lower case)."""
    text = resources.files("geo.access").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _passphrase(password: str) -> bool:
    words = [w for w in re.split(r"[\s_.\-,]+", password.strip()) if len(w) >= 2]
    return len(words) >= PASSPHRASE_WORDS and len(password.strip()) >= MIN_PASSPHRASE


def _repeated(text: str) -> bool:
    """One character, or one group of characters, repeated to make the whole text."""
    return not text or (text + text).find(text, 1) < len(text)


_LOOK_ALIKES = (str.maketrans("@4!1310$5+7", "aaiieiosstt"), str.maketrans("1", "l"))
_EDGES = re.compile(r"^([^a-z]*)(.*?)([^a-z]*)$", re.DOTALL)


def _dressed_up(text: str) -> bool:
    """Mostly one character, or a guessable core (common, a run, a repeat; look-alike
    characters undone) with only a guessable decoration of digits and symbols around it
    (see ``_guessable_decoration``); a core of one or two letters counts as guessable."""
    if text and max(text.count(c) for c in set(text)) * 4 >= len(text) * 3:
        return True
    match = _EDGES.match(text)
    if match is None:
        return False
    head, core, tail = match.groups()
    if not _guessable_decoration(head + tail):
        return False
    for table in _LOOK_ALIKES:
        plain = core.translate(table)
        if len(plain) <= 2 or plain in common_passwords():
            return True
        if len(plain) >= 4 and (_repeated(plain) or _run(plain)):
            return True
    return False


def _guessable_decoration(text: str) -> bool:
    """At most 4 characters, or digits that are a run, a repeat or a year with at most
    three symbols besides them, or a run or repeat of symbols."""
    digits = re.sub(r"\D", "", text)
    if len(text) <= 4 or _repeated(text) or _run(text):
        return True
    return len(text) - len(digits) <= 3 and (len(digits) <= 4 or _repeated(digits) or _run(digits))


def _run(text: str) -> bool:
    """A stretch of a keyboard row or column, the alphabet or the digits, either way,
    wrapping round (``7890123456``)."""
    if len(text) < 4:
        return False
    for run in _RUNS:
        for seq in (run, run[::-1]):
            if text in seq * (len(text) // len(seq) + 2):
                return True
    return False
