"""Mapping a survey file's headers to civicgrid's canonical column names.

Recognises the usual headers (lon/lng/经度/x, 问题类别/category, 发现时间...), the
KoboToolbox export layout (geopoint ``loc`` as "lat lon alt acc" plus
``_loc_latitude``/``_loc_longitude``/``_loc_precision``, group paths such as
``group/_loc_latitude``, ``_uuid``, ``_submission_time``) and the ODK Central layout
(``path-Latitude``, ``path-Longitude``, ``path-Accuracy``, ``KEY``/``meta-instanceID``,
``SubmissionDate``). An explicit mapping (``--map category=问题类型`` or a small TOML /
JSON file) wins over every guess.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from geo.core.errors import IngestError, InvalidParameterError
from geo.core.text import Text, tr

ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "编号", "问题编号", "external_id", "序号id"),
    "lon": ("lon", "lng", "long", "longitude", "经度", "x", "gps经度"),
    "lat": ("lat", "latitude", "纬度", "y", "gps纬度"),
    "category": ("category", "问题类别", "类别", "问题类型", "问题分类"),
    "description": ("description", "descriptio", "问题描述", "描述", "问题详情"),
    "found_at": ("found_at", "发现时间", "time", "检查时间", "上报时间"),
    "status": ("status", "状态"),
    "unit": ("unit", "责任单位"),
    "deadline": ("deadline", "整改时限"),
    "rectified_at": ("rectified_at", "整改时间"),
    "closed_at": ("closed_at", "销号时间"),
    "reopened": ("reopened", "返工次数"),
    "campaign": ("campaign", "专项行动", "攻坚行动"),
    "point_code": ("point_code", "点位", "点位编码", "点位编号"),
    "geopoint": ("geopoint", "loc", "location", "gps", "定位"),
    "accuracy": ("accuracy", "precision", "精度"),
    # Visits of a round (geo/ingest/visits.py): a row with a point code and a result but no
    # category is a visit; with a category, a visit and the problem found in it.
    "result": ("result", "结果", "测评结果", "检查结果", "评价结果"),
    "round": ("round", "轮次", "测评轮次"),
    "inspector": ("inspector", "测评员", "检查人", "督查员"),
}
"""Canonical column → recognised headers (matched ignoring case, width and brackets)."""

CANONICAL: tuple[str, ...] = tuple(ALIASES)
REQUIRED: tuple[str, ...] = ("lon", "lat", "category", "found_at")
_DEFAULTED = ("found_at",)  # a file without it gets --found-at or the ingest time

# Submission ids and times of form servers, used when the file has no own column.
_ID_FALLBACKS = ("_uuid", "meta/instanceid", "meta-instanceid", "instanceid", "key")
_TIME_FALLBACKS = ("_submission_time", "submissiondate")
_KOBO_GEO = re.compile(r"^(?:.*/)?_(?P<name>.+)_(?P<part>latitude|longitude|precision)$")
_ODK_GEO = re.compile(r"^(?P<name>.+)-(?P<part>latitude|longitude|accuracy)$")
_BRACKETS = re.compile(r"\s*[\(（\[【].*?[\)）\]】]\s*$")


@dataclass
class ColumnPlan:
    """Which file header feeds each canonical column.

    ``utc`` names canonical time columns whose values without offset are UTC (form
    servers' submission times), not local time. ``flavour`` is ``kobo``, ``odk`` or
    ``plain``.
    """

    columns: dict[str, str] = field(default_factory=dict)
    utc: set[str] = field(default_factory=set)
    flavour: str = "plain"

    @property
    def has_coordinates(self) -> bool:
        return ("lon" in self.columns and "lat" in self.columns) or "geopoint" in self.columns


def plan_columns(
    headers: Sequence[str], explicit: Mapping[str, str] | None = None, where: str = ""
) -> ColumnPlan:
    """Decide the header for each canonical column; raise ``IngestError`` when the
    explicit mapping names a missing header or a required column cannot be found."""
    headers = [str(h) for h in headers]
    plan = ColumnPlan(flavour=_flavour(headers))
    _explicit(plan, headers, explicit or {}, where)
    _by_alias(plan, headers)
    _form_server(plan, headers)
    _check_required(plan, headers, where)
    return plan


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``--map`` values → {canonical: header}.

    Each item is ``name=header`` or the path of a TOML/JSON file holding such pairs
    (TOML: ``category = "问题类型"``; an optional ``[columns]`` table is accepted).
    Raises ``InvalidParameterError`` for unknown names or unreadable files.
    """
    mapping: dict[str, str] = {}
    for item in items:
        pairs = _mapping_file(item) if "=" not in item else [tuple(item.split("=", 1))]
        for name, header in pairs:
            key = "external_id" if name.strip().lower() == "id" else name.strip().lower()
            if key not in CANONICAL:
                raise InvalidParameterError(
                    tr(
                        f"--map: 未知的列名 '{name}'(可用: id, {', '.join(CANONICAL)})",
                        (
                            f"--map: unknown column name '{name}' (use one of: id, "
                            f"{', '.join(CANONICAL)})"
                        ),
                    )
                )
            mapping[key] = str(header).strip()
    return mapping


def normalise_header(text: str) -> str:
    """Header text as compared: NFKC, trimmed, lower case, no trailing '(...)' or '*'."""
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    text = _BRACKETS.sub("", text).strip().rstrip("*").strip()
    return text


def _flavour(headers: Sequence[str]) -> str:
    low = {normalise_header(h) for h in headers}
    if "_uuid" in low or "_submission_time" in low or any(_KOBO_GEO.match(h) for h in low):
        return "kobo"
    if "submissiondate" in low or "meta-instanceid" in low or any(_ODK_GEO.match(h) for h in low):
        return "odk"
    return "plain"


def _explicit(
    plan: ColumnPlan, headers: list[str], explicit: Mapping[str, str], where: str
) -> None:
    by_norm = {normalise_header(h): h for h in headers}
    for name, header in explicit.items():
        found = header if header in headers else by_norm.get(normalise_header(header))
        if found is None:
            raise IngestError(
                tr(
                    (
                        f"{where}--map {name}={header}: 文件中没有这一列; 文件中的列: "
                        f"{shown_headers(headers)}"
                    ),
                    (
                        f"{where}--map {name}={header}: no such column; columns in "
                        f"file: {shown_headers(headers)}"
                    ),
                )
            )
        plan.columns[name] = found


def _by_alias(plan: ColumnPlan, headers: list[str]) -> None:
    lookup = {normalise_header(a): name for name, aliases in ALIASES.items() for a in aliases}
    taken = set(plan.columns.values())
    for pass_ in ("full", "last"):
        for header in headers:
            if header in taken:
                continue
            norm = normalise_header(header)
            if pass_ == "last":
                norm = _last_segment(norm, plan.flavour)
            name = lookup.get(norm)
            if name and name not in plan.columns:
                plan.columns[name] = header
                taken.add(header)


def _last_segment(norm: str, flavour: str) -> str:
    """Kobo group paths use '/', ODK Central ones '-': keep the question name."""
    if "/" in norm:
        return norm.rsplit("/", 1)[1]
    if flavour == "odk" and "-" in norm:
        return norm.rsplit("-", 1)[1]
    return norm


def _form_server(plan: ColumnPlan, headers: list[str]) -> None:
    """Kobo / ODK geopoint parts, submission id and time, when nothing else gave them."""
    if not ("lon" in plan.columns and "lat" in plan.columns):
        parts = _geopoint_parts(headers)
        if "lat" in parts and "lon" in parts:
            plan.columns.pop("geopoint", None)
            plan.columns.update({k: v for k, v in parts.items() if k not in plan.columns})
    low = {normalise_header(h): h for h in headers}
    if "external_id" not in plan.columns:
        for key in _ID_FALLBACKS:
            if key in low:
                plan.columns["external_id"] = low[key]
                break
    if "found_at" not in plan.columns and plan.flavour == "kobo" and "start" in low:
        plan.columns["found_at"] = low["start"]  # when the inspector opened the form
    if "found_at" not in plan.columns:
        for key in _TIME_FALLBACKS:
            if key in low:
                plan.columns["found_at"] = low[key]
                plan.utc.add("found_at")
                break


def _geopoint_parts(headers: list[str]) -> dict[str, str]:
    """The first geopoint's latitude / longitude / accuracy columns (Kobo or ODK)."""
    found: dict[str, dict[str, str]] = {}
    order: list[str] = []
    part_names = {"latitude": "lat", "longitude": "lon", "precision": "accuracy"}
    part_names["accuracy"] = "accuracy"
    for header in headers:
        norm = normalise_header(header)
        match = _KOBO_GEO.match(norm) or _ODK_GEO.match(norm)
        if match:
            name = match["name"]
            if name not in found:
                found[name] = {}
                order.append(name)
            found[name][part_names[match["part"]]] = header
    for name in order:
        if "lat" in found[name] and "lon" in found[name]:
            return found[name]
    return {}


def default_found_at(
    plan: ColumnPlan, explicit: datetime | None, strict: bool, now: datetime, where: str = ""
) -> tuple[datetime | None, Text | None]:
    """The found time (naive UTC) of rows that give none, and a note saying so.

    ``explicit`` (``--found-at``) wins; a file without a time column gets the ingest time
    ``now``, unless ``strict``, which refuses it (``IngestError``).
    """
    if explicit is not None:
        return explicit, None
    if "found_at" in plan.columns:
        return None, None
    if strict:
        headers = "/".join(ALIASES["found_at"][:5])
        raise IngestError(
            tr(
                f"{where}缺少时间列（{headers}）：--strict 要求文件给出发现时间；"
                "或用 --found-at DATETIME",
                f"{where}no time column ({headers}): --strict needs the file to give the "
                "found time; or give --found-at DATETIME",
            )
        )
    stamp = f"{now:%Y-%m-%d %H:%M:%S} UTC"
    return now, tr(
        f"文件没有时间列，发现时间取导入时间 {stamp}（可用 --found-at 指定）",
        f"no time column: found time = ingest time {stamp} (--found-at sets it)",
    )


def shown_headers(headers: Sequence[str]) -> str:
    """The file's headers for a message: without the reader's own ``__name__`` columns
    (row number, read error, a vector file's coordinates)."""
    own = [h for h in headers if not (h.startswith("__") and h.endswith("__"))]
    return ", ".join(own) or "—"


def _check_required(plan: ColumnPlan, headers: list[str], where: str) -> None:
    missing = [n for n in REQUIRED if n not in plan.columns and n not in _DEFAULTED]
    if "result" in plan.columns:  # a file of visits: rows without a category are visits
        missing = [n for n in missing if n != "category"]
        if "point_code" in plan.columns:  # rows may take their point's location
            missing = [n for n in missing if n not in ("lon", "lat")]
    if plan.has_coordinates:
        missing = [n for n in missing if n not in ("lon", "lat")]
    if not missing:
        return
    hints = "; ".join(f"{m}: {'/'.join(ALIASES[m][:5])}" for m in missing)
    raise IngestError(
        tr(
            (
                f"{where}缺少必需的列: {', '.join(missing)}（可用表头: "
                f"{hints}；或用 --map {missing[0]}=<表头>；文件中的列: "
                f"{shown_headers(headers)}）"
            ),
            (
                f"{where}missing required column(s): {', '.join(missing)} "
                f"(accepted headers: {hints}; or use --map "
                f"{missing[0]}=<header>; columns in file: "
                f"{shown_headers(headers)})"
            ),
        )
    )


def _mapping_file(item: str) -> list[tuple[str, str]]:
    path = Path(item)
    if not path.is_file():
        raise InvalidParameterError(
            tr(
                f"--map {item}: 应为 名称=表头 或映射文件",
                f"--map {item}: expected name=header or a mapping file",
            )
        )
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        else:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(
            tr(
                f"--map {item}: 映射文件无法读取（{exc}）",
                f"--map {item}: unreadable mapping file ({exc})",
            )
        ) from exc
    if isinstance(data, dict) and isinstance(data.get("columns"), dict):
        data = data["columns"]
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InvalidParameterError(
            tr(
                f'--map {item}: 映射文件应为 名称 = "表头"',
                f"--map {item}: the file must map names to header text",
            )
        )
    return [(str(k), v) for k, v in data.items()]
