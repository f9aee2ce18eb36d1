"""Messages in one language per request (issue 14 item 4): Chinese by default, English
with ?lang=en, Accept-Language: en or an English terminal; codes never change."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from geo.core.errors import NotFoundError
from geo.core.text import Text, in_lang, tr
from web.cli.common import terminal_lang

ROOT = Path(__file__).resolve().parents[2]
# OpenAPI documents are documentation (like click help texts), kept in both languages.
DOCUMENTATION = {"geo/protocols/openapi.py", "web/api/openapi.py"}
PAIR = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef][^\n]*? / [A-Za-z{'(\"-]")


def test_text_is_chinese_by_default_and_carries_english() -> None:
    text = tr("未知的状态", "unknown status")
    assert isinstance(text, Text) and text == "未知的状态" and text.en == "unknown status"
    assert in_lang(text, "zh") == "未知的状态" and in_lang(text, "en") == "unknown status"
    exc = NotFoundError(text)
    assert str(exc) == "未知的状态" and exc.message("en") == "unknown status"
    assert in_lang(exc, "en") == "unknown status" and in_lang("plain", "en") == "plain"


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({}, "zh"),
        ({"LANG": "C"}, "zh"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "POSIX"}, "zh"),
    ],
)
def test_terminal_lang(monkeypatch, env, lang) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert terminal_lang() == lang


@pytest.mark.parametrize(
    ("query", "headers", "message"),
    [
        ("", {}, "需要登录或令牌"),
        ("?lang=en", {}, "login or a bearer token required"),
        ("", {"Accept-Language": "en"}, "login or a bearer token required"),
        ("", {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}, "需要登录或令牌"),
    ],
)
def test_api_error_in_the_request_language(client, query, headers, message) -> None:
    response = client.get(f"/api/v1/heat{query}", headers=headers)
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "AuthenticationError"
    assert error["message"] == message


def test_session_choice_wins_over_accept_language(client) -> None:
    client.get("/api/v1/heat?lang=en")
    body = client.get("/api/v1/heat", headers={"Accept-Language": "zh"}).get_json()
    assert body["error"]["message"] == "login or a bearer token required"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LANG": "C"}, "错误: 没有这个令牌 'nosuch'"),
        ({"LANG": "en_US.UTF-8"}, "error: no token called 'nosuch'"),
    ],
)
def test_cli_error_in_the_terminal_language(runner, env, message) -> None:
    result = runner.invoke(args=["tokens", "revoke", "nosuch"], env={"LC_ALL": "", **env})
    assert result.exit_code == 1
    assert message in result.output
    other = "no token" if env["LANG"] == "C" else "没有这个令牌"
    assert other not in result.output


def _message_literals(path: Path) -> list[tuple[int, str]]:
    """String literals that are neither docstrings nor click help texts."""
    toks = list(tokenize.generate_tokens(io.StringIO(path.read_text("utf-8")).readline))
    found = []
    for i, tok in enumerate(toks):
        if tok.type != tokenize.STRING or not PAIR.search(tok.string):
            continue
        p = i - 1
        while p >= 0 and toks[p].type in (tokenize.NL, tokenize.COMMENT):
            p -= 1
        if p < 0 or toks[p].type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            continue  # a docstring
        if toks[p].string == "=" and toks[p - 1].string == "help":
            continue  # click help texts are documentation and stay bilingual
        found.append((tok.start[0], tok.string))
    return found


def test_no_source_line_builds_a_bilingual_message() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text[:80]}"
        for folder in ("geo", "web")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if str(path.relative_to(ROOT)) not in DOCUMENTATION
        for line, text in _message_literals(path)
    ]
    assert offenders == []


def test_page_notice_is_chinese_by_default_and_english_with_lang_en(client_as) -> None:
    client = client_as("city_officer")
    zh = client.get("/?category=nope")
    assert zh.status_code == 400
    html = zh.get_data(as_text=True)
    assert 'data-testid="notice"' in html
    assert "已忽略无效的筛选条件：" in html and "未知的问题类别：&#39;nope&#39;" in html
    assert "unknown category" not in html and "Ignored an invalid filter" not in html
    en = client.get("/?category=nope&lang=en")
    assert en.status_code == 400
    html = en.get_data(as_text=True)
    assert "Ignored an invalid filter: " in html and "unknown category &#39;nope&#39;" in html
    assert "未知的问题类别" not in html and "已忽略无效的筛选条件" not in html


def test_error_page_is_chinese_by_default_and_english_with_lang_en(client_as) -> None:
    zh = client_as("city_officer").get("/problems/999999")
    assert zh.status_code == 404
    html = zh.get_data(as_text=True)
    assert 'data-testid="error"' in html and "404 · 未找到" in html and "返回地图" in html
    assert "Not found" not in html and "no problem" not in html.lower()
    en = client_as("city_officer").get("/problems/999999?lang=en")
    assert en.status_code == 404
    html = en.get_data(as_text=True)
    assert 'data-testid="error"' in html and "404 · Not found" in html and "Back to the map" in html
    assert "未找到" not in html and "问题" not in html
