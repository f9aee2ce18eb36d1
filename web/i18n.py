"""Language and locale: zh-CN by default, English with ?lang=en (remembered in the session).

Messages from geo/ (errors, flashes) carry both languages (``geo.core.text.Text``) and
are shown through ``pick`` in the same language as the page.

Flask-Babel holds the request's locale (``zh_Hans_CN`` or ``en``) and the display time
zone (``CIVICGRID_TIMEZONE``) and formats dates and numbers; templates write each label
as a Chinese/English pair with ``t(zh, en)``, and category and kind labels come from the
taxonomy in the current language.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

import flask_babel
from flask import Flask, current_app, g, request, session

from geo.core.text import in_lang

LANGS = ("zh", "en")
LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


def init_app(app: Flask) -> None:
    """Set up Flask-Babel and make ``lang``, ``t`` and the formatters available in every
    template."""
    flask_babel.Babel(
        app,
        default_locale=LOCALES["zh"],
        locale_selector=lambda: LOCALES[current_lang()],
        timezone_selector=lambda: current_app.config["TIMEZONE"],
    )
    app.context_processor(
        lambda: {
            "lang": current_lang(),
            "t": translate,
            "local_time": local_time,
            "number": number,
            "lang_url": lang_url,
        }
    )


def current_lang() -> str:
    """The request's language: ?lang= (then remembered), else the session, else the
    browser's ``Accept-Language`` (English only when preferred to Chinese), else zh.
    Decided once per request: a page asks dozens of times (every ``t()``), and parsing
    the header each time was a sixth of a kept ranking's page."""
    decided = g.get(_LANG)
    if decided is None:
        decided = g.setdefault(_LANG, _decide_lang())
    return str(decided)


_LANG = "civicgrid_lang"


def _decide_lang() -> str:
    asked = request.args.get("lang")
    if asked in LANGS:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in LANGS:
        return str(remembered)
    return "en" if request.accept_languages.best_match(["zh", "en"]) == "en" else "zh"


def lang_url(code: str) -> str:
    """This page in language ``code``: the same path and query string (filters kept),
    only ``lang`` changed."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", code))
    return request.path + "?" + urlencode(args)


def pick(value: object) -> str:
    """A message (a geo ``Text``, a domain error, or a plain str) in the current language."""
    return in_lang(value, current_lang())


def translate(zh: str, en: str) -> str:
    """The text in the current language."""
    return en if current_lang() == "en" else zh


def local_time(value: datetime | None, with_time: bool = True) -> str:
    """A stored naive-UTC time shown in the configured time zone ('' for None)."""
    if value is None:
        return ""
    return flask_babel.format_datetime(value, "yyyy-MM-dd HH:mm" if with_time else "yyyy-MM-dd")


def number(value: float, digits: int = 0) -> str:
    """A number in the current locale, with ``digits`` decimals."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return flask_babel.format_decimal(value, format=pattern)
