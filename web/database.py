"""One engine per app, one session per request (closed at teardown); reads may go to a
read replica (CIVICGRID_READ_DATABASE_URL).

Replica routing: a request with a safe method (GET, HEAD, OPTIONS) reads from the
replica, anything else (and every ``engine()`` user: writes, token checks, readiness) uses
the primary. After a successful write the primary's log position is given to the client
in the ``cg_lsn`` cookie; while the replica has not replayed that far, that client's reads
stay on the primary, so a page right after one's own change never shows the old state.
Other clients may see the replica's slightly older state meanwhile (replication lag).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy.engine import Engine

from geo.core.errors import ConfigError
from geo.core.taxonomy import Taxonomy
from geo.core.taxonomy_file import load_taxonomy
from geo.core.workcal import WorkCalendar, calendar_from_setting
from geo.lifecycle.changes import Rules
from geo.storage.db import (
    is_lsn,
    is_postgres,
    make_engine,
    replica_caught_up,
    session_factory,
    write_position,
)

_EXT = "civicgrid"
LSN_COOKIE = "cg_lsn"
"""The cookie carrying the client's last write position (see the module docstring)."""
LSN_COOKIE_SECONDS = 600
"""How long the cookie lives: far longer than any tolerable replication lag."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    """Create the engines (primary, and the replica when configured), load the taxonomy
    and the working calendar for ``app``; close sessions at teardown."""
    engine = _engine(app, app.config["DATABASE_URL"])
    reader = None
    if app.config.get("READ_DATABASE_URL"):
        reader = _engine(app, app.config["READ_DATABASE_URL"])
        if not (is_postgres(engine) and is_postgres(reader)):
            raise ConfigError(
                "CIVICGRID_READ_DATABASE_URL: read replicas need PostgreSQL for both databases"
            )
        app.after_request(_remember_write)
    app.extensions[_EXT] = {
        "engine": engine,
        "sessions": session_factory(engine),
        "reader": reader,
        "read_sessions": session_factory(reader) if reader is not None else None,
        "taxonomy": load_taxonomy(app.config["TAXONOMY"]),
        "calendar": calendar_from_setting(app.config["CALENDAR"]),
    }
    app.teardown_appcontext(_close_session)


def _engine(app: Flask, url: str) -> Engine:
    return make_engine(
        url,
        pool_size=int(app.config["DB_POOL_SIZE"]),
        pool_timeout=int(app.config["DB_POOL_TIMEOUT"]),
        busy_timeout_ms=int(app.config["WRITE_WAIT_SECONDS"]) * 1000,
    )


def engine() -> Engine:
    """The current app's engine (the primary: for writes)."""
    return current_app.extensions[_EXT]["engine"]


def taxonomy() -> Taxonomy:
    """The current app's taxonomy."""
    return current_app.extensions[_EXT]["taxonomy"]


def calendar() -> WorkCalendar:
    """The current app's working calendar (CIVICGRID_CALENDAR)."""
    return current_app.extensions[_EXT]["calendar"]


def rules() -> Rules:
    """The lifecycle policy: the working calendar and the longest extension."""
    return Rules(calendar(), int(current_app.config["MAX_EXTENSION_DAYS"]))


def session() -> so.Session:
    """The request's session, created on first use (on the replica for reads, see
    ``read_engine``)."""
    if "db_session" not in g:
        g.db_session = _sessions()()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def new_session() -> so.Session:
    """A session the caller closes itself: for streamed responses, which outlive the
    request (the request's own session is closed when the view returns)."""
    return _sessions()()


def _sessions() -> so.sessionmaker[so.Session]:
    ext = current_app.extensions[_EXT]
    return ext["read_sessions"] if _reads_from_replica() else ext["sessions"]


def _reads_from_replica() -> bool:
    """Decided once per request: one cheap query to the replica, only for clients that
    wrote in the last minutes."""
    if "db_on_replica" not in g:
        g.db_on_replica = _replica_fits()
    return bool(g.db_on_replica)


def _replica_fits() -> bool:
    reader = current_app.extensions[_EXT]["reader"]
    if reader is None or not has_request_context() or request.method not in SAFE_METHODS:
        return False  # commands (no request) may write: the primary
    lsn = request.cookies.get(LSN_COOKIE, "")
    if not is_lsn(lsn):
        return True  # no own write to wait for (a forged value only affects its sender)
    try:
        return replica_caught_up(reader, lsn)
    except sa.exc.DBAPIError as exc:
        # The replica is down or unreachable: the primary serves the reads meanwhile.
        current_app.logger.warning("read replica unavailable, reading the primary: %s", exc)
        return False


def _remember_write(response: Response) -> Response:
    if request.method in SAFE_METHODS or response.status_code >= 400:
        return response
    try:
        lsn = write_position(engine())
    except sa.exc.DBAPIError:  # the write's own response stands; reads then may lag
        return response
    response.set_cookie(
        LSN_COOKIE,
        lsn,
        max_age=LSN_COOKIE_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("HTTPS")),
    )
    return response
