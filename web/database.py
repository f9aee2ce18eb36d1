"""One engine per app, one session per request (closed at teardown)."""

from __future__ import annotations

import sqlalchemy.orm as so
from flask import Flask, current_app, g
from sqlalchemy.engine import Engine

from geo.core.taxonomy import Taxonomy
from geo.core.taxonomy_file import load_taxonomy
from geo.core.workcal import WorkCalendar, calendar_from_setting
from geo.lifecycle.changes import Rules
from geo.storage.db import make_engine, session_factory

_EXT = "civicgrid"


def init_app(app: Flask) -> None:
    """Create the engine, load the taxonomy and the working calendar for ``app``; close
    sessions at teardown."""
    engine = make_engine(
        app.config["DATABASE_URL"],
        pool_size=int(app.config["DB_POOL_SIZE"]),
        pool_timeout=int(app.config["DB_POOL_TIMEOUT"]),
    )
    app.extensions[_EXT] = {
        "engine": engine,
        "sessions": session_factory(engine),
        "taxonomy": load_taxonomy(app.config["TAXONOMY"]),
        "calendar": calendar_from_setting(app.config["CALENDAR"]),
    }
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The current app's engine."""
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
    """The request's session, created on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[_EXT]["sessions"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def new_session() -> so.Session:
    """A session the caller closes itself: for streamed responses, which outlive the
    request (the request's own session is closed when the view returns)."""
    return current_app.extensions[_EXT]["sessions"]()
