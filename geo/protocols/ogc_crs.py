"""OGC API – Features Part 2 (coordinate reference systems by reference): the CRSs a
client may ask for with ``crs`` and ``bbox-crs``, and features rewritten into them.

Everything is stored in WGS-84 lon/lat (CRS84). Offered:

- ``CRS84`` (OGC 1.3): lon/lat, the default (as GeoJSON);
- ``EPSG:4326``: the same datum, **lat/lon** axis order as EPSG defines it;
- ``EPSG:4490`` (CGCS2000, China's national system): lat/lon. CGCS2000 and WGS-84
  agree to a few centimetres (both ITRF-aligned; EPSG's transformation between them is a
  null one), far below our 6-decimal (~0.1 m) output, so the numbers are WGS-84's.

GCJ-02 is not offered here: it has no EPSG code and GIS clients (QGIS, GDAL) cannot
declare it, so a GCJ-02 layer would be silently misplaced; AMap users take the exports'
``crs=gcj02``, which marks the file as GCJ-02 everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from geo.core.errors import InvalidParameterError
from geo.core.text import tr

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"


@dataclass(frozen=True)
class Crs:
    """A CRS offered by the OGC API: its URI and whether its first axis is latitude."""

    uri: str
    lat_first: bool

    def to_lon_lat(
        self, box: tuple[float, float, float, float]
    ) -> tuple[float, float, float, float]:
        """A ``bbox`` given in this CRS's axis order as minlon,minlat,maxlon,maxlat."""
        if self.lat_first:
            return box[1], box[0], box[3], box[2]
        return box


OFFERED: dict[str, Crs] = {
    c.uri: c for c in (Crs(CRS84, False), Crs(EPSG_4326, True), Crs(EPSG_4490, True))
}
"""URI → CRS, in the order collections list them (CRS84, the storage CRS, first)."""

_ALIASES = {"EPSG:4326": EPSG_4326, "EPSG:4490": EPSG_4490, "CRS84": CRS84, "OGC:CRS84": CRS84}


def parse_crs(value: str | None, name: str = "crs") -> Crs:
    """The CRS named by ``value`` (a URI of ``OFFERED``, or ``EPSG:4326``-style short
    names, also in ``[…]`` safe-CURIE form); CRS84 when absent. 400 otherwise."""
    if value is None or value == "":
        return OFFERED[CRS84]
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    found = OFFERED.get(_ALIASES.get(text, text))
    if found is None:
        raise InvalidParameterError(
            tr(
                f"不支持的 {name} '{value[:80]}'; 可用: {', '.join(OFFERED)}",
                f"unsupported {name} '{value[:80]}'; one of: {', '.join(OFFERED)}",
            )
        )
    return found


def content_crs(crs: Crs) -> str:
    """The ``Content-Crs`` header value: the URI in angle brackets."""
    return f"<{crs.uri}>"


def reproject_features(
    texts: Iterable[str],
    crs: Crs,
    properties: tuple[str, ...] | None = None,
    skip_geometry: bool = False,
) -> list[str]:
    """RFC 7946 Feature texts (lon/lat) with their coordinates in ``crs``'s axis order,
    keeping only ``properties`` (None: all) and no geometry if ``skip_geometry``.

    CRS84 leaves the coordinates untouched; lat/lon CRSs swap every position's first two
    numbers (the values are the same: see the module's note on CGCS2000). Texts that
    need no change are passed on as they are (no JSON round trip).
    """
    if not crs.lat_first and properties is None and not skip_geometry:
        return list(texts)
    out = []
    for text in texts:
        feature = json.loads(text)
        geometry = feature.get("geometry")
        if skip_geometry:
            feature["geometry"] = None
        elif geometry is not None and crs.lat_first:
            _swap_geometry(geometry)
        if properties is not None:
            kept = feature.get("properties") or {}
            feature["properties"] = {k: kept.get(k) for k in properties if k in kept}
        out.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    return out


def _swap_geometry(geometry: dict[str, object]) -> None:
    if geometry.get("type") == "GeometryCollection":
        for part in geometry.get("geometries", []):  # type: ignore[attr-defined]
            _swap_geometry(part)
        return
    geometry["coordinates"] = _swap(geometry.get("coordinates"))


def _swap(coords: object) -> object:
    if isinstance(coords, list) and coords and isinstance(coords[0], (int, float)):
        return [coords[1], coords[0], *coords[2:]]
    if isinstance(coords, list):
        return [_swap(c) for c in coords]
    return coords
