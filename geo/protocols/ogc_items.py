"""Reading the features of an OGC API collection: a page of items, or one item.

Features are the same as the exports' (geo/export/stream.py ``feature_batches``): RFC 7946,
lon/lat, 6 decimals, the same properties. ``bbox`` selects features whose geometry
intersects the box: problems by their lon/lat columns; points and areas with
``ST_Intersects`` on PostGIS and, on SQLite (no spatial SQL), with shapely over the
candidates whose bounds meet the box, the page then being read by id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import NotFoundError
from geo.core.params import record_id
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.export.query import Page, filtered, model_of, raw_wkb
from geo.export.request import ExportRequest
from geo.export.stream import feature_batches
from geo.protocols.ogc_filter import filter_conditions
from geo.protocols.ogc_paging import capped_count, encode_cursor, page_keys
from geo.protocols.ogcapi import Collection, ItemsQuery, time_conditions
from geo.storage.db import is_postgres
from geo.storage.models import Area, InspectionPoint, Problem

_ITEM_CHUNK = 1_000


@dataclass(frozen=True)
class ItemsPage:
    """Feature texts of one page, how many features match in all (None: more than
    geo/protocols/ogc_paging.py ``COUNT_CAP``), the page's place and the ``next`` cursor."""

    features: list[str]
    matched: int | None
    offset: int
    limit: int
    next_cursor: str | None = None
    cursor: str | None = None
    """The cursor this page was asked with (None: by offset)."""

    @property
    def returned(self) -> int:
        return len(self.features)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def items_page(
    session: so.Session, query: ItemsQuery, taxonomy: Taxonomy, lang: str, tz: str
) -> ItemsPage:
    """One page of ``query``'s features (ordered by id, or by ``query.sortby`` then id)
    and the number matched (counted up to a cap, on first and offset pages only).

    The page's ids are found first (keyset after ``query.cursor``, or ``offset``), then
    only their features are rendered (geo/protocols/ogc_paging.py)."""
    query.filter.validate(session)
    coll = query.collection
    where = (
        *geometry_type_conditions(session, coll),
        *time_conditions(query),
        *_bbox_conditions(session, coll, query.bbox),
        *filter_conditions(session, coll.target, query.cql, query.filter_crs),
    )
    if _needs_exact_ids(session, query):
        where = (*where, model_of(coll.target).id.in_(_exact_ids(session, query)))
    after = query.cursor
    offset = 0 if after is not None else query.offset
    keys = page_keys(
        session, coll.target, query.filter, where, query.sortby, query.limit, offset, after
    )
    ordered = [int(key[-1]) for key in keys[: query.limit]]
    next_cursor = encode_cursor(keys[query.limit - 1]) if len(keys) > query.limit else None
    # Counting every match at each page would cost more than the page: keyset pages
    # (following next links) leave numberMatched out.
    matched = None if after is not None else capped_count(session, coll.target, query.filter, where)
    features: list[str] = []
    if ordered:
        page = Page(ids=ordered)
        features = _features(session, coll, query, taxonomy, lang, tz, page)
        if query.sortby:  # features are read in id order
            features = _in_order(session, coll, features, ordered)
    return ItemsPage(features, matched, offset, query.limit, next_cursor, query.cursor_text)


def _in_order(
    session: so.Session, coll: Collection, features: list[str], ids: list[int]
) -> list[str]:
    """``features`` (read in id order) put back in the order of ``ids``."""
    if coll.target == "problems":
        keys = [str(i) for i in ids]
    else:  # points and areas are identified by their code
        coded: type[Area] | type[InspectionPoint] = (
            Area if coll.target == "areas" else InspectionPoint
        )
        stmt = sa.select(coded.id, coded.code).where(coded.id.in_(ids))
        codes: dict[int, str] = {int(i): str(c) for i, c in session.execute(stmt).all()}
        keys = [codes[i] for i in ids]
    by_key = {str(json.loads(text)["id"]): text for text in features}
    return [by_key[k] for k in keys if k in by_key]


def item(
    session: so.Session,
    coll: Collection,
    feature_id: str,
    filt: Any,
    taxonomy: Taxonomy,
    lang: str,
    tz: str,
) -> str:
    """The Feature text of item ``feature_id`` of ``coll``; ``NotFoundError`` if none.

    Problems are identified by their number, points and areas by their code.
    """
    model = model_of(coll.target)
    if coll.target == "problems":
        number = record_id(feature_id)
        if number is None:
            raise _missing(coll, feature_id)
        cond: sa.ColumnElement[bool] = Problem.id == number
    else:
        cond = model.code == feature_id  # type: ignore[union-attr]
    query = ItemsQuery(coll, filt, limit=1)
    where = (cond, *geometry_type_conditions(session, coll))
    features = _features(session, coll, query, taxonomy, lang, tz, Page(where=where, limit=1))
    if not features:
        raise _missing(coll, feature_id)
    return features[0]


_WKB_TYPES = {"Point": ("01", "04"), "LineString": ("02", "05"), "Polygon": ("03", "06")}
"""WKB type codes (hex) of a geometry type and its Multi- form."""


def geometry_type_conditions(session: so.Session, coll: Collection) -> list[sa.ColumnElement[bool]]:
    """Conditions keeping a typed collection's geometry type (points_point, …)."""
    if coll.geometry is None:
        return []
    model = model_of(coll.target)
    if is_postgres(session):
        names = [coll.geometry.upper(), "MULTI" + coll.geometry.upper()]
        return [sa.func.GeometryType(model.geom).in_(names)]
    # SQLite keeps ISO WKB, little-endian: the type is the second byte
    return [sa.func.hex(sa.func.substr(model.geom, 2, 1)).in_(_WKB_TYPES[coll.geometry])]


def _missing(coll: Collection, feature_id: str) -> NotFoundError:
    return NotFoundError(
        tr(
            f"集合 {coll.id} 中没有 '{feature_id}'",
            f"no item '{feature_id}' in collection {coll.id}",
        )
    )


def _features(
    session: so.Session,
    coll: Collection,
    query: ItemsQuery,
    taxonomy: Taxonomy,
    lang: str,
    tz: str,
    page: Page,
) -> list[str]:
    request = ExportRequest(
        coll.target, "geojson", query.filter, "wgs84", lang, tz, chunk_rows=_ITEM_CHUNK
    )
    texts: list[str] = []
    for batch in feature_batches(session, request, taxonomy, page):
        texts += [feature.decode() for feature in batch.features]
    return texts


def _bbox_conditions(
    session: so.Session, coll: Collection, bbox: tuple[float, float, float, float] | None
) -> list[sa.ColumnElement[bool]]:
    if bbox is None:
        return []
    x0, y0, x1, y1 = bbox
    if coll.target == "problems":
        return [Problem.lon.between(x0, x1), Problem.lat.between(y0, y1)]
    model = model_of(coll.target)
    if is_postgres(session):
        envelope = sa.func.ST_MakeEnvelope(x0, y0, x1, y1, 4326)
        return [sa.func.ST_Intersects(model.geom, envelope)]
    if coll.target == "areas":
        return [Area.min_lon <= x1, Area.max_lon >= x0, Area.min_lat <= y1, Area.max_lat >= y0]
    return []


def _needs_exact_ids(session: so.Session, query: ItemsQuery) -> bool:
    return (
        query.bbox is not None
        and query.collection.target != "problems"
        and not is_postgres(session)
    )


def _exact_ids(session: so.Session, query: ItemsQuery) -> list[int]:
    """Ids (ascending) of the points/areas whose geometry intersects the bbox (SQLite)."""
    assert query.bbox is not None
    target = query.collection.target
    model: type[Area] | type[InspectionPoint] = Area if target == "areas" else InspectionPoint
    columns: list[Any] = [model.id, raw_wkb(session, model.geom)]
    stmt = filtered(sa.select(*columns).order_by(model.id), target, query.filter)
    stmt = stmt.where(*_bbox_conditions(session, query.collection, query.bbox))
    stmt = stmt.where(*geometry_type_conditions(session, query.collection))
    stmt = stmt.where(*filter_conditions(session, target, query.cql, query.filter_crs))
    rows = session.execute(stmt).all()
    if not rows:
        return []
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    geoms = shapely.from_wkb([r[1] for r in rows])
    hit = shapely.intersects(geoms, shapely.box(*query.bbox))
    return ids[hit].tolist()
