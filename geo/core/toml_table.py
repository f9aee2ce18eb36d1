"""Typed, error-reporting access to a table of a TOML configuration file.

Every error names the file, the key path and the offending value, in Chinese and English,
so a city editing ``data/taxonomy.toml`` by hand sees exactly what to fix.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from geo.core.errors import TaxonomyError
from geo.core.text import tr


class TomlTable:
    """Typed, error-reporting access to one TOML table at key path ``key``."""

    def __init__(self, where: str, key: str, code: str, data: Mapping[str, Any]) -> None:
        self.where, self.key, self.code, self.data = where, key, code, data

    def error(self, name: str, zh: str, en: str) -> TaxonomyError:
        where = f"{self.where}: {self.key}.{name}"
        return TaxonomyError(tr(f"{where}: {zh}", f"{where}: {en}"))

    def allow(self, *names: str) -> None:
        for name in self.data:
            if name not in names:
                raise self.error(name, "未知的键", f"unknown key (allowed: {', '.join(names)})")

    def _get(self, name: str) -> Any:
        if name not in self.data:
            raise self.error(name, "缺少必填项", "missing required key")
        return self.data[name]

    def text(self, name: str) -> str:
        value = self.optional_text(name)
        if value is None:
            raise self.error(name, "缺少必填项", "missing required key")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, "须为非空字符串", f"must be a non-empty string, got {value!r}")
        return value.strip()

    def choice(self, name: str, options: Iterable[str]) -> str:
        value = self.text(name)
        if value not in options:
            allowed = ", ".join(options)
            raise self.error(
                name, f"取值无效 {value!r}", f"must be one of {allowed}, got {value!r}"
            )
        return value

    def positive_int(self, name: str) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(name, "须为正整数", f"must be a positive integer, got {value!r}")
        return value

    def number(self, name: str, minimum: float = 0.0, inclusive: bool = True) -> float:
        value = self.optional_number(name, minimum, inclusive)
        if value is None:
            raise self.error(name, "缺少必填项", "missing required key")
        return value

    def optional_number(
        self, name: str, minimum: float = 0.0, inclusive: bool = True
    ) -> float | None:
        value = self.data.get(name)
        if value is None:
            return None
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and math.isfinite(value) and (value >= minimum if inclusive else value > minimum):
            return float(value)
        bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
        raise self.error(name, f"须为数字且 {bound}", f"must be a number {bound}, got {value!r}")

    def code_list(self, name: str) -> tuple[str, ...]:
        value = self._get(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(name, "须为代码列表", f"must be a list of codes, got {value!r}")
        duplicates = sorted({v for v in value if value.count(v) > 1})
        if duplicates:
            raise self.error(name, f"代码重复 {duplicates}", f"duplicate codes {duplicates}")
        return tuple(value)

    def optional_text_list(self, name: str) -> tuple[str, ...]:
        """A list of non-empty strings; an absent key is the empty list."""
        if name not in self.data:
            return ()
        value = self.data[name]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(
                name, "须为非空文字列表", f"must be a list of non-empty texts, got {value!r}"
            )
        return tuple(v.strip() for v in value)

    def sub_table(self, name: str) -> TomlTable:
        value = self._get(name)
        if not isinstance(value, dict):
            raise self.error(name, "须为表", f"must be a table, got {value!r}")
        return TomlTable(self.where, f"{self.key}.{name}", self.code, value)
