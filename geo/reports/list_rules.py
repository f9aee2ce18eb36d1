"""Who may be on the red and black lists (红黑榜), per level: ``data/rankings.toml``.

Each level has a list size, a floor for the red list (on-time closure rate at least
``red_min_on_time``) and a ceiling for the black list (closure rate below
``black_max_closure``); ``[default]`` covers levels without their own table. Rates are
fractions 0–1, compared exactly (closed × 1000 against due × floor × 1000 would be the
same: the figures are integers).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from geo.core.errors import InvalidParameterError
from geo.core.text import tr

DEFAULT_RULES_PATH = Path(__file__).resolve().parents[2] / "data" / "rankings.toml"
_KEYS = ("size", "red_min_on_time", "black_max_closure")


@dataclass(frozen=True)
class ListRule:
    """One level's list rule: ``size`` areas at most per list, the red list's on-time
    floor and the black list's closure ceiling (fractions 0–1, exact)."""

    size: int = 3
    red_min_on_time: Fraction = Fraction(9, 10)
    black_max_closure: Fraction = Fraction(4, 5)


@dataclass(frozen=True)
class ListRules:
    """The list rules of every level."""

    default: ListRule
    levels: dict[str, ListRule]

    def rule(self, level: str) -> ListRule:
        """The rule of ``level`` (an area level or ``unit``)."""
        return self.levels.get(level, self.default)


def load_list_rules(path: str | Path | None = None) -> ListRules:
    """Read and check a rankings TOML file (default data/rankings.toml)."""
    path = Path(path or DEFAULT_RULES_PATH)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidParameterError(
            tr(f"{path}: 无法读取排名规则: {exc}", f"{path}: cannot read the list rules: {exc}")
        ) from exc
    default = _rule(path, "default", raw.get("default", {}), ListRule())
    levels = {
        name: _rule(path, name, table, default) for name, table in raw.items() if name != "default"
    }
    return ListRules(default, levels)


@functools.lru_cache(maxsize=1)
def default_list_rules() -> ListRules:
    """The rules shipped in data/rankings.toml, read once."""
    return load_list_rules()


def _rule(path: Path, name: str, table: object, base: ListRule) -> ListRule:
    if not isinstance(table, dict) or set(table) - set(_KEYS):
        raise InvalidParameterError(
            tr(
                f"{path}: [{name}] 只能包含 {', '.join(_KEYS)}",
                f"{path}: [{name}] may only hold {', '.join(_KEYS)}",
            )
        )
    size = table.get("size", base.size)
    if not isinstance(size, int) or not 0 <= size <= 1000:
        raise InvalidParameterError(
            tr(f"{path}: [{name}] size 应为 0–1000", f"{path}: [{name}] size must be 0–1000")
        )
    return ListRule(
        size,
        _fraction(path, name, table.get("red_min_on_time", base.red_min_on_time)),
        _fraction(path, name, table.get("black_max_closure", base.black_max_closure)),
    )


def _fraction(path: Path, name: str, value: object) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidParameterError(
            tr(
                f"{path}: [{name}] 的比率应为 0–1 之间的数",
                f"{path}: [{name}] rates must be numbers from 0 to 1",
            )
        )
    return Fraction(str(value))
