"""Where data lives: engine and sessions, the SQLAlchemy models, SQL types for
geometry, bulk writing (executemany / COPY), schema upgrade and the Alembic migrations.

Imports: geo.core.
"""
