"""The attribute columns of exported problems, inspection points and areas.

One list per target, shared by every format (GeoJSON properties, CSV and XLSX columns,
GeoPackage fields, OGC API features and the OpenAPI schema) so they never drift apart.
Names are English snake_case codes; each field has a zh-CN and an English description
(the XLSX "说明 About" sheet and the OGC API HTML pages show them). Times are exported
as ISO 8601 with the offset of CIVICGRID_TIMEZONE (e.g. ``2024-05-01T08:00:00+08:00``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["int", "float", "str", "bool", "time"]


@dataclass(frozen=True)
class Field:
    """One exported attribute: name, type and what it means (zh / en)."""

    name: str
    type: FieldType
    zh: str
    en: str

    def label(self, lang: str = "zh") -> str:
        """The description in ``lang``."""
        return self.en if lang == "en" else self.zh


def _ancestry_fields(levels: tuple[str, ...]) -> tuple[Field, ...]:
    names = {
        "district": ("区", "district"),
        "street": ("街道/镇", "street / town"),
        "community": ("社区/村", "community / village"),
        "grid": ("网格", "grid"),
    }
    out: list[Field] = []
    for level in levels:
        zh, en = names[level]
        out.append(Field(f"{level}_code", "str", f"{zh}编码", f"{en} code"))
        out.append(Field(f"{level}_name", "str", f"{zh}名称", f"{en} name"))
    return tuple(out)


ANCESTRY_LEVELS = ("district", "street", "community", "grid")

PROBLEM_FIELDS: tuple[Field, ...] = (
    Field("id", "int", "问题ID", "problem id"),
    Field("external_id", "str", "外部编号", "external id (unique within source)"),
    Field("source", "str", "来源", "source"),
    Field("category", "str", "问题类别代码", "category code"),
    Field("category_label", "str", "问题类别", "category"),
    Field("status", "str", "状态代码", "status code"),
    Field("status_label", "str", "状态", "status"),
    Field("overdue", "bool", "是否超期", "overdue (unresolved past its deadline)"),
    Field("description", "str", "问题描述", "description"),
    Field("found_at", "time", "发现时间", "found at"),
    Field("assigned_at", "time", "交办时间", "assigned at"),
    Field("deadline", "time", "整改时限", "rectification deadline"),
    Field("rectified_at", "time", "整改时间", "rectified at"),
    Field("closed_at", "time", "销号时间", "closed at"),
    Field("reopen_count", "int", "返工次数", "times reopened"),
    Field("campaign", "str", "攻坚行动代码", "campaign code"),
    Field("campaign_label", "str", "攻坚行动", "campaign"),
    Field("unit", "str", "责任单位", "responsible unit"),
    Field("point_code", "str", "点位编码", "inspection point code"),
    Field("point_name", "str", "点位名称", "inspection point name"),
    Field("point_kind", "str", "点位类型代码", "inspection point kind code"),
    Field("point_kind_label", "str", "点位类型", "inspection point kind"),
    *_ancestry_fields(ANCESTRY_LEVELS),
    Field("outside", "bool", "不在任何区域内", "outside every area"),
)

POINT_FIELDS: tuple[Field, ...] = (
    Field("code", "str", "点位编码", "point code"),
    Field("name", "str", "点位名称", "point name"),
    Field("kind", "str", "点位类型代码", "kind code"),
    Field("kind_label", "str", "点位类型", "kind"),
    Field("address", "str", "地址", "address"),
    Field("unit", "str", "责任单位", "responsible unit"),
    *_ancestry_fields(ANCESTRY_LEVELS),
    Field("outside", "bool", "不在任何区域内", "outside every area"),
)

AREA_FIELDS: tuple[Field, ...] = (
    Field("code", "str", "区域编码", "area code"),
    Field("name", "str", "区域名称", "area name"),
    Field("level", "str", "层级代码", "level code"),
    Field("level_label", "str", "层级", "level"),
    Field("parent_code", "str", "上级编码", "parent code"),
    Field("parent_name", "str", "上级名称", "parent name"),
    Field("area_km2", "float", "面积(平方公里)", "area (km²)"),
    *_ancestry_fields(("district", "street", "community")),
    Field("problems_total", "int", "问题总数", "problems in all"),
    Field("problems_unresolved", "int", "未销号问题数", "unresolved problems"),
)

FIELDS: dict[str, tuple[Field, ...]] = {
    "problems": PROBLEM_FIELDS,
    "points": POINT_FIELDS,
    "areas": AREA_FIELDS,
}
"""Exported attributes per target, in column order."""

ID_FIELD: dict[str, str] = {"problems": "id", "points": "code", "areas": "code"}
"""The attribute that identifies a feature of each target (the GeoJSON ``id``)."""

TITLES: dict[str, tuple[str, str]] = {
    "problems": ("问题", "Problems"),
    "points": ("点位", "Inspection points"),
    "areas": ("区域", "Areas"),
}
