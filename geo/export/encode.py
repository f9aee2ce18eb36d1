"""Turning export chunks into GeoJSON, CSV and spreadsheet values, column by column.

Every column is encoded in bulk: text columns once per distinct value (pandas factorize),
numbers and times with numpy. Features are then assembled by joining the encoded columns
row-wise (``str.join`` over ``zip``), so a million features take seconds. GeoJSON follows
RFC 7946: lon/lat, 6 decimals, exterior rings counter-clockwise (holes clockwise), no
``crs`` member.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from itertools import repeat
from json.encoder import encode_basestring
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.core.crs import wgs84_to_gcj02, wgs84_to_gcj02_xy
from geo.core.geojson import DEFAULT_PRECISION, geojson_texts
from geo.core.safety import FORMULA_TRIGGERS, neutralise_cell
from geo.export.fields import Field
from geo.export.query import Chunk

CRS_CHOICES = ("wgs84", "gcj02")
FORMULA_PREFIXES = FORMULA_TRIGGERS
"""Spreadsheet formula triggers: a text cell starting with one gets a leading quote."""

Bounds = tuple[float, float, float, float]


def to_crs(chunk: Chunk, crs: str) -> Chunk:
    """``chunk`` with coordinates in ``crs``: ``wgs84`` (as stored) or ``gcj02`` (AMap)."""
    if crs == "wgs84":
        return chunk
    lon, lat = wgs84_to_gcj02(chunk.lon, chunk.lat)
    geoms = None if chunk.geoms is None else shapely.transform(chunk.geoms, wgs84_to_gcj02_xy)
    return Chunk(chunk.columns, lon, lat, geoms)


def chunk_bounds(chunk: Chunk) -> Bounds | None:
    """(min lon, min lat, max lon, max lat) of the chunk's geometries, None if empty."""
    if not len(chunk):
        return None
    if chunk.geoms is None:
        lo = (np.nanmin(chunk.lon), np.nanmin(chunk.lat))
        hi = (np.nanmax(chunk.lon), np.nanmax(chunk.lat))
    else:
        b = shapely.bounds(chunk.geoms)
        lo, hi = np.nanmin(b[:, :2], axis=0), np.nanmax(b[:, 2:], axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def merge_bounds(a: Bounds | None, b: Bounds | None) -> Bounds | None:
    """The box covering both (either may be None)."""
    if a is None or b is None:
        return a or b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


# --- GeoJSON ----------------------------------------------------------------------------


def feature_texts(
    chunk: Chunk,
    fields: Sequence[Field],
    tz: str,
    id_field: str | None = None,
    foreign: dict[str, Any] | None = None,
) -> list[str]:
    """One RFC 7946 Feature (JSON text) per row of ``chunk``.

    ``id_field`` becomes the Feature ``id``; ``foreign`` members are added to every
    Feature (e.g. the coordinate system of a GCJ-02 export).
    """
    if not len(chunk):
        return []
    tokens = {f.name: json_tokens(chunk.columns[f.name], f.type, tz) for f in fields}
    parts: list[Iterable[str]] = [repeat('{"type":"Feature",')]
    if id_field is not None:
        parts += [repeat('"id":'), tokens[id_field], repeat(",")]
    parts += [repeat('"geometry":'), geometry_texts(chunk), repeat(',"properties":{')]
    for i, f in enumerate(fields):
        parts += [repeat(("," if i else "") + json.dumps(f.name) + ":"), tokens[f.name]]
    extra = "".join(
        f",{json.dumps(k)}:{json.dumps(v, ensure_ascii=False)}" for k, v in (foreign or {}).items()
    )
    parts.append(repeat("}" + extra + "}"))
    return list(map("".join, zip(*parts)))  # noqa: B905 (repeat() is endless)


def geometry_texts(chunk: Chunk, precision: int = DEFAULT_PRECISION) -> list[str]:
    """GeoJSON geometry objects: rounded to ``precision`` decimals, rings RFC 7946-wound."""
    if chunk.geoms is None:
        lon = coordinate_cells(chunk.lon, precision, missing="null")
        lat = coordinate_cells(chunk.lat, precision, missing="null")
        head, mid, tail = repeat('{"type":"Point","coordinates":['), repeat(","), repeat("]}")
        return list(map("".join, zip(head, lon, mid, lat, tail)))  # noqa: B905
    texts = geojson_texts(chunk.geoms, precision, ccw=True)
    texts[pd.isna(texts)] = "null"
    return texts.tolist()


def json_tokens(values: np.ndarray, ftype: str, tz: str) -> list[str]:
    """JSON text of each value of a column of type ``ftype`` (None/NaN → ``null``)."""
    if ftype == "str":
        return _encoded_text(values)
    if ftype == "int":
        return np.asarray(values, dtype=np.int64).astype(str).tolist()
    if ftype == "float":
        return coordinate_cells(np.asarray(values, float), DEFAULT_PRECISION, "null").tolist()
    if ftype == "bool":
        return np.where(np.asarray(values, bool), "true", "false").tolist()
    iso = iso_times(np.asarray(values, float), tz, quoted=True)
    iso[pd.isna(iso)] = "null"
    return iso.tolist()


def _encoded_text(values: np.ndarray) -> list[str]:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    encoded = [encode_basestring(str(u)) for u in uniques]
    return np.array([*encoded, "null"], dtype=object)[codes].tolist()


def coordinate_cells(
    values: np.ndarray, precision: int = DEFAULT_PRECISION, missing: str | None = None
) -> np.ndarray:
    """Numbers as text with at most ``precision`` decimals; ``missing`` for NaN."""
    text = np.round(values, precision).astype(str).astype(object)
    text[np.isnan(values)] = missing
    return text


# --- times ------------------------------------------------------------------------------


def iso_times(epoch: np.ndarray, tz: str, quoted: bool = False) -> np.ndarray:
    """ISO 8601 local times with offset (``2024-05-01T08:00:00+08:00``) of UTC epoch
    seconds, in time zone ``tz``; None where the value is NaN. ``quoted`` adds the
    double quotes of a JSON string."""
    out = np.full(len(epoch), None, dtype=object)
    valid = ~np.isnan(epoch)
    if not valid.any():
        return out
    utc = pd.to_datetime(np.round(epoch[valid] * 1000), unit="ms", utc=True)
    local = utc.tz_convert(tz).tz_localize(None)
    offsets = (local - utc.tz_localize(None)).total_seconds().to_numpy().astype(np.int64)
    stamps = np.datetime_as_string(local.to_numpy().astype("datetime64[s]"), unit="s")
    text = stamps.astype(object) + _offset_texts(offsets)
    out[valid] = '"' + text + '"' if quoted else text
    return out


def local_datetimes(epoch: np.ndarray, tz: str) -> np.ndarray:
    """Naive local ``datetime`` objects (for spreadsheets) of UTC epoch seconds; None for NaN."""
    out = np.full(len(epoch), None, dtype=object)
    valid = ~np.isnan(epoch)
    if valid.any():
        utc = pd.to_datetime(np.round(epoch[valid]), unit="s", utc=True)
        out[valid] = utc.tz_convert(tz).tz_localize(None).to_pydatetime()
    return out


def aware_datetimes(epoch: np.ndarray, tz: str) -> pd.Series:
    """Time-zone aware pandas datetimes in ``tz`` (NaT for NaN), for GeoPackage fields."""
    return pd.Series(pd.to_datetime(np.round(epoch), unit="s", utc=True).tz_convert(tz))


def _offset_texts(offsets: np.ndarray) -> np.ndarray:
    uniques, inverse = np.unique(offsets, return_inverse=True)
    texts = np.array([offset_text(int(s)) for s in uniques], dtype=object)
    return texts[inverse]


def offset_text(seconds: int) -> str:
    """A UTC offset in seconds as ISO 8601 text, e.g. 28800 → ``+08:00``."""
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


# --- CSV --------------------------------------------------------------------------------


def text_cells(values: np.ndarray) -> np.ndarray:
    """Text values safe for spreadsheets (CSV and XLSX alike): a leading ``= + - @`` (or
    tab/CR) gets a quote (geo.core.safety.neutralise_cell)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    safe = [neutralise_cell(u) for u in map(str, uniques)]
    return np.array([*safe, None], dtype=object)[codes]


def csv_columns(chunk: Chunk, fields: Sequence[Field], tz: str) -> list[np.ndarray]:
    """One array of CSV cells per field: text neutralised against formulas, times as
    ISO 8601 with offset, booleans ``true``/``false``, numbers as they are."""
    out = []
    for f in fields:
        values = chunk.columns[f.name]
        if f.type == "str":
            out.append(text_cells(values))
        elif f.type == "time":
            out.append(iso_times(np.asarray(values, float), tz))
        elif f.type == "bool":
            out.append(np.where(np.asarray(values, bool), "true", "false"))
        elif f.type == "float":
            out.append(coordinate_cells(np.asarray(values, float)))
        else:
            out.append(np.asarray(values))
    return out


def wkt_texts(chunk: Chunk, precision: int = DEFAULT_PRECISION) -> np.ndarray:
    """WKT of each row's geometry, ``precision`` decimals."""
    if chunk.geoms is None:
        lon = coordinate_cells(chunk.lon, precision, "NaN")
        lat = coordinate_cells(chunk.lat, precision, "NaN")
        return "POINT (" + lon + " " + lat + ")"
    return shapely.to_wkt(chunk.geoms, rounding_precision=precision, trim=True)


def point_geometries(chunk: Chunk) -> np.ndarray:
    """Shapely geometries of the chunk (points from lon/lat for problems)."""
    if chunk.geoms is not None:
        return chunk.geoms
    return shapely.points(chunk.lon, chunk.lat)
