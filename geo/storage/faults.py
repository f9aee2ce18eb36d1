"""Database faults a running service meets (busy, full, down) as typed errors.

SQLAlchemy raises ``OperationalError`` for a lock timeout, a full disk, an unreadable
file and a lost or refused connection alike, and ``TimeoutError`` when the connection
pool is exhausted. ``unavailable`` turns them into a ``DatabaseUnavailableError`` whose
message says what happened in words a user understands; everything else is a bug and is
left alone.
"""

from __future__ import annotations

import sqlalchemy.exc as sa_exc

from geo.core.errors import DatabaseUnavailableError
from geo.core.text import Text, tr

FAULTS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DatabaseError,
)
"""What ``unavailable`` knows how to explain (``DatabaseError`` covers the rest of the
driver's operational failures, e.g. SQLite's "file is not a database")."""

_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("full", ("database or disk is full", "disk i/o error", "no space left", "could not extend")),
    (
        "busy",
        (
            "database is locked",
            "database table is locked",
            "lock timeout",
            "locknotavailable",
            "deadlock",
            "queuepool limit",
            "statement timeout",
        ),
    ),
    (
        "access",
        (
            "unable to open database",
            "readonly database",
            "permission denied",
            "file is not a database",
        ),
    ),
)

MESSAGES: dict[str, Text] = {
    "busy": tr("数据库正忙，请稍后重试", "the database is busy, please try again shortly"),
    "full": tr(
        "数据库磁盘已满或无法写入，请联系管理员",
        "the database's disk is full or failing: ask the administrator",
    ),
    "access": tr(
        "无法打开数据库文件（路径或权限有误），请联系管理员",
        "cannot open the database file (wrong path or permissions): ask the administrator",
    ),
    "down": tr(
        "数据库暂时不可用，请稍后重试",
        "the database is temporarily unavailable, please try again shortly",
    ),
}


def is_fault(exc: BaseException) -> bool:
    """Whether ``exc`` is a database fault that ``unavailable`` explains."""
    if isinstance(exc, sa_exc.DBAPIError) and not isinstance(
        exc, (sa_exc.OperationalError, sa_exc.InterfaceError)
    ):
        # IntegrityError, DataError, ProgrammingError...: bugs or bad data, not faults,
        # except a driver DatabaseError whose text names one of the faults.
        return type(exc) is sa_exc.DatabaseError and _kind(exc) != "down"
    return isinstance(exc, FAULTS)


def unavailable(exc: BaseException) -> DatabaseUnavailableError:
    """The typed error for database fault ``exc`` (see ``is_fault``)."""
    kind = _kind(exc)
    return DatabaseUnavailableError(MESSAGES[kind], kind=kind, detail=driver_line(exc))


def driver_line(exc: BaseException) -> str:
    """The first line of the driver's message (without SQLAlchemy's SQL and links)."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    text = lines[0] if lines else type(orig).__name__
    return f"{type(orig).__name__}: {text}"[:300]


def _kind(exc: BaseException) -> str:
    if isinstance(exc, sa_exc.TimeoutError):
        return "busy"
    orig = getattr(exc, "orig", None)
    text = f"{type(orig).__name__} {orig}".lower() if orig is not None else str(exc).lower()
    for kind, needles in _KINDS:
        if any(needle in text for needle in needles):
            return kind
    return "down"
