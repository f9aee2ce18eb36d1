"""The offline PMTiles basemap on the web: range requests, login, and the map pages'
config with a good, missing or corrupt file (and GCJ-02 tiles)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask

from geo.demo.basemap import build_basemap
from tests.helpers import DISTRICTS, STREETS, load_tiny_city, signed_in, write_geojson

pytestmark = pytest.mark.xdist_group("basemap")  # the module's PMTiles file is built once


@pytest.fixture(scope="module")
def pmtiles_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("basemap")
    write_geojson(folder / "districts.geojson", DISTRICTS)
    write_geojson(folder / "streets.geojson", STREETS)
    return build_basemap(folder, folder / "tiny.pmtiles", max_zoom=12).path


def _app(sqlite_engine, tmp_path: Path, **settings: object) -> Flask:
    from web import create_app

    load_tiny_city(sqlite_engine, tmp_path)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    return create_app({"DATABASE_URL": url, "TESTING": True, **settings})


def _map_config(html: str) -> dict:
    match = re.search(r"civicgridMap\.init\([^,]+, (\{.*\})\);", html)
    assert match, "no map on the page"
    return json.loads(match.group(1).replace("<\\/", "</"))


def test_the_file_is_served_in_byte_ranges_to_signed_in_users(
    sqlite_engine, tmp_path: Path, pmtiles_file: Path
) -> None:
    app = _app(sqlite_engine, tmp_path, BASEMAP="pmtiles", PMTILES_PATH=str(pmtiles_file))
    assert app.test_client().get("/basemap.pmtiles").status_code == 302  # to the login
    client = signed_in(app)
    head = client.get("/basemap.pmtiles", headers={"Range": "bytes=0-126"})
    assert head.status_code == 206 and head.data[:7] == b"PMTiles" and len(head.data) == 127
    size = pmtiles_file.stat().st_size
    assert head.headers["Content-Range"] == f"bytes 0-126/{size}"
    middle = client.get("/basemap.pmtiles", headers={"Range": "bytes=127-200"})
    assert middle.status_code == 206 and middle.data == pmtiles_file.read_bytes()[127:201]
    whole = client.get("/basemap.pmtiles")
    assert whole.status_code == 200 and len(whole.data) == size
    assert whole.headers["Accept-Ranges"] == "bytes"
    beyond = client.get("/basemap.pmtiles", headers={"Range": f"bytes={size + 10}-"})
    assert beyond.status_code == 416


def test_map_pages_load_the_vector_basemap_from_this_origin(
    sqlite_engine, tmp_path: Path, pmtiles_file: Path
) -> None:
    app = _app(sqlite_engine, tmp_path, BASEMAP="pmtiles", PMTILES_PATH=str(pmtiles_file))
    html = signed_in(app).get("/").get_data(as_text=True)
    config = _map_config(html)
    assert config["basemap"]["kind"] == "pmtiles" and config["basemap"]["url"] == "/basemap.pmtiles"
    assert "basemapNotice" not in config and config["gcj02"] is False
    assert "/vendor/protomaps-leaflet/protomaps-leaflet.js" in html
    assert "/static/civicgrid-basemap.js" in html
    assert "tile.openstreetmap.org" not in html and "L.tileLayer" not in html


def test_gcj02_tiles_shift_the_layers(sqlite_engine, tmp_path: Path, pmtiles_file: Path) -> None:
    app = _app(
        sqlite_engine, tmp_path, BASEMAP="pmtiles", PMTILES_PATH=str(pmtiles_file), TILE_CRS="gcj02"
    )
    config = _map_config(signed_in(app).get("/").get_data(as_text=True))
    assert config["gcj02"] is True and config["basemap"]["kind"] == "pmtiles"


@pytest.mark.parametrize(
    ("content", "zh", "en"),
    [
        (None, "底图文件不存在", "basemap file missing"),
        (b"<html>not found</html>", "底图文件损坏", "basemap file corrupt"),
        (b"PMTiles\x03" + b"\x00" * 40, "底图文件损坏", "basemap file corrupt"),  # truncated
    ],
)
def test_a_missing_or_corrupt_file_leaves_the_map_without_basemap_and_says_why(
    sqlite_engine, tmp_path: Path, content: bytes | None, zh: str, en: str
) -> None:
    path = tmp_path / "broken.pmtiles"
    if content is not None:
        path.write_bytes(content)
    app = _app(sqlite_engine, tmp_path, BASEMAP="pmtiles", PMTILES_PATH=str(path))
    client = signed_in(app)
    page = client.get("/")
    config = _map_config(page.get_data(as_text=True))
    assert page.status_code == 200 and "basemap" not in config
    assert config["basemapNotice"].startswith(zh)
    english = _map_config(client.get("/?lang=en").get_data(as_text=True))
    assert english["basemapNotice"].startswith(en)
    assert client.get("/basemap.pmtiles").status_code == 404


def test_a_file_cut_short_after_its_header_says_so(
    sqlite_engine, tmp_path: Path, pmtiles_file: Path
) -> None:
    from pmtiles.tile import deserialize_header

    data = pmtiles_file.read_bytes()
    header = deserialize_header(data[:127])
    path = tmp_path / "cut.pmtiles"
    path.write_bytes(data[: header["tile_data_offset"] + 10])  # directories whole, tiles cut
    app = _app(sqlite_engine, tmp_path, BASEMAP="pmtiles", PMTILES_PATH=str(path))
    client = signed_in(app)
    config = _map_config(client.get("/").get_data(as_text=True))
    assert "basemap" not in config and config["basemapNotice"].startswith("底图文件损坏")
    assert client.get("/basemap.pmtiles").status_code == 404
    path.write_bytes(data)  # the whole file again (a new size): the basemap is back
    config = _map_config(client.get("/").get_data(as_text=True))
    assert config["basemap"]["kind"] == "pmtiles" and "basemapNotice" not in config
