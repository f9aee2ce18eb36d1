"""A tiny city with points and problems for export and API tests (tests.exportdata)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.areas.points import load_points
from geo.core.taxonomy_file import default_taxonomy
from geo.core.timeparse import parse_time
from geo.ingest.intake import create_problem
from geo.storage.db import transaction
from geo.storage.models import Problem
from geo.summary import counts as summary
from tests.helpers import XSS, load_tiny_city, polygon_feature, write_geojson

# A market drawn clockwise with a (counter-clockwise) courtyard hole: exports must rewind.
MARKET = {
    "type": "Feature",
    "properties": {
        "code": "M1",
        "name": "东门农贸市场",
        "kind": "market",
        "unit": "东门街道办事处",
    },
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [[120.81, 32.01], [120.81, 32.02], [120.82, 32.02], [120.82, 32.01], [120.81, 32.01]],
            [
                [120.813, 32.013],
                [120.817, 32.013],
                [120.817, 32.017],
                [120.813, 32.017],
                [120.813, 32.013],
            ],
        ],
    },
}
POINTS = [
    MARKET,
    {
        "type": "Feature",
        "properties": {"code": "P1", "name": f"云溪路口{XSS}", "kind": "intersection"},
        "geometry": {"type": "Point", "coordinates": [120.86, 32.011]},
    },
    {
        "type": "Feature",
        "properties": {"code": "P2", "name": "枫桥路", "kind": "main_road"},
        "geometry": {"type": "LineString", "coordinates": [[120.91, 32.01], [120.93, 32.02]]},
    },
]

# (category, lon, lat, description, found_at (local), status, deadline, campaign, point)
PROBLEMS: list[tuple[Any, ...]] = [
    (
        "litter",
        120.815,
        32.011,
        "东门市场门口暴露垃圾",
        "2024-05-01T09:00:00",
        "found",
        None,
        "market_environment",
        "M1",
    ),
    (
        "illegal_ads",
        120.8612345678,
        32.0112345678,
        '=HYPERLINK("http://evil")',
        "2024-05-02T10:30:00",
        "assigned",
        "2024-05-03T10:30:00",
        None,
        "P1",
    ),
    (
        "disorderly_parking",
        120.92,
        32.015,
        "+1 车辆违停堵塞消防通道",
        "2024-05-03T08:00:00",
        "rectified",
        "2099-01-01T00:00:00",
        None,
        "P2",
    ),
    (
        "corridor_clutter",
        120.96,
        32.03,
        '@楼道堆物，"引号"，换行\n第二行',
        "2024-05-10T23:30:00",
        "closed",
        None,
        None,
        None,
    ),
    (
        "unsafe_charging",
        120.97,
        32.035,
        f"-飞线充电 {XSS}",
        "2024-06-01T12:00:00",
        "found",
        "2024-06-02T12:00:00",
        None,
        None,
    ),
    ("litter", 121.50, 32.02, "区域外的问题", "2024-06-02T12:00:00", "found", None, None, None),
]
STATUS_TIMES = {"assigned": "assigned_at", "rectified": "rectified_at", "closed": "closed_at"}


def load_export_city(engine: Engine, tmp_path: Path) -> list[int]:
    """Tiny city (2 districts, 4 streets), 3 points and 6 problems; returns problem ids."""
    load_tiny_city(engine, tmp_path)
    load_points(engine, write_geojson(tmp_path / "export-points.geojson", POINTS))
    ids = []
    taxonomy = default_taxonomy()
    with transaction(engine) as session:
        for category, lon, lat, text, found, status, deadline, campaign, point in PROBLEMS:
            data = {
                "category": category,
                "lon": lon,
                "lat": lat,
                "description": text,
                "found_at": found,
                "campaign": campaign,
                "point_code": point,
            }
            problem = create_problem(session, data, "test", taxonomy)
            ids.append(problem.id)
            _set_status(session, problem.id, status, deadline)
    return ids


def _set_status(session: Any, problem_id: int, status: str, deadline: str | None) -> None:
    values: dict[str, Any] = {"status": status}
    if deadline:
        values["deadline"] = parse_time(deadline, "Asia/Shanghai")
    if status in STATUS_TIMES:
        values[STATUS_TIMES[status]] = datetime(2024, 5, 20, 1, 0, 0)
    if status != "found":
        values["assigned_at"] = datetime(2024, 5, 4, 1, 0, 0)
    session.execute(sa.update(Problem).where(Problem.id == problem_id).values(**values))
    summary.rebuild(session)


__all__ = ["MARKET", "POINTS", "PROBLEMS", "load_export_city", "polygon_feature"]
