"""A geometry column type that works on plain SQLite and on PostGIS.

SQLite (no SpatiaLite) stores ISO WKB in a BLOB. PostgreSQL stores a real
``geometry(<type>, 4326)`` so QGIS reads the table directly and GiST indexes work.
Values in Python are always shapely geometries in EPSG:4326 (lon/lat degrees).
"""

from __future__ import annotations

from typing import Any

import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine, UserDefinedType

WGS84_SRID = 4326


class _PostGISGeometry(UserDefinedType[Any]):
    cache_ok = True

    def __init__(self, geometry_type: str, srid: int) -> None:
        self.geometry_type = geometry_type
        self.srid = srid

    def get_col_spec(self, **kw: Any) -> str:
        return f"geometry({self.geometry_type},{self.srid})"


class Geometry(sa.types.TypeDecorator[BaseGeometry]):
    """Shapely geometry column, EPSG:4326.

    On PostgreSQL the bound value is EWKB bytes (PostGIS casts bytea to geometry
    implicitly, and the SRID in EWKB satisfies the column's SRID constraint); the
    result comes back as hex EWKB text, which shapely reads directly.
    """

    impl = sa.LargeBinary
    cache_ok = True

    def __init__(self, geometry_type: str = "Geometry", srid: int = WGS84_SRID) -> None:
        super().__init__()
        self.geometry_type = geometry_type
        self.srid = srid

    def __repr__(self) -> str:
        return f"Geometry({self.geometry_type!r}, srid={self.srid})"

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostGISGeometry(self.geometry_type, self.srid))
        return dialect.type_descriptor(sa.LargeBinary())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or isinstance(value, bytes | str):
            return value  # already (E)WKB, encoded in bulk by the caller
        return geometry_to_db(value, dialect.name, self.srid)

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        if value is None:
            return None
        return shapely.from_wkb(value)


def geometry_to_db(value: Any, dialect_name: str, srid: int = WGS84_SRID) -> Any:
    """WKB for SQLite, EWKB (with SRID) for PostGIS; works on one geometry or an array."""
    if dialect_name == "postgresql":
        return shapely.to_wkb(shapely.set_srid(value, srid), include_srid=True)
    return shapely.to_wkb(value)
