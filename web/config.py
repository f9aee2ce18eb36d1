"""Settings: declared once, each with its default and help text.

Every setting comes from a ``CIVICGRID_*`` environment variable, the instance config
file (``instance/config.py``) or the ``test_config`` mapping given to the factory, in
increasing order of precedence. tests/web/test_config.py checks that each one is
documented in the README.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from geo.core.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]
BASEMAPS = ("none", "osm", "amap", "tianditu", "custom", "pmtiles")


@dataclass(frozen=True)
class Setting:
    """One setting: environment variable, Flask config key, default, help, parser."""

    env: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str

    @property
    def key(self) -> str:
        return self.env.removeprefix("CIVICGRID_")


def _basemap(value: str) -> str:
    if value not in BASEMAPS:
        raise ConfigError(f"CIVICGRID_BASEMAP: '{value}' is not one of {', '.join(BASEMAPS)}")
    return value


def _tile_crs(value: str) -> str:
    if value not in ("wgs84", "gcj02"):
        raise ConfigError(f"CIVICGRID_TILE_CRS: '{value}' is not one of wgs84, gcj02")
    return value


def _bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _decimals(value: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > 6:
        raise ConfigError(f"CIVICGRID_OPEN311_PUBLIC_DECIMALS: '{value}' is not 0-6")
    return int(text)


def _positive_int(env: str) -> Callable[[str], int]:
    def parse(value: str) -> int:
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise ConfigError(f"{env}: '{value}' is not a positive whole number")
        return int(value)

    return parse


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "CIVICGRID_DATABASE_URL",
        None,
        "SQLAlchemy URL of the database. Default: SQLite file `instance/civicgrid.db`. "
        "For PostGIS: `postgresql+psycopg://user@host:5432/db`.",
    ),
    Setting(
        "CIVICGRID_READ_DATABASE_URL",
        None,
        "SQLAlchemy URL of a PostgreSQL read replica (streaming standby of the database). "
        "Page and API reads (GET) go there; writes, and a client's reads until the replica "
        "has replayed that client's own last write, stay on the primary. Unset: one database.",
    ),
    Setting(
        "CIVICGRID_SECRET_KEY",
        "",
        "Key that signs session cookies: at least 16 random characters. Required: the app "
        "refuses to start without it, except in debug, tests and `civicgrid demo`.",
    ),
    Setting(
        "CIVICGRID_BASEMAP",
        "none",
        "Basemap under the layers: `none`, `osm`, `amap` (GCJ-02), `tianditu` (needs a key), "
        "`custom` (see CIVICGRID_TILE_URL) or `pmtiles` (an offline vector basemap from one "
        "file, see CIVICGRID_PMTILES_PATH).",
        _basemap,
    ),
    Setting(
        "CIVICGRID_TILE_URL",
        "",
        "Tile URL template for `custom`, e.g. `https://tiles.example.gov.cn/{z}/{x}/{y}.png`.",
    ),
    Setting("CIVICGRID_TIANDITU_KEY", "", "Tianditu key, for CIVICGRID_BASEMAP=tianditu."),
    Setting(
        "CIVICGRID_PMTILES_PATH",
        "",
        "PMTiles file of vector tiles for CIVICGRID_BASEMAP=pmtiles, served by the app itself "
        "at /basemap.pmtiles (no tile server, works offline). `civicgrid demo` makes one.",
    ),
    Setting(
        "CIVICGRID_TILE_CRS",
        "wgs84",
        "Coordinate system of the `custom` or `pmtiles` tiles: `wgs84` or `gcj02` "
        "(AMap/Tencent-style tiles; every layer is then shifted to GCJ-02 for display).",
        _tile_crs,
    ),
    Setting(
        "CIVICGRID_TIMEZONE",
        "Asia/Shanghai",
        "Time zone for showing times and for reading survey times without an offset.",
    ),
    Setting(
        "CIVICGRID_ASSETS_DIR",
        str(REPO_ROOT / "node_modules"),
        "Folder of npm-installed front-end packages (Leaflet...) served under /vendor/.",
    ),
    Setting(
        "CIVICGRID_TAXONOMY",
        str(REPO_ROOT / "data" / "taxonomy.toml"),
        "Taxonomy file: point kinds, problem categories, campaigns, evaluation schemes.",
    ),
    Setting(
        "CIVICGRID_DEMO_DIR",
        str(REPO_ROOT / "data" / "demo"),
        "Folder of the demo city's files, read by `civicgrid demo`.",
    ),
    Setting("CIVICGRID_DEBUG", False, "Flask debug mode (never in production).", _bool),
    Setting(
        "CIVICGRID_INGEST_MAX_MB",
        1024.0,
        "Largest survey file `civicgrid ingest` (and uploads) accept, in MB; larger files are "
        "refused before reading. CSV files stream in chunks, so memory stays bounded below it.",
        float,
    ),
    Setting(
        "CIVICGRID_LINK_DISTANCE_M",
        50.0,
        "Default distance in metres within which an ingested problem is linked to the nearest "
        "inspection point (0 turns nearest-point linking off).",
        float,
    ),
    Setting(
        "CIVICGRID_PHOTO_DIR",
        "",
        "Folder for rectification photos. Default: `instance/photos/`.",
    ),
    Setting(
        "CIVICGRID_PHOTO_MAX_MB",
        5.0,
        "Largest accepted rectification photo, in MB (JPEG, PNG or WebP).",
        float,
    ),
    # Rounds, notices and the working calendar (issue 8).
    Setting(
        "CIVICGRID_CALENDAR",
        str(REPO_ROOT / "data" / "calendar.toml"),
        "Working calendar: official holidays and adjusted working days per year, for "
        "deadlines in working days and notice warning dates.",
    ),
    Setting(
        "CIVICGRID_MAX_EXTENSION_DAYS",
        30,
        "Longest extension (延期) a unit may request or a supervisor approve, in natural "
        "days past the current deadline.",
        int,
    ),
    Setting(
        "CIVICGRID_NOTICE_PREFIX",
        "文明创建督查",
        "Prefix of notice numbers: `<prefix>〔<year>〕第<n>号`, n counting within the year.",
    ),
    Setting(
        "CIVICGRID_NOTICE_WARNING_DAYS",
        1,
        "Warning date (预警时间) on notices: this many working days before each deadline.",
        int,
    ),
    # --- access control and hardening (issue 6) ---
    Setting(
        "CIVICGRID_HTTPS",
        False,
        "Served over HTTPS: session cookies get the Secure flag, and HSTS is sent.",
        _bool,
    ),
    Setting(
        "CIVICGRID_PUBLIC_DEMO",
        False,
        "Let anonymous visitors see the whole city read-only. Only with `civicgrid demo`.",
        _bool,
    ),
    Setting(
        "CIVICGRID_MAX_UPLOAD_MB",
        50,
        "Largest request body (survey upload) in MB; larger ones get HTTP 413.",
        _positive_int("CIVICGRID_MAX_UPLOAD_MB"),
    ),
    Setting(
        "CIVICGRID_LOGIN_ATTEMPTS",
        5,
        "Failed logins allowed per username and address within the login window.",
        _positive_int("CIVICGRID_LOGIN_ATTEMPTS"),
    ),
    Setting(
        "CIVICGRID_LOGIN_ADDRESS_ATTEMPTS",
        20,
        "Failed logins allowed per address (any usernames) within the login window.",
        _positive_int("CIVICGRID_LOGIN_ADDRESS_ATTEMPTS"),
    ),
    Setting(
        "CIVICGRID_LOGIN_WINDOW_MINUTES",
        15,
        "The login window (minutes) for CIVICGRID_LOGIN_ATTEMPTS.",
        _positive_int("CIVICGRID_LOGIN_WINDOW_MINUTES"),
    ),
    Setting(
        "CIVICGRID_SESSION_HOURS",
        12,
        "How long a login lasts (hours).",
        _positive_int("CIVICGRID_SESSION_HOURS"),
    ),
    Setting(
        "CIVICGRID_DB_POOL_SIZE",
        10,
        "Database connections kept open per server process (set it to at least the "
        "server's threads per process); as many again may be opened at peaks.",
        _positive_int("CIVICGRID_DB_POOL_SIZE"),
    ),
    Setting(
        "CIVICGRID_DB_POOL_TIMEOUT",
        10,
        "Seconds a request waits for a free database connection before HTTP 503.",
        _positive_int("CIVICGRID_DB_POOL_TIMEOUT"),
    ),
    Setting(
        "CIVICGRID_WRITE_WAIT_SECONDS",
        120,
        "SQLite: seconds a web write waits for another writer (an ingest holds the lock "
        "while its batch is written) before HTTP 503; long enough for a 1M-row batch.",
        _positive_int("CIVICGRID_WRITE_WAIT_SECONDS"),
    ),
    Setting(
        "CIVICGRID_PROXY_HOPS",
        0,
        "Number of trusted reverse proxies in front (their X-Forwarded-For/-Proto are "
        "believed); 0 when clients connect directly.",
        lambda v: 0 if v.strip() == "0" else _positive_int("CIVICGRID_PROXY_HOPS")(v),
    ),
    Setting(
        "CIVICGRID_OPEN311_PUBLIC_READ",
        False,
        "Let anyone read Open311 services and requests without a key: only public data "
        "(no description, no voided reports, locations rounded).",
        _bool,
    ),
    Setting(
        "CIVICGRID_OPEN311_PUBLIC_DECIMALS",
        3,
        "Decimals of lat/long in public Open311 reads (3 ≈ 100 m, 6 = as stored).",
        _decimals,
    ),
)


def init_app(app: Flask, test_config: Mapping[str, Any] | None = None) -> None:
    """Fill ``app.config`` from defaults, instance/config.py, the environment, test_config."""
    for setting in SETTINGS:
        app.config[setting.key] = setting.default
    app.config.from_pyfile("config.py", silent=True)
    for setting in SETTINGS:
        if setting.env in os.environ:
            app.config[setting.key] = setting.parse(os.environ[setting.env])
    if test_config:
        app.config.update(test_config)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'civicgrid.db'}"
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"]
    app.config["DEBUG"] = bool(app.config["DEBUG"])
