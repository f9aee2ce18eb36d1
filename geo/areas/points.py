"""Loading inspection points (点位): markets, alleys, school surroundings...

Each feature's kind is resolved through the taxonomy (code, zh or en label). School
surroundings are stored as a buffer in metres (the kind's ``buffer_m``, default 200 m)
around the school geometry, computed in the local UTM zone; the school geometry itself
is kept as ``source_geom``. Points are assigned to areas by a representative point of
the original geometry. All geometries are stored in EPSG:4326.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.engine import Engine

from geo.areas.assign import load_area_index, representative_points
from geo.areas.crs_guess import guess_from_areas, reference_union
from geo.areas.loading import code_strings
from geo.areas.units import unit_ids
from geo.core.crs import metric_crs_for, normalise_crs_name, to_wgs84
from geo.core.errors import PointLoadError, TaxonomyError
from geo.core.taxonomy import Taxonomy
from geo.core.taxonomy_file import default_taxonomy
from geo.core.text import en, tr
from geo.core.vectorfile import read_vector_file, require_fields
from geo.storage.db import transaction
from geo.storage.models import ANCESTRY_COLUMNS, InspectionPoint, Problem
from geo.summary import counts as summary

_ALLOWED_TYPES = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"}


@dataclass(frozen=True)
class PointLoadOptions:
    """Field names, input CRS and the school buffer override (metres)."""

    code_field: str = "code"
    name_field: str = "name"
    kind_field: str = "kind"
    address_field: str = "address"
    unit_field: str = "unit"
    crs: str | None = None
    layer: str | None = None
    school_buffer_m: float | None = None
    strict: bool = False


@dataclass
class PointLoadReport:
    """What a load did."""

    features: int = 0
    inserted: int = 0
    updated: int = 0
    outside: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    crs_hint: str | None = None


def load_points(
    engine: Engine,
    path: str | Path,
    options: PointLoadOptions | None = None,
    taxonomy: Taxonomy | None = None,
) -> PointLoadReport:
    """Load inspection points from a GeoJSON, GeoPackage or Shapefile; upsert by code.

    Returns a ``PointLoadReport``. Raises ``PointLoadError`` / ``InputFileError`` naming
    the feature and reason; then nothing was written.
    CRS: any input CRS (``options.crs`` overrides the file's), stored as EPSG:4326;
    buffers in metres via UTM.
    """
    options = options or PointLoadOptions()
    taxonomy = taxonomy or default_taxonomy()
    frame, declared = _read_points(path, options, taxonomy)
    with transaction(engine) as session:
        hint = _crs_hint(session, frame, options, declared)
        _assign(session, frame)
        report = _upsert(session, frame)
        report.crs_hint = hint
        summary.touch(session, "points")
    report.by_kind = frame["kind"].value_counts().sort_index().to_dict()
    return report


def _crs_hint(
    session: so.Session, frame: gpd.GeoDataFrame, options: PointLoadOptions, declared: str
) -> str | None:
    """Say (or with ``strict`` refuse) when the points fit the loaded areas clearly better
    in another Chinese lon/lat system (geo/areas/crs_guess.py)."""
    reference = reference_union(session, "district")  # the coarsest loaded: cheapest
    hint = guess_from_areas(declared, frame["source_geom"].values, reference)
    if hint is not None and options.strict:
        raise PointLoadError(hint.message())
    return None if hint is None else hint.message()


def _read_points(
    path: str | Path, options: PointLoadOptions, taxonomy: Taxonomy
) -> tuple[gpd.GeoDataFrame, str]:
    raw = read_vector_file(path, options.layer)
    require_fields(
        raw,
        path,
        {
            "--code-field": options.code_field,
            "--name-field": options.name_field,
            "--kind-field": options.kind_field,
        },
    )
    if raw.empty:
        raise PointLoadError(tr(f"{path}: 文件中没有要素", f"{path}: the file has no features"))
    declared = normalise_crs_name(options.crs or (raw.crs and raw.crs.to_string()))
    raw = to_wgs84(raw, options.crs)
    frame = gpd.GeoDataFrame(
        {
            "feature": np.arange(1, len(raw) + 1),
            "code": code_strings(raw[options.code_field]),
            "name": raw[options.name_field].fillna("").astype(str).str.strip(),
            "kind": _kinds(raw[options.kind_field], path, taxonomy),
            "address": _optional_text(raw, options.address_field),
            "unit": _optional_text(raw, options.unit_field),
        },
        geometry=raw.geometry.values,
        crs=4326,
    )
    _check(frame, path)
    frame["source_geom"] = frame.geometry
    frame["geometry"] = _buffered(frame, taxonomy, options.school_buffer_m)
    return frame, declared


def _kinds(values: pd.Series, path: str | Path, taxonomy: Taxonomy) -> pd.Series:
    codes = []
    for feature, value in enumerate(values, start=1):
        try:
            codes.append(taxonomy.resolve_kind(str(value if value is not None else "")).code)
        except TaxonomyError as exc:
            raise PointLoadError(
                tr(f"{path}: 第 {feature} 个要素: {exc}", f"{path}: feature {feature}: {en(exc)}")
            ) from exc
    return pd.Series(codes, dtype=object)


def _optional_text(raw: pd.DataFrame, column: str) -> pd.Series:
    if column not in raw:
        return pd.Series([None] * len(raw), dtype=object)
    values = [None if pd.isna(v) or not str(v).strip() else str(v).strip() for v in raw[column]]
    return pd.Series(values, dtype=object)


def _check(frame: gpd.GeoDataFrame, path: str | Path) -> None:
    problems = [
        (frame["code"].isna(), tr("缺少编码", "missing code")),
        (frame["code"].duplicated(keep="first"), tr("编码重复", "duplicate code")),
        (frame.geometry.isna() | frame.geometry.is_empty, tr("没有几何", "empty geometry")),
        (
            ~frame.geometry.geom_type.isin(_ALLOWED_TYPES),
            tr("不支持的几何类型", "unsupported geometry"),
        ),
        (~frame.geometry.is_valid, tr("几何无效", "invalid geometry")),
    ]
    for mask, reason in problems:
        if mask.any():
            row = frame[mask].iloc[0]
            raise PointLoadError(
                tr(
                    f"{path}: 第 {row['feature']} 个要素: {reason}",
                    f"{path}: feature {row['feature']} ({row['code']}): {en(reason)}",
                )
            )


def _buffered(
    frame: gpd.GeoDataFrame, taxonomy: Taxonomy, override_m: float | None
) -> gpd.GeoSeries:
    geoms = frame.geometry.copy()
    for kind in frame["kind"].unique():
        buffer_m = taxonomy.point_kinds[kind].buffer_m
        if buffer_m is None:
            continue
        distance = override_m if override_m is not None else buffer_m
        mask = frame["kind"] == kind
        metric = metric_crs_for(frame)
        geoms[mask] = geoms[mask].to_crs(metric).buffer(distance).to_crs(4326)
    return geoms


def _assign(session: so.Session, frame: gpd.GeoDataFrame) -> None:
    reps = representative_points(frame["source_geom"].values)
    frame["lon"] = [p.x for p in reps]
    frame["lat"] = [p.y for p in reps]
    assigned = load_area_index(session).assign(reps)
    for column in (*ANCESTRY_COLUMNS, "outside"):
        frame[column] = assigned[column].to_numpy()


def _upsert(session: so.Session, frame: gpd.GeoDataFrame) -> PointLoadReport:
    units = unit_ids(session, frame["unit"])
    existing = {
        p.code: p
        for p in session.scalars(
            sa.select(InspectionPoint).where(InspectionPoint.code.in_(frame["code"].tolist()))
        )
    }
    report = PointLoadReport(features=len(frame), outside=int(frame["outside"].sum()))
    kind_changes: dict[int, tuple[str, str]] = {}
    for row in frame.to_dict("records"):
        values = {
            "code": row["code"],
            "name": row["name"] or row["code"],
            "kind": row["kind"],
            "address": row["address"],
            "unit_id": units.get(row["unit"]) if isinstance(row["unit"], str) else None,
            "geom": row["geometry"],
            "source_geom": row["source_geom"],
            "lon": float(row["lon"]),
            "lat": float(row["lat"]),
            "outside": bool(row["outside"]),
            **{c: None if pd.isna(row[c]) else int(row[c]) for c in ANCESTRY_COLUMNS},
        }
        point = existing.get(row["code"])
        if point is None:
            session.add(InspectionPoint(**values))
            report.inserted += 1
        else:
            if point.kind != values["kind"]:
                kind_changes[point.id] = (point.kind, str(values["kind"]))
            for key, value in values.items():
                setattr(point, key, value)
            report.updated += 1
    _move_kind_counts(session, kind_changes)
    return report


def _move_kind_counts(session: so.Session, changes: dict[int, tuple[str, str]]) -> None:
    """Problems at a point whose kind changed move between the summary's kind counts."""
    if not changes:
        return
    ids = session.scalars(sa.select(Problem.id).where(Problem.point_id.in_(changes))).all()
    rows = summary.snapshot(session, ids)
    if rows.empty:
        return
    old = rows["point_id"].map({k: v[0] for k, v in changes.items()})
    new = rows["point_id"].map({k: v[1] for k, v in changes.items()})
    summary.apply_changes(session, rows.assign(point_kind=old), rows.assign(point_kind=new))
