"""Statement builders and small read helpers; the caller owns the session.

All geometries read here are EPSG:4326.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.errors import InvalidParameterError
from geo.geojson import feature_collection
from geo.models import LEVELS, Area, InspectionPoint, Problem
from geo.taxonomy import Taxonomy


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
            f"未知的区域层级 / unknown level '{level}'; 可选 / one of: {', '.join(LEVELS)}"
        )
    return level


def areas_geojson(session: so.Session, level: str) -> str:
    """All areas of ``level`` as a GeoJSON FeatureCollection (EPSG:4326, 6 decimals).

    Properties: code, name, level, parent_code, area_km2.
    """
    parent = so.aliased(Area)
    rows = session.execute(
        sa.select(Area.code, Area.name, Area.area_m2, parent.code, Area.geom)
        .outerjoin(parent, parent.id == Area.parent_id)
        .where(Area.level == check_level(level))
        .order_by(Area.code)
    ).all()
    props = (
        {"code": c, "name": n, "level": level, "parent_code": p, "area_km2": round(m2 / 1e6, 4)}
        for c, n, m2, p, _ in rows
    )
    return feature_collection([r[-1] for r in rows], props)


def points_geojson(session: so.Session, taxonomy: Taxonomy, lang: str = "zh") -> str:
    """All inspection points as GeoJSON (EPSG:4326, 6 decimals).

    Properties: code, name, kind, kind_label (in ``lang``), color, address.
    """
    rows = session.execute(
        sa.select(
            InspectionPoint.code,
            InspectionPoint.name,
            InspectionPoint.kind,
            InspectionPoint.address,
            InspectionPoint.geom,
        ).order_by(InspectionPoint.code)
    ).all()
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


def city_extent(session: so.Session) -> Extent | None:
    """Bounding box of all loaded areas, or None when there are none."""
    row = session.execute(
        sa.select(
            sa.func.min(Area.min_lon),
            sa.func.min(Area.min_lat),
            sa.func.max(Area.max_lon),
            sa.func.max(Area.max_lat),
        )
    ).one()
    return None if row[0] is None else Extent(*row)


def counts(session: so.Session) -> dict[str, int]:
    """Number of areas per level, of inspection points and of problems."""
    per_level = dict(
        session.execute(sa.select(Area.level, sa.func.count()).group_by(Area.level)).all()
    )
    result = {level: int(per_level.get(level, 0)) for level in LEVELS}
    result["points"] = session.scalar(sa.select(sa.func.count(InspectionPoint.id))) or 0
    result["problems"] = session.scalar(sa.select(sa.func.count(Problem.id))) or 0
    return result
