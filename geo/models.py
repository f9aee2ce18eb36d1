"""Typed SQLAlchemy 2.0 models: areas, inspection points, problems, their history.

Conventions: geometries are EPSG:4326 lon/lat (see geo/sqltypes.py); times are naive
UTC datetimes (converted to the configured time zone for display); every problem and
point carries its whole area ancestry (district/street/community/grid ids) so that
aggregation at any level is a plain GROUP BY.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from shapely.geometry.base import BaseGeometry

from geo.sqltypes import Geometry

LEVELS: tuple[str, ...] = ("city", "district", "street", "community", "grid")
"""Administrative levels, coarse to fine."""

STATUSES: tuple[str, ...] = ("found", "assigned", "rectified", "closed")
"""Problem statuses along the main path; "unresolved" means not closed."""

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


class Problem(Base):
    """A problem found at a location (问题), followed from discovery to closure."""

    __tablename__ = "problems"
    __table_args__ = (
        sa.UniqueConstraint("source", "external_id", name="uq_problems_source_external_id"),
        sa.Index("ix_problems_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
        sa.Index("ix_problems_lon_lat", "lon", "lat"),
        sa.Index("ix_problems_status_deadline", "status", "deadline"),
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
    deadline: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    rectified_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    reopen_count: so.Mapped[int] = so.mapped_column(default=0)
    campaign: so.Mapped[str | None] = so.mapped_column(sa.String(60), index=True)
    batch_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("ingest_batches.id"))
    version: so.Mapped[int] = so.mapped_column(default=1)

    point: so.Mapped[InspectionPoint | None] = so.relationship()
    unit: so.Mapped[ResponsibleUnit | None] = so.relationship()
    events: so.Mapped[list[ProblemEvent]] = so.relationship(
        back_populates="problem", order_by="ProblemEvent.at"
    )


class AreaSummary(Base):
    """Number of problems per area (any level), category and status; see geo/summary.py."""

    __tablename__ = "area_summary"

    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"), primary_key=True)
    category: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(20), primary_key=True)
    n: so.Mapped[int] = so.mapped_column(default=0)


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

    problem: so.Mapped[Problem] = so.relationship(back_populates="events")


# --- Access control (issue 6): users, API tokens, their area scopes, the audit log ------


class User(Base):
    """A person who logs in: one role, an optional set of areas it is limited to.

    ``password_hash`` is a werkzeug scrypt hash; usernames are stored lower-case.
    """

    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    disabled: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)

    areas: so.Mapped[list[Area]] = so.relationship(secondary="user_scopes", order_by=Area.code)


class UserScope(Base):
    """One area a user is limited to (any level); none means the whole city."""

    __tablename__ = "user_scopes"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"), primary_key=True)


class ApiToken(Base):
    """A bearer token for scripts: only its SHA-256 is stored; shown once at creation."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    prefix: so.Mapped[str] = so.mapped_column(sa.String(12))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    created_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime)
    expires_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime)

    areas: so.Mapped[list[Area]] = so.relationship(secondary="token_scopes", order_by=Area.code)


class TokenScope(Base):
    """One area a token is limited to (any level); none means the whole city."""

    __tablename__ = "token_scopes"

    token_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("api_tokens.id"), primary_key=True)
    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"), primary_key=True)


class AuditEntry(Base):
    """Who did what, when, to what, from where (logins, token use, role changes, exports)."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_action_actor_at", "action", "actor", "at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(sa.DateTime, index=True)
    actor: so.Mapped[str] = so.mapped_column(sa.String(100))
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    target: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    detail: so.Mapped[str] = so.mapped_column(sa.Text, default="")
