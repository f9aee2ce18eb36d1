"""Language choice: zh-CN by default, English with ?lang=en (remembered in the session)."""

from __future__ import annotations

from flask import Flask, request, session

LANGS = ("zh", "en")


def init_app(app: Flask) -> None:
    """Make ``lang`` and ``t`` available in every template."""
    app.context_processor(lambda: {"lang": current_lang(), "t": translate})


def current_lang() -> str:
    """The request's language: ?lang= (then remembered), else the session, else zh."""
    asked = request.args.get("lang")
    if asked in LANGS:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    return remembered if remembered in LANGS else "zh"


def translate(zh: str, en: str) -> str:
    """The text in the current language."""
    return en if current_lang() == "en" else zh
