"""The demo city's offline vector basemap: one PMTiles file of Mapbox Vector Tiles made from
the demo's own geography, never downloaded.

Layers (what the page's basemap style in web/static/civicgrid-basemap.js draws):
- ``earth``: the city outline (land);
- ``water``: 青岚河, a river 80 m wide along the longest border between two districts
  (the demo city is fictional; its river follows its own geography);
- ``landuse``: residential compounds (``residential``/``old_residential`` polygons), and
  ``parks``: public places (``public_place`` polygons);
- ``roads``: main roads and commercial streets (class ``major``), back alleys (``minor``);
- ``boundaries``: district, street and community outlines (``kind_detail`` = level);
- ``places``: one label point per area (its pole of inaccessibility), ``kind`` = level,
  from the zoom where its labels fit: districts 10, streets 12, communities 13, grids 15.

Tiles are web-mercator (EPSG:3857) z/x/y, zooms 10–15 (the page over-zooms beyond), 4096
units per tile, gzip-compressed with mtime 0: the same input gives the same bytes.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import box
from shapely.ops import polylabel

from geo.core.errors import InputFileError
from geo.core.text import tr
from geo.core.vectorfile import read_vector_file, require_fields

MIN_ZOOM = 10
MAX_ZOOM = 15
EXTENT = 4096
WORLD = 20037508.342789244  # half the web-mercator world, metres
LABEL_ZOOM = {"district": 10, "street": 12, "community": 13, "grid": 15}
OUTLINE_ZOOM = {"district": 10, "street": 12, "community": 13}
ROAD_CLASSES = {
    "main_road": ("major", 11),
    "commercial_street": ("major", 11),
    "back_alley": ("minor", 13),
}
LANDUSE = {
    "residential": ("landuse", 13),
    "old_residential": ("landuse", 13),
    "public_place": ("parks", 12),
}
RIVER_WIDTH_M = 80.0
RIVER_NAME = "青岚河"
LEVEL_FILES = {
    "district": "districts.geojson",
    "street": "streets.geojson",
    "community": "communities.geojson",
    "grid": "grids.geojson",
}


@dataclass(frozen=True)
class BasemapReport:
    """What was written: the file, its size in bytes, tiles per zoom and the features."""

    path: Path
    bytes: int
    tiles: dict[int, int]
    features: int


def build_basemap(demo_dir: Path, out: Path, max_zoom: int = MAX_ZOOM) -> BasemapReport:
    """Write ``out`` (PMTiles v3, MVT, gzip) from the demo files in ``demo_dir``.

    Steps: the features per layer (EPSG:3857, each with the lowest zoom that shows it),
    every tile of each zoom over the city's extent (features clipped to the tile plus a
    small buffer and simplified to half a screen pixel), then the archive.
    """
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    frame = _features(demo_dir)
    tree = shapely.STRtree(frame.geometry.values)
    west, south, east, north = frame.to_crs("EPSG:4326").total_bounds
    tiles: dict[int, int] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as handle:
        writer = Writer(handle)
        for z, x, y in _tiles(west, south, east, north, max_zoom):
            data = _tile(frame, tree, z, x, y)
            if data is not None:
                writer.write_tile(zxy_to_tileid(z, x, y), data)
                tiles[z] = tiles.get(z, 0) + 1
        header = {
            "tile_type": TileType.MVT,
            "tile_compression": Compression.GZIP,
            "min_lon_e7": int(west * 1e7),
            "min_lat_e7": int(south * 1e7),
            "max_lon_e7": int(east * 1e7),
            "max_lat_e7": int(north * 1e7),
            "center_zoom": 12,
            "center_lon_e7": int((west + east) / 2 * 1e7),
            "center_lat_e7": int((south + north) / 2 * 1e7),
        }
        writer.finalize(header, _metadata(max_zoom))
    return BasemapReport(out, out.stat().st_size, tiles, len(frame))


def ensure_demo_basemap(demo_dir: Path, out: Path, echo: Callable[[str], object] = print) -> Path:
    """``out``, built from ``demo_dir`` unless it was already built from the same files
    (a ``.stamp`` file beside it holds the fingerprint of the demo files)."""
    from geo.demo.reuse import demo_fingerprint

    stamp = out.with_name(out.name + ".stamp")
    fingerprint = demo_fingerprint(demo_dir, [Path(__file__)])
    if out.is_file() and stamp.is_file() and stamp.read_text().strip() == fingerprint:
        return out
    report = build_basemap(demo_dir, out)
    stamp.write_text(fingerprint + "\n", encoding="utf-8")
    echo(
        tr(
            f"底图: {out}（{report.bytes / 1e6:.2f} MB，{sum(report.tiles.values())} 个瓦片）",
            f"basemap: {out} ({report.bytes / 1e6:.2f} MB, {sum(report.tiles.values())} tiles)",
        )
    )
    return out


def _features(demo_dir: Path) -> gpd.GeoDataFrame:
    """Every feature of every layer in EPSG:3857 with its properties and minimum zoom."""
    # A level or the points may be missing (a city without communities): skipped. The
    # districts cannot: they are the land, the river and the extent of the tiles.
    levels = {lvl: _read(demo_dir / name, ["code", "name"]) for lvl, name in LEVEL_FILES.items()}
    points = _read(demo_dir / "points.geojson", ["kind", "name"])
    if levels["district"].empty:
        path = demo_dir / LEVEL_FILES["district"]
        raise InputFileError(
            tr(
                f"{path}: 没有区县边界（底图的陆地和范围由它而来）",
                f"{path}: no district outlines (the basemap's land and extent come from them)",
            )
        )
    rows: list[tuple[str, int, dict[str, object], object]] = []
    city = shapely.union_all(levels["district"].geometry.values)
    rows.append(("earth", MIN_ZOOM, {}, city))
    rows.append(("water", MIN_ZOOM, {"name": RIVER_NAME}, _river(levels["district"])))
    for kind, (layer, zoom) in LANDUSE.items():
        for geom in points.geometry[
            (points["kind"] == kind) & points.geom_type.isin(["Polygon", "MultiPolygon"])
        ]:
            rows.append((layer, zoom, {"kind": kind}, geom))
    for kind, (road_class, zoom) in ROAD_CLASSES.items():
        for name, geom in points[(points["kind"] == kind) & (points.geom_type == "LineString")][
            ["name", "geometry"]
        ].itertuples(index=False):
            rows.append(("roads", zoom, {"kind": road_class, "name": name}, geom))
    for level, zoom in OUTLINE_ZOOM.items():
        for geom in levels[level].geometry:
            rows.append(("boundaries", zoom, {"kind_detail": level}, geom.boundary))
    for level, zoom in LABEL_ZOOM.items():
        for code, name, geom in levels[level][["code", "name", "geometry"]].itertuples(index=False):
            rows.append(
                ("places", zoom, {"kind": level, "name": name, "code": code}, _label_point(geom))
            )
    layers, minzooms, props, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"layer": layers, "minzoom": minzooms, "props": props},
        geometry=list(geoms),
        crs="EPSG:3857",
    )


def _read(path: Path, columns: list[str]) -> gpd.GeoDataFrame:
    """The file in EPSG:3857 (metres), empty when it does not exist; a file that exists
    but is unreadable or has none of ``columns`` is an InputFileError naming it."""
    if not path.exists():
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs="EPSG:3857")
    frame = read_vector_file(path)
    require_fields(frame, path, {c: c for c in columns})
    if frame.crs is None:
        raise InputFileError(tr(f"{path}: 没有坐标系", f"{path}: no coordinate reference system"))
    return frame.to_crs("EPSG:3857")


def _river(districts: gpd.GeoDataFrame) -> object:
    """The longest shared border between two districts, 80 m wide (web-mercator metres are
    stretched by 1/cos(latitude): the width is scaled back to ground metres)."""
    geoms = list(districts.geometry)
    best: Any = shapely.LineString()
    length = 0.0
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            shared = shapely.line_merge(geoms[i].boundary.intersection(geoms[j].boundary))
            if shared.length > length:
                best, length = shared, shared.length
    lat = math.degrees(2 * math.atan(math.exp(districts.total_bounds[1] / 6378137.0)) - math.pi / 2)
    return best.buffer(RIVER_WIDTH_M / 2 / math.cos(math.radians(lat)), cap_style="flat")


def _label_point(geom: object) -> object:
    """Where an area's name goes: its centroid when that is well inside (as far from the
    edge as 80 % of the best point's distance), else the pole of inaccessibility (which
    for an elongated shape could be anywhere along its axis)."""
    polygon = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    pole = polylabel(polygon, tolerance=max(math.sqrt(polygon.area) / 50, 1.0))
    centre = polygon.centroid
    best = polygon.exterior.distance(pole)
    if polygon.contains(centre) and polygon.exterior.distance(centre) >= 0.8 * best:
        return centre
    return pole


def _tiles(
    west: float, south: float, east: float, north: float, max_zoom: int
) -> Iterator[tuple[int, int, int]]:
    for z in range(MIN_ZOOM, max_zoom + 1):
        x0, y0 = _tile_xy(west, north, z)
        x1, y1 = _tile_xy(east, south, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                yield z, x, y


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def _tile(frame: gpd.GeoDataFrame, tree: shapely.STRtree, z: int, x: int, y: int) -> bytes | None:
    import mapbox_vector_tile

    size = 2 * WORLD / 2**z
    minx, maxy = -WORLD + x * size, WORLD - y * size
    bounds = (minx, maxy - size, minx + size, maxy)
    pad = size * 8 / 256  # a few pixels past the edge: no seams between tiles
    hits = np.sort(tree.query(box(*bounds).buffer(pad, join_style="mitre")))
    hits = hits[frame["minzoom"].values[hits] <= z]
    if len(hits) == 0:
        return None
    geoms = frame.geometry.values[hits]
    is_point = shapely.get_type_id(geoms) == 0
    clipped = np.where(
        is_point,
        geoms,
        shapely.clip_by_rect(
            geoms, bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad
        ),
    )
    clipped = np.where(is_point, clipped, shapely.simplify(clipped, size / 512))
    layers: dict[str, list[dict[str, object]]] = {}
    for index, geom in zip(hits, clipped, strict=True):
        if (
            geom is None
            or geom.is_empty
            or (shapely.get_type_id(geom) == 0 and not box(*bounds).contains(geom))
        ):
            continue
        layers.setdefault(frame["layer"].values[index], []).append(
            {"geometry": geom, "properties": frame["props"].values[index]}
        )
    if not layers:
        return None
    encoded = mapbox_vector_tile.encode(
        [{"name": name, "features": features} for name, features in layers.items()],
        default_options={"quantize_bounds": bounds, "extents": EXTENT},
    )
    return gzip.compress(encoded, mtime=0)


def _metadata(max_zoom: int) -> dict[str, object]:
    names = ("earth", "water", "landuse", "parks", "roads", "boundaries", "places")
    return {
        "name": "civicgrid demo basemap",
        "attribution": "civicgrid demo city (fictional)",
        "vector_layers": [
            {"id": n, "minzoom": MIN_ZOOM, "maxzoom": max_zoom, "fields": {}} for n in names
        ],
        "generator": json.dumps({"script": "scripts/make_basemap.py"}),
    }
