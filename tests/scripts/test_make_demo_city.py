"""Tests for scripts/make_demo_city.py: the demo city is complete, exact and deterministic.

The generator runs small (``--grids 60 --problems 300``) into a temporary folder; the same
structural checks also run on the committed data in data/demo/ when it is present.
Geometries are read as EPSG:4326 lon/lat; areas are measured in EPSG:32651 (UTM 51N), m².
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import json
import re
import sys
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

# Generates a city and reads the committed one: slow, and on one worker (module fixtures).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("make-demo-city")]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_demo_city.py"
COMMITTED = ROOT / "data" / "demo"
TAXONOMY = ROOT / "data" / "taxonomy.toml"
SMALL_ARGS = ["--grids", "60", "--problems", "300"]
FILES = (
    "city.geojson",
    "districts.geojson",
    "streets.geojson",
    "communities.geojson",
    "grids.geojson",
    "points.geojson",
    "problems.csv",
)
LEVELS = (  # file, code digits; each level's parent is the one before
    ("city.geojson", 6),
    ("districts.geojson", 6),
    ("streets.geojson", 9),
    ("communities.geojson", 12),
    ("grids.geojson", 15),
)
HEADER = (
    "id,lon,lat,category,description,found_at,status,unit,deadline,rectified_at,closed_at,"
    "reopened,campaign,point_code"
)
REFERENCE = datetime.fromisoformat("2026-11-20T00:00:00+08:00")
GEOMETRY_OF_KIND = {
    **dict.fromkeys(
        ("intersection", "hotel", "internet_cafe", "small_restaurant", "service_window",
         "practice_station", "school_surroundings"),
        "Point",
    ),
    **dict.fromkeys(("back_alley", "main_road", "commercial_street"), "LineString"),
    **dict.fromkeys(
        ("market", "old_residential", "residential", "construction_site", "public_place",
         "village"),
        "Polygon",
    ),
}  # fmt: skip


def load_script() -> ModuleType:
    """Import the script from its path (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_demo_city", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script()


@pytest.fixture(scope="module")
def tables(script: ModuleType) -> ModuleType:
    """The generator's data tables, scripts/demo_city/tables.py.

    Loading the script puts scripts/ on sys.path, so its ``demo_city`` package imports.
    """
    return importlib.import_module("demo_city.tables")


@pytest.fixture(scope="module")
def small(script: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_small")
    assert script.main([*SMALL_ARGS, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module", params=["small", "committed"])
def demo(request: pytest.FixtureRequest) -> Path:
    """The small generated city, then the committed data/demo/ (skipped when absent)."""
    if request.param == "committed":
        if not all((COMMITTED / name).is_file() for name in FILES):
            pytest.skip("data/demo/ has not been generated")
        return COMMITTED
    path: Path = request.getfixturevalue("small")
    return path


def features(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert "crs" not in data  # RFC 7946
    feats: list[dict[str, Any]] = data["features"]
    return feats


def geometries(feats: list[dict[str, Any]]) -> np.ndarray:
    return np.asarray([shape(f["geometry"]) for f in feats], dtype=object)


def to_utm(geoms: Any) -> Any:
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)
    return shapely.transform(geoms, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


def problems(path: Path) -> list[dict[str, str]]:
    with (path / "problems.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def city_geometry(path: Path) -> Any:
    (city,) = geometries(features(path / "city.geojson"))
    return city


# ------------------------------------------------------------------------------ files
def test_files_exist_and_counts(demo: Path) -> None:
    for name in FILES:
        assert (demo / name).is_file(), name
    counts = {name: len(features(demo / name)) for name, _ in LEVELS}
    assert counts["city.geojson"] == 1
    assert counts["districts.geojson"] == 4
    assert 12 <= counts["streets.geojson"] <= 20
    assert 45 <= counts["communities.geojson"] <= 80
    assert counts["grids.geojson"] >= counts["communities.geojson"]
    assert 700 <= len(features(demo / "points.geojson")) <= 900
    n_problems = len(problems(demo))
    assert n_problems == (300 if demo != COMMITTED else 20000)
    if demo == COMMITTED:
        assert 1300 <= counts["grids.geojson"] <= 1700
        total = sum((demo / name).stat().st_size for name in FILES)
        assert total < 6.5e6, f"data/demo is {total / 1e6:.1f} MB"


def test_coordinates_have_at_most_six_decimals(demo: Path) -> None:
    for name in FILES[:-1]:
        text = (demo / name).read_text(encoding="utf-8")
        assert not re.search(r"\d\.\d{7,}", text), name


def test_polygon_winding_follows_rfc_7946(demo: Path) -> None:
    for name in FILES[:-1]:
        for geom in geometries(features(demo / name)):
            if geom.geom_type == "Polygon":
                assert geom.exterior.is_ccw, name
                assert not any(ring.is_ccw for ring in geom.interiors), name


# ------------------------------------------------------------------------ hierarchy
def test_codes_digits_prefix_and_names(demo: Path) -> None:
    parents: dict[str, dict[str, Any]] = {}
    for name, digits in LEVELS:
        props = [f["properties"] for f in features(demo / name)]
        codes = [p["code"] for p in props]
        assert len(set(codes)) == len(codes), f"duplicate codes in {name}"
        for p in props:
            code = p["code"]
            assert len(code) == digits and code.isdigit(), (name, code)
            if name == "city.geojson":
                assert (code, p["name"]) == ("329900", "青岚市")
                continue
            parent = parents[p["parent_code"]]
            prefix = parent["code"][:4] if name == "districts.geojson" else parent["code"]
            assert code.startswith(prefix), (name, code, parent["code"])
            suffix = int(code[-3:])
            if name == "streets.geojson":
                assert (1 <= suffix <= 99) == p["name"].endswith("街道"), p
                assert (100 <= suffix <= 199) == p["name"].endswith("镇"), p
            elif name == "communities.geojson":
                assert (1 <= suffix <= 199) == p["name"].endswith("社区"), p
                assert (200 <= suffix <= 399) == p["name"].endswith("村"), p
            elif name == "grids.geojson":
                assert p["name"] == f"{parent['name']}第{suffix}网格", p
        parents = {p["code"]: p for p in props}


@pytest.mark.parametrize("level", range(1, len(LEVELS)))
def test_children_tile_parents_exactly(demo: Path, level: int) -> None:
    parent_feats = features(demo / LEVELS[level - 1][0])
    child_feats = features(demo / LEVELS[level][0])
    children = geometries(child_feats)
    assert {g.geom_type for g in children} == {"Polygon"}
    assert shapely.is_valid(children).all()
    assert shapely.coverage_is_valid(children)  # shared edges identical vertex by vertex
    parent_utm = to_utm(geometries(parent_feats))
    child_utm = to_utm(children)
    parent_of = np.array([f["properties"]["parent_code"] for f in child_feats])
    for feat, geom in zip(parent_feats, parent_utm, strict=True):
        mine = child_utm[parent_of == feat["properties"]["code"]]
        assert len(mine), feat["properties"]["code"]
        diff = shapely.symmetric_difference(shapely.union_all(mine), geom).area
        assert diff < 1.0, f"children of {feat['properties']['code']} differ by {diff} m²"
    a, b = shapely.STRtree(child_utm).query(child_utm, predicate="intersects")
    keep = a < b
    overlap = shapely.area(shapely.intersection(child_utm[a[keep]], child_utm[b[keep]]))
    assert overlap.max(initial=0.0) < 0.01


# --------------------------------------------------------------------------- points
def test_points_kinds_geometry_and_place(demo: Path) -> None:
    feats = features(demo / "points.geojson")
    city = city_geometry(demo)
    kinds = {f["properties"]["kind"] for f in feats}
    assert kinds == set(GEOMETRY_OF_KIND)
    codes = [f["properties"]["code"] for f in feats]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"P\d{6}", c) for c in codes)
    for feat in feats:
        props, geom = feat["properties"], shape(feat["geometry"])
        assert geom.geom_type == GEOMETRY_OF_KIND[props["kind"]], props
        assert geom.is_valid and city.contains(geom), props
        assert all(props[k] for k in ("name", "address", "unit")), props
    units = {f["properties"]["unit"] for f in feats}
    assert 15 <= len(units) <= 40


# ------------------------------------------------------------------------- problems
def test_csv_header_exact_and_no_bom(demo: Path) -> None:
    raw = (demo / "problems.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.split(b"\n", 1)[0].decode() == HEADER
    assert b"\r\n" not in raw


def test_problems_inside_city_and_near_their_point(demo: Path) -> None:
    rows = problems(demo)
    lon = np.array([float(r["lon"]) for r in rows])
    lat = np.array([float(r["lat"]) for r in rows])
    assert all(re.fullmatch(r"\d+\.\d{6}", r[k]) for r in rows for k in ("lon", "lat"))
    assert shapely.contains_xy(city_geometry(demo), lon, lat).all()
    points = {
        f["properties"]["code"]: shape(f["geometry"]) for f in features(demo / "points.geojson")
    }
    linked = [i for i, r in enumerate(rows) if r["point_code"]]
    assert 0.35 < len(linked) / len(rows) < 0.65
    pts = to_utm(shapely.points(lon[linked], lat[linked]))
    targets = to_utm(np.asarray([points[rows[i]["point_code"]] for i in linked], dtype=object))
    assert shapely.distance(pts, targets).max() <= 30.0


def test_problem_lifecycle_is_consistent(demo: Path) -> None:
    rows = problems(demo)
    assert [r["id"] for r in rows] == [f"DEMO-{i:06d}" for i in range(1, len(rows) + 1)]
    statuses = [r["status"] for r in rows]
    assert set(statuses) <= {"found", "assigned", "rectified", "closed"}
    unresolved = sum(s != "closed" for s in statuses) / len(rows)
    assert 0.1 <= unresolved <= 0.3
    start = REFERENCE - timedelta(days=120)
    for r in rows:
        found = datetime.fromisoformat(r["found_at"])
        assert found.utcoffset() == timedelta(hours=8)
        assert start <= found < REFERENCE
        assert int(r["reopened"]) >= 0
        status = r["status"]
        assert bool(r["unit"]) == bool(r["deadline"]) == (status != "found"), r
        assert bool(r["rectified_at"]) == (status in ("rectified", "closed")), r
        assert bool(r["closed_at"]) == (status == "closed"), r
        if r["deadline"]:
            deadline = datetime.fromisoformat(r["deadline"])
            assert timedelta(days=1) <= deadline - found <= timedelta(days=52), r
        if r["rectified_at"]:
            assert found <= datetime.fromisoformat(r["rectified_at"]) < REFERENCE
        if r["closed_at"]:
            closed = datetime.fromisoformat(r["closed_at"])
            assert datetime.fromisoformat(r["rectified_at"]) <= closed < REFERENCE


@pytest.mark.skipif(not TAXONOMY.is_file(), reason="data/taxonomy.toml missing")
def test_vocabulary_agrees_with_taxonomy(demo: Path) -> None:
    taxonomy = tomllib.loads(TAXONOMY.read_text(encoding="utf-8"))
    categories, campaigns = taxonomy["categories"], taxonomy["campaigns"]
    kind_of = {
        f["properties"]["code"]: f["properties"]["kind"] for f in features(demo / "points.geojson")
    }
    assert set(kind_of.values()) <= set(taxonomy["point_kinds"])
    for r in problems(demo):
        category = categories[r["category"]]
        if r["point_code"]:
            assert kind_of[r["point_code"]] in category["point_kinds"], r
        if r["campaign"]:
            assert r["category"] in campaigns[r["campaign"]]["categories"], r
        if r["deadline"] and category["deadline_unit"] == "natural":
            allowed = datetime.fromisoformat(r["deadline"]) - datetime.fromisoformat(r["found_at"])
            assert allowed == timedelta(days=category["deadline_days"]), r


def test_script_tables_agree_with_taxonomy(tables: ModuleType) -> None:
    if not TAXONOMY.is_file():
        pytest.skip("data/taxonomy.toml missing")
    taxonomy = tomllib.loads(TAXONOMY.read_text(encoding="utf-8"))
    for code, (_, days, unit) in tables.CATEGORIES.items():
        entry = taxonomy["categories"][code]
        assert (days, unit) == (entry["deadline_days"], entry["deadline_unit"]), code
    assert set(tables.KINDS) == set(taxonomy["point_kinds"])


# ----------------------------------------------------------------------- determinism
def test_two_runs_give_identical_bytes(script: ModuleType, small: Path, tmp_path: Path) -> None:
    assert script.main([*SMALL_ARGS, "--out", str(tmp_path)]) == 0
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (small / name).read_bytes(), name
