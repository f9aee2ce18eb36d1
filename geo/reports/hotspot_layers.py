"""Map layers of hot spots and rebounds: GeoJSON (EPSG:4326, 6 decimals) with a colour and
a label per feature in the reader's language, and the legend that goes with them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from shapely.geometry import Point

from geo.core.geojson import feature_collection
from geo.core.text import Text, in_lang, tr
from geo.reports.hotspots import HotSpot, HotSpotResult
from geo.reports.rebounds import ReboundPlace
from geo.storage.models import Area

COLORS: dict[tuple[str, int], str] = {
    ("hot", 99): "#b2182b",
    ("hot", 95): "#ef8a62",
    ("hot", 90): "#f7c4a8",
    ("cold", 99): "#2166ac",
    ("cold", 95): "#67a9cf",
    ("cold", 90): "#bcdcec",
}
"""Diverging red (hot) / blue (cold), darker for a higher confidence."""
REBOUND_COLOR = "#7b3294"


def spot_label(spot: HotSpot) -> Text:
    """ "热点 99%" / "Hot spot 99%" (or not significant)."""
    if spot.kind == "hot":
        return tr(f"热点 {spot.confidence}%", f"Hot spot {spot.confidence}%")
    if spot.kind == "cold":
        return tr(f"冷点 {spot.confidence}%", f"Cold spot {spot.confidence}%")
    return tr("不显著", "not significant")


def hotspots_geojson(session: so.Session, result: HotSpotResult, lang: str) -> str:
    """The significant grids of ``result`` as polygons, coloured by kind and confidence."""
    spots = result.significant
    geoms: dict[int, Any] = dict(
        session.execute(
            sa.select(Area.id, Area.geom).where(Area.id.in_([s.area_id for s in spots]))
        ).all()
    )
    props = [
        {
            "name": spot.name,
            "code": spot.code,
            "kind_label": f"{in_lang(spot_label(spot), lang)} · z={spot.z:.2f} · {spot.count}",
            "color": COLORS[(spot.kind, spot.confidence)],
            "weight": 1,
        }
        for spot in spots
    ]
    return feature_collection([geoms[s.area_id] for s in spots], props)


def rebounds_geojson(places: list[ReboundPlace], lang: str) -> str:
    """One marker per place where problems came back (EPSG:4326: a grid's bounding-box
    centre, a point's position), larger with more rebounds."""
    props: list[dict[str, Any]] = [
        {
            "name": place.name,
            "code": place.code,
            "kind_label": in_lang(
                tr(f"反弹 {len(place.pairs)} 次", f"{len(place.pairs)} rebound(s)"), lang
            ),
            "color": REBOUND_COLOR,
            "radius": min(4 + len(place.pairs), 10),
        }
        for place in places
    ]
    return feature_collection([Point(p.lon, p.lat) for p in places], props)


def legend(lang: str) -> dict[str, Any]:
    """Title and items of the map's legend."""
    items = [
        {
            "label": in_lang(spot_label(HotSpot(0, "", "", 0, 0.0, 0.0, kind, level)), lang),
            "color": color,
        }
        for (kind, level), color in COLORS.items()
    ]
    items.append({"label": in_lang(tr("反弹地点", "Rebound places"), lang), "color": REBOUND_COLOR})
    return {"title": in_lang(tr("热点分析（Gi*）", "Hot spots (Gi*)"), lang), "items": items}
