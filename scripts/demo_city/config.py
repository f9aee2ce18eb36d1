"""Fixed settings of the demo city: seed, extent, CRS, snapshot time, codes, CSV columns.

CRS: outputs are WGS-84 lon/lat (EPSG:4326) on the ``GRID_SIZE`` (1e-6 degree) grid;
metric work is done in ``UTM_CRS`` (EPSG:32651, UTM zone 51N), in metres. Times are China
Standard Time (``TZ``, Asia/Shanghai); simulated times are integer minutes after
``START_TIME``, and ``REF_MINUTES`` is the snapshot ``REFERENCE_TIME`` on that scale.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

SEED = 20261122
BBOX = (120.80, 31.95, 121.00, 32.10)  # lon/lat, EPSG:4326
GRID_SIZE = 1e-6  # degrees; output precision (6 decimals)
UTM_CRS = "EPSG:32651"
TZ = ZoneInfo("Asia/Shanghai")  # the IANA zone, not a fixed offset
REFERENCE_TIME = datetime(2026, 11, 20, 0, 0, tzinfo=TZ)  # snapshot; never "now"
WINDOW_DAYS = 120
START_TIME = REFERENCE_TIME - timedelta(days=WINDOW_DAYS)
REF_MINUTES = WINDOW_DAYS * 1440  # minutes from START_TIME to REFERENCE_TIME

CITY_CODE = "329900"
CITY_NAME = "青岚市"
DISTRICTS = (("329901", "云溪区"), ("329902", "枫桥区"), ("329903", "临江区"), ("329904", "白鹭区"))
N_COMMUNITIES = 60
LINK_RADIUS_M = 30.0  # metres: a linked problem lies this close to its inspection point

CSV_COLUMNS = (
    "id", "lon", "lat", "category", "description", "found_at", "status", "unit",
    "deadline", "rectified_at", "closed_at", "reopened", "campaign", "point_code",
)  # fmt: skip

Array = NDArray[np.float64]
GeomArray = NDArray[np.object_]
Label = tuple[int, ...]  # (district, street, community, grid) running indices
