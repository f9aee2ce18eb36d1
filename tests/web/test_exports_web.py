"""Downloads at /export/… and `civicgrid export` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pyogrio
import pytest
from flask import Flask

from tests.exportdata import PROBLEMS, load_export_city
from tests.helpers import add_token, signed_in, table_counts


@pytest.fixture
def city_app(app: Flask, tmp_path: Path) -> Flask:
    from web import database

    with app.app_context():
        load_export_city(database.engine(), tmp_path)
    return app


def test_geojson_download_streams_with_filters(city_app) -> None:
    response = signed_in(city_app).get("/export/problems.geojson?status=unresolved&area=329902")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/geo+json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".geojson" in disposition
    data = json.loads(response.get_data(as_text=True))
    assert [f["properties"]["description"] for f in data["features"]] == [
        PROBLEMS[2][3],
        PROBLEMS[4][3],
    ]
    assert data["civicgrid"]["filters"] == {"status": "unresolved", "area": "329902"}


def test_english_labels_and_gcj02_file_name(city_app) -> None:
    response = signed_in(city_app).get("/export/problems.geojson?lang=en&crs=gcj02")
    assert "-gcj02-" in response.headers["Content-Disposition"]
    first = json.loads(response.get_data(as_text=True))["features"][0]["properties"]
    assert first["category_label"] == "Exposed litter / poor sanitation"


def test_seq_and_csv_downloads(city_app) -> None:
    client = signed_in(city_app)
    seq = client.get("/export/points.geojsonseq")
    assert seq.mimetype == "application/geo+json-seq"
    assert seq.get_data(as_text=True).count("\x1e") == 3
    csv = client.get("/export/problems.csv")
    assert csv.mimetype == "text/csv" and csv.get_data().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("fmt", ["xlsx", "gpkg"])
def test_file_downloads(city_app, tmp_path, fmt) -> None:
    response = signed_in(city_app).get(f"/export/problems.{fmt}?category=litter")
    assert response.status_code == 200
    path = tmp_path / f"download.{fmt}"
    path.write_bytes(response.get_data())
    if fmt == "xlsx":
        assert openpyxl.load_workbook(path).worksheets[0].max_row == 3
    else:
        assert len(pyogrio.read_dataframe(path)) == 2


@pytest.mark.parametrize(
    ("url", "status", "needle"),
    [
        ("/export/problems.geojson?colour=red", 400, "status, category, kind"),
        ("/export/problems.geojson?crs=bd09", 400, "gcj02"),
        ("/export/points.csv?status=open", 400, "kind, area"),
        ("/export/problems.geojson?area=123", 400, "123"),
        ("/export/people.geojson", 404, "problems|points|areas"),
        ("/export/problems.shp", 404, "geojson|geojsonseq|csv|xlsx|gpkg"),
    ],
)
def test_bad_download_requests(city_app, url, status, needle) -> None:
    response = signed_in(city_app).get(url)
    assert response.status_code == status
    assert needle in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("url", "status", "code", "message"),
    [
        ("/export/problems.geojson?from=-1", 400, "InvalidParameterError", "from"),
        ("/export/problems.geojson?crs=bd09", 400, "InvalidParameterError", "gcj02"),
        ("/export/people.geojson", 404, "NotFoundError", "problems|points|areas"),
    ],
)
def test_script_download_errors_are_json(city_app, url, status, code, message) -> None:
    """A token script (or a client preferring JSON) gets the API's error shape; a
    browser keeps the error page."""
    from web import database

    with city_app.app_context():
        token = add_token(database.engine(), "nightly", "city_officer")
    for headers in (token, {**token, "Accept": "*/*"}):
        response = city_app.test_client().get(url, headers=headers)
        assert response.status_code == status
        error = response.get_json()["error"]
        assert error["code"] == code and message in error["message"], error
    asked = signed_in(city_app).get(url, headers={"Accept": "application/json"})
    assert asked.status_code == status and asked.get_json()["error"]["code"] == code
    page = signed_in(city_app).get(url, headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == status and page.mimetype == "text/html"
    assert 'data-testid="error"' in page.get_data(as_text=True)
    assert _exports_audited(city_app) == 0  # refused before anything was exported


def _exports_audited(app: Flask) -> int:
    import sqlalchemy as sa

    from geo.storage.access_models import AuditEntry
    from web import database

    with app.app_context(), database.engine().connect() as conn:
        stmt = sa.select(sa.func.count()).where(AuditEntry.action == "export")
        return int(conn.execute(stmt).scalar_one())


def test_cli_export_to_file_and_stdout(city_app, tmp_path) -> None:
    runner = city_app.test_cli_runner()
    out = tmp_path / "overdue.csv"
    result = runner.invoke(args=["export", "problems", "-o", str(out), "--status", "overdue"])
    assert result.exit_code == 0, result.output
    assert "已导出 2" in result.output
    result = runner.invoke(
        args=["export", "problems", "-o", str(out), "--status", "overdue"],
        env={"LC_ALL": "en_US.UTF-8"},
    )
    assert result.exit_code == 0 and "exported 2" in result.output
    assert out.read_bytes().count(b"\r\n") == 3
    result = runner.invoke(
        args=["export", "points", "-f", "geojsonseq", "-o", "-", "--kind", "market"]
    )
    assert result.exit_code == 0 and result.output.count("\x1e") == 1
    result = runner.invoke(
        args=["export", "areas", "-o", str(tmp_path / "g.gpkg"), "--level", "street"]
    )
    assert result.exit_code == 0 and len(pyogrio.read_dataframe(tmp_path / "g.gpkg")) == 4


def test_cli_gcj02_marks_the_file_name(city_app, tmp_path) -> None:
    result = city_app.test_cli_runner().invoke(
        args=["export", "problems", "-o", str(tmp_path / "p.geojson"), "--crs", "gcj02"]
    )
    assert result.exit_code == 0 and "GCJ-02" in result.output
    assert (tmp_path / "p-gcj02.geojson").exists() and not (tmp_path / "p.geojson").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["problems", "-o", "{tmp}/x.txt"], "--format"),
        (["problems", "-o", "{tmp}/nope/x.csv"], "cannot write"),
        (["points", "-o", "{tmp}/x.csv", "--status", "overdue"], "kind, area"),
        (["problems", "-o", "{tmp}/x.csv", "--category", "ufo"], "ufo"),
        (["problems", "-o", "{tmp}/x.csv", "--from", "2024-13-45"], "from"),
        (["problems", "-o", "-", "-f", "xlsx"], "stdout"),
    ],
)
def test_cli_bad_input_is_one_line_and_writes_nothing(city_app, tmp_path, args, needle) -> None:
    from web import database

    with city_app.app_context():
        before = table_counts(database.engine())
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    runner = city_app.test_cli_runner()
    result = runner.invoke(args=["export", *args], env={"LC_ALL": "en_US.UTF-8"})
    assert result.exit_code == 1
    assert result.output.startswith("error:") and needle in result.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("x.")]
    with city_app.app_context():
        assert table_counts(database.engine()) == before


def test_cli_on_an_uninitialised_database_says_what_to_do(tmp_path) -> None:
    from web import create_app

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "k" * 32})
    result = app.test_cli_runner().invoke(
        args=["export", "problems", "-o", str(tmp_path / "p.csv")]
    )
    assert result.exit_code == 2 and "civicgrid init" in result.output
    assert not (tmp_path / "p.csv").exists()


def test_gzip_download_is_compressed_as_it_streams(city_app) -> None:
    import gzip

    client = signed_in(city_app)
    plain = client.get("/export/problems.geojson").get_data()
    response = client.get("/export/problems.geojson", headers={"Accept-Encoding": "gzip"})
    assert response.is_streamed and response.headers["Content-Encoding"] == "gzip"
    assert "Content-Length" not in response.headers
    assert "Accept-Encoding" in response.headers["Vary"]
    unpacked, plain_doc = json.loads(gzip.decompress(response.get_data())), json.loads(plain)
    for doc in (unpacked, plain_doc):
        doc["civicgrid"].pop("exported_at")  # two exports, maybe a second apart
    assert unpacked == plain_doc and len(unpacked["features"]) == len(PROBLEMS)


def test_gzip_stream_compresses_block_by_block() -> None:
    import gzip
    import os
    import zlib

    from geo.export.stream import gzip_stream

    blocks = [b"head", *(os.urandom(10_000) for _ in range(50)), b"tail"]
    parts = list(gzip_stream(iter(blocks)))
    assert len(parts) > 3  # output leaves while the input is still coming
    assert gzip.decompress(b"".join(parts)) == b"".join(blocks)
    # the first part decodes on its own: the client gets the file's header at once
    assert zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(parts[0]) == b"head"
