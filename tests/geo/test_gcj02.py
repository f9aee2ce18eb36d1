"""WGS-84 → GCJ-02 (geo/core/crs.py) agrees with the browser's formula and its known values."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from geo.core.crs import in_china, wgs84_to_gcj02

MAP_JS = Path(__file__).resolve().parents[2] / "web" / "static" / "civicgrid-map.js"


def test_shift_inside_china_is_hundreds_of_metres() -> None:
    lon, lat = wgs84_to_gcj02(np.array([120.9, 116.397128]), np.array([32.0, 39.916527]))
    shift_m = np.hypot((lon - [120.9, 116.397128]) * 94_000, (lat - [32.0, 39.916527]) * 111_000)
    assert ((shift_m > 100) & (shift_m < 700)).all()


def test_outside_china_and_nan_are_unchanged() -> None:
    lon, lat = wgs84_to_gcj02([2.35, np.nan], [48.85, 30.0])
    assert lon[0] == 2.35 and lat[0] == 48.85 and np.isnan(lon[1])
    assert in_china(np.array([2.35, 120.0]), np.array([48.85, 30.0])).tolist() == [False, True]


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_same_as_the_browser_formula() -> None:
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(73, 135, 200), rng.uniform(18, 53, 200)
    script = (
        "global.window = {}; global.L = {};"
        f"require({json.dumps(str(MAP_JS))});"
        f"const pts = {json.dumps(np.column_stack([lon, lat]).tolist())};"
        "console.log(JSON.stringify(pts.map(p => window.civicgridMap.wgsToGcj(p[0], p[1]))));"
    )
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True)
    expected = np.array(json.loads(out.stdout))
    got = np.column_stack(wgs84_to_gcj02(lon, lat))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
