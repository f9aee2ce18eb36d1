"""Output files: RFC 7946 GeoJSON for areas and points, CSV for problems.

Coordinates are written as EPSG:4326 lon/lat with at most 6 decimals (no "crs" member,
polygons counter-clockwise). Times are ISO 8601 in China Standard Time (+08:00). Files
are UTF-8 without BOM, with ``\\n`` line ends, so runs with the same seed are
byte-identical.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from .config import CSV_COLUMNS, REF_MINUTES, START_TIME
from .hierarchy import Area
from .pipeline import Demo
from .points import InspectionPoint
from .problems import Problems

Feature = tuple[dict[str, Any], BaseGeometry]
AREA_FILES = ("districts", "streets", "communities", "grids")


def write_demo(out: Path, demo: Demo) -> dict[str, int]:
    """Write every file of ``demo`` into ``out`` (created if missing); return status counts."""
    out.mkdir(parents=True, exist_ok=True)
    write_geojson(out / "city.geojson", area_features([demo.city], with_parent=False))
    for name, areas in zip(AREA_FILES, demo.levels, strict=True):
        write_geojson(out / f"{name}.geojson", area_features(areas))
    write_geojson(out / "points.geojson", point_features(demo.points))
    return write_problems(out / "problems.csv", demo.problems)


def _num(v: float) -> str:
    """A coordinate with at most 6 decimals, no trailing zeros, never "-0"."""
    s = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _coords(geom: BaseGeometry) -> str:
    """GeoJSON "coordinates" text of a Point, LineString or Polygon."""

    def seq(cs: Any) -> str:
        return "[" + ",".join(f"[{_num(x)},{_num(y)}]" for x, y in cs) + "]"

    if geom.geom_type == "Point":
        return f"[{_num(geom.x)},{_num(geom.y)}]"
    if geom.geom_type == "LineString":
        return seq(geom.coords)
    rings = [geom.exterior, *geom.interiors]
    return "[" + ",".join(seq(r.coords) for r in rings) + "]"


def write_geojson(path: Path, features: Sequence[Feature]) -> None:
    """RFC 7946 FeatureCollection, one feature per line, coordinates with ≤ 6 decimals."""
    lines = []
    for props, geom in features:
        p = json.dumps(props, ensure_ascii=False, separators=(",", ":"))
        g = f'{{"type":"{geom.geom_type}","coordinates":{_coords(geom)}}}'
        lines.append(f'{{"type":"Feature","properties":{p},"geometry":{g}}}')
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")


def area_features(areas: Sequence[Area], with_parent: bool = True) -> list[Feature]:
    """(properties, geometry) pairs for an area level."""
    out = []
    for a in areas:
        props: dict[str, Any] = {"code": a.code, "name": a.name}
        if with_parent:
            props["parent_code"] = a.parent_code
        out.append((props, a.geom))
    return out


def point_features(points: Sequence[InspectionPoint]) -> list[Feature]:
    """(properties, geometry) pairs for inspection points."""
    return [
        (
            {"code": p.code, "name": p.name, "kind": p.kind, "address": p.address, "unit": p.unit},
            p.geom,
        )
        for p in points
    ]


def _iso(minutes: int, future_ok: bool = False) -> str:
    """ISO 8601 with +08:00; empty for an event that has not happened by the snapshot."""
    if minutes >= REF_MINUTES and not future_ok:
        return ""
    return (START_TIME + timedelta(minutes=int(minutes))).isoformat()


def write_problems(path: Path, pr: Problems) -> dict[str, int]:
    """Write problems.csv (UTF-8, no BOM, ``\\n`` line ends); return status counts."""
    counts: dict[str, int] = {"found": 0, "assigned": 0, "rectified": 0, "closed": 0}
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for i in range(len(pr.lon)):
            status, row = _problem_row(pr, i)
            counts[status] += 1
            w.writerow(row)
    return counts


def _problem_row(pr: Problems, i: int) -> tuple[str, list[Any]]:
    """The status of problem ``i`` at the snapshot and its CSV row (``CSV_COLUMNS``)."""
    closed, rect = _iso(pr.closed[i]), _iso(pr.rectified[i])
    assigned = pr.assigned[i] < REF_MINUTES
    status = "closed" if closed else "rectified" if rect else "assigned" if assigned else "found"
    return status, [
        f"DEMO-{i + 1:06d}",
        f"{pr.lon[i]:.6f}",
        f"{pr.lat[i]:.6f}",
        pr.category[i],
        pr.description[i],
        _iso(pr.found[i]),
        status,
        pr.unit[i] if assigned else "",
        _iso(pr.deadline[i], future_ok=True) if assigned else "",
        rect if status in ("rectified", "closed") else "",
        closed,
        int(pr.reopened[i]),
        pr.campaign[i],
        pr.point_code[i],
    ]
