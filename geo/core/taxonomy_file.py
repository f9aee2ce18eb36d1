"""Reading the taxonomy file (``data/taxonomy.toml`` or a city's own): TOML syntax, the
sections, and each entry's fields, every error naming the file and the offending key."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar, cast

from geo.core.errors import TaxonomyError
from geo.core.taxonomy import (
    DEADLINE_UNITS,
    GEOMETRY_TYPES,
    OPTIONAL_SECTIONS,
    REQUIRED_SECTIONS,
    Campaign,
    Category,
    DeadlineUnit,
    GeometryType,
    Label,
    PointKind,
    Scheme,
    Taxonomy,
)
from geo.core.text import tr
from geo.core.toml_table import TomlTable

DEFAULT_TAXONOMY_PATH: Final[Path] = Path(__file__).resolve().parents[2] / "data" / "taxonomy.toml"

_CODE_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_COLOR_RE: Final = re.compile(r"^#[0-9a-fA-F]{6}$")
_GBT_CODE_RE: Final = re.compile(r"^\d{2}-\d{2}$")

_T = TypeVar("_T")


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
        raise TaxonomyError(
            tr(f"{path}: TOML 语法错误: {exc}", f"{path}: TOML syntax error: {exc}")
        ) from exc
    except UnicodeDecodeError as exc:
        raise TaxonomyError(
            tr(f"{path}: 文件不是 UTF-8 编码: {exc}", f"{path}: file is not UTF-8: {exc}")
        ) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise TaxonomyError(
            tr(f"{path}: 无法读取: {reason}", f"{path}: cannot read: {reason}")
        ) from exc


def _check_sections(raw: Mapping[str, Any], where: str) -> None:
    allowed = (*REQUIRED_SECTIONS, *OPTIONAL_SECTIONS)
    for key in raw:
        if key not in allowed:
            raise TaxonomyError(
                tr(
                    f"{where}: {key}: 未知的节",
                    f"{where}: {key}: unknown section (allowed: {', '.join(allowed)})",
                )
            )
    for key in REQUIRED_SECTIONS:
        if key not in raw:
            raise TaxonomyError(
                tr(
                    f"{where}: {key}: 缺少必需的节",
                    f"{where}: {key}: missing required section [{key}]",
                )
            )


def _parse_section(
    raw: Mapping[str, Any], section: str, where: str, parse: Callable[[TomlTable], _T]
) -> dict[str, _T]:
    entries = raw.get(section, {})
    if not isinstance(entries, dict):
        raise TaxonomyError(
            tr(f"{where}: {section}: 必须是表", f"{where}: {section}: must be a table of entries")
        )
    parsed: dict[str, _T] = {}
    for code, entry in entries.items():
        key = f"{section}.{code}"
        if not _CODE_RE.fullmatch(code):
            raise TaxonomyError(
                tr(
                    f"{where}: {key}: 代码须为小写 snake_case",
                    f"{where}: {key}: code must be lower snake_case",
                )
            )
        if not isinstance(entry, dict):
            raise TaxonomyError(tr(f"{where}: {key}: 必须是表", f"{where}: {key}: must be a table"))
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
    t.allow(
        "zh",
        "en",
        "aliases",
        "gbt_code",
        "deadline_days",
        "deadline_unit",
        "point_kinds",
        "deductions",
    )
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
        aliases=t.optional_text_list("aliases"),
    )


def _parse_campaign(t: TomlTable) -> Campaign:
    t.allow("zh", "en", "categories")
    return Campaign(t.code, t.text("zh"), t.text("en"), t.code_list("categories"))


AREA_KINDS = ("street", "town", "community", "village")


def _parse_scheme(t: TomlTable) -> Scheme:
    t.allow("zh", "en", "base_score", "indicator_cap", "per_points", "area_kinds")
    base_score = t.number("base_score", minimum=0.0, inclusive=False)
    kinds = t.optional_text_list("area_kinds")
    unknown = [k for k in kinds if k not in AREA_KINDS]
    if unknown:
        raise t.error(
            "area_kinds",
            f"只能是 {', '.join(AREA_KINDS)}",
            f"must be among {', '.join(AREA_KINDS)}",
        )
    return Scheme(
        t.code,
        t.text("zh"),
        t.text("en"),
        base_score,
        t.optional_number("indicator_cap", minimum=0.0, inclusive=False),
        t.optional_number("per_points", minimum=0.0, inclusive=False),
        kinds,
    )
