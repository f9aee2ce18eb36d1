"""Build each test city once per worker, hand every test a fresh copy of it (issue 14).

``@cached_city`` wraps a builder ``load_x(engine, tmp_path, ...)``. When the database is
exactly as the migrations leave it (the state every ``engine`` fixture starts from), the
first call per worker runs the builder and keeps a copy of the resulting database, of
the files the builder wrote under ``tmp_path`` and of its return value; later calls put
that copy in place instead of building again: the test sees the same rows, the same
ids, the same sequences and the same files, and can write to them freely. On a database
with anything else in it the builder simply runs.

SQLite: the copy is a file made with SQLite's backup API, restored the same way.
PostGIS: the copy is a schema ``citycache_N`` of ``CREATE TABLE ... AS TABLE`` copies in
the worker's database, restored by emptying the tables (as the ``engine`` fixture does)
and inserting the copies back; it lives as long as the worker's database is not
recreated (tests/conftest.py ``_PostgisState``).
"""

from __future__ import annotations

import copy
import functools
import itertools
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

F = TypeVar("F", bound=Callable[..., Any])

_COUNTER = itertools.count()
_SQLITE_FOLDER: list[Path] = []
_SQLITE_CACHE: dict[tuple[Any, ...], _Entry] = {}


@dataclass
class _Entry:
    result: Any
    files: dict[str, bytes]
    where: str  # SQLite: the backup file; PostGIS: the schema holding the copies
    tables: list[str] = field(default_factory=list)
    sequences: list[tuple[str, int | None]] = field(default_factory=list)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def cached_city(builder: F) -> F:
    @functools.wraps(builder)
    def wrapper(engine: Engine, tmp_path: Path, *args: Any, **kwargs: Any) -> Any:
        key = (builder.__module__, builder.__qualname__, repr(args), repr(sorted(kwargs.items())))
        if engine.dialect.name == "sqlite":
            return _sqlite(engine, tmp_path, key, builder, args, kwargs)
        return _postgis(engine, tmp_path, key, builder, args, kwargs)

    return wrapper  # type: ignore[return-value]


def _build(
    builder: Callable[..., Any], engine: Engine, tmp_path: Path, args: Any, kwargs: Any
) -> tuple[Any, dict[str, bytes]]:
    before = _files(tmp_path)
    result = builder(engine, tmp_path, *args, **kwargs)
    written = {
        name: data
        for name, data in _files(tmp_path).items()
        if before.get(name) != data and not _is_database_file(tmp_path / name, engine)
    }
    return result, written


def _is_database_file(path: Path, engine: Engine) -> bool:
    """Whether ``path`` is the SQLite database of ``engine`` or its -wal/-shm/-journal:
    restored by the backup API, never as files. (Handing out the builder's database file
    and its -wal/-shm as they were at build time, over a restored database that open
    connections share, lost the city whenever the two tests' database files had the
    same name: "unknown area code" right after loading a cached city.)"""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    return bool(database) and str(path).startswith(str(Path(database or "")))


def _hand_out(entry: _Entry, tmp_path: Path) -> Any:
    for name, data in entry.files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return copy.deepcopy(entry.result)


# --- SQLite ------------------------------------------------------------------------------


_TEMPLATE_ROWS: dict[str, dict[str, list[tuple[Any, ...]]]] = {}


def _sqlite_template_rows() -> dict[str, list[tuple[Any, ...]]] | None:
    from tests import conftest

    if not conftest.SQLITE_TEMPLATE:
        return None
    template = str(conftest.SQLITE_TEMPLATE[0])
    if template not in _TEMPLATE_ROWS:
        with sqlite3.connect(template) as raw:
            _TEMPLATE_ROWS[template] = _sqlite_rows(raw)
        raw.close()
    return _TEMPLATE_ROWS[template]


def _sqlite_rows(raw: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    names = [
        r[0]
        for r in raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    rows = {
        name: sorted(raw.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names
    }
    seq = raw.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).fetchall()
    if seq:
        rows["sqlite_sequence"] = sorted(raw.execute("SELECT * FROM sqlite_sequence").fetchall())
    return rows


def _sqlite(
    engine: Engine,
    tmp_path: Path,
    key: tuple[Any, ...],
    builder: Callable[..., Any],
    args: Any,
    kwargs: Any,
) -> Any:
    database = engine.url.database
    if not database or database == ":memory:" or not Path(database).is_file():
        return builder(engine, tmp_path, *args, **kwargs)
    with sqlite3.connect(database) as raw:
        pristine = _sqlite_rows(raw) == _sqlite_template_rows()
    raw.close()
    if not pristine:
        return builder(engine, tmp_path, *args, **kwargs)
    entry = _SQLITE_CACHE.get(key)
    if entry is None:
        result, files = _build(builder, engine, tmp_path, args, kwargs)
        if not _SQLITE_FOLDER:
            _SQLITE_FOLDER.append(Path(tempfile.mkdtemp(prefix="civicgrid-citycache-")))
        backup = _SQLITE_FOLDER[0] / f"city{next(_COUNTER)}.db"
        _sqlite_backup(database, str(backup))
        _SQLITE_CACHE[key] = _Entry(copy.deepcopy(result), files, str(backup))
        return result
    _sqlite_backup(entry.where, database)
    return _hand_out(entry, tmp_path)


def _sqlite_backup(source: str, target: str) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# --- PostGIS -----------------------------------------------------------------------------


def _postgis(
    engine: Engine,
    tmp_path: Path,
    key: tuple[Any, ...],
    builder: Callable[..., Any],
    args: Any,
    kwargs: Any,
) -> Any:
    from tests import conftest

    url = engine.url.render_as_string(hide_password=False)
    state = conftest._POSTGIS_STATE.get(url)
    if state is None or not _postgis_pristine(engine, state):
        return builder(engine, tmp_path, *args, **kwargs)
    caches: dict[tuple[Any, ...], _Entry] = state.caches
    entry = caches.get(key)
    if entry is None:
        result, files = _build(builder, engine, tmp_path, args, kwargs)
        schema = f"citycache_{next(_COUNTER)}"
        entry = _Entry(copy.deepcopy(result), files, schema)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            for table in state.tables:
                conn.exec_driver_sql(f'CREATE TABLE "{schema}"."{table}" AS TABLE public."{table}"')
                entry.tables.append(table)
            entry.sequences = list(
                conn.exec_driver_sql(
                    "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
                )
            )
        caches[key] = entry
        return result
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in state.tables:
            conn.exec_driver_sql(f'DELETE FROM public."{table}"')
        for table in entry.tables:
            conn.exec_driver_sql(
                f'INSERT INTO public."{table}" OVERRIDING SYSTEM VALUE '
                f'SELECT * FROM "{entry.where}"."{table}"'
            )
        for name, last in entry.sequences:
            if last is None:
                conn.exec_driver_sql(f'ALTER SEQUENCE public."{name}" RESTART')
            else:
                conn.execute(
                    sa.text("SELECT setval(CAST(:seq AS regclass), :last, true)"),
                    {"seq": f'public."{name}"', "last": int(last)},
                )
    return _hand_out(entry, tmp_path)


def _postgis_pristine(engine: Engine, state: Any) -> bool:
    """The worker's database holds only what the migrations wrote (see _PostgisState)."""
    with engine.connect() as conn:
        counts = " UNION ALL ".join(
            f"SELECT '{t}', count(*) FROM public.\"{t}\""
            for t in state.tables
            if t not in state.rows
        )
        if counts and any(n for _, n in conn.exec_driver_sql(counts)):
            return False
        for table, rows in state.rows.items():
            now = conn.exec_driver_sql(f'SELECT json_agg(t)::text FROM public."{table}" t').scalar()
            if now != rows:
                return False
        sequences = list(
            conn.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            )
        )
    return sorted(map(tuple, sequences), key=repr) == sorted(map(tuple, state.sequences), key=repr)
