"""The civicgrid taxonomy: point kinds, problem categories, campaigns and schemes.

The vocabulary lives in data, not code (``data/taxonomy.toml``), so that a city can add
its own inspection point kinds or problem categories. This module reads that file,
validates it completely (every error names the file and the offending key, in Chinese
and English) and returns an immutable :class:`Taxonomy`.

Surveys name kinds and categories loosely, so :meth:`Taxonomy.resolve_category` and
friends accept a code, the zh-CN label or the English label. Matching ignores case and
surrounding whitespace and applies Unicode NFKC, so full-width brackets typed on a
Chinese keyboard (``设施破损（玻璃/照明）``) match the half-width ones in the file.

Nothing is read at import time: call :func:`load_taxonomy` or the cached
:func:`default_taxonomy`.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, NoReturn, TypeVar, cast

from geo.core.errors import TaxonomyError
from geo.core.toml_table import TomlTable

__all__ = [
    "DEADLINE_UNITS",
    "DEFAULT_TAXONOMY_PATH",
    "GEOMETRY_TYPES",
    "Campaign",
    "Category",
    "DeadlineUnit",
    "GeometryType",
    "Label",
    "PointKind",
    "Scheme",
    "Section",
    "Taxonomy",
    "TaxonomyError",
    "default_taxonomy",
    "load_taxonomy",
]

GeometryType = Literal["Point", "LineString", "Polygon"]
DeadlineUnit = Literal["working", "natural"]
Section = Literal["point_kinds", "categories", "campaigns", "schemes", "statuses", "levels"]

GEOMETRY_TYPES: Final[tuple[GeometryType, ...]] = ("Point", "LineString", "Polygon")
DEADLINE_UNITS: Final[tuple[DeadlineUnit, ...]] = ("working", "natural")
DEFAULT_TAXONOMY_PATH: Final[Path] = Path(__file__).resolve().parents[2] / "data" / "taxonomy.toml"

_REQUIRED_SECTIONS: Final = ("point_kinds", "categories", "campaigns", "schemes")
_OPTIONAL_SECTIONS: Final = ("statuses", "levels")
_CODE_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_COLOR_RE: Final = re.compile(r"^#[0-9a-fA-F]{6}$")
_GBT_CODE_RE: Final = re.compile(r"^\d{2}-\d{2}$")
_UNKNOWN: Final[Mapping[str, str]] = {
    "point_kinds": "未知的点位类型 / unknown point kind",
    "categories": "未知的问题类别 / unknown category",
    "campaigns": "未知的攻坚行动 / unknown campaign",
    "schemes": "未知的测评体系 / unknown evaluation scheme",
    "statuses": "未知的状态 / unknown status",
    "levels": "未知的层级 / unknown level",
}

_T = TypeVar("_T")


# --- model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    """A coded entry with a zh-CN and an English label (also used for statuses, levels)."""

    code: str
    zh: str
    en: str

    def label(self, lang: str = "zh") -> str:
        """Return the label in ``lang``: English for ``en``/``en-US``..., else zh-CN."""
        return self.en if _is_english(lang) else self.zh


@dataclass(frozen=True)
class PointKind(Label):
    """An inspection point kind (点位类型).

    ``geometry`` is the natural geometry type of such a point; ``buffer_m`` (metres,
    applied in a metric CRS) turns the surveyed feature into the zone that is inspected,
    e.g. 200 m around a school. ``color`` is a ``#rrggbb`` legend colour.
    """

    geometry: GeometryType
    color: str
    buffer_m: float | None = None


@dataclass(frozen=True)
class Category(Label):
    """A problem category (问题类别 / 测评指标).

    ``deadline_days`` is the default rectification deadline counted in ``deadline_unit``
    days ("working" on the official calendar, or "natural"); ``deductions`` maps every
    evaluation scheme code to the weight deducted per problem.
    """

    gbt_code: str | None
    deadline_days: int
    deadline_unit: DeadlineUnit
    point_kinds: tuple[str, ...]
    deductions: Mapping[str, float] = field(hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "point_kinds", tuple(self.point_kinds))
        object.__setattr__(self, "deductions", MappingProxyType(dict(self.deductions)))


@dataclass(frozen=True)
class Campaign(Label):
    """An annual campaign (年度攻坚行动项目) and the category codes it targets."""

    categories: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))


@dataclass(frozen=True)
class Scheme(Label):
    """An evaluation scheme (测评体系); a quarterly score starts at ``base_score``."""

    base_score: float


@dataclass(frozen=True)
class Taxonomy:
    """The validated, read-only taxonomy. Mappings are keyed by code, in file order.

    Constructing one checks cross references (a category's kinds and schemes, a
    campaign's categories) and label uniqueness, raising :class:`TaxonomyError` whose
    message starts with ``source``.
    """

    point_kinds: Mapping[str, PointKind] = field(hash=False)
    categories: Mapping[str, Category] = field(hash=False)
    campaigns: Mapping[str, Campaign] = field(hash=False)
    schemes: Mapping[str, Scheme] = field(hash=False)
    statuses: Mapping[str, Label] = field(default_factory=dict, hash=False)
    levels: Mapping[str, Label] = field(default_factory=dict, hash=False)
    source: str = field(default="<taxonomy>", compare=False)
    _index: Mapping[str, Mapping[str, str]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        for section in (*_REQUIRED_SECTIONS, *_OPTIONAL_SECTIONS):
            items: Mapping[str, Label] = getattr(self, section)
            object.__setattr__(self, section, MappingProxyType(dict(items)))
        self._check_references()
        index = {s: _label_index(self.source, s, self._section(s)) for s in _UNKNOWN}
        object.__setattr__(self, "_index", MappingProxyType(index))

    def resolve_category(self, value: str) -> Category:
        """Return the category named by a code, zh-CN label or English label.

        Raises:
            TaxonomyError: ``未知的问题类别 / unknown category: 'value'``.
        """
        return self.categories[self._resolve("categories", value)]

    def resolve_kind(self, value: str) -> PointKind:
        """Return the point kind named by a code, zh-CN label or English label."""
        return self.point_kinds[self._resolve("point_kinds", value)]

    def resolve_campaign(self, value: str) -> Campaign:
        """Return the campaign named by a code, zh-CN label or English label."""
        return self.campaigns[self._resolve("campaigns", value)]

    def resolve_scheme(self, value: str) -> Scheme:
        """Return the evaluation scheme named by a code, zh-CN label or English label."""
        return self.schemes[self._resolve("schemes", value)]

    def label(self, section: Section, code: str, lang: str = "zh") -> str:
        """Return the label of the entry ``code`` of ``section`` in ``lang`` (zh default).

        Raises:
            TaxonomyError: when ``code`` is not a code of that section.
        """
        item = self._section(section).get(code)
        if item is None:
            raise TaxonomyError(f"{_UNKNOWN[section]}: {code!r}")
        return item.label(lang)

    def category_label(self, code: str, lang: str = "zh") -> str:
        """Return the label of category ``code`` in ``lang``."""
        return self.label("categories", code, lang)

    def kind_label(self, code: str, lang: str = "zh") -> str:
        """Return the label of point kind ``code`` in ``lang``."""
        return self.label("point_kinds", code, lang)

    def campaign_label(self, code: str, lang: str = "zh") -> str:
        """Return the label of campaign ``code`` in ``lang``."""
        return self.label("campaigns", code, lang)

    def scheme_label(self, code: str, lang: str = "zh") -> str:
        """Return the label of evaluation scheme ``code`` in ``lang``."""
        return self.label("schemes", code, lang)

    def status_label(self, code: str, lang: str = "zh") -> str:
        """Return the label of problem status ``code`` in ``lang``."""
        return self.label("statuses", code, lang)

    def level_label(self, code: str, lang: str = "zh") -> str:
        """Return the label of administrative level ``code`` in ``lang``."""
        return self.label("levels", code, lang)

    def categories_for_kind(self, kind: str) -> tuple[Category, ...]:
        """Return the categories that usually apply to point kind ``kind`` (any name)."""
        code = self.resolve_kind(kind).code
        return tuple(c for c in self.categories.values() if code in c.point_kinds)

    def _section(self, section: str) -> Mapping[str, Label]:
        return cast("Mapping[str, Label]", getattr(self, section))

    def _resolve(self, section: str, value: str) -> str:
        code = self._index[section].get(_normalise(value)) if isinstance(value, str) else None
        if code is None:
            raise TaxonomyError(f"{_UNKNOWN[section]}: {value!r}")
        return code

    def _check_references(self) -> None:
        for section in (*_REQUIRED_SECTIONS, *_OPTIONAL_SECTIONS):
            for key, item in self._section(section).items():
                if key != item.code:
                    self._fail(
                        f"{section}.{key}", "键与代码不一致", f"key differs from code {item.code!r}"
                    )
        colors: dict[str, str] = {}
        for code, kind in self.point_kinds.items():
            other = colors.setdefault(kind.color.lower(), code)
            if other != code:
                self._fail(
                    f"point_kinds.{code}.color",
                    f"颜色与 {other} 重复",
                    f"colour {kind.color!r} is already used by {other!r}",
                )
        for code, category in self.categories.items():
            self._check_known(f"categories.{code}.point_kinds", category.point_kinds, "point_kinds")
            where = f"categories.{code}.deductions"
            self._check_known(where, category.deductions, "schemes")
            missing = [s for s in self.schemes if s not in category.deductions]
            if missing:
                self._fail(
                    where,
                    f"缺少测评体系的扣分 {missing}",
                    f"missing weight for scheme(s) {missing} (use 0.0 if not counted)",
                )
        for code, campaign in self.campaigns.items():
            self._check_known(f"campaigns.{code}.categories", campaign.categories, "categories")

    def _check_known(self, where: str, codes: Iterable[str], section: str) -> None:
        known = self._section(section)
        for code in codes:
            if code not in known:
                zh, en = _UNKNOWN[section].split(" / ")
                self._fail(
                    f"{where}.{code}" if section == "schemes" else where,
                    f"{zh} {code!r}",
                    f"{en} {code!r}",
                )

    def _fail(self, key: str, zh: str, en: str) -> NoReturn:
        raise TaxonomyError(f"{self.source}: {key}: {zh} / {en}")


# --- loading ----------------------------------------------------------------------------


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy TOML file.

    Args:
        path: the file to read; ``None`` reads ``data/taxonomy.toml`` of the repository.

    Returns:
        The immutable :class:`Taxonomy`; its ``source`` is the path read.

    Raises:
        TaxonomyError: the file cannot be read, is not valid TOML (the message gives the
            line) or breaks a rule; the message names the file and the offending key.
    """
    source = Path(path) if path is not None else DEFAULT_TAXONOMY_PATH
    where = str(source)
    raw = _read_toml(source)
    _check_sections(raw, where)
    return Taxonomy(
        point_kinds=_parse_section(raw, "point_kinds", where, _parse_kind),
        categories=_parse_section(raw, "categories", where, _parse_category),
        campaigns=_parse_section(raw, "campaigns", where, _parse_campaign),
        schemes=_parse_section(raw, "schemes", where, _parse_scheme),
        statuses=_parse_section(raw, "statuses", where, _parse_label),
        levels=_parse_section(raw, "levels", where, _parse_label),
        source=where,
    )


@functools.lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    """Return the taxonomy of ``data/taxonomy.toml``, read once and cached."""
    return load_taxonomy()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{path}: TOML 语法错误 / TOML syntax error: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{path}: 文件不是 UTF-8 编码 / file is not UTF-8: {exc}") from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise TaxonomyError(f"{path}: 无法读取 / cannot read: {reason}") from exc


def _check_sections(raw: Mapping[str, Any], where: str) -> None:
    allowed = (*_REQUIRED_SECTIONS, *_OPTIONAL_SECTIONS)
    for key in raw:
        if key not in allowed:
            raise TaxonomyError(
                f"{where}: {key}: 未知的节 / unknown section (allowed: {', '.join(allowed)})"
            )
    for key in _REQUIRED_SECTIONS:
        if key not in raw:
            raise TaxonomyError(f"{where}: {key}: 缺少必需的节 / missing required section [{key}]")


def _parse_section(
    raw: Mapping[str, Any], section: str, where: str, parse: Callable[[TomlTable], _T]
) -> dict[str, _T]:
    entries = raw.get(section, {})
    if not isinstance(entries, dict):
        raise TaxonomyError(f"{where}: {section}: 必须是表 / must be a table of entries")
    parsed: dict[str, _T] = {}
    for code, entry in entries.items():
        key = f"{section}.{code}"
        if not _CODE_RE.fullmatch(code):
            raise TaxonomyError(
                f"{where}: {key}: 代码须为小写 snake_case / code must be lower snake_case"
            )
        if not isinstance(entry, dict):
            raise TaxonomyError(f"{where}: {key}: 必须是表 / must be a table")
        parsed[code] = parse(TomlTable(where, key, code, entry))
    return parsed


def _parse_label(t: TomlTable) -> Label:
    t.allow("zh", "en")
    return Label(t.code, t.text("zh"), t.text("en"))


def _parse_kind(t: TomlTable) -> PointKind:
    t.allow("zh", "en", "geometry", "color", "buffer_m")
    geometry = cast(GeometryType, t.choice("geometry", GEOMETRY_TYPES))
    buffer_m = t.optional_number("buffer_m", minimum=0.0, inclusive=False)
    if buffer_m is not None and geometry != "Polygon":
        raise t.error(
            "buffer_m",
            "缓冲后的点位几何必须为 Polygon",
            "a buffered kind must have geometry 'Polygon'",
        )
    color = t.text("color")
    if not _COLOR_RE.fullmatch(color):
        raise t.error(
            "color", f"颜色须为 #rrggbb,实为 {color!r}", f"must be #rrggbb, got {color!r}"
        )
    return PointKind(t.code, t.text("zh"), t.text("en"), geometry, color, buffer_m)


def _parse_category(t: TomlTable) -> Category:
    t.allow("zh", "en", "gbt_code", "deadline_days", "deadline_unit", "point_kinds", "deductions")
    gbt_code = t.optional_text("gbt_code")
    if gbt_code is not None and not _GBT_CODE_RE.fullmatch(gbt_code):
        raise t.error(
            "gbt_code",
            f"须为 NN-NN 格式,实为 {gbt_code!r}",
            f"must look like '02-01', got {gbt_code!r}",
        )
    deductions = t.sub_table("deductions")
    weights = {scheme: deductions.number(scheme, minimum=0.0) for scheme in deductions.data}
    return Category(
        code=t.code,
        zh=t.text("zh"),
        en=t.text("en"),
        gbt_code=gbt_code,
        deadline_days=t.positive_int("deadline_days"),
        deadline_unit=cast(DeadlineUnit, t.choice("deadline_unit", DEADLINE_UNITS)),
        point_kinds=t.code_list("point_kinds"),
        deductions=weights,
    )


def _parse_campaign(t: TomlTable) -> Campaign:
    t.allow("zh", "en", "categories")
    return Campaign(t.code, t.text("zh"), t.text("en"), t.code_list("categories"))


def _parse_scheme(t: TomlTable) -> Scheme:
    t.allow("zh", "en", "base_score")
    base_score = t.number("base_score", minimum=0.0, inclusive=False)
    return Scheme(t.code, t.text("zh"), t.text("en"), base_score)


# --- labels -----------------------------------------------------------------------------


def _is_english(lang: str) -> bool:
    return lang.strip().lower().startswith("en")


def _normalise(value: str) -> str:
    """Fold a name for lookup: NFKC (full-width → half-width), collapse spaces, casefold."""
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


def _label_index(source: str, section: str, items: Mapping[str, Label]) -> dict[str, str]:
    """Map every normalised code and label of ``section`` to its code; refuse collisions."""
    index: dict[str, str] = {}
    origin: dict[str, str] = {}
    for code, item in items.items():
        for name, text in (("code", code), ("zh", item.zh), ("en", item.en)):
            key = _normalise(text)
            owner = index.setdefault(key, code)
            origin.setdefault(key, f"{section}.{code}.{name}")
            if owner != code:
                raise TaxonomyError(
                    f"{source}: {section}.{code}.{name}: 标签 {text!r} 与 {origin[key]} 重复"
                    f" / label {text!r} duplicates {origin[key]}"
                )
    return index
