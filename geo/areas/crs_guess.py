"""Coordinate-system detection as a safety net: never convert silently, but say so when
a file clearly fits what is already loaded better in another Chinese coordinate system.

The loaders convert with the system they were told (``--crs``, default WGS-84). Here the
file's own coordinates are recovered and read again as WGS-84, GCJ-02 (AMap, Tencent)
and BD-09 (Baidu); when another reading fits the reference (the inspection points rows
name, or the areas already loaded) much better than the declared one, a ``CrsHint``
names the flag to use. Projected inputs (EPSG:n in metres) are never second-guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so
from numpy.typing import ArrayLike
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from geo.core.crs import (
    WGS84,
    lonlat_to_wgs84,
    normalise_crs_name,
    utm_crs,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.core.errors import AreaLoadError
from geo.core.text import Text, tr
from geo.storage.models import LEVELS, Area

CANDIDATES = ("EPSG:4326", "gcj02", "bd09")
"""The lon/lat readings compared (CGCS2000 is WGS-84 here, to well under a metre)."""
FLAGS = {"EPSG:4326": "wgs84", "EPSG:4490": "cgcs2000", "gcj02": "gcj02", "bd09": "bd09"}
NAMES = {
    "EPSG:4326": ("WGS-84（GPS）", "WGS-84 (GPS)"),
    "EPSG:4490": ("CGCS2000", "CGCS2000"),
    "gcj02": ("GCJ-02（高德/腾讯）", "GCJ-02 (AMap/Tencent)"),
    "bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
}
MIN_SAMPLES = 3
MIN_OFFSET_M = 100.0  # below this, rows simply sit a little off their point
MIN_OUTSIDE_SHARE = 0.005  # of a boundary file's area lying outside the loaded areas
BETTER = 3.0  # the other reading must fit at least this many times better
MAX_SAMPLES = 2_000


@dataclass(frozen=True)
class CrsHint:
    """The file looks like it is in ``likely`` although it was read as ``declared``."""

    declared: str
    likely: str
    evidence_zh: str
    evidence_en: str

    @property
    def flag(self) -> str:
        """The ``--crs`` value to re-run with."""
        return f"--crs {FLAGS[self.likely]}"

    def message(self) -> Text:
        """One line in both languages, with the evidence and the flag to use."""
        zh_as, en_as = NAMES.get(self.declared, (self.declared, self.declared))
        zh, en = NAMES[self.likely]
        return tr(
            f"坐标疑似 {zh}（按 {zh_as} 读取）：{self.evidence_zh}；请用 {self.flag} 重新运行",
            f"these coordinates look like {en}, not {en_as}: {self.evidence_en}; "
            f"re-run with {self.flag}",
        )


def raw_lonlat(declared: str, lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The file's own lon/lat back from WGS-84 ``lon``/``lat`` converted from ``declared``."""
    if declared == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if declared == "bd09":
        return wgs84_to_bd09(lon, lat)
    return np.asarray(lon, float), np.asarray(lat, float)


def is_lonlat(declared: str | None) -> bool:
    """Whether ``declared`` is one of the lon/lat readings this module compares."""
    return normalise_crs_name(declared) in (*CANDIDATES, "EPSG:4490")


def guess_from_points(
    declared: str, lon: ArrayLike, lat: ArrayLike, reference: ArrayLike
) -> CrsHint | None:
    """Rows at WGS-84 ``lon``/``lat`` (read as ``declared``) that name an inspection
    point, whose geometries are ``reference``: a hint when another reading puts the rows
    clearly closer to their points (median distance in metres)."""
    lon, lat = np.asarray(lon, float)[:MAX_SAMPLES], np.asarray(lat, float)[:MAX_SAMPLES]
    refs = np.asarray(reference, dtype=object)[:MAX_SAMPLES]
    if len(lon) < MIN_SAMPLES or not is_lonlat(declared):
        return None
    declared = normalise_crs_name(declared)
    raw = raw_lonlat(declared, lon, lat)
    to_m = Transformer.from_crs(
        WGS84, utm_crs(float(np.median(lon)), float(np.median(lat))), always_xy=True
    )
    metric_refs = shapely.transform(refs, lambda xy: np.column_stack(to_m.transform(*xy.T)))
    medians = {}
    for name in CANDIDATES:
        x, y = to_m.transform(*lonlat_to_wgs84(raw[0], raw[1], name))
        medians[name] = float(np.median(shapely.distance(shapely.points(x, y), metric_refs)))
    own = medians["EPSG:4326" if declared == "EPSG:4490" else declared]
    best = min(medians, key=lambda n: medians[n])
    if own < MIN_OFFSET_M or medians[best] * BETTER > own:
        return None
    return CrsHint(
        declared,
        best,
        f"{len(lon)} 行所填点位编码的点位，中位距离 {own:.0f} 米，按 {FLAGS[best]} 为 "
        f"{medians[best]:.0f} 米",
        f"the {len(lon)} rows naming a point code sit a median {own:.0f} m from that point, "
        f"{medians[best]:.0f} m when read as {FLAGS[best]}",
    )


def guess_from_areas(
    declared: str, geoms: ArrayLike, reference: BaseGeometry | None
) -> CrsHint | None:
    """Boundaries (or inspection points) ``geoms`` (WGS-84, read as ``declared``) against
    ``reference``, the union of the areas already loaded: a hint when another reading
    leaves clearly less of the file's area (or fewer of its features) outside them."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0 or reference is None or not is_lonlat(declared):
        return None
    declared = normalise_crs_name(declared)
    step = max(1, len(geoms) // 200)  # a sample is enough to see a 300-700 m shift
    sample = geoms[::step]
    shapely.prepare(reference)

    def convert(name: str) -> np.ndarray:
        def xy(coords: np.ndarray) -> np.ndarray:
            raw = raw_lonlat(declared, coords[:, 0], coords[:, 1])
            return np.column_stack(lonlat_to_wgs84(raw[0], raw[1], name))

        return shapely.transform(sample, xy)

    polygonal = bool(np.all(shapely.get_dimensions(sample) == 2))
    shares = {}
    for name in CANDIDATES:
        moved = shapely.make_valid(convert(name))
        if polygonal:  # the share of the area outside
            total = float(shapely.area(moved).sum())
            outside = float(shapely.area(shapely.difference(moved, reference)).sum())
        else:  # points and lines: the share of features not inside
            total, outside = len(moved), float((~shapely.covered_by(moved, reference)).sum())
        shares[name] = outside / total if total > 0 else 0.0
    own = shares["EPSG:4326" if declared == "EPSG:4490" else declared]
    best = min(shares, key=lambda n: shares[n])
    if own < MIN_OUTSIDE_SHARE or shares[best] * BETTER > own:
        return None
    return CrsHint(
        declared,
        best,
        f"{own:.1%} 的{'面积' if polygonal else '要素'}落在已加载的区域之外，按 {FLAGS[best]} 为 "
        f"{shares[best]:.1%}",
        f"{own:.1%} of its {'area' if polygonal else 'features'} lies outside the areas already "
        f"loaded, {shares[best]:.1%} when read as {FLAGS[best]}",
    )


def reference_union(session: so.Session, level: str) -> BaseGeometry | None:
    """The union of the areas a new ``level`` file should fit: the nearest coarser level
    loaded, else the same level (a reload); None when nothing is loaded."""
    levels = [*reversed(LEVELS[: LEVELS.index(level)]), level]
    for candidate in levels:
        geoms = list(session.scalars(sa.select(Area.geom).where(Area.level == candidate)))
        if geoms:
            return shapely.union_all(shapely.make_valid(np.asarray(geoms, dtype=object)))
    return None


def check_area_crs(
    session: so.Session, geoms: ArrayLike, level: str, declared: str, strict: bool
) -> Text | None:
    """The hint for a boundary file of ``level`` (or None); with ``strict`` a hint is an
    ``AreaLoadError`` instead."""
    hint = guess_from_areas(declared, geoms, reference_union(session, level))
    if hint is not None and strict:
        raise AreaLoadError(hint.message())
    return None if hint is None else hint.message()
