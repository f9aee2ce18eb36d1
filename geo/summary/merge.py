"""Adding count rows to a summary table (``area_summary``, ``rate_summary``) in the
caller's transaction.

Each row's measures are added to the stored row with the same keys (created at zero
when missing). SQLite: one upsert statement run over plain tuples (``executemany``, no
ORM). PostgreSQL: small sets the same way; large ones (a whole batch of an ingest) are
COPYed into a temporary table, added to the rows that exist by one ``UPDATE … FROM`` and
inserted where missing by one ``INSERT … SELECT … WHERE NOT EXISTS`` (far cheaper than
``ON CONFLICT`` row by row). That split is safe because every summary writer first locks
the ``summary_meta`` row (``geo.summary.counts``), so no other one inserts keys meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy.orm as so

from geo.storage.bulk import copy_escaped
from geo.storage.db import is_postgres
from geo.summary.cubes import MEASURES, ROW_KEYS
from geo.summary.rate_cubes import RATE_COUNTS, RATE_KEYS, RATE_MEASURES

COPY_MIN_ROWS = 2_000
"""From this many rows on, PostgreSQL merges through a COPY into a temporary table."""

_COPY_SLICE = 50_000
"""Rows turned into COPY text at a time, so the text never holds a whole batch."""


def _text(values: pd.Series) -> list[Any]:
    return values.astype(str).tolist()


def _int(values: pd.Series) -> list[Any]:
    return values.astype("int64").tolist()


def _float(values: pd.Series) -> list[Any]:
    return values.astype("float64").tolist()


def _date(values: pd.Series) -> list[Any]:
    days = values.to_numpy().astype("datetime64[D]")
    return list(np.datetime_as_string(days, unit="D").tolist())


@dataclass(frozen=True)
class SummaryTable:
    """A summary table: its key and measure columns, and how each column's values are
    turned into plain Python values (text keys are escaped for COPY)."""

    name: str
    keys: tuple[str, ...]
    measures: tuple[str, ...]
    converters: dict[str, Callable[[pd.Series], list[Any]]]
    text_keys: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.keys, *self.measures)


AREA_SUMMARY = SummaryTable(
    "area_summary",
    ROW_KEYS,
    MEASURES,
    {**{k: _text for k in ROW_KEYS[:-1]}, "area_id": _int, **{m: _int for m in MEASURES}},
    ROW_KEYS[:-1],
)
RATE_SUMMARY = SummaryTable(
    "rate_summary",
    RATE_KEYS,
    RATE_MEASURES,
    {
        "level": _text,
        "kind": _text,
        "owner_id": _int,
        "period_start": _date,
        **{m: _int for m in RATE_COUNTS},
        "rectify_days": _float,
    },
    ("level", "kind"),
)
RATE_FROZEN = SummaryTable(
    "rate_frozen",
    RATE_SUMMARY.keys,
    RATE_SUMMARY.measures,
    RATE_SUMMARY.converters,
    RATE_SUMMARY.text_keys,
)
"""The part of ``rate_summary`` history froze (geo.storage.models.RateFrozen)."""

_FOREIGN_KEYS = (
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname"
)


def add_rows(
    session: so.Session,
    rows: pd.DataFrame,
    suspend_keys: bool = False,
    table: SummaryTable = AREA_SUMMARY,
) -> int:
    """Add the measures of ``rows`` (``table``'s key and measure columns, keys unique)
    to the stored rows of ``table``. The caller holds the ``summary_meta`` row lock.

    ``suspend_keys`` (PostgreSQL, large sets): drop the table's foreign keys for the
    merge and add them back (validated in one pass) instead of checking row by row; the
    table is then locked until the transaction ends. Returns the number of rows given.
    """
    if rows.empty:
        return 0
    rows = rows.sort_values(list(table.keys))  # one lock order for concurrent writers
    dbapi = session.connection().connection.driver_connection
    if is_postgres(session) and len(rows) >= COPY_MIN_ROWS:
        _copy_merge(dbapi, rows, suspend_keys, table)
    else:
        _upsert_many(dbapi, rows, "%s" if is_postgres(session) else "?", table)
    return len(rows)


def _values(rows: pd.DataFrame, table: SummaryTable) -> list[list[Any]]:
    return [table.converters[c](rows[c]) for c in table.columns]


def _tuples(rows: pd.DataFrame, table: SummaryTable) -> list[tuple[Any, ...]]:
    return list(zip(*_values(rows, table), strict=True))


def _copy_text(rows: pd.DataFrame, table: SummaryTable) -> str:
    """The rows as COPY text, built column by column. Keys are never NULL; every
    backslash, tab and newline in text keys is escaped, so any text (even one reading
    \\N) arrives as it is."""
    columns = [
        copy_escaped(values) if name in table.text_keys else list(map(str, values))
        for name, values in zip(table.columns, _values(rows, table), strict=True)
    ]
    return "".join(f"{line}\n" for line in map("\t".join, zip(*columns, strict=True)))


# The statements below are built from the table specs only (no value is ever formatted in).


def _upsert(mark: str, table: SummaryTable) -> str:
    names = ", ".join(table.columns)
    places = ", ".join([mark] * len(table.columns))
    add = ", ".join(f"{m} = {table.name}.{m} + excluded.{m}" for m in table.measures)
    conflict = f"ON CONFLICT ({', '.join(table.keys)}) DO UPDATE SET {add}"
    return f"INSERT INTO {table.name} ({names}) VALUES ({places}) {conflict}"  # noqa: S608


def _upsert_many(dbapi: Any, rows: pd.DataFrame, mark: str, table: SummaryTable) -> None:
    cursor = dbapi.cursor()
    try:
        cursor.executemany(_upsert(mark, table), _tuples(rows, table))
    finally:
        cursor.close()


def _merge_statements(table: SummaryTable, delta: str) -> tuple[str, str]:
    names = ", ".join(table.columns)
    same_keys = " AND ".join(f"s.{k} = d.{k}" for k in table.keys)
    update = (
        f"UPDATE {table.name} s SET "  # noqa: S608
        f"{', '.join(f'{m} = s.{m} + d.{m}' for m in table.measures)} "
        f"FROM {delta} d WHERE {same_keys}"
    )
    insert = (
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {delta} d "  # noqa: S608
        f"WHERE NOT EXISTS (SELECT 1 FROM {table.name} s WHERE {same_keys})"
    )
    return update, insert


def _copy_merge(dbapi: Any, rows: pd.DataFrame, suspend_keys: bool, table: SummaryTable) -> None:
    """COPY into a temporary table, then merge."""
    delta = f"civicgrid_{table.name}_delta"
    with dbapi.cursor() as cursor:
        _temp_table(cursor, delta, table)
        cursor.execute(f"TRUNCATE {delta}")
        _copy_into(cursor, delta, rows, table)
        _merge_delta(cursor, delta, suspend_keys, table)


def stage_rows(session: so.Session, rows: pd.DataFrame, table: SummaryTable) -> None:
    """PostgreSQL: keep ``rows`` (keys need not be unique) in a temporary table of the
    transaction, to be added up and merged by ``merge_staged``, so a long batch holds its
    summary rows in the database instead of in memory."""
    if rows.empty:
        return
    with _dbapi(session).cursor() as cursor:
        _temp_table(cursor, _staged(table), table)
        _copy_into(cursor, _staged(table), rows, table)


def merge_staged(session: so.Session, suspend_keys: bool, table: SummaryTable) -> int:
    """Add up the rows ``stage_rows`` kept (by key) and merge them like ``add_rows``; the
    caller holds the ``summary_meta`` row lock. Returns the number of merged rows."""
    staged, delta = _staged(table), f"civicgrid_{table.name}_delta"
    keys = ", ".join(table.keys)
    sums = ", ".join(f"sum({m})" for m in table.measures)
    with _dbapi(session).cursor() as cursor:
        if cursor.execute("SELECT to_regclass(%s)", (f"pg_temp.{staged}",)).fetchone()[0] is None:
            return 0
        _temp_table(cursor, delta, table)
        cursor.execute(f"TRUNCATE {delta}")
        cursor.execute(
            f"INSERT INTO {delta} ({', '.join(table.columns)}) "  # noqa: S608
            f"SELECT {keys}, {sums} FROM {staged} GROUP BY {keys} ORDER BY {keys}"
        )
        merged = cursor.rowcount
        cursor.execute(f"TRUNCATE {staged}")
        _merge_delta(cursor, delta, suspend_keys, table)
    return int(merged)


def _dbapi(session: so.Session) -> Any:
    dbapi = session.connection().connection.driver_connection
    assert dbapi is not None
    return dbapi


def _temp_table(cursor: Any, name: str, table: SummaryTable) -> None:
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} "
        f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP"
    )


def _staged(table: SummaryTable) -> str:
    return f"civicgrid_{table.name}_staged"


def _copy_into(cursor: Any, name: str, rows: pd.DataFrame, table: SummaryTable) -> None:
    with cursor.copy(f"COPY {name} ({', '.join(table.columns)}) FROM STDIN") as copy:
        for start in range(0, len(rows), _COPY_SLICE):
            copy.write(_copy_text(rows.iloc[start : start + _COPY_SLICE], table))


def _merge_delta(cursor: Any, delta: str, suspend_keys: bool, table: SummaryTable) -> None:
    """Merge the (unique-keyed) rows of the temporary table ``delta`` into ``table``."""
    update, insert = _merge_statements(table, delta)
    cursor.execute(f"ANALYZE {delta}")  # join plans need its size
    keys = cursor.execute(_FOREIGN_KEYS, (table.name,)).fetchall() if suspend_keys else []
    for name, _ in keys:
        cursor.execute(f'ALTER TABLE {table.name} DROP CONSTRAINT "{name}"')
    cursor.execute(update)
    cursor.execute(insert)
    for name, definition in keys:
        cursor.execute(f'ALTER TABLE {table.name} ADD CONSTRAINT "{name}" {definition}')
    cursor.execute(f"TRUNCATE {delta}")
