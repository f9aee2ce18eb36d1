"""Benchmark: exporting problems to GeoJSON, civicgrid vs pyogrio.write_dataframe.

Setup (not timed): a fresh SQLite database with synthetic irregular grids (Voronoi
cells over the demo city's extent), a few inspection points and N problems with
Chinese descriptions, inserted directly. Then, in the same run:

* civicgrid: ``geo.export.stream.export_to_file`` of all problems to GeoJSON, in a child
  process that samples its own resident memory (psutil) to report the growth over its
  baseline (database opened, modules imported);
* anchor: the same rows, already read into a GeoDataFrame (times as ISO text, the
  same attributes), written with ``pyogrio.write_dataframe(driver="GeoJSON")``.

Both files are checked to hold the same number of features.

Then the same export over HTTP with gzip (issue 20): the app served by werkzeug in a
child process that samples its own resident memory, ``GET /export/problems.geojson``
with ``Accept-Encoding: gzip`` read as a browser would; reported are the time to the
first byte, the total time, the server's RSS growth over its baseline (app built,
database opened) and the features found in the decompressed body.

    python bench/export.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import BBOX, emit, peak_rss_mb, random_points, voronoi_grids
from geo.areas.assign import AreaIndex
from geo.core.taxonomy_file import default_taxonomy
from geo.storage.db import make_engine, session_factory
from geo.storage.models import Area, InspectionPoint, Problem, ResponsibleUnit
from geo.summary.upgrade import upgrade

TARGET_RATIO = 0.5
TARGET_RSS_MB = 150
TARGET_FIRST_BYTE_S = 1.0
_INSERT_CHUNK = 50_000
_WORDS = ("墙面张贴小广告", "机动车占用人行道", "暴露垃圾未清运", "占道经营", "楼道堆物")
_STREETS = ("桃泾路", "星河路", "锦湖大道", "福阁巷", "瑞坊街")


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = _parse(argv)
    with tempfile.TemporaryDirectory(prefix="civicgrid-bench-export-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'bench.db'}"
        print(f"setup: {args.rows} problems over {args.grids} grids…", flush=True)
        _setup(url, args.rows, args.grids)
        ours = _run_child(url, work / "civicgrid.geojson", args.chunk_rows)
        frame = _anchor_frame(url)
        start = time.perf_counter()
        pyogrio.write_dataframe(frame, work / "pyogrio.geojson", driver="GeoJSON")
        anchor = time.perf_counter() - start
        del frame
        counts = [_count(work / name) for name in ("civicgrid.geojson", "pyogrio.geojson")]
        http = _run_http(url)
        result = {
            "bench": "export",
            "rows": args.rows,
            "features": counts[0],
            "anchor_features": counts[1],
            "seconds": round(ours["seconds"], 3),
            "anchor": "pyogrio.write_dataframe(driver='GeoJSON')",
            "anchor_seconds": round(anchor, 3),
            "ratio": round(ours["seconds"] / anchor, 3),
            "target": TARGET_RATIO,
            "rss_growth_mb": round(ours["rss_growth_mb"], 1),
            "rss_target_mb": TARGET_RSS_MB,
            "file_mb": round((work / "civicgrid.geojson").stat().st_size / 1e6, 1),
            "peak_rss_mb": round(peak_rss_mb()),
            "http_gzip_features": http["features"],
            "http_gzip_seconds": round(http["seconds"], 3),
            "http_first_byte_s": round(http["first_byte_s"], 3),
            "http_first_byte_target_s": TARGET_FIRST_BYTE_S,
            "http_gzip_mb": round(http["gzip_bytes"] / 1e6, 1),
            "http_server_rss_growth_mb": round(http["rss_growth_mb"], 1),
        }
    emit(result)
    return result


# --- setup (not timed) ------------------------------------------------------------------


def _setup(url: str, rows: int, n_grids: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    grids = voronoi_grids(n_grids)
    with engine.begin() as conn:
        conn.execute(sa.insert(Area), _area_records(grids))
        conn.execute(sa.insert(ResponsibleUnit), [{"name": f"{s}街道办事处"} for s in _STREETS])
        conn.execute(sa.insert(InspectionPoint), _point_records(200))
    index = AreaIndex.from_frame(grids)
    for start in range(0, rows, _INSERT_CHUNK):
        n = min(_INSERT_CHUNK, rows - start)
        with engine.begin() as conn:
            conn.execute(sa.insert(Problem), _problem_records(start, n, index))
    engine.dispose()


def _area_records(grids: gpd.GeoDataFrame) -> list[dict[str, object]]:
    polygons = grids.geometry.values
    frame = pd.DataFrame(
        shapely.bounds(polygons), columns=["min_lon", "min_lat", "max_lon", "max_lat"]
    )
    frame["id"] = grids["id"].to_numpy()
    frame["level"] = "grid"
    frame["code"] = grids["code"].to_numpy()
    frame["name"] = [f"第{i}网格" for i in frame["id"]]
    frame["area_m2"] = 1.0e5
    frame["geom"] = shapely.to_wkb(
        shapely.multipolygons(polygons, indices=np.arange(len(polygons)))
    )
    frame["updated_at"] = pd.Timestamp("2024-01-01").to_pydatetime()
    return _records(frame)


def _point_records(n: int) -> list[dict[str, object]]:
    pts = random_points(n, seed=5)
    kinds = np.array(list(default_taxonomy().point_kinds))
    frame = pd.DataFrame({"lon": shapely.get_x(pts), "lat": shapely.get_y(pts)})
    frame["code"] = [f"P{i:05d}" for i in range(n)]
    frame["name"] = [f"{_STREETS[i % 5]}{i}号点位" for i in range(n)]
    frame["kind"] = kinds[np.arange(n) % len(kinds)]
    frame["geom"] = shapely.to_wkb(pts)
    frame["outside"] = False
    return _records(frame)


def _problem_records(start: int, n: int, index: AreaIndex) -> list[dict[str, object]]:
    rng = np.random.default_rng(start)
    pts = random_points(n, seed=start + 1, bbox=BBOX)
    found = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 120 * 86400, n), "s")
    status = np.array(["found", "assigned", "rectified", "closed"])[rng.integers(0, 4, n)]
    ids = range(start, start + n)
    frame = pd.DataFrame({"lon": shapely.get_x(pts), "lat": shapely.get_y(pts), "status": status})
    frame["source"] = "bench"
    frame["external_id"] = [f"B{i:08d}" for i in ids]
    frame["category"] = np.array(list(default_taxonomy().categories))[rng.integers(0, 17, n)]
    frame["description"] = [f"{_STREETS[i % 5]}{i % 97}号附近{_WORDS[i % 5]}" for i in ids]
    frame["geom"] = shapely.to_wkb(pts)
    frame["outside"] = False
    frame["grid_id"] = index.assign(pts)["grid_id"].to_numpy()
    frame["unit_id"] = rng.integers(1, 6, n)
    frame["point_id"] = pd.array(rng.integers(1, 201, n), dtype="Int64")
    frame.loc[rng.random(n) < 0.7, "point_id"] = pd.NA
    frame["found_at"] = found.to_pydatetime()
    frame["deadline"] = (found + pd.Timedelta(days=3)).to_pydatetime()
    closed = pd.Series(found + pd.Timedelta(days=2)).where(status == "closed")
    frame["closed_at"] = closed.to_numpy(dtype=object)
    frame["reopen_count"] = 0
    frame["version"] = 1
    return _records(frame)


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    frame = frame.astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


# --- civicgrid, in a child process (timed, memory sampled) -----------------------------


def _run_child(url: str, out: Path, chunk_rows: int) -> dict[str, float]:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from bench.export import child; "
        "child(sys.argv[2], sys.argv[3], int(sys.argv[4]))"
    )
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", code, root, url, str(out), str(chunk_rows)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(url: str, out: str, chunk_rows: int) -> None:
    """Export every problem of ``url`` to ``out``; print seconds and RSS growth (MB)."""
    from geo.export.request import ExportRequest
    from geo.export.stream import export_to_file

    engine = make_engine(url)
    taxonomy = default_taxonomy()
    with session_factory(engine)() as session:
        session.execute(sa.select(sa.func.count(Problem.id))).scalar()
        with RssGrowth() as growth:
            start = time.perf_counter()
            request = ExportRequest("problems", "geojson", chunk_rows=chunk_rows)
            export_to_file(session, request, taxonomy, out)
            seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "rss_growth_mb": growth.mb}))


class RssGrowth:
    """Samples this process's resident memory every 10 ms while the block runs; ``mb``
    is then the peak's growth over the RSS at entry."""

    def __enter__(self) -> RssGrowth:
        import psutil

        self.process = psutil.Process()
        self.baseline = self.peak = self.process.memory_info().rss
        self.stop = threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()
        return self

    def _sample(self) -> None:
        while not self.stop.wait(0.01):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.sampler.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def mb(self) -> float:
        return (self.peak - self.baseline) / 2**20


# --- the same export over HTTP with gzip (server in a child process) -------------------


def _run_http(url: str) -> dict[str, float]:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from bench.export import http_child; "
        "http_child(sys.argv[2])"
    )
    root = str(Path(__file__).resolve().parents[1])
    server = subprocess.Popen(
        [sys.executable, "-c", code, root, url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port, secret = server.stdout.readline().split()
        figures = _download(f"http://127.0.0.1:{port}/export/problems.geojson", secret)
        figures.update(json.loads(server.stdout.readline()))
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    return figures


def _download(address: str, secret: str) -> dict[str, float]:
    """GET ``address`` with gzip accepted; time to first byte, total time, features."""
    import urllib.request
    import zlib

    headers = {"Accept-Encoding": "gzip", "Authorization": f"Bearer {secret}"}
    start = time.perf_counter()
    first_byte = None
    unpack = zlib.decompressobj(16 + zlib.MAX_WBITS)
    features, size, tail = 0, 0, b""
    with urllib.request.urlopen(urllib.request.Request(address, headers=headers)) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Content-Length"] is None
        while block := response.read1(1 << 16):
            first_byte = first_byte or time.perf_counter() - start
            size += len(block)
            text = tail + unpack.decompress(block)
            features += text.count(b'{"type":"Feature"')
            tail = text[-20:]  # a marker cut between two blocks is counted once
            features -= tail.count(b'{"type":"Feature"')
    features += tail.count(b'{"type":"Feature"')
    seconds = time.perf_counter() - start
    return {
        "first_byte_s": first_byte or seconds,
        "seconds": seconds,
        "features": features,
        "gzip_bytes": size,
    }


def http_child(url: str) -> None:
    """Serve the app on ``url`` for one request; print the port and a token, then (after
    the request) the server's RSS growth in MB."""
    from werkzeug.serving import make_server

    from geo.access.tokens import create_token
    from geo.storage.db import transaction
    from web import create_app

    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        from web import database

        with transaction(database.engine()) as session:
            _token, secret = create_token(session, "bench-export", "planner")
        database.taxonomy()
    server = make_server("127.0.0.1", 0, app, threaded=False)
    with RssGrowth() as growth:
        print(server.server_port, secret, flush=True)
        server.handle_request()
    print(json.dumps({"rss_growth_mb": growth.mb}), flush=True)


# --- anchor -----------------------------------------------------------------------------


def _anchor_frame(url: str) -> gpd.GeoDataFrame:
    """The same rows and attributes as a GeoDataFrame (read through civicgrid's reader):
    times as time-zone aware datetimes (Asia/Shanghai), so both files carry ISO 8601
    times with their +08:00 offset."""
    from geo.export.encode import aware_datetimes
    from geo.export.fields import PROBLEM_FIELDS
    from geo.export.query import iter_chunks
    from geo.reports.filters import ProblemFilter

    engine = make_engine(url)
    parts = []
    with session_factory(engine)() as session:
        for chunk in iter_chunks(session, "problems", ProblemFilter(), default_taxonomy()):
            columns = {
                f.name: aware_datetimes(chunk.columns[f.name], "Asia/Shanghai")
                if f.type == "time"
                else chunk.columns[f.name]
                for f in PROBLEM_FIELDS
            }
            parts.append(
                gpd.GeoDataFrame(
                    pd.DataFrame(columns), geometry=shapely.points(chunk.lon, chunk.lat), crs=4326
                )
            )
    engine.dispose()
    return pd.concat(parts, ignore_index=True)


def _count(path: Path) -> int:
    return int(pyogrio.read_info(path)["features"])


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="problems to export")
    parser.add_argument("--grids", type=int, default=2_000, help="grid polygons")
    parser.add_argument("--chunk-rows", type=int, default=10_000, help="rows per chunk")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
