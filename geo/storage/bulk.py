"""Bulk writing of problem rows: one DBAPI ``executemany`` of tuples on SQLite, one
``COPY`` on PostgreSQL, inside the caller's transaction.

The frame given to ``insert_problems`` holds the ``PROBLEM_COLUMNS`` with numpy /
pandas dtypes; each column is turned into a Python list in one vectorised step
(geometries as point WKB built with numpy, times in SQLAlchemy's storage format), so the
only per-row work is forming the tuples. Coordinates are WGS-84 lon/lat (EPSG:4326).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import sqlite

from geo.storage.db import backend_name
from geo.storage.models import Problem
from geo.storage.sqltypes import WGS84_SRID

PROBLEM_COLUMNS: tuple[str, ...] = (
    "source",
    "external_id",
    "category",
    "description",
    "lon",
    "lat",
    "geom",
    "outside",
    "district_id",
    "street_id",
    "community_id",
    "grid_id",
    "point_id",
    "status",
    "unit_id",
    "found_at",
    "assigned_at",
    "deadline",
    "rectified_at",
    "closed_at",
    "reopen_count",
    "campaign",
    "batch_id",
    "version",
    "extension_count",
)
"""Problem columns written by an ingest, in this order (``geom`` is built from lon/lat)."""

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DATETIME storage format
_COPY_BLOCK_ROWS = 50_000


def insert_problems(session: so.Session, frame: pd.DataFrame) -> int:
    """Insert the rows of ``frame`` (``PROBLEM_COLUMNS`` but ``geom``) into problems.

    Returns the number of rows written. Runs on the session's connection, so it commits
    or rolls back with the caller's transaction.
    """
    writer = ProblemWriter(session)
    try:
        writer.write(frame)
    finally:
        writer.close()
    return len(frame)


class ProblemWriter:
    """Writes chunks of problem rows on a session's connection.

    On PostgreSQL the COPY of one chunk runs in a helper thread while the caller
    prepares the next one (the server parses and stores rows meanwhile); the
    connection's own lock keeps any other statement waiting for the COPY to end. On
    SQLite each chunk is one ``executemany`` in the caller's thread. ``close`` waits for
    the last chunk and re-raises its error, if any.
    """

    def __init__(self, session: so.Session) -> None:
        self.postgres = backend_name(session) == "postgresql"
        self.dbapi = session.connection().connection.driver_connection
        self._executor = ThreadPoolExecutor(1, "civicgrid-copy") if self.postgres else None
        self._pending: Future[None] | None = None

    def write(self, frame: pd.DataFrame) -> None:
        """Queue (PostgreSQL) or write (SQLite) one frame of rows."""
        self.wait()
        if frame.empty:
            return
        if self._executor is not None:
            self._pending = self._executor.submit(_copy, self.dbapi, frame)
            return
        sql, order = _insert_statement()
        _executemany(self.dbapi, sql, [_column(frame, name, False) for name in order])

    def wait(self) -> None:
        """Block until the queued chunk is stored; raise its error."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the last chunk and stop the helper thread."""
        try:
            self.wait()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)


def point_wkb(lon: np.ndarray, lat: np.ndarray, srid: int | None = None) -> list[bytes]:
    """Little-endian WKB (EWKB with ``srid``) of points, built with numpy: identical
    to ``shapely.to_wkb(shapely.points(lon, lat))`` and many times faster."""
    n = len(lon)
    fields: list[tuple[str, str]] = [("order", "u1"), ("type", "<u4")]
    if srid is not None:
        fields.append(("srid", "<u4"))
    fields += [("x", "<f8"), ("y", "<f8")]
    record = np.empty(n, dtype=np.dtype(fields))
    record["order"] = 1
    record["type"] = 1 if srid is None else 0x20000001
    if srid is not None:
        record["srid"] = srid
    record["x"], record["y"] = lon, lat
    return record.view(f"V{record.dtype.itemsize}").tolist()


def _column(frame: pd.DataFrame, name: str, postgres: bool) -> list[Any]:
    if name == "geom":
        wkb = point_wkb(
            frame["lon"].to_numpy(float),
            frame["lat"].to_numpy(float),
            WGS84_SRID if postgres else None,
        )
        return [b.hex() for b in wkb] if postgres else wkb
    values = frame[name]
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(values):
        return _times(values, postgres)
    if pd.api.types.is_bool_dtype(values):
        return values.astype(bool).tolist() if postgres else values.astype(int).tolist()
    if isinstance(values.dtype, pd.Int64Dtype) or pd.api.types.is_float_dtype(values):
        return _numbers(values)
    if pd.api.types.is_integer_dtype(values):
        return values.tolist()
    return values.astype(object).where(values.notna(), None).tolist()


def _numbers(values: pd.Series) -> list[Any]:
    missing = values.isna().to_numpy()
    if not missing.any():
        return values.to_numpy().tolist()
    out = np.asarray(values.astype(object).tolist(), dtype=object)
    out[missing] = None
    return out.tolist()


def _times(values: pd.Series, postgres: bool) -> list[Any]:
    missing = values.isna()
    if missing.all():
        return [None] * len(values)
    if postgres:
        text = values.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    else:
        text = values.dt.strftime(_SQLITE_TIME)
    return text.astype(object).where(~missing, None).tolist()


def _insert_statement() -> tuple[str, list[str]]:
    """The SQLite INSERT (qmark style) and the order of its parameters."""
    compiled = sa.insert(Problem.__table__).compile(  # type: ignore[arg-type]
        dialect=sqlite.dialect(paramstyle="qmark"), column_keys=list(PROBLEM_COLUMNS)
    )
    return str(compiled), list(compiled.positiontup or [])


def _executemany(dbapi: Any, statement: str, columns: list[list[Any]]) -> None:
    cursor = dbapi.cursor()
    try:
        cursor.executemany(statement, zip(*columns, strict=True))
    finally:
        cursor.close()


def _copy(dbapi: Any, frame: pd.DataFrame) -> None:
    """COPY the rows in text format, built column by column and written in blocks;
    columns that are empty in a block are left out (the server fills NULL)."""
    from psycopg import sql

    with dbapi.cursor() as cursor:
        for start in range(0, len(frame), _COPY_BLOCK_ROWS):
            part = frame.iloc[start : start + _COPY_BLOCK_ROWS]
            names = [n for n in PROBLEM_COLUMNS if n == "geom" or part[n].notna().any()]
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(Problem.__tablename__),
                sql.SQL(", ").join(sql.Identifier(c) for c in names),
            )
            columns = [_copy_text(part, name) for name in names]
            with cursor.copy(statement) as copy:
                copy.write("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n")


_NULL = "\\N"
_COPY_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


_TEXT_COLUMNS = frozenset(
    {"source", "external_id", "category", "description", "status", "campaign"}
)


def _copy_text(frame: pd.DataFrame, name: str) -> list[str]:
    """One column as COPY text: \\N for NULL, specials escaped, floats in full precision."""
    values = _column(frame, name, True)
    if not values:
        return []
    if name in ("lon", "lat"):
        return list(map(repr, values))
    if name == "outside":
        return ["t" if v else "f" for v in values]
    text = name in _TEXT_COLUMNS
    if values.count(values[0]) == len(values):  # constant columns: source, batch, version...
        return _copy_cells([values[0]], text) * len(values)
    return _copy_cells(values, text)


def _copy_cells(values: list[Any], text: bool) -> list[str]:
    """Cells of COPY text. Text is escaped before NULLs become \\N, so a cell that
    reads \\N (or holds tabs, newlines, backslashes) is stored as it is."""
    if text:
        values = copy_escaped(values)
    if None in values:
        return [_NULL if v is None else str(v) for v in values]
    return values if isinstance(values[0], str) else list(map(str, values))


def copy_escaped(values: list[Any]) -> list[Any]:
    """Cells escaped for PostgreSQL COPY text (backslash, tab, newline, CR); None stays
    None (for the caller to write as \\N). Unchanged values are returned as they are."""
    present = [v for v in values if v is not None]
    joined = "".join(map(str, present))
    if not any(ch in joined for ch in _COPY_ESCAPES):
        return values
    out = []
    for v in values:
        if v is not None:
            v = str(v)
            for ch, repl in _COPY_ESCAPES.items():
                v = v.replace(ch, repl)
        out.append(v)
    return out


# --- large batches: load first, index after -------------------------------------------------

BULK_MIN_ROWS = 100_000
"""A batch at least this large, and at least as large as the table, is loaded with the
problems table's secondary indexes (and on PostgreSQL its foreign keys) dropped and
rebuilt afterwards in the same transaction: sorting once beats a million random index
insertions. On SQLite (WAL) readers keep their snapshot meanwhile (writers wait anyway:
one writer at a time). On PostgreSQL only into an empty table, since the dropped indexes
would make readers and lifecycle writes of other problems wait for the whole batch."""

_SQLITE_CACHE_KIB = 262_144  # 256 MB page cache for the writer while it loads


@dataclass
class Suspended:
    """What ``begin_bulk_load`` took away and ``end_bulk_load`` puts back."""

    indexes: list[sa.Index] = field(default_factory=list)
    foreign_keys: list[sa.ForeignKeyConstraint] = field(default_factory=list)
    cache_size: int | None = None


def is_bulk_load(session: so.Session, expected_rows: int) -> bool:
    """Whether a batch of about ``expected_rows`` new problems should be bulk-loaded."""
    if expected_rows < BULK_MIN_ROWS:
        return False
    existing = session.scalar(sa.select(sa.func.max(Problem.id))) or 0
    if session.get_bind().dialect.name == "postgresql":
        # Dropping an index locks the table (ACCESS EXCLUSIVE) until the batch commits:
        # every reader and every lifecycle write of other problems would wait for the
        # whole load. Only on an empty table is there nobody to make wait.
        return existing == 0
    return expected_rows >= existing


def begin_bulk_load(session: so.Session, drop_indexes: bool) -> Suspended:
    """Prepare the writer's connection for a large batch (inside its transaction)."""
    conn = session.connection()
    suspended = Suspended()
    if conn.dialect.name == "sqlite":
        suspended.cache_size = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
    if not drop_indexes:
        return suspended
    table = cast(sa.Table, Problem.__table__)
    present = {ix["name"] for ix in sa.inspect(conn).get_indexes(table.name)}
    suspended.indexes = sorted(
        (ix for ix in table.indexes if ix.name in present), key=lambda ix: str(ix.name)
    )
    for index in suspended.indexes:
        index.drop(conn)
    if conn.dialect.name == "postgresql":
        suspended.foreign_keys = sorted(table.foreign_key_constraints, key=lambda fk: str(fk.name))
        for fk in suspended.foreign_keys:
            conn.execute(sa.schema.DropConstraint(fk))
    return suspended


def end_bulk_load(session: so.Session, suspended: Suspended) -> None:
    """Rebuild what ``begin_bulk_load`` dropped (validating foreign keys) and restore
    the connection's settings."""
    conn = session.connection()
    if conn.dialect.name == "postgresql" and suspended.indexes:
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
    for index in suspended.indexes:
        index.create(conn)
    for fk in suspended.foreign_keys:
        conn.execute(sa.schema.AddConstraint(fk))
    if suspended.cache_size is not None:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(suspended.cache_size)}")
