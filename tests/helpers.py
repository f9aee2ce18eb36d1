"""Small test data builders shared by test modules (imported as tests.helpers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from geo.areas import AreaLoadOptions, load_areas


def write_geojson(path: Path, features: list[dict[str, Any]], crs: str | None = None) -> Path:
    """Write a FeatureCollection (optionally with a legacy ``crs`` member)."""
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def polygon_feature(coords: list[tuple[float, float]], **props: Any) -> dict[str, Any]:
    ring = [list(c) for c in coords]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def box_feature(x0: float, y0: float, x1: float, y1: float, **props: Any) -> dict[str, Any]:
    return polygon_feature([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], **props)


# A tiny city: 2 districts side by side, each with 2 streets, each street one grid.
# lon 120.80–121.00, lat 32.00–32.04; the shared district edge is lon 120.90.
DISTRICTS = [
    box_feature(120.80, 32.00, 120.90, 32.04, code="329901", name="云溪区"),
    box_feature(120.90, 32.00, 121.00, 32.04, code="329902", name="枫桥区"),
]
STREETS = [
    box_feature(
        120.80, 32.00, 120.85, 32.04, code="329901001", name="东门街道", parent_code="329901"
    ),
    box_feature(
        120.85, 32.00, 120.90, 32.04, code="329901002", name="西门街道", parent_code="329901"
    ),
    box_feature(120.90, 32.00, 120.95, 32.04, code="329902001", name="南湖街道"),
    box_feature(120.95, 32.00, 121.00, 32.04, code="329902101", name="北岭镇"),
]


def load_tiny_city(engine: Engine, tmp_path: Path) -> None:
    """Load the two districts and four streets above."""
    d = write_geojson(tmp_path / "districts.geojson", DISTRICTS)
    s = write_geojson(tmp_path / "streets.geojson", STREETS)
    load_areas(engine, d, AreaLoadOptions(level="district"))
    load_areas(engine, s, AreaLoadOptions(level="street"))


XSS = '<img src=x onerror="window.__xss=1">'

POINTS = [
    {
        "type": "Feature",
        "properties": {
            "code": "P1",
            "name": f"云溪农贸市场{XSS}",
            "kind": "market",
            "unit": "云溪区城管局",
        },
        "geometry": {"type": "Point", "coordinates": [120.82, 32.01]},
    },
    {
        "type": "Feature",
        "properties": {"code": "P2", "name": "枫桥路", "kind": "main_road"},
        "geometry": {"type": "LineString", "coordinates": [[120.91, 32.01], [120.93, 32.02]]},
    },
    {
        "type": "Feature",
        "properties": {"code": "P3", "name": "临江实验小学", "kind": "school_surroundings"},
        "geometry": {"type": "Point", "coordinates": [120.96, 32.03]},
    },
]


def load_tiny_city_with_points(engine: Engine, tmp_path: Path) -> None:
    """The tiny city plus three inspection points (one with an XSS payload in its name)."""
    from geo.points import load_points

    load_tiny_city(engine, tmp_path)
    load_points(engine, write_geojson(tmp_path / "points.geojson", POINTS))


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of every civicgrid table: compare before/after to prove nothing was written."""
    import sqlalchemy as sa

    from geo.models import Base

    with engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def write_csv(path: Path, text: str, bom: bool = False) -> Path:
    """Write survey CSV text as UTF-8 (with a BOM, as Excel's "CSV UTF-8" does, if asked)."""
    path.write_bytes(("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8"))
    return path


def point_feature(lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def line_feature(coords: list[tuple[float, float]], **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]},
    }


def area_ids(engine: Engine, level: str) -> dict[str, int]:
    """Map code → id of the loaded areas of ``level``."""
    import sqlalchemy as sa

    from geo.models import Area

    with engine.connect() as conn:
        rows = conn.execute(sa.select(Area.code, Area.id).where(Area.level == level)).all()
    return {code: id_ for code, id_ in rows}


# --- a tiny city with grids, points and problems for the heat maps ------------------------

GRIDS = [
    box_feature(
        x,
        y,
        x + 0.025,
        y + 0.04,
        code=f"{street}{i:06d}",
        name=f"{'<b>网格</b>' if street == '329901001' and i == 1 else '网格'}{i}",
        parent_code=street,
    )
    for street, x0 in (
        ("329901001", 120.80),
        ("329901002", 120.85),
        ("329902001", 120.90),
        ("329902101", 120.95),
    )
    for i, (x, y) in enumerate([(x0, 32.00), (x0 + 0.025, 32.00)], start=1)
]
"""Eight grids, two per street of the tiny city (the first one's name holds markup)."""

HEAT_CSV = (
    "id,lon,lat,category,description,found_at,status,deadline,closed_at,campaign,point_code\n"
    f"1,120.81,32.01,litter,{XSS.replace(',', ' ')},2026-11-01T09:00:00+08:00,found,"
    "2020-01-01T00:00:00Z,,,P1\n"
    "2,120.812,32.02,litter,垃圾,2026-11-02T09:00:00+08:00,assigned,2099-01-01T00:00:00Z,,,\n"
    "3,120.813,32.03,illegal_ads,小广告,2026-11-03T09:00:00+08:00,closed,2026-11-10T00:00:00Z,"
    "2026-11-05T00:00:00Z,psa_upgrade,P1\n"
    "4,120.83,32.01,illegal_ads,小广告,2026-10-03T09:00:00+08:00,closed,2026-10-05T00:00:00Z,"
    "2026-10-08T00:00:00Z,psa_upgrade,\n"
    "5,120.91,32.01,street_vending,占道,2026-10-20T09:00:00+08:00,rectified,2020-01-01T00:00:00Z,"
    ",,P2\n"
    "6,120.96,32.03,litter,垃圾,2026-10-21T01:00:00+08:00,found,,,,P3\n"
    "7,120.97,32.03,litter,垃圾,2026-11-21T09:00:00+08:00,assigned,2020-06-01T00:00:00Z,,,\n"
    "8,121.50,32.02,litter,区外,2026-11-01T09:00:00+08:00,found,,,,\n"
)
"""Problems over the grids: overdue (deadline 2020), not yet due (2099), closed on time and
late, with a campaign, at points of three kinds, one outside the city; #1 holds an XSS
payload in its description."""


def load_heat_city(engine: Engine, tmp_path: Path) -> None:
    """The tiny city, its eight grids, three inspection points and eight problems."""
    from geo.ingest import ingest_file

    load_tiny_city_with_points(engine, tmp_path)
    grids = write_geojson(tmp_path / "grids.geojson", GRIDS)
    load_areas(engine, grids, AreaLoadOptions(level="grid"))
    ingest_file(engine, write_csv(tmp_path / "heat.csv", HEAT_CSV))
