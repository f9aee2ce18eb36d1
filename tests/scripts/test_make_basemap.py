"""scripts/make_basemap.py and geo/demo/basemap.py: the demo's offline PMTiles basemap."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import mapbox_vector_tile
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from geo.demo.basemap import build_basemap, ensure_demo_basemap
from tests.helpers import DISTRICTS, STREETS, write_geojson

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"
SCRIPT = DEMO.parents[1] / "scripts" / "make_basemap.py"


def test_the_demo_basemap_is_deterministic_vector_tiles_with_names(tmp_path: Path) -> None:
    first = build_basemap(DEMO, tmp_path / "a.pmtiles", max_zoom=12)
    second = build_basemap(DEMO, tmp_path / "b.pmtiles", max_zoom=12)
    assert first.path.read_bytes() == second.path.read_bytes()  # byte-identical
    assert set(first.tiles) == {10, 11, 12}
    with open(first.path, "rb") as handle:
        source = MmapSource(handle)
        header = Reader(source).header()
        tiles = {zxy: mapbox_vector_tile.decode(gzip.decompress(d)) for zxy, d in all_tiles(source)}
    assert header["tile_type"] == TileType.MVT and header["tile_compression"] == Compression.GZIP
    assert 120.8 < header["min_lon_e7"] / 1e7 < header["max_lon_e7"] / 1e7 < 121.0
    places = {
        (z, f["properties"]["kind"], f["properties"]["name"])
        for (z, _, _), tile in tiles.items()
        for f in tile.get("places", {}).get("features", [])
    }
    districts = {name for z, kind, name in places if z == 10 and kind == "district"}
    assert districts == {"云溪区", "枫桥区", "临江区", "白鹭区"}
    assert not any(kind == "street" for z, kind, _ in places if z < 12)  # too small to fit
    assert any(kind == "street" for z, kind, _ in places if z == 12)
    layers = {name for tile in tiles.values() for name in tile}
    assert {"earth", "water", "roads", "parks", "boundaries", "places"} <= layers


def test_a_city_without_communities_or_points_still_gets_a_basemap(tmp_path: Path) -> None:
    write_geojson(tmp_path / "districts.geojson", DISTRICTS)
    write_geojson(tmp_path / "streets.geojson", STREETS)
    report = build_basemap(tmp_path, tmp_path / "tiny.pmtiles", max_zoom=11)
    assert report.bytes > 127 and report.tiles


def test_ensure_rebuilds_only_when_the_demo_files_change(tmp_path: Path) -> None:
    write_geojson(tmp_path / "districts.geojson", DISTRICTS)
    out = tmp_path / "out" / "demo.pmtiles"
    said: list[str] = []
    ensure_demo_basemap(tmp_path, out, said.append)
    ensure_demo_basemap(tmp_path, out, said.append)
    assert len(said) == 1 and out.is_file()
    write_geojson(tmp_path / "streets.geojson", STREETS)
    ensure_demo_basemap(tmp_path, out, said.append)
    assert len(said) == 2


def test_a_folder_without_readable_districts_is_one_error_line_and_no_file(
    tmp_path: Path, capsys
) -> None:
    spec = importlib.util.spec_from_file_location("make_basemap", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    main = script.main
    out = tmp_path / "out.pmtiles"
    assert main(["--demo", str(tmp_path / "nowhere"), "--out", str(out)]) == 1
    assert "districts.geojson: 没有区县边界" in capsys.readouterr().err
    (tmp_path / "districts.geojson").write_text("{not json", encoding="utf-8")
    assert main(["--demo", str(tmp_path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("错误 / error: ") and "districts.geojson: 无法识别的文件格式" in err
    write_geojson(tmp_path / "districts.geojson", DISTRICTS)
    (tmp_path / "points.geojson").write_text("", encoding="utf-8")
    assert main(["--demo", str(tmp_path), "--out", str(out)]) == 1
    assert "points.geojson: 文件为空" in capsys.readouterr().err
    assert not out.exists()  # nothing written
