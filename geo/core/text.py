"""Messages in two languages, one of which is shown.

geo/ never knows who reads a message, so every user-facing text carries both languages:
a ``Text`` is a ``str`` whose value is the Chinese text (logs and ``str(exc)`` read
Chinese, the default) and whose ``.en`` is the English one. The caller that knows the
reader's language (web/ from the request, the CLI from the terminal) picks one with
``in_lang``.
"""

from __future__ import annotations

from typing import Any

LANGS = ("zh", "en")


class Text(str):
    """A message: the Chinese text as a ``str``, the English one as ``.en``."""

    en: str

    def __new__(cls, zh: str, en: str | None = None) -> Text:
        text = super().__new__(cls, zh)
        text.en = zh if en is None else str(getattr(en, "en", en))
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (Text, (str(self), self.en))

    def __repr__(self) -> str:
        return f"Text({str(self)!r}, {self.en!r})"


def tr(zh: str, en: str) -> Text:
    """One message in Chinese and English."""
    return Text(zh, en)


def in_lang(value: object, lang: str) -> str:
    """``value`` in ``lang`` ("zh" or "en"): a Text's chosen half, an error's message in
    that language, anything else as ``str``."""
    text = getattr(value, "bilingual", value)
    if lang == "en":
        return str(getattr(text, "en", text))
    return str.__str__(text) if isinstance(text, str) else str(text)


def en(value: object) -> str:
    """The English text of ``value`` (a nested message inside an English sentence)."""
    return in_lang(value, "en")


def join(texts: list[Text] | list[str], sep: str = "; ") -> Text:
    """Messages joined with ``sep``, each language with its own."""
    return Text(sep.join(str.__str__(t) for t in texts), sep.join(en(t) for t in texts))
