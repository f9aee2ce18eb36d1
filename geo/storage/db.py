"""Engine and session creation, and the differences between the two backends.

SQLite is the default (a file, WAL journal, busy timeout so readers and one writer
coexist); PostgreSQL + PostGIS is the scale option. Nothing here runs at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for another writer's lock (default; see make_engine)."""
_BUSY_INFO = "civicgrid_busy_timeout_ms"
WRITE_OPTION = "civicgrid_write"


def make_engine(
    url: str,
    echo: bool = False,
    pool_size: int | None = None,
    pool_timeout: int | None = None,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
) -> Engine:
    """Create an engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``).

    For SQLite the parent folder is created, and every connection gets WAL mode,
    a busy timeout (``busy_timeout_ms``: how long a writer waits for another writer's
    lock) and enforced foreign keys. ``pool_size`` connections are kept open
    (as many again may be opened at peaks); a caller waits ``pool_timeout`` seconds for
    a free one, then gets ``sqlalchemy.exc.TimeoutError`` (a 503 on the web). None keeps
    SQLAlchemy's defaults (5, and 30 s).
    """
    sa_url = sa.make_url(url)
    pool: dict[str, Any] = {}
    if pool_size is not None:
        pool.update(pool_size=pool_size, max_overflow=pool_size)
    if pool_timeout is not None:
        pool.update(pool_timeout=pool_timeout)
    if sa_url.get_backend_name() == "sqlite":
        in_memory = sa_url.database in (None, "", ":memory:")
        return _make_sqlite_engine(sa_url, echo, {} if in_memory else pool, busy_timeout_ms)
    return sa.create_engine(sa_url, echo=echo, pool_pre_ping=True, **pool)


def _make_sqlite_engine(url: sa.URL, echo: bool, pool: dict[str, Any], busy_ms: int) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, echo=echo, connect_args={"timeout": busy_ms / 1000}, **pool)

    @sa.event.listens_for(engine, "connect")
    def _set_pragmas(dbapi_conn: Any, record: Any) -> None:
        # Take control of transactions ourselves so BEGIN is explicit (pysqlite's
        # implicit transactions do not cover DDL and would break atomic batches).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        record.info[_BUSY_INFO] = int(busy_ms)  # restored after a quick_transaction
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # Writers BEGIN IMMEDIATE: they take the write lock up front (waiting up to the
        # busy timeout) instead of failing half-way when a read upgrades to a write.
        # Readers BEGIN DEFERRED and never block anyone under WAL.
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def is_postgres(bind: Engine | sa.Connection | so.Session) -> bool:
    """True when ``bind`` talks to PostgreSQL (PostGIS), False for SQLite."""
    return backend_name(bind) == "postgresql"


def backend_name(bind: Engine | sa.Connection | so.Session) -> str:
    """Dialect name of an engine, connection or session: ``sqlite`` or ``postgresql``."""
    if isinstance(bind, so.Session):
        return bind.get_bind().dialect.name
    return bind.dialect.name


def session_factory(engine: Engine) -> so.sessionmaker[so.Session]:
    """A sessionmaker bound to ``engine``; objects stay usable after commit."""
    return so.sessionmaker(bind=engine, expire_on_commit=False)


def writer(engine: Engine) -> Engine:
    """The same engine, flagged so that SQLite transactions take the write lock first."""
    return engine.execution_options(**{WRITE_OPTION: True})


@contextmanager
def transaction(engine: Engine, write: bool = True) -> Iterator[so.Session]:
    """One session, one transaction: commit on success, roll back on any error."""
    bind = writer(engine) if write else engine
    # A plain Session, not session_factory(bind)(): a new sessionmaker builds a class,
    # which cost ~2 ms per transaction (half of a cached API request's token check).
    with so.Session(bind=bind, expire_on_commit=False) as session, session.begin():
        yield session


QUICK_WAIT_MS = 100
"""How long bookkeeping writes (token last use) wait for the write lock before giving up."""


@contextmanager
def quick_transaction(engine: Engine, wait_ms: int = QUICK_WAIT_MS) -> Iterator[so.Session]:
    """A short write transaction that waits at most ``wait_ms`` for a lock held by
    another writer (an ingest), then raises ``OperationalError`` (database is locked /
    lock timeout) instead of waiting the full busy timeout. For bookkeeping a read request
    may skip: the caller catches the error and carries on."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # On the driver connection: a PRAGMA through SQLAlchemy would begin a transaction.
            conn.connection.driver_connection.execute(f"PRAGMA busy_timeout={int(wait_ms)}")  # type: ignore[union-attr]
        try:
            conn.execution_options(**{WRITE_OPTION: True})
            with so.Session(bind=conn, expire_on_commit=False) as session, session.begin():
                if not sqlite:
                    session.execute(sa.text(f"SET LOCAL lock_timeout = '{int(wait_ms)}ms'"))
                yield session
        finally:
            if sqlite:
                usual = conn.connection.info.get(_BUSY_INFO, SQLITE_BUSY_TIMEOUT_MS)
                conn.connection.driver_connection.execute(f"PRAGMA busy_timeout={usual}")  # type: ignore[union-attr]


# --- read replicas (PostgreSQL streaming replication) ---------------------------------
# A write's position in the primary's write-ahead log (an LSN such as ``0/3000148``) is
# remembered for the client that made it; the replica may serve that client again once it
# has replayed that far. Replay, not receipt: a received but unreplayed change is invisible.

_LSN_SQL_CURRENT = "SELECT pg_current_wal_lsn()::text"
_LSN_SQL_CAUGHT_UP = "SELECT coalesce(pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn), false)"


def write_position(primary: Engine) -> str:
    """The primary's current write-ahead-log position (LSN text), taken after a write
    committed: every change committed so far lies at or before it."""
    with primary.connect() as conn:
        return str(conn.exec_driver_sql(_LSN_SQL_CURRENT).scalar_one())


def replica_caught_up(replica: Engine, lsn: str) -> bool:
    """True when ``replica`` has replayed the primary's log up to ``lsn`` (so it shows
    every change committed before that position). False for a server that is not in
    recovery (no replay position) and for a malformed ``lsn``."""
    if not is_lsn(lsn):
        return False
    with replica.connect() as conn:
        return bool(conn.execute(sa.text(_LSN_SQL_CAUGHT_UP), {"lsn": lsn}).scalar_one())


def is_lsn(text: str) -> bool:
    """``text`` looks like a PostgreSQL LSN: two hexadecimal numbers of ≤ 8 digits, ``X/Y``."""
    high, sep, low = text.partition("/")
    digits = set("0123456789abcdefABCDEF")
    return bool(sep) and all(0 < len(p) <= 8 and set(p) <= digits for p in (high, low))


def immutable_reader(engine: Engine) -> Engine | None:
    """An engine that reads ``engine``'s SQLite file as immutable: no ``-wal``/``-shm``
    files are created and no lock is taken, so a read-only command still works when the
    disk is full (SQLite cannot create those files then). Only when the write-ahead log
    holds nothing (no ``-wal`` file, or an empty one): reading around pending changes
    would give stale figures. None for PostgreSQL and in-memory databases."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(str(url.database)).resolve()
    wal = Path(f"{path}-wal")
    if not path.exists() or (wal.exists() and wal.stat().st_size > 0):
        return None
    return sa.create_engine(f"sqlite:///file:{path}?immutable=1&uri=true")
