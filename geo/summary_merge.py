"""Adding count rows to ``area_summary`` in the caller's transaction.

Each row's measures are added to the stored row with the same keys (created at zero
when missing). SQLite: one upsert statement run over plain tuples (``executemany``, no
ORM). PostgreSQL: small sets the same way; large ones (a whole batch of an ingest) are
COPYed into a temporary table, added to the rows that exist by one ``UPDATE … FROM`` and
inserted where missing by one ``INSERT … SELECT … WHERE NOT EXISTS`` (far cheaper than
``ON CONFLICT`` row by row). That split is safe because every summary writer first locks
the ``summary_meta`` row (``geo.summary``), so no other one inserts keys meanwhile.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy.orm as so

from geo.bulk import copy_escaped
from geo.db import is_postgres
from geo.summary_cubes import MEASURES, ROW_KEYS

COPY_MIN_ROWS = 2_000
"""From this many rows on, PostgreSQL merges through a COPY into a temporary table."""

_TABLE = "area_summary"
_DELTA = "civicgrid_summary_delta"
_COLUMNS = (*ROW_KEYS, *MEASURES)
_NAMES = ", ".join(_COLUMNS)
_SAME_KEYS = " AND ".join(f"s.{k} = d.{k}" for k in ROW_KEYS)
_ADD = ", ".join(f"{m} = {_TABLE}.{m} + excluded.{m}" for m in MEASURES)
_CONFLICT = f"ON CONFLICT ({', '.join(ROW_KEYS)}) DO UPDATE SET {_ADD}"
# Statements built from the constants above only (no value is ever formatted in).
_UPDATE = (
    f"UPDATE {_TABLE} s SET {', '.join(f'{m} = s.{m} + d.{m}' for m in MEASURES)} "  # noqa: S608
    f"FROM {_DELTA} d WHERE {_SAME_KEYS}"
)
_INSERT = (
    f"INSERT INTO {_TABLE} ({_NAMES}) SELECT {_NAMES} FROM {_DELTA} d "  # noqa: S608
    f"WHERE NOT EXISTS (SELECT 1 FROM {_TABLE} s WHERE {_SAME_KEYS})"
)
_FOREIGN_KEYS = (
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = 'area_summary'::regclass AND contype = 'f' ORDER BY conname"
)


def add_rows(session: so.Session, rows: pd.DataFrame, suspend_keys: bool = False) -> int:
    """Add the measures of ``rows`` (``ROW_KEYS`` + ``MEASURES`` columns, keys unique)
    to the stored summary rows. The caller holds the ``summary_meta`` row lock.

    ``suspend_keys`` (PostgreSQL, large sets): drop the table's foreign keys for the
    merge and add them back (validated in one pass) instead of checking row by row; the
    table is then locked until the transaction ends. Returns the number of rows given.
    """
    if rows.empty:
        return 0
    rows = rows.sort_values(list(ROW_KEYS))  # one lock order for concurrent writers
    dbapi = session.connection().connection.driver_connection
    if is_postgres(session) and len(rows) >= COPY_MIN_ROWS:
        _copy_merge(dbapi, rows, suspend_keys)
    else:
        _upsert_many(dbapi, rows, "%s" if is_postgres(session) else "?")
    return len(rows)


def _tuples(rows: pd.DataFrame) -> list[tuple[Any, ...]]:
    columns = [rows[c].astype(str).tolist() for c in ROW_KEYS[:-1]]
    columns.append(rows["area_id"].astype("int64").tolist())
    columns += [rows[m].astype("int64").tolist() for m in MEASURES]
    return list(zip(*columns, strict=True))


def _copy_text(rows: pd.DataFrame) -> str:
    """The rows as COPY text, built column by column. Keys are never NULL; every
    backslash, tab and newline in them is escaped, so any text (even one reading \\N)
    arrives as it is."""
    columns = [copy_escaped(rows[c].astype(str).tolist()) for c in ROW_KEYS[:-1]]
    columns += [list(map(str, rows[c].astype("int64").tolist())) for c in _COLUMNS[5:]]
    return "".join(f"{line}\n" for line in map("\t".join, zip(*columns, strict=True)))


def _upsert(mark: str) -> str:
    places = ", ".join([mark] * len(_COLUMNS))
    return f"INSERT INTO {_TABLE} ({_NAMES}) VALUES ({places}) {_CONFLICT}"  # noqa: S608


def _upsert_many(dbapi: Any, rows: pd.DataFrame, mark: str) -> None:
    cursor = dbapi.cursor()
    try:
        cursor.executemany(_upsert(mark), _tuples(rows))
    finally:
        cursor.close()


def _copy_merge(dbapi: Any, rows: pd.DataFrame, suspend_keys: bool) -> None:
    """COPY (psycopg escapes every value) into a temporary table, then merge."""
    with dbapi.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_DELTA} "
            f"(LIKE {_TABLE} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {_DELTA}")
        with cursor.copy(f"COPY {_DELTA} ({_NAMES}) FROM STDIN") as copy:
            copy.write(_copy_text(rows))
        cursor.execute(f"ANALYZE {_DELTA}")  # join plans need its size
        keys = cursor.execute(_FOREIGN_KEYS).fetchall() if suspend_keys else []
        for name, _ in keys:
            cursor.execute(f'ALTER TABLE {_TABLE} DROP CONSTRAINT "{name}"')
        cursor.execute(_UPDATE)
        cursor.execute(_INSERT)
        for name, definition in keys:
            cursor.execute(f'ALTER TABLE {_TABLE} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(f"TRUNCATE {_DELTA}")
