"""Loading the area hierarchy (district, street, community, grid polygons).

``load_areas`` reads a file, validates every feature, finds missing parents by
containment, reports overlaps and gaps in m², upserts by code and re-assigns the
problems and inspection points that lie in areas whose geometry changed, all in one
transaction. Geometries are stored in EPSG:4326; areas are measured in the UTM zone
of the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Engine

from geo.areas import quality
from geo.areas.assign import AreaIndex, representative_points
from geo.areas.crs_guess import check_area_crs
from geo.areas.quality import as_multipolygon, polygonal_part
from geo.areas.reassign import reassign_within
from geo.core.crs import areas_m2, normalise_crs_name, to_wgs84
from geo.core.errors import AreaLoadError, InvalidParameterError
from geo.core.text import tr
from geo.core.vectorfile import read_vector_file, require_fields
from geo.storage.db import transaction
from geo.storage.models import LEVELS, Area
from geo.summary import counts as summary

_POLYGONAL = {"Polygon", "MultiPolygon"}


@dataclass(frozen=True)
class AreaLoadOptions:
    """How to read an area file: its level, which fields hold what, and its CRS."""

    level: str
    code_field: str = "code"
    name_field: str = "name"
    parent_field: str = "parent_code"
    crs: str | None = None
    layer: str | None = None
    strict: bool = False


@dataclass
class AreaLoadReport:
    """What a load did. Overlaps and gaps are in m²."""

    level: str
    features: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    repaired: list[str] = field(default_factory=list)
    parents_by_containment: int = 0
    overlaps: list[quality.Overlap] = field(default_factory=list)
    gaps: list[quality.Gap] = field(default_factory=list)
    reassigned_problems: int = 0
    reassigned_points: int = 0
    input_crs: str = "EPSG:4326"
    crs_hint: str | None = None


def load_areas(engine: Engine, path: str | Path, options: AreaLoadOptions) -> AreaLoadReport:
    """Load the areas of one level from a GeoJSON, GeoPackage or Shapefile.

    Parameters: ``engine`` of the civicgrid database; ``path`` of the file; ``options``
    (level, field names, input CRS overriding the file's, layer).
    Returns an ``AreaLoadReport``. Raises ``AreaLoadError`` / ``InputFileError`` with
    the feature number and reason, in which case nothing was written.
    CRS: input in any CRS pyproj knows, stored as EPSG:4326; areas in m² via UTM.
    """
    report = AreaLoadReport(level=_check_level(options.level))
    frame = _read_features(path, options, report)
    with transaction(engine) as session:
        report.crs_hint = check_area_crs(
            session, frame.geometry.values, options.level, report.input_crs, options.strict
        )
        parent_level = _resolve_parents(session, frame, options, report)
        report.overlaps = quality.overlaps(frame)
        report.gaps = quality.gaps(frame, _parent_frame(session, parent_level))
        changed = _upsert(session, frame, options.level, report)
        refresh_ancestry(session)
        summary.touch(session, "areas")
        if changed:
            counts = reassign_within(session, changed)
            report.reassigned_problems, report.reassigned_points = counts
    return report


def refresh_ancestry(session: so.Session) -> None:
    """Recompute every area's district/street/community ids from its parent chain.

    One UPDATE per level, coarse to fine, so each level reads its parents' final ids.
    """
    parent = so.aliased(Area)
    for level in LEVELS[1:]:
        values: dict[str, object] = {}
        for ancestor in ("district", "street", "community"):
            column = f"{ancestor}_id"
            values[column] = (
                Area.id
                if ancestor == level
                else sa.select(getattr(parent, column))
                .where(parent.id == Area.parent_id)
                .scalar_subquery()
            )
        session.execute(sa.update(Area).where(Area.level == level).values(**values))


def _check_level(level: str) -> str:
    if level not in LEVELS:
        raise AreaLoadError(
            tr(
                f"未知的区域层级 '{level}'; 可选: {', '.join(LEVELS)}",
                f"unknown level '{level}'; one of: {', '.join(LEVELS)}",
            )
        )
    return level


def _read_features(
    path: str | Path, options: AreaLoadOptions, report: AreaLoadReport
) -> gpd.GeoDataFrame:
    raw = read_vector_file(path, options.layer)
    require_fields(
        raw, path, {"--code-field": options.code_field, "--name-field": options.name_field}
    )
    if raw.empty:
        raise AreaLoadError(tr(f"{path}: 文件中没有要素", f"{path}: the file has no features"))
    report.input_crs = normalise_crs_name(options.crs or (raw.crs and raw.crs.to_string()))
    try:
        raw = to_wgs84(raw, options.crs)
    except InvalidParameterError:
        raise
    except Exception as exc:  # pyproj raises several types for a bad CRS
        raise AreaLoadError(
            tr(f"{path}: 无法转换坐标系: {exc}", f"{path}: cannot transform CRS: {exc}")
        ) from exc
    frame = gpd.GeoDataFrame(
        {
            "feature": np.arange(1, len(raw) + 1),
            "code": code_strings(raw[options.code_field]),
            "name": raw[options.name_field].fillna("").astype(str).str.strip(),
            "parent_code": (
                code_strings(raw[options.parent_field])
                if options.parent_field in raw
                else pd.Series([None] * len(raw), dtype=object)
            ),
        },
        geometry=raw.geometry.values,
        crs=4326,
    )
    _check_codes(frame, path)
    frame["geometry"] = _repaired_geometries(frame, path, report)
    frame.loc[frame["name"] == "", "name"] = frame["code"]
    frame["area_m2"] = areas_m2(frame.geometry)
    report.features = len(frame)
    return frame


def code_strings(values: pd.Series) -> pd.Series:
    """Codes as trimmed strings; integral floats (329901.0) lose their '.0'; blanks → None."""

    def one(value: object) -> str | None:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        text = str(value).strip()
        return text or None

    return values.map(one).astype(object)


def _check_codes(frame: gpd.GeoDataFrame, path: str | Path) -> None:
    missing = frame[frame["code"].isna()]
    if len(missing):
        first = int(missing["feature"].iloc[0])
        raise AreaLoadError(
            tr(
                f"{path}: 第 {first} 个要素缺少编码（共 {len(missing)} 个要素没有编码）",
                f"{path}: feature {first}: missing code ({len(missing)} feature(s) without a code)",
            )
        )
    dup = frame[frame["code"].duplicated(keep=False)]
    if len(dup):
        code = dup["code"].iloc[0]
        features = dup.loc[dup["code"] == code, "feature"].tolist()
        raise AreaLoadError(
            tr(
                f"{path}: 第 {features[1]} 个要素编码 '{code}' 重复（同第 {features[0]} 个要素）",
                (
                    f"{path}: feature {features[1]}: duplicate code '{code}' "
                    f"(also feature {features[0]})"
                ),
            )
        )


def _repaired_geometries(
    frame: gpd.GeoDataFrame, path: str | Path, report: AreaLoadReport
) -> gpd.GeoSeries:
    geoms = frame.geometry
    null = geoms.isna() | geoms.is_empty
    if null.any():
        first = int(frame.loc[null, "feature"].iloc[0])
        raise AreaLoadError(
            tr(f"{path}: 第 {first} 个要素没有几何", f"{path}: feature {first}: empty geometry")
        )
    bad_type = ~geoms.geom_type.isin(_POLYGONAL)
    if bad_type.any():
        row = frame[bad_type].iloc[0]
        raise AreaLoadError(
            tr(
                (
                    f"{path}: 第 {row['feature']} 个要素不是面（几何类型为 "
                    f"{row.geometry.geom_type}，区域须为 Polygon 或 MultiPolygon）"
                ),
                (
                    f"{path}: feature {row['feature']}: geometry is a "
                    f"{row.geometry.geom_type}, an area needs a Polygon or "
                    "MultiPolygon"
                ),
            )
        )
    invalid = ~geoms.is_valid
    if invalid.any():
        geoms = geoms.copy()
        reasons = shapely.is_valid_reason(geoms[invalid].values)
        repaired = polygonal_part(shapely.make_valid(geoms[invalid].values))
        for feature, code, reason, fixed in zip(
            frame.loc[invalid, "feature"],
            frame.loc[invalid, "code"],
            reasons,
            repaired,
            strict=True,
        ):
            if fixed is None or fixed.is_empty:
                raise AreaLoadError(
                    tr(
                        f"{path}: 第 {feature} 个要素（{code}）几何无效且无法修复（{reason}）",
                        (
                            f"{path}: feature {feature} ({code}): invalid geometry that "
                            f"cannot be repaired ({reason})"
                        ),
                    )
                )
            report.repaired.append(f"feature {feature} ({code}): {reason}")
        geoms[invalid] = repaired
    return geoms.map(as_multipolygon)


def _parent_level(session: so.Session, level: str) -> str | None:
    for candidate in reversed(LEVELS[: LEVELS.index(level)]):
        if session.scalar(sa.select(sa.func.count()).where(Area.level == candidate)):
            return candidate
    return None


def _parent_frame(session: so.Session, level: str | None) -> gpd.GeoDataFrame | None:
    if level is None:
        return None
    rows = session.execute(
        sa.select(Area.id, Area.code, Area.geom).where(Area.level == level)
    ).all()
    frame = pd.DataFrame(rows, columns=["id", "code", "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)


def _resolve_parents(
    session: so.Session, frame: gpd.GeoDataFrame, options: AreaLoadOptions, report: AreaLoadReport
) -> str | None:
    """Set ``frame['parent_id']`` from the parent code or, when absent, by containment."""
    level = _parent_level(session, options.level)
    frame["parent_id"] = pd.array([None] * len(frame), dtype="Int64")
    if level is None:
        return None
    parents = _parent_frame(session, level)
    assert parents is not None
    by_code = dict(zip(parents["code"], parents["id"], strict=True))
    given = frame["parent_code"].notna()
    unknown = given & ~frame["parent_code"].isin(by_code)
    if unknown.any():
        row = frame[unknown].iloc[0]
        raise AreaLoadError(
            tr(
                (
                    f"第 {row['feature']} 个要素（{row['code']}）的上级编码 "
                    f"'{row['parent_code']}' 不存在（不是已加载的{level}）"
                ),
                (
                    f"feature {row['feature']} ({row['code']}): parent code "
                    f"'{row['parent_code']}' is not a loaded {level}"
                ),
            )
        )
    frame.loc[given, "parent_id"] = frame.loc[given, "parent_code"].map(by_code)
    if (~given).any():
        _parents_by_containment(frame, ~given, parents, level)
        report.parents_by_containment = int((~given).sum())
    return level


def _parents_by_containment(
    frame: gpd.GeoDataFrame, todo: pd.Series, parents: gpd.GeoDataFrame, level: str
) -> None:
    index = AreaIndex.from_frame(parents.assign(level=level))
    found = index.assign(representative_points(frame.geometry[todo].values))
    column = "grid_id" if level == "grid" else f"{level}_id"
    ids = found[column] if level != "city" else _city_ids(found, parents)
    missing = ids.isna().to_numpy()
    if missing.any():
        row = frame[todo].iloc[int(np.argmax(missing))]
        raise AreaLoadError(
            tr(
                f"第 {row['feature']} 个要素（{row['code']}）未指定上级，且不在任何{level}内",
                (
                    f"feature {row['feature']} ({row['code']}): no parent given "
                    f"and not inside any {level}"
                ),
            )
        )
    frame.loc[todo, "parent_id"] = ids.to_numpy()


def _city_ids(found: pd.DataFrame, parents: gpd.GeoDataFrame) -> pd.Series:
    # The ancestry columns have no city slot: a city parent is the (single) city found.
    city = parents["id"].iloc[0] if len(parents) == 1 else None
    return pd.Series([city if lvl == "city" else None for lvl in found["level"]], dtype="Int64")


def _upsert(
    session: so.Session, frame: gpd.GeoDataFrame, level: str, report: AreaLoadReport
) -> list[BaseGeometry]:
    """Insert new codes, update changed ones; return the geometries (old and new) that
    changed, so what lies in them can be re-assigned."""
    existing = {a.code: a for a in session.scalars(sa.select(Area).where(Area.level == level))}
    now = datetime.now(UTC).replace(tzinfo=None)
    changed: list[BaseGeometry] = []
    for row in frame.itertuples(index=False):
        values = _area_values(row, level, now)
        area = existing.get(row.code)
        if area is None:
            session.add(Area(**values))
            report.inserted += 1
            changed.append(row.geometry)
        elif _differs(area, values):
            if not shapely.equals_exact(area.geom, row.geometry, 0.0):
                changed.extend([area.geom, row.geometry])
            elif area.parent_id != values["parent_id"]:
                # A new parent changes the ancestry of everything inside the area.
                changed.append(row.geometry)
            for key, value in values.items():
                setattr(area, key, value)
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    return changed


def _area_values(row: object, level: str, now: datetime) -> dict[str, object]:
    geom = row.geometry  # type: ignore[attr-defined]
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    parent = row.parent_id  # type: ignore[attr-defined]
    return {
        "level": level,
        "code": row.code,  # type: ignore[attr-defined]
        "name": row.name,  # type: ignore[attr-defined]
        "parent_id": None if pd.isna(parent) else int(parent),
        "area_m2": float(row.area_m2),  # type: ignore[attr-defined]
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
        "geom": geom,
        "updated_at": now,
    }


def _differs(area: Area, values: dict[str, object]) -> bool:
    if area.name != values["name"] or area.parent_id != values["parent_id"]:
        return True
    return not shapely.equals_exact(area.geom, values["geom"], 0.0)
