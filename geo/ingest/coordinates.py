"""The coordinates of survey rows: numbers parsed leniently but never guessed, converted
to WGS-84 lon/lat (EPSG:4326, degrees) from the input CRS, KoboToolbox/ODK geopoints
split, and rows whose latitude and longitude look swapped (they land in the city only
read the other way round) fixed or refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.areas.assign import AreaIndex, assign_lonlat
from geo.core.crs import lonlat_to_wgs84
from geo.core.text import tr
from geo.ingest.cells import as_text, flag
from geo.storage.models import Area

SWAPPED = tr(
    "经纬度疑似颠倒（可用 --fix-swapped 纠正）",
    "latitude and longitude look swapped (use --fix-swapped)",
)


@dataclass(frozen=True)
class CityExtent:
    """Where the loaded areas are: bounding box (lon/lat degrees) and an exact test."""

    bbox: tuple[float, float, float, float]
    contains: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def in_bbox(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.bbox
        return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)

    def km_outside(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Approximate distance in km from the bounding box (0 inside it)."""
        x0, y0, x1, y1 = self.bbox
        dx = np.maximum(np.maximum(x0 - lon, lon - x1), 0) * np.cos(np.radians(lat)) * 111.32
        dy = np.maximum(np.maximum(y0 - lat, lat - y1), 0) * 110.57
        return np.hypot(dx, dy)


def parse_coordinates(
    table: pd.DataFrame,
    bad: pd.Series,
    crs: str | None,
    city: CityExtent | None,
    fix_swapped: bool,
) -> np.ndarray:
    """Parse, check and convert lon/lat in place; return the mask of swapped-and-fixed rows."""
    if "read_error" in table:  # a line the reader could not split, a non-point geometry
        errors = table["read_error"].fillna("")
        for reason in errors[errors != ""].unique():
            flag(bad, errors == reason, reason)
    if "lon" not in table or "lat" not in table:
        _split_geopoint(table, bad)
    numbers = {}
    for axis in ("lon", "lat"):
        text = as_text(table[axis])
        value = pd.to_numeric(text, errors="coerce").to_numpy(float, copy=True)
        failed = np.flatnonzero(~np.isfinite(value))
        if len(failed):  # only the failures pay for per-value checks
            value[failed] = _retry_numbers(text.iloc[failed], bad, failed, axis)
        numbers[axis] = value
    x, y = numbers["lon"], numbers["lat"]
    flag(bad, (x == 0) & (y == 0), tr("坐标为 0,0", "coordinates are 0,0"))
    lon, lat = lonlat_to_wgs84(x, y, crs)
    fixed = np.zeros(len(table), bool)
    if city is not None:
        fixed = _swapped(bad, x, y, lon, lat, crs, city, fix_swapped)
        if fixed.any():
            lon, lat = lon.copy(), lat.copy()
            lon[fixed], lat[fixed] = lat_lon_swapped(x[fixed], y[fixed], crs)
    out = ~((lon >= -180) & (lon <= 180) & (lat >= -90) & (lat <= 90))
    flag(bad, out, tr("坐标超出范围", "coordinates out of range"))
    table["lon"], table["lat"] = lon, lat
    return fixed


def _retry_numbers(text: pd.Series, bad: pd.Series, rows: np.ndarray, axis: str) -> np.ndarray:
    """Second chance for coordinates that did not parse: stray spaces are fine; empty,
    comma decimals and anything else are refused with their reason."""
    stripped = text.astype(str).str.strip()
    value = pd.to_numeric(stripped, errors="coerce").to_numpy(float)
    mask = np.zeros(len(bad), bool)
    for reason, hit in (
        (tr("缺少坐标", f"missing coordinate ({axis})"), stripped == ""),
        (
            tr("坐标使用了逗号小数", f"comma decimal in {axis}"),
            stripped.str.contains(",", regex=False),
        ),
        (
            tr("坐标不是数字", f"non-numeric {axis}"),
            pd.Series(~np.isfinite(value), index=text.index),
        ),
    ):
        mask[:] = False
        mask[rows[hit.to_numpy(bool)]] = True
        flag(bad, mask, reason)
    return value


def lat_lon_swapped(x: np.ndarray, y: np.ndarray, crs: str | None) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 lon/lat of the input read the other way round (y as lon, x as lat)."""
    return lonlat_to_wgs84(y, x, crs)


def _swapped(
    bad: pd.Series,
    x: np.ndarray,
    y: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    crs: str | None,
    city: CityExtent,
    fix: bool,
) -> np.ndarray:
    """Rows whose coordinates land in the city only when read the other way round."""
    fixed = np.zeros(len(x), bool)
    usable = (bad == "").to_numpy() & np.isfinite(lon) & np.isfinite(lat)
    candidates = np.flatnonzero(usable & ~city.in_bbox(lon, lat))
    if not len(candidates):
        return fixed
    slon, slat = lat_lon_swapped(x[candidates], y[candidates], crs)
    ok = np.isfinite(slon) & np.isfinite(slat) & (np.abs(slat) <= 90) & (np.abs(slon) <= 180)
    hits = np.zeros(len(candidates), bool)
    if ok.any():
        hits[ok] = city.in_bbox(slon[ok], slat[ok]) & city.contains(slon[ok], slat[ok])
    rows = candidates[hits]
    if fix:
        fixed[rows] = True
    else:
        mask = np.zeros(len(x), bool)
        mask[rows] = True
        flag(bad, mask, SWAPPED)
    return fixed


def _split_geopoint(table: pd.DataFrame, bad: pd.Series) -> None:
    """A geopoint column "lat lon [alt [accuracy]]" (KoboToolbox, ODK) → lat, lon."""
    text = table.get("geopoint", pd.Series("", index=table.index)).fillna("").astype(str)
    parts = text.str.strip().str.split(r"\s+", n=3, expand=True, regex=True)
    parts = parts.reindex(columns=range(2)).astype(object).fillna("")
    table["lat"], table["lon"] = parts[0].to_numpy(), parts[1].to_numpy()
    blank = text.str.strip() == ""
    flag(bad, blank, tr("缺少坐标", "missing coordinate (geopoint)"))
    flag(
        bad,
        ~blank & (parts[1] == ""),
        tr("定位格式错误", "malformed geopoint (want 'lat lon alt acc')"),
    )


def city_extent(session: so.Session, index: AreaIndex) -> CityExtent | None:
    """The extent of the loaded areas (None before any is loaded)."""
    bounds = session.execute(
        sa.select(
            sa.func.min(Area.min_lon),
            sa.func.min(Area.min_lat),
            sa.func.max(Area.max_lon),
            sa.func.max(Area.max_lat),
        )
    ).one()
    if index.empty or any(b is None for b in bounds):
        return None

    def contains(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return ~assign_lonlat(index, lon, lat)["outside"].to_numpy(bool)

    return CityExtent(tuple(float(b) for b in bounds), contains)  # type: ignore[arg-type]
