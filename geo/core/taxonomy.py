"""The civicgrid taxonomy: point kinds, problem categories, campaigns and schemes.

The vocabulary lives in data, not code (``data/taxonomy.toml``), so that a city can add
its own inspection point kinds or problem categories. This module reads that file,
validates it completely (every error names the file and the offending key, in Chinese
and English) and returns an immutable :class:`Taxonomy`.

Surveys name kinds and categories loosely, so :meth:`Taxonomy.resolve_category` and
friends accept a code, the zh-CN label or the English label. Matching ignores case and
surrounding whitespace and applies Unicode NFKC, so full-width brackets typed on a
Chinese keyboard (``设施破损（玻璃/照明）``) match the half-width ones in the file.

Reading the file is geo/core/taxonomy_file.py; nothing is read at import time.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, NoReturn, cast

from geo.core.errors import TaxonomyError
from geo.core.text import Text, in_lang, tr

__all__ = [
    "DEADLINE_UNITS",
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
]

GeometryType = Literal["Point", "LineString", "Polygon"]
DeadlineUnit = Literal["working", "natural"]
Section = Literal["point_kinds", "categories", "campaigns", "schemes", "statuses", "levels"]

GEOMETRY_TYPES: Final[tuple[GeometryType, ...]] = ("Point", "LineString", "Polygon")
DEADLINE_UNITS: Final[tuple[DeadlineUnit, ...]] = ("working", "natural")

REQUIRED_SECTIONS: Final = ("point_kinds", "categories", "campaigns", "schemes")
OPTIONAL_SECTIONS: Final = ("statuses", "levels")
_UNKNOWN: Final[Mapping[str, str]] = {
    "point_kinds": tr("未知的点位类型", "unknown point kind"),
    "categories": tr("未知的问题类别", "unknown category"),
    "campaigns": tr("未知的攻坚行动", "unknown campaign"),
    "schemes": tr("未知的测评体系", "unknown evaluation scheme"),
    "statuses": tr("未知的状态", "unknown status"),
    "levels": tr("未知的层级", "unknown level"),
}

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

    ``aliases`` are further names surveys use for it (小广告, 乱停放). ``deadline_days``
    is the default rectification deadline counted in ``deadline_unit`` days ("working" on
    the official calendar, or "natural"); ``deductions`` maps every evaluation scheme
    code to the weight deducted per problem.
    """

    gbt_code: str | None
    deadline_days: int
    deadline_unit: DeadlineUnit
    point_kinds: tuple[str, ...]
    deductions: Mapping[str, float] = field(hash=False)
    aliases: tuple[str, ...] = ()
    """Everyday names surveys use (小广告, 乱停放...), matched like the labels."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "point_kinds", tuple(self.point_kinds))
        object.__setattr__(self, "aliases", tuple(self.aliases))
        object.__setattr__(self, "deductions", MappingProxyType(dict(self.deductions)))


@dataclass(frozen=True)
class Campaign(Label):
    """An annual campaign (年度攻坚行动项目) and the category codes it targets."""

    categories: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))


@dataclass(frozen=True)
class Scheme(Label):
    """An evaluation scheme (测评体系); a quarterly score starts at ``base_score``.

    ``indicator_cap``: an indicator (category) deducts at most this many times its weight
    per evaluation (None: no cap). ``per_points``: the count of failing locations is
    normalised per this many inspection points of the area (None: not normalised).
    ``area_kinds``: the kinds of street/community the scheme covers (``street``,
    ``town``, ``community``, ``village``; empty: every kind)."""

    base_score: float
    indicator_cap: float | None = None
    per_points: float | None = None
    area_kinds: tuple[str, ...] = ()


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
        for section in (*REQUIRED_SECTIONS, *OPTIONAL_SECTIONS):
            items: Mapping[str, Label] = getattr(self, section)
            object.__setattr__(self, section, MappingProxyType(dict(items)))
        self._check_references()
        index = {s: _label_index(self.source, s, self._section(s)) for s in _UNKNOWN}
        object.__setattr__(self, "_index", MappingProxyType(index))

    def resolve_category(self, value: str) -> Category:
        """Return the category named by a code, zh-CN label or English label.

        Raises:
            TaxonomyError: ``未知的问题类别: 'value'`` (English: ``unknown category: 'value'``).
        """
        return self.categories[self._resolve("categories", value)]

    def suggest_categories(self, value: str, n: int = 3) -> tuple[Category, ...]:
        """The categories whose code, label or alias is closest to ``value`` (difflib,
        after the same normalisation as matching), best first; empty when none is close."""
        index = self._index["categories"]
        close = difflib.get_close_matches(_normalise(str(value)), list(index), n=3 * n, cutoff=0.5)
        codes = list(dict.fromkeys(index[key] for key in close))[:n]
        return tuple(self.categories[code] for code in codes)

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
            raise TaxonomyError(_unknown(section, code))
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
            close = self.suggest_categories(value) if section == "categories" else ()
            base = _unknown(section, value)
            zh = "".join(f"（{c.zh} = {c.code}？）" for c in close[:1])
            en = "".join(f" ({c.en} = {c.code}?)" for c in close[:1])
            raise TaxonomyError(tr(str.__str__(base) + zh, base.en + en))
        return code

    def _check_references(self) -> None:
        for section in (*REQUIRED_SECTIONS, *OPTIONAL_SECTIONS):
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
                zh, en = in_lang(_UNKNOWN[section], "zh"), in_lang(_UNKNOWN[section], "en")
                self._fail(
                    f"{where}.{code}" if section == "schemes" else where,
                    f"{zh} {code!r}",
                    f"{en} {code!r}",
                )

    def _fail(self, key: str, zh: str, en: str) -> NoReturn:
        raise TaxonomyError(tr(f"{self.source}: {key}: {zh}", f"{self.source}: {key}: {en}"))


def _unknown(section: str, value: object) -> Text:
    """``未知的问题类别: 'x'`` / ``unknown category: 'x'``."""
    what = _UNKNOWN[section]
    return tr(f"{in_lang(what, 'zh')}: {value!r}", f"{in_lang(what, 'en')}: {value!r}")


# --- labels -----------------------------------------------------------------------------


def _is_english(lang: str) -> bool:
    return lang.strip().lower().startswith("en")


def _normalise(value: str) -> str:
    """Fold a name for lookup: NFKC (full-width → half-width), casefold, and drop spaces
    and punctuation (``小广告 / 乱张贴``, ``小广告、乱张贴`` and ``小广告乱张贴`` are one name)."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    kept = "".join(c for c in folded if not (c.isspace() or unicodedata.category(c)[0] == "P"))
    return kept or " ".join(folded.split())


def _label_index(source: str, section: str, items: Mapping[str, Label]) -> dict[str, str]:
    """Map every normalised code and label of ``section`` to its code; refuse collisions."""
    index: dict[str, str] = {}
    origin: dict[str, str] = {}
    for code, item in items.items():
        names = [("code", code), ("zh", item.zh), ("en", item.en)]
        names += [(f"aliases[{i}]", a) for i, a in enumerate(getattr(item, "aliases", ()))]
        for name, text in names:
            key = _normalise(text)
            owner = index.setdefault(key, code)
            origin.setdefault(key, f"{section}.{code}.{name}")
            if owner != code:
                raise TaxonomyError(
                    tr(
                        f"{source}: {section}.{code}.{name}: 名称 {text!r} 与 {origin[key]} "
                        "重复，无法区分",
                        (
                            f"{source}: {section}.{code}.{name}: name {text!r} "
                            f"duplicates {origin[key]} (ambiguous)"
                        ),
                    )
                )
    return index
