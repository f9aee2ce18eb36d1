"""OGC API – Features Part 3: queryables and CQL2 filters (text and JSON), translated to
SQL with bound parameters on both backends.

Queryables come from the exports' field declarations (geo/export/fields.py): every
exported attribute that is a column of the collection's table, plus ``geometry``; so a
filter names the same properties the features carry. Expressions are parsed and
validated by the ``cql2`` package (the OGC reference grammar, text and JSON alike, in
Rust); this module walks its CQL2-JSON tree. Supported: comparisons (``= <> < <= > >=``),
``AND``/``OR``/``NOT``, ``LIKE``, ``IN``, ``BETWEEN``, ``IS NULL``, ``S_INTERSECTS``
(geometry literals in CRS84 lon/lat, or ``filter-crs``) and ``T_INTERSECTS`` on time
properties. Conditions are added to the caller's scope filter, never instead of it.
The same queryables are what ``sortby`` may name; ``properties`` names exported fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import cql2
import numpy as np
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import InvalidParameterError
from geo.core.text import tr
from geo.export.fields import FIELDS, Field
from geo.export.query import raw_wkb
from geo.protocols.ogc_crs import Crs
from geo.storage.db import is_postgres
from geo.storage.models import Area, InspectionPoint, Problem

LANGS = ("cql2-text", "cql2-json")
DRAFT_LANGS = {"cql-text": "cql2-text"}
"""Names from the Part 3 drafts taken as their CQL2 language: GDAL up to 3.6 pushes an
``ogrinfo -where`` to a server as ``filter-lang=cql-text`` only if the OpenAPI document
offers that name (and otherwise filters on its side)."""
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
]
"""Not claimed: CQL2 Temporal Functions, which requires all 15 temporal predicates
(T_AFTER … T_STARTS); only ``T_INTERSECTS`` is supported."""
MAX_FILTER_CHARS = 20_000
GEOMETRY_TYPES = {"problems": "Point", "points": "Geometry", "areas": "MultiPolygon"}
"""The GeoJSON schema (geojson.org/schema) of each target's geometry."""
_MODELS: dict[str, Any] = {"problems": Problem, "points": InspectionPoint, "areas": Area}
_SCHEMA_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "str": "string"}
_LITERAL_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int, float), "float": (int, float), "str": (str,), "bool": (bool,)
}  # fmt: skip
"""What a literal compared with a property of each field type must be (PostgreSQL refuses
``integer = varchar``; SQLite would compare anything): a mismatch is a 400."""
_TYPE_NAMES = {"int": ("数字", "number"), "float": ("数字", "number"),
               "str": ("文本", "text"), "bool": ("布尔值", "boolean")}  # fmt: skip
_COMPARE = {"=": "__eq__", "<>": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__",
            ">=": "__ge__"}  # fmt: skip


def queryables(target: str) -> dict[str, Field]:
    """The queryable properties of a target: exported fields that are table columns."""
    columns = set(sa.inspect(_MODELS[target]).columns.keys())
    return {f.name: f for f in FIELDS[target] if f.name in columns}


def queryables_schema(target: str, geometry: str, url: str, lang: str) -> dict[str, Any]:
    """The ``/queryables`` JSON Schema (draft 2019-09) of a collection at ``url``."""
    props: dict[str, Any] = {"geometry": {"$ref": f"https://geojson.org/schema/{geometry}.json"}}
    for name, f in queryables(target).items():
        schema: dict[str, Any] = {"title": f.label(lang)}
        if f.type == "time":
            schema.update(type="string", format="date-time")
        else:
            schema["type"] = _SCHEMA_TYPES[f.type]
        props[name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": url,
        "type": "object",
        "title": target,
        "properties": props,
        "additionalProperties": False,
    }


def parse_filter(text: str | None, lang: str | None) -> dict[str, Any] | None:
    """The CQL2-JSON tree of ``filter`` in ``filter-lang`` (default cql2-text); 400 if it
    does not parse."""
    if text is None or text.strip() == "":
        return None
    language = (lang or "cql2-text").strip()
    language = DRAFT_LANGS.get(language, language)
    if language not in LANGS:
        raise _bad(
            f"filter-lang 须为 {' 或 '.join(LANGS)}", f"filter-lang must be {' or '.join(LANGS)}"
        )
    if len(text) > MAX_FILTER_CHARS:
        raise _bad(
            f"filter 超过 {MAX_FILTER_CHARS} 字符",
            f"filter longer than {MAX_FILTER_CHARS} characters",
        )
    try:
        expr = cql2.parse_text(text) if language == "cql2-text" else cql2.parse_json(text)
        tree = expr.to_json()
    except Exception as exc:  # cql2 raises its own ValueError subclasses
        raise _bad(
            f"filter 无法解析: {str(exc)[:200]}", f"filter does not parse: {str(exc)[:200]}"
        ) from None
    return tree if isinstance(tree, dict) else {"op": "=", "args": [tree, True]}


def parse_properties(target: str, text: str | None) -> tuple[str, ...] | None:
    """``properties=a,b``: exported fields of ``target`` to keep (None: all)."""
    if text is None:
        return None
    names = tuple(p.strip() for p in text.split(",") if p.strip())
    known = [f.name for f in FIELDS[target]]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InvalidParameterError(
            tr(
                f"没有这个属性 '{unknown[0][:60]}'; 可用: {', '.join(known)}",
                f"no property '{unknown[0][:60]}'; available: {', '.join(known)}",
            )
        )
    return names


def parse_flag(text: str | None, name: str) -> bool:
    """A boolean query argument (true/false, 1/0; absent is false)."""
    if text is None or text.lower() in ("false", "0"):
        return False
    if text.lower() in ("true", "1"):
        return True
    raise InvalidParameterError(tr(f"{name} 须为 true 或 false", f"{name} must be true or false"))


def parse_sortby(target: str, text: str | None) -> tuple[tuple[str, bool], ...]:
    """``sortby=+found_at,-status``: queryables, ``-`` for descending."""
    if text is None:
        return ()
    out = []
    sortable = queryables(target)
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name = part.lstrip("+-").strip()
        if name not in sortable:
            raise InvalidParameterError(
                tr(
                    f"不能按 '{name[:60]}' 排序; 可用: {', '.join(sortable)}",
                    f"cannot sort by '{name[:60]}'; sortable: {', '.join(sortable)}",
                )
            )
        out.append((name, part.startswith("-")))
    return tuple(out)


def filter_conditions(
    session: so.Session, target: str, tree: Mapping[str, Any] | None, crs: Crs
) -> list[sa.ColumnElement[bool]]:
    """SQL conditions (bound parameters only) for the filter ``tree`` on ``target``'s
    table; geometry literals are in ``crs`` (its axis order) and compared in CRS84."""
    if tree is None:
        return []
    return [_Translator(session, target, crs).condition(tree)]


class _Translator:
    def __init__(self, session: so.Session, target: str, crs: Crs) -> None:
        self.session, self.target, self.crs = session, target, crs
        self.model = _MODELS[target]
        self.fields = queryables(target)

    def condition(self, node: Any) -> sa.ColumnElement[bool]:
        if isinstance(node, bool):
            return sa.true() if node else sa.false()
        if not isinstance(node, Mapping) or "op" not in node:
            raise _bad("filter 须为条件表达式", "the filter must be a condition")
        op, args = str(node["op"]).lower(), list(node.get("args", []))
        if op in ("and", "or"):
            parts = [self.condition(a) for a in args]
            return sa.and_(*parts) if op == "and" else sa.or_(*parts)
        if op == "not":
            return sa.not_(self.condition(args[0]))
        if op in _COMPARE:
            column, field = self.property(args[0])
            return getattr(column, _COMPARE[op])(self.value(args[1], field))
        if op == "like":
            column, field = self.property(args[0])
            if field.type != "str":
                raise _bad(
                    f"LIKE 只用于文本属性, '{field.name}' 不是",
                    f"LIKE takes a text property; '{field.name}' is not one",
                )
            return column.like(str(self.value(args[1], field)), escape="\\")
        if op == "in":
            column, field = self.property(args[0])
            return column.in_([self.value(v, field) for v in args[1]])
        if op == "between":
            column, field = self.property(args[0])
            return column.between(self.value(args[1], field), self.value(args[2], field))
        if op == "isnull":
            return self.property(args[0])[0].is_(None)
        if op == "s_intersects":
            return self.intersects(args)
        if op == "t_intersects":
            return self.during(args)
        raise _bad(f"不支持的运算 '{op}'", f"unsupported operator '{op}'")

    def property(self, node: Any) -> tuple[Any, Field]:
        name = node.get("property") if isinstance(node, Mapping) else None
        if name is None:  # Basic CQL2: property first, then a literal
            raise _bad(
                f"第一个参数须为属性, 而不是 {json.dumps(node, ensure_ascii=False)[:60]}",
                f"the first operand must be a property, not {json.dumps(node)[:60]}",
            )
        if name not in self.fields:
            raise _bad(
                f"不可查询的属性 '{str(name)[:60]}'; 可用: {', '.join(self.fields)}",
                f"'{str(name)[:60]}' is not queryable; queryables: {', '.join(self.fields)}",
            )
        return getattr(self.model, name), self.fields[name]

    def value(self, node: Any, field: Field) -> Any:
        if isinstance(node, Mapping) and ("timestamp" in node or "date" in node):
            node = node.get("timestamp") or node.get("date")
        if isinstance(node, (Mapping, list)):
            raise _bad("比较的值须为字面量", "a comparison takes a literal value")
        if field.type == "time":
            return _instant(node)
        if not isinstance(node, _LITERAL_TYPES[field.type]) or (
            isinstance(node, bool) and field.type in ("int", "float")
        ):
            zh, en = _TYPE_NAMES[field.type]
            raise _bad(
                f"'{field.name}' 须与{zh}比较: {str(node)[:40]}",
                f"'{field.name}' takes a {en} value: {str(node)[:40]}",
            )
        if field.type == "int" and isinstance(node, float) and node.is_integer():
            return int(node)
        return node

    def during(self, args: list[Any]) -> sa.ColumnElement[bool]:
        column, field = self.property(args[0])
        if field.type != "time":
            raise _bad(f"'{field.name}' 不是时间", f"'{field.name}' is not a time")
        literal = args[1]
        if isinstance(literal, Mapping) and "interval" in literal:
            start, end = literal["interval"]
        else:
            start = end = self.value(literal, field)
        conds = []
        if start not in ("..", None):
            conds.append(column >= _instant(start))
        if end not in ("..", None):
            conds.append(column <= _instant(end))
        return sa.and_(column.is_not(None), *conds)

    def intersects(self, args: list[Any]) -> sa.ColumnElement[bool]:
        if not (isinstance(args[0], Mapping) and args[0].get("property") == "geometry"):
            raise _bad(
                "S_INTERSECTS 的第一个参数须为 geometry", "S_INTERSECTS takes geometry first"
            )
        shape = _geometry(args[1], self.crs)
        if is_postgres(self.session):
            text = sa.func.ST_GeomFromGeoJSON(sa.bindparam(None, shapely.to_geojson(shape)))
            return sa.func.ST_Intersects(self.model.geom, sa.func.ST_SetSRID(text, 4326))
        # one bound JSON array, not a parameter per id: SQLite allows at most 250,000
        # (Debian's build), which a filter over a big city's problems would pass
        listed = sa.func.json_each(sa.bindparam(None, json.dumps(self._ids_within(shape))))
        return self.model.id.in_(sa.select(listed.table_valued("value").c.value))

    def _ids_within(self, shape: shapely.Geometry) -> list[int]:
        """SQLite has no spatial SQL: ids whose geometry meets ``shape`` (boxes in SQL,
        then shapely over the candidates)."""
        x0, y0, x1, y1 = shapely.bounds(shape)
        m = self.model
        if self.target == "areas":
            box = [m.min_lon <= x1, m.max_lon >= x0, m.min_lat <= y1, m.max_lat >= y0]
            rows = self.session.execute(
                sa.select(m.id, raw_wkb(self.session, m.geom)).where(*box)
            ).all()
            geoms = shapely.from_wkb([r[1] for r in rows]) if rows else np.array([])
        elif self.target == "points":  # any geometry, no bounds columns: each one read
            rows = self.session.execute(sa.select(m.id, raw_wkb(self.session, m.geom))).all()
            geoms = shapely.from_wkb([r[1] for r in rows]) if rows else np.array([])
        else:
            box = [m.lon.between(x0, x1), m.lat.between(y0, y1)]
            rows = self.session.execute(sa.select(m.id, m.lon, m.lat).where(*box)).all()
            geoms = shapely.points([(r[1], r[2]) for r in rows]) if rows else np.array([])
        if not rows:
            return []
        hit = shapely.intersects(geoms, shape)
        return [int(r[0]) for r, h in zip(rows, hit, strict=True) if h]


def _geometry(node: Any, crs: Crs) -> shapely.Geometry:
    try:
        if isinstance(node, Mapping) and "bbox" in node:
            box = [float(v) for v in node["bbox"]]
            box = box[:2] + box[3:5] if len(box) == 6 else box
            shape = shapely.box(*crs.to_lon_lat((box[0], box[1], box[2], box[3])))
        else:
            shape = shapely.from_geojson(json.dumps(node))
            if crs.lat_first:
                shape = shapely.transform(shape, lambda xy: xy[:, ::-1])
    except Exception:
        raise _bad("S_INTERSECTS 的几何无效", "S_INTERSECTS: invalid geometry") from None
    if shape.is_empty or not shapely.is_valid(shape):
        raise _bad("S_INTERSECTS 的几何无效", "S_INTERSECTS: invalid geometry")
    return shape


def _instant(value: Any) -> datetime:
    """An RFC 3339 time or date as naive UTC (the stored form)."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _bad(
            f"时间格式错误 '{str(value)[:40]}'", f"malformed time '{str(value)[:40]}' (RFC 3339)"
        ) from None
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _bad(zh: str, en: str) -> InvalidParameterError:
    return InvalidParameterError(tr(zh, en))
