"""Adding count rows to ``area_summary`` in the caller's transaction.

Each row's measures are added to the stored row with the same keys (created at zero
when missing). SQLite: one upsert statement run over plain tuples (``executemany``, no
ORM). PostgreSQL: small sets the same way; large ones (a whole batch of an ingest) are
COPYed into a temporary table and merged by one ``INSERT … SELECT … ON CONFLICT``.
Rows are applied in key order, one lock order for concurrent writers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy.orm as so

from geo.db import is_postgres
from geo.summary_cubes import MEASURES, ROW_KEYS

COPY_MIN_ROWS = 2_000
"""From this many rows on, PostgreSQL merges through a COPY into a temporary table."""

_TABLE = "area_summary"
_DELTA = "civicgrid_summary_delta"
_COLUMNS = (*ROW_KEYS, *MEASURES)
_ADD = ", ".join(f"{m} = {_TABLE}.{m} + excluded.{m}" for m in MEASURES)
_CONFLICT = f"ON CONFLICT ({', '.join(ROW_KEYS)}) DO UPDATE SET {_ADD}"
_NAMES = ", ".join(_COLUMNS)
# Statements built from the constants above only (no value is ever formatted in).
_MERGE = (
    f"INSERT INTO {_TABLE} ({_NAMES}) SELECT {_NAMES} FROM {_DELTA} "  # noqa: S608
    f"ORDER BY {', '.join(ROW_KEYS)} {_CONFLICT}"
)


def _upsert(mark: str) -> str:
    places = ", ".join([mark] * len(_COLUMNS))
    return f"INSERT INTO {_TABLE} ({_NAMES}) VALUES ({places}) {_CONFLICT}"  # noqa: S608


def add_rows(session: so.Session, rows: pd.DataFrame) -> int:
    """Add the measures of ``rows`` (``ROW_KEYS`` + ``MEASURES`` columns, keys unique)
    to the stored summary rows. Returns the number of rows given."""
    if rows.empty:
        return 0
    rows = rows.sort_values(list(ROW_KEYS))
    dbapi = session.connection().connection.driver_connection
    if is_postgres(session) and len(rows) >= COPY_MIN_ROWS:
        _copy_merge(dbapi, rows)
    else:
        _upsert_many(dbapi, rows, "%s" if is_postgres(session) else "?")
    return len(rows)


def _tuples(rows: pd.DataFrame) -> list[tuple[Any, ...]]:
    columns = [rows[c].astype(str).tolist() for c in ROW_KEYS[:-1]]
    columns.append(rows["area_id"].astype("int64").tolist())
    columns += [rows[m].astype("int64").tolist() for m in MEASURES]
    return list(zip(*columns, strict=True))


def _upsert_many(dbapi: Any, rows: pd.DataFrame, mark: str) -> None:
    cursor = dbapi.cursor()
    try:
        cursor.executemany(_upsert(mark), _tuples(rows))
    finally:
        cursor.close()


def _copy_merge(dbapi: Any, rows: pd.DataFrame) -> None:
    """COPY (psycopg escapes every value) into a temporary table, then one merge."""
    with dbapi.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_DELTA} "
            f"(LIKE {_TABLE} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {_DELTA}")
        with cursor.copy(f"COPY {_DELTA} ({_NAMES}) FROM STDIN") as copy:
            for row in _tuples(rows):
                copy.write_row(row)
        cursor.execute(_MERGE)
        cursor.execute(f"TRUNCATE {_DELTA}")
