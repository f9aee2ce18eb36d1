"""Typed SQLAlchemy 2.0 models: areas, inspection points, problems, their history.

Conventions: geometries are EPSG:4326 lon/lat (see geo/storage/sqltypes.py); times are naive
UTC datetimes (converted to the configured time zone for display); every problem and
point carries its whole area ancestry (district/street/community/grid ids) so that
aggregation at any level is a plain GROUP BY.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from shapely.geometry.base import BaseGeometry

from geo.storage.sqltypes import Geometry

LEVELS: tuple[str, ...] = ("city", "district", "street", "community", "grid")
"""Administrative levels, coarse to fine."""

ANCESTRY_COLUMNS: tuple[str, ...] = ("district_id", "street_id", "community_id", "grid_id")
"""Columns every assigned problem and inspection point carries; None where that level has no
area (the city itself is no column)."""

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class Area(Base):
    """A city, district, street/town, community/village or grid polygon."""

    __tablename__ = "areas"
    __table_args__ = (
        sa.UniqueConstraint("level", "code", name="uq_areas_level_code"),
        sa.Index("ix_areas_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    level: so.Mapped[str] = so.mapped_column(sa.String(16), index=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"), index=True)
    district_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"))
    street_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"))
    community_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"))
    area_m2: so.Mapped[float] = so.mapped_column(sa.Float)
    min_lon: so.Mapped[float] = so.mapped_column(sa.Float)
    min_lat: so.Mapped[float] = so.mapped_column(sa.Float)
    max_lon: so.Mapped[float] = so.mapped_column(sa.Float)
    max_lat: so.Mapped[float] = so.mapped_column(sa.Float)
    geom: so.Mapped[BaseGeometry] = so.mapped_column(Geometry("MultiPolygon"))
    updated_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime)


class ResponsibleUnit(Base):
    """A department or street office that problems are handed to (责任单位)."""

    __tablename__ = "units"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    # "department" (职能部门) or "street_office" (街道/镇); None when not yet classified.
    kind: so.Mapped[str | None] = so.mapped_column(sa.String(20))


class InspectionPoint(Base):
    """An inspection point (点位): a Point, LineString or Polygon of a taxonomy kind."""

    __tablename__ = "inspection_points"
    __table_args__ = (
        sa.Index("ix_inspection_points_geom", "geom", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    kind: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)
    address: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("units.id"), index=True)
    geom: so.Mapped[BaseGeometry] = so.mapped_column(Geometry("Geometry"))
    source_geom: so.Mapped[BaseGeometry | None] = so.mapped_column(Geometry("Geometry"))
    lon: so.Mapped[float] = so.mapped_column(sa.Float)
    lat: so.Mapped[float] = so.mapped_column(sa.Float)
    outside: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    district_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"), index=True)
    street_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"), index=True)
    community_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"), index=True)
    grid_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"), index=True)

    unit: so.Mapped[ResponsibleUnit | None] = so.relationship()


class IngestBatch(Base):
    """One ingested file: who, when, what it held and what became of its rows."""

    __tablename__ = "ingest_batches"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    source: so.Mapped[str] = so.mapped_column(sa.String(100))
    file_name: so.Mapped[str] = so.mapped_column(sa.String(500))
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    actor: so.Mapped[str] = so.mapped_column(sa.String(100))
    started_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    rows_total: so.Mapped[int] = so.mapped_column(default=0)
    accepted: so.Mapped[int] = so.mapped_column(default=0)
    rejected: so.Mapped[int] = so.mapped_column(default=0)
    duplicates: so.Mapped[int] = so.mapped_column(default=0)
    outside: so.Mapped[int] = so.mapped_column(default=0)
    # Added by the survey ingest (issue 3): how the file was read and what was linked.
    file_format: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    encoding: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    input_crs: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    file_bytes: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    linked: so.Mapped[int] = so.mapped_column(default=0)
    reject_reasons: so.Mapped[dict[str, int] | None] = so.mapped_column(sa.JSON)
    # Added by rounds (issue 8): visits recorded from the file.
    visits: so.Mapped[int] = so.mapped_column(default=0, server_default="0")


RATES_INDEX_COLUMNS = (
    "grid_id",
    "status",
    "found_at",
    "deadline",
    "closed_at",
    "rectified_at",
    "assigned_at",
    "reopen_count",
    "extension_count",
)
"""Columns of the SQLite covering index for the rates (migration 0010)."""


class Problem(Base):
    """A problem found at a location (问题), followed from discovery to closure."""

    __tablename__ = "problems"
    __table_args__ = (
        sa.UniqueConstraint("source", "external_id", name="uq_problems_source_external_id"),
        sa.Index("ix_problems_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
        sa.Index("ix_problems_lon_lat", "lon", "lat"),
        sa.Index("ix_problems_status_deadline", "status", "deadline"),
        # SQLite: every column the grid rates read (geo/summary/rate_sql.py), grid first, so the
        # rates scan this narrow index in grid order and never the wide table rows.
        sa.Index("ix_problems_rates", *RATES_INDEX_COLUMNS).ddl_if(dialect="sqlite"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    source: so.Mapped[str] = so.mapped_column(sa.String(100))
    external_id: so.Mapped[str] = so.mapped_column(sa.String(200))
    category: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    lon: so.Mapped[float] = so.mapped_column(sa.Float)
    lat: so.Mapped[float] = so.mapped_column(sa.Float)
    geom: so.Mapped[BaseGeometry] = so.mapped_column(Geometry("Point"))
    outside: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    district_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"), index=True)
    street_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"), index=True)
    community_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"), index=True)
    grid_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"), index=True)
    point_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("inspection_points.id"), index=True
    )
    status: so.Mapped[str] = so.mapped_column(sa.String(20), index=True)
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("units.id"), index=True)
    found_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime, index=True)
    assigned_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    deadline: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime, index=True)
    rectified_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    reopen_count: so.Mapped[int] = so.mapped_column(default=0)
    campaign: so.Mapped[str | None] = so.mapped_column(sa.String(60), index=True)
    batch_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("ingest_batches.id"))
    version: so.Mapped[int] = so.mapped_column(default=1)
    # Added by extensions and holds (issue 8): a pending request ("extension" or "hold")
    # with the deadline asked for; how many extensions were approved (延期).
    pending: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    requested_deadline: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    extension_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")

    point: so.Mapped[InspectionPoint | None] = so.relationship()
    unit: so.Mapped[ResponsibleUnit | None] = so.relationship()
    events: so.Mapped[list[ProblemEvent]] = so.relationship(
        back_populates="problem", order_by="ProblemEvent.at"
    )


class AreaSummary(Base):
    """Problem counts per area, kept up to date by geo/summary/counts.py (the heat maps read these).

    One row per ``cube`` (which problem attributes it is broken down by: ``total``,
    ``category``, ``kind``, ``campaign``, ``attrs`` = category × kind × campaign, or
    ``day`` = local found date), key values ``k1``..``k3`` ('' when unused or empty),
    area level and area. Measures: ``n`` problems, ``unresolved`` (not closed),
    ``overdue`` (unresolved with a deadline before ``SummaryMeta.overdue_as_of``) and
    ``closed_on_time`` (closed by the deadline, or closed without one).
    """

    __tablename__ = "area_summary"
    # Clustered by key on SQLite: a cube's rows for one level are read in one range.
    __table_args__ = ({"sqlite_with_rowid": False},)

    cube: so.Mapped[str] = so.mapped_column(sa.String(12), primary_key=True)
    level: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    k1: so.Mapped[str] = so.mapped_column(sa.String(60), primary_key=True)
    k2: so.Mapped[str] = so.mapped_column(sa.String(60), primary_key=True)
    k3: so.Mapped[str] = so.mapped_column(sa.String(60), primary_key=True)
    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"), primary_key=True)
    n: so.Mapped[int] = so.mapped_column(default=0)
    unresolved: so.Mapped[int] = so.mapped_column(default=0)
    overdue: so.Mapped[int] = so.mapped_column(default=0)
    closed_on_time: so.Mapped[int] = so.mapped_column(default=0)


class _RateCounts:
    """The columns of the rate tables: key (level, kind, owner, local period start) and
    the counts of geo/summary/rate_cubes.py."""

    level: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(8), primary_key=True)
    owner_id: so.Mapped[int] = so.mapped_column(primary_key=True)
    period_start: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    found: so.Mapped[int] = so.mapped_column(default=0)
    due: so.Mapped[int] = so.mapped_column(default=0)
    closed: so.Mapped[int] = so.mapped_column(default=0)
    closed_on_time: so.Mapped[int] = so.mapped_column(default=0)
    reworked: so.Mapped[int] = so.mapped_column(default=0)
    extended: so.Mapped[int] = so.mapped_column(default=0)
    rectified: so.Mapped[int] = so.mapped_column(default=0)
    overdue_delta: so.Mapped[int] = so.mapped_column(default=0)
    rectify_days: so.Mapped[float] = so.mapped_column(sa.Float, default=0.0)


class RateSummary(_RateCounts, Base):
    """Rate counts per level, owner (area or unit id), period kind and local period start,
    kept up to date by geo/summary/counts.py beside ``area_summary``; rankings of finished
    periods read these instead of every problem. Definitions: geo/summary/rate_cubes.py."""

    __tablename__ = "rate_summary"
    # Clustered by key on SQLite: one level's rows of one kind are read in one range.
    __table_args__ = ({"sqlite_with_rowid": False},)


class RateFrozen(_RateCounts, Base):
    """What history froze in ``rate_summary``: per key, the stored counts minus a recount
    of the problems as they are now. A lifecycle event leaves the periods ended before it
    as they stood (geo/summary/rate_cubes.py, History); the part it did not apply is kept
    here, so a rebuild or a check recounts ``rate_summary`` = recount + these rows."""

    __tablename__ = "rate_frozen"
    __table_args__ = ({"sqlite_with_rowid": False},)


class SummaryMeta(Base):
    """The one row of summary bookkeeping: data versions (for ETags), the overdue clock,
    the UTC offset of the local day used for found-date buckets, and a stale flag."""

    __tablename__ = "summary_meta"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    problems_version: so.Mapped[int] = so.mapped_column(default=0)
    areas_version: so.Mapped[int] = so.mapped_column(default=0)
    points_version: so.Mapped[int] = so.mapped_column(default=0)
    overdue_as_of: so.Mapped[datetime] = so.mapped_column(sa.DateTime)
    day_offset_minutes: so.Mapped[int] = so.mapped_column(default=480)
    stale: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)


class ProblemEvent(Base):
    """One recorded status transition of a problem: who, when, from, to, note."""

    __tablename__ = "problem_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    problem_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("problems.id"), index=True)
    at: so.Mapped[datetime] = so.mapped_column(sa.DateTime, index=True)
    actor: so.Mapped[str] = so.mapped_column(sa.String(100))
    action: so.Mapped[str] = so.mapped_column(sa.String(20))
    from_status: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    to_status: so.Mapped[str] = so.mapped_column(sa.String(20))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # Set by an assignment (or a reopen): the unit handed the problem and its deadline.
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("units.id"))
    deadline: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    # File name of an optional photo, stored under the instance folder
    # (see geo/lifecycle/photos.py).
    photo: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    problem: so.Mapped[Problem] = so.relationship(back_populates="events")
    unit: so.Mapped[ResponsibleUnit | None] = so.relationship()
