"""initial schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import geo.storage.sqltypes

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade() -> None:
    op.create_table(
        "areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("street_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("geom", geo.storage.sqltypes.Geometry("MultiPolygon", srid=4326), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["areas.id"], name=op.f("fk_areas_community_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["areas.id"], name=op.f("fk_areas_district_id_areas")
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["areas.id"], name=op.f("fk_areas_parent_id_areas")),
        sa.ForeignKeyConstraint(["street_id"], ["areas.id"], name=op.f("fk_areas_street_id_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_areas")),
        sa.UniqueConstraint("level", "code", name="uq_areas_level_code"),
    )
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_areas_code"), ["code"], unique=False)
        if _postgres():
            batch_op.create_index("ix_areas_geom", ["geom"], unique=False, postgresql_using="gist")
        batch_op.create_index(batch_op.f("ix_areas_level"), ["level"], unique=False)
        batch_op.create_index(batch_op.f("ix_areas_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("outside", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batches")),
    )
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingest_batches_sha256"), ["sha256"], unique=False)

    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("name", name=op.f("uq_units_name")),
    )
    op.create_table(
        "inspection_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("geom", geo.storage.sqltypes.Geometry("Geometry", srid=4326), nullable=False),
        sa.Column(
            "source_geom", geo.storage.sqltypes.Geometry("Geometry", srid=4326), nullable=True
        ),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("outside", sa.Boolean(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("street_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"], ["areas.id"], name=op.f("fk_inspection_points_community_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["areas.id"], name=op.f("fk_inspection_points_district_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["areas.id"], name=op.f("fk_inspection_points_grid_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["street_id"], ["areas.id"], name=op.f("fk_inspection_points_street_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_inspection_points_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_points")),
        sa.UniqueConstraint("code", name=op.f("uq_inspection_points_code")),
    )
    with op.batch_alter_table("inspection_points", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_points_community_id"), ["community_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inspection_points_district_id"), ["district_id"], unique=False
        )
        if _postgres():
            batch_op.create_index(
                "ix_inspection_points_geom", ["geom"], unique=False, postgresql_using="gist"
            )
        batch_op.create_index(batch_op.f("ix_inspection_points_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_points_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inspection_points_street_id"), ["street_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inspection_points_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("geom", geo.storage.sqltypes.Geometry("Point", srid=4326), nullable=False),
        sa.Column("outside", sa.Boolean(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("street_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("point_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("rectified_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("campaign", sa.String(length=60), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["ingest_batches.id"], name=op.f("fk_problems_batch_id_ingest_batches")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["areas.id"], name=op.f("fk_problems_community_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["areas.id"], name=op.f("fk_problems_district_id_areas")
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["areas.id"], name=op.f("fk_problems_grid_id_areas")),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["inspection_points.id"],
            name=op.f("fk_problems_point_id_inspection_points"),
        ),
        sa.ForeignKeyConstraint(
            ["street_id"], ["areas.id"], name=op.f("fk_problems_street_id_areas")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_problems_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problems")),
        sa.UniqueConstraint("source", "external_id", name="uq_problems_source_external_id"),
    )
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problems_campaign"), ["campaign"], unique=False)
        batch_op.create_index(batch_op.f("ix_problems_category"), ["category"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_problems_community_id"), ["community_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_problems_district_id"), ["district_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_problems_found_at"), ["found_at"], unique=False)
        if _postgres():
            batch_op.create_index(
                "ix_problems_geom", ["geom"], unique=False, postgresql_using="gist"
            )
        batch_op.create_index(batch_op.f("ix_problems_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index("ix_problems_lon_lat", ["lon", "lat"], unique=False)
        batch_op.create_index(batch_op.f("ix_problems_point_id"), ["point_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_problems_status"), ["status"], unique=False)
        batch_op.create_index("ix_problems_status_deadline", ["status", "deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_problems_street_id"), ["street_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_problems_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "problem_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["problem_id"], ["problems.id"], name=op.f("fk_problem_events_problem_id_problems")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_events")),
    )
    with op.batch_alter_table("problem_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_events_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_problem_events_problem_id"), ["problem_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("problem_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_events_problem_id"))
        batch_op.drop_index(batch_op.f("ix_problem_events_at"))

    op.drop_table("problem_events")
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problems_unit_id"))
        batch_op.drop_index(batch_op.f("ix_problems_street_id"))
        batch_op.drop_index("ix_problems_status_deadline")
        batch_op.drop_index(batch_op.f("ix_problems_status"))
        batch_op.drop_index(batch_op.f("ix_problems_point_id"))
        batch_op.drop_index("ix_problems_lon_lat")
        batch_op.drop_index(batch_op.f("ix_problems_grid_id"))
        if _postgres():
            batch_op.drop_index("ix_problems_geom", postgresql_using="gist")
        batch_op.drop_index(batch_op.f("ix_problems_found_at"))
        batch_op.drop_index(batch_op.f("ix_problems_district_id"))
        batch_op.drop_index(batch_op.f("ix_problems_community_id"))
        batch_op.drop_index(batch_op.f("ix_problems_category"))
        batch_op.drop_index(batch_op.f("ix_problems_campaign"))

    op.drop_table("problems")
    with op.batch_alter_table("inspection_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_points_unit_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_points_street_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_points_kind"))
        batch_op.drop_index(batch_op.f("ix_inspection_points_grid_id"))
        if _postgres():
            batch_op.drop_index("ix_inspection_points_geom", postgresql_using="gist")
        batch_op.drop_index(batch_op.f("ix_inspection_points_district_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_points_community_id"))

    op.drop_table("inspection_points")
    op.drop_table("units")
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_batches_sha256"))

    op.drop_table("ingest_batches")
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_areas_parent_id"))
        batch_op.drop_index(batch_op.f("ix_areas_level"))
        if _postgres():
            batch_op.drop_index("ix_areas_geom", postgresql_using="gist")
        batch_op.drop_index(batch_op.f("ix_areas_code"))

    op.drop_table("areas")
