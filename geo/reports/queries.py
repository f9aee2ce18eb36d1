"""Statement builders and small read helpers; the caller owns the session.

All geometries read here are EPSG:4326. Every builder the web uses takes the caller's
``Scope`` and returns only what it may see (geo/access/scope.py), counts included.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, scoped
from geo.core.errors import InvalidParameterError
from geo.core.geojson import feature_collection
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.storage.models import LEVELS, Area, InspectionPoint, Problem


@dataclass(frozen=True)
class Extent:
    """A lon/lat bounding box in degrees (EPSG:4326)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def check_level(level: str) -> str:
    """Return ``level`` if it is one of LEVELS, else raise ``InvalidParameterError``."""
    if level not in LEVELS:
        raise InvalidParameterError(
            tr(
                f"未知的区域层级 '{level}'; 可选: {', '.join(LEVELS)}",
                f"unknown level '{level}'; one of: {', '.join(LEVELS)}",
            )
        )
    return level


def areas_geojson(session: so.Session, level: str, *, scope: Scope) -> str:
    """The areas of ``level`` in ``scope`` as a GeoJSON FeatureCollection (EPSG:4326,
    6 decimals).

    Properties: code, name, level, parent_code, area_km2.
    """
    parent = so.aliased(Area)
    stmt = (
        sa.select(Area.code, Area.name, Area.area_m2, parent.code, Area.geom)
        .outerjoin(parent, parent.id == Area.parent_id)
        .where(Area.level == check_level(level))
        .order_by(Area.code)
    )
    rows = session.execute(scoped(stmt, scope, Area)).all()
    props = (
        {"code": c, "name": n, "level": level, "parent_code": p, "area_km2": round(m2 / 1e6, 4)}
        for c, n, m2, p, _ in rows
    )
    return feature_collection([r[-1] for r in rows], props)


def points_geojson(
    session: so.Session, taxonomy: Taxonomy, lang: str = "zh", *, scope: Scope
) -> str:
    """The inspection points in ``scope`` as GeoJSON (EPSG:4326, 6 decimals).

    Properties: code, name, kind, kind_label (in ``lang``), color, address.
    """
    stmt = sa.select(
        InspectionPoint.code,
        InspectionPoint.name,
        InspectionPoint.kind,
        InspectionPoint.address,
        InspectionPoint.geom,
    ).order_by(InspectionPoint.code)
    rows = session.execute(scoped(stmt, scope, InspectionPoint)).all()
    props = (
        {
            "code": code,
            "name": name,
            "kind": kind,
            "kind_label": taxonomy.kind_label(kind, lang),
            "color": taxonomy.point_kinds[kind].color,
            "address": address,
        }
        for code, name, kind, address, _ in rows
    )
    return feature_collection([r[-1] for r in rows], props)


def city_extent(session: so.Session, *, scope: Scope) -> Extent | None:
    """Bounding box (degrees) of the loaded areas in ``scope``, or None when there are none."""
    stmt = sa.select(
        sa.func.min(Area.min_lon),
        sa.func.min(Area.min_lat),
        sa.func.max(Area.max_lon),
        sa.func.max(Area.max_lat),
    )
    row = session.execute(scoped(stmt, scope, Area)).one()
    return None if row[0] is None else Extent(*row)


def counts(session: so.Session, *, scope: Scope) -> dict[str, int]:
    """Number of areas per level, of inspection points and of problems in ``scope``."""
    per_level = dict(
        session.execute(
            scoped(sa.select(Area.level, sa.func.count()), scope, Area).group_by(Area.level)
        ).all()
    )
    result = {level: int(per_level.get(level, 0)) for level in LEVELS}
    points = sa.select(sa.func.count(InspectionPoint.id))
    problems = sa.select(sa.func.count(Problem.id))
    result["points"] = session.scalar(scoped(points, scope, InspectionPoint)) or 0
    result["problems"] = session.scalar(scoped(problems, scope, Problem)) or 0
    return result
