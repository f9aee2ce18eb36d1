"""Small test data builders shared by test modules (imported as tests.helpers)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from geo.areas.loading import AreaLoadOptions, load_areas
from geo.core.text import in_lang
from tests.dbcache import cached_city


def message_for(exc: BaseException, fragment: str) -> str:
    """The message of ``exc`` in the language ``fragment`` is written in: English
    (``exc.message("en")``) when it has Latin letters, else Chinese (``str(exc)``)."""
    return in_lang(exc, "en" if re.search("[A-Za-z]", fragment) else "zh")


@contextmanager
def raises_msg(
    error: type[BaseException] | tuple[type[BaseException], ...], match: str
) -> Iterator[Any]:
    """``pytest.raises(error, match=...)`` on the error's message in the language
    ``match`` is written in (see ``message_for``)."""
    with pytest.raises(error) as excinfo:
        yield excinfo
    message = message_for(excinfo.value, match)
    assert re.search(match, message), f"{match!r} not found in {message!r}"


def write_geojson(path: Path, features: list[dict[str, Any]], crs: str | None = None) -> Path:
    """Write a FeatureCollection (optionally with a legacy ``crs`` member)."""
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def polygon_feature(coords: list[tuple[float, float]], **props: Any) -> dict[str, Any]:
    ring = [list(c) for c in coords]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def box_feature(x0: float, y0: float, x1: float, y1: float, **props: Any) -> dict[str, Any]:
    return polygon_feature([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], **props)


# A tiny city: 2 districts side by side, each with 2 streets, each street one grid.
# lon 120.80–121.00, lat 32.00–32.04; the shared district edge is lon 120.90.
DISTRICTS = [
    box_feature(120.80, 32.00, 120.90, 32.04, code="329901", name="云溪区"),
    box_feature(120.90, 32.00, 121.00, 32.04, code="329902", name="枫桥区"),
]
STREETS = [
    box_feature(
        120.80, 32.00, 120.85, 32.04, code="329901001", name="东门街道", parent_code="329901"
    ),
    box_feature(
        120.85, 32.00, 120.90, 32.04, code="329901002", name="西门街道", parent_code="329901"
    ),
    box_feature(120.90, 32.00, 120.95, 32.04, code="329902001", name="南湖街道"),
    box_feature(120.95, 32.00, 121.00, 32.04, code="329902101", name="北岭镇"),
]


@cached_city
def load_tiny_city(engine: Engine, tmp_path: Path) -> None:
    """Load the two districts and four streets above."""
    d = write_geojson(tmp_path / "districts.geojson", DISTRICTS)
    s = write_geojson(tmp_path / "streets.geojson", STREETS)
    load_areas(engine, d, AreaLoadOptions(level="district"))
    load_areas(engine, s, AreaLoadOptions(level="street"))


XSS = '<img src=x onerror="window.__xss=1">'

POINTS = [
    {
        "type": "Feature",
        "properties": {
            "code": "P1",
            "name": f"云溪农贸市场{XSS}",
            "kind": "market",
            "unit": "云溪区城管局",
        },
        "geometry": {"type": "Point", "coordinates": [120.82, 32.01]},
    },
    {
        "type": "Feature",
        "properties": {"code": "P2", "name": "枫桥路", "kind": "main_road"},
        "geometry": {"type": "LineString", "coordinates": [[120.91, 32.01], [120.93, 32.02]]},
    },
    {
        "type": "Feature",
        "properties": {"code": "P3", "name": "临江实验小学", "kind": "school_surroundings"},
        "geometry": {"type": "Point", "coordinates": [120.96, 32.03]},
    },
]


@cached_city
def load_tiny_city_with_points(engine: Engine, tmp_path: Path) -> None:
    """The tiny city plus three inspection points (one with an XSS payload in its name)."""
    from geo.areas.points import load_points

    load_tiny_city(engine, tmp_path)
    load_points(engine, write_geojson(tmp_path / "points.geojson", POINTS))


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of every civicgrid table: compare before/after to prove nothing was written."""
    import sqlalchemy as sa

    from geo.storage.models import Base

    with engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def write_csv(path: Path, text: str, bom: bool = False) -> Path:
    """Write survey CSV text as UTF-8 (with a BOM, as Excel's "CSV UTF-8" does, if asked)."""
    path.write_bytes(("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8"))
    return path


def point_feature(lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def line_feature(coords: list[tuple[float, float]], **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]},
    }


def area_ids(engine: Engine, level: str) -> dict[str, int]:
    """Map code → id of the loaded areas of ``level``."""
    import sqlalchemy as sa

    from geo.storage.models import Area

    with engine.connect() as conn:
        rows = conn.execute(sa.select(Area.code, Area.id).where(Area.level == level)).all()
    return {code: id_ for code, id_ in rows}


# --- a tiny city with grids, points and problems for the heat maps ------------------------

GRIDS = [
    box_feature(
        x,
        y,
        x + 0.025,
        y + 0.04,
        code=f"{street}{i:06d}",
        name=f"{'<b>网格</b>' if street == '329901001' and i == 1 else '网格'}{i}",
        parent_code=street,
    )
    for street, x0 in (
        ("329901001", 120.80),
        ("329901002", 120.85),
        ("329902001", 120.90),
        ("329902101", 120.95),
    )
    for i, (x, y) in enumerate([(x0, 32.00), (x0 + 0.025, 32.00)], start=1)
]
"""Eight grids, two per street of the tiny city (the first one's name holds markup)."""

HEAT_CSV = (
    "id,lon,lat,category,description,found_at,status,deadline,closed_at,campaign,point_code\n"
    f"1,120.81,32.01,litter,{XSS.replace(',', ' ')},2026-11-01T09:00:00+08:00,found,"
    "2020-01-01T00:00:00Z,,,P1\n"
    "2,120.812,32.02,litter,垃圾,2026-11-02T09:00:00+08:00,assigned,2099-01-01T00:00:00Z,,,\n"
    "3,120.813,32.03,illegal_ads,小广告,2026-11-03T09:00:00+08:00,closed,2026-11-10T00:00:00Z,"
    "2026-11-05T00:00:00Z,psa_upgrade,P1\n"
    "4,120.83,32.01,illegal_ads,小广告,2026-10-03T09:00:00+08:00,closed,2026-10-05T00:00:00Z,"
    "2026-10-08T00:00:00Z,psa_upgrade,\n"
    "5,120.91,32.01,street_vending,占道,2026-10-20T09:00:00+08:00,rectified,2020-01-01T00:00:00Z,"
    ",,P2\n"
    "6,120.96,32.03,litter,垃圾,2026-10-21T01:00:00+08:00,found,,,,P3\n"
    "7,120.97,32.03,litter,垃圾,2026-11-21T09:00:00+08:00,assigned,2020-06-01T00:00:00Z,,,\n"
    "8,121.50,32.02,litter,区外,2026-11-01T09:00:00+08:00,found,,,,\n"
)
"""Problems over the grids: overdue (deadline 2020), not yet due (2099), closed on time and
late, with a campaign, at points of three kinds, one outside the city; #1 holds an XSS
payload in its description."""


@cached_city
def load_heat_city(engine: Engine, tmp_path: Path) -> None:
    """The tiny city, its eight grids, three inspection points and eight problems."""
    from geo.ingest.pipeline import ingest_file

    load_tiny_city_with_points(engine, tmp_path)
    grids = write_geojson(tmp_path / "grids.geojson", GRIDS)
    load_areas(engine, grids, AreaLoadOptions(level="grid"))
    ingest_file(engine, write_csv(tmp_path / "heat.csv", HEAT_CSV))


# --- access control (issue 6): grids for the tiny city, users, tokens, CSRF ----------

TEST_PASSWORD = "correct-horse-battery"

# Default scopes in the tiny city with grids: the district officer has 云溪区 (329901),
# the grid manager the two grids of 东门街道; the rest of the city is out of their scope.
ROLE_SCOPES: dict[str, list[str]] = {
    "admin": [],
    "city_officer": [],
    "district_officer": ["district:329901"],
    "grid_manager": ["grid:329901001000001", "grid:329901001000002"],
    "planner": [],
}


@cached_city
def load_tiny_city_with_grids(engine: Engine, tmp_path: Path) -> None:
    """The tiny city, its three points and the eight GRIDS (two per street)."""
    load_tiny_city_with_points(engine, tmp_path)
    load_areas(engine, write_geojson(tmp_path / "grids.geojson", GRIDS), AreaLoadOptions("grid"))


def add_user(engine: Engine, username: str, role: str, scope: list[str] | None = None) -> str:
    """Create a user with TEST_PASSWORD (scope defaults to ROLE_SCOPES); return the name."""
    from geo.access.users import create_user
    from geo.storage.db import transaction

    codes = ROLE_SCOPES.get(role, []) if scope is None else scope
    with transaction(engine) as session:
        create_user(session, username, TEST_PASSWORD, role, f"测试{role}", codes, actor="test")
    return username


def add_token(engine: Engine, name: str, role: str, scope: list[str] | None = None, **kw: Any):
    """Create an API token; return the ``Authorization`` header dict."""
    from geo.access.tokens import create_token
    from geo.storage.db import transaction

    codes = ROLE_SCOPES.get(role, []) if scope is None else scope
    with transaction(engine) as session:
        _, secret = create_token(session, name, role, codes, actor="test", **kw)
    return {"Authorization": f"Bearer {secret}"}


def csrf_token(client: Any, path: str = "/login") -> str:
    """The CSRF token of ``client``'s session, read from a page's meta tag."""
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login_client(client: Any, username: str, password: str = TEST_PASSWORD) -> Any:
    """Log ``client`` in through the login form; returns the POST response."""
    token = csrf_token(client, "/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


# Problems placed so that each role's scope is tested: IN1 lies in the grid manager's
# grid, MID1 elsewhere in the district officer's district, OUT1 in the other district,
# FAR1 outside every area. Their descriptions are markers that must never appear in a
# response to someone whose scope excludes them.
SCOPED_SURVEY = (
    "id,lon,lat,category,found_at,description\n"
    "IN1,120.82,32.01,litter,2024-05-01 10:00,IN-GRID-MARKER\n"
    "MID1,120.87,32.01,litter,2024-05-01 10:00,MID-DISTRICT-MARKER\n"
    "OUT1,120.92,32.01,illegal_ads,2024-05-01 10:00,OUT-CITY-MARKER\n"
    "FAR1,125.00,32.00,litter,2024-05-01 10:00,OUTSIDE-MARKER\n"
)
IN_MARKERS = ["IN-GRID-MARKER"]
OUT_OF_DISTRICT = [
    "OUT-CITY-MARKER",
    "OUTSIDE-MARKER",
    "枫桥区",
    "枫桥路",
    "临江实验小学",
    "南湖",
    "329902001000001",  # a grid of the other district
]
OUT_OF_GRIDS = ["MID-DISTRICT-MARKER", "西门", "329901002000001"]
HIDDEN_FROM: dict[str, list[str]] = {
    "district_officer": OUT_OF_DISTRICT,
    "grid_manager": OUT_OF_DISTRICT + OUT_OF_GRIDS,
}


@cached_city
def load_scoped_city(engine: Engine, tmp_path: Path) -> dict[str, int]:
    """The tiny city with grids, points and SCOPED_SURVEY; returns external id → problem id."""
    import sqlalchemy as sa

    from geo.ingest.pipeline import IngestOptions, ingest_file
    from geo.storage.models import Problem

    load_tiny_city_with_grids(engine, tmp_path)
    ingest_file(engine, write_csv(tmp_path / "scoped.csv", SCOPED_SURVEY), IngestOptions("seed"))
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(Problem.external_id, Problem.id)).all())


def ensure_user(
    app: Any,
    role: str = "city_officer",
    scope: list[str] | None = None,
    username: str | None = None,
) -> str:
    """The name of a user of ``role`` in ``app``'s database (created with TEST_PASSWORD and
    ROLE_SCOPES[role] unless ``scope`` is given, the first time it is asked for)."""
    import sqlalchemy as sa

    from geo.storage.access_models import User
    from web import database

    name = username or f"test-{role.replace('_', '-')}"
    with app.app_context():
        engine = database.engine()
    with engine.connect() as conn:
        exists = conn.execute(sa.select(User.id).where(User.username == name)).first()
    if exists is None:
        add_user(engine, name, role, scope)
    return name


def signed_in(
    app: Any,
    role: str = "city_officer",
    scope: list[str] | None = None,
    username: str | None = None,
) -> Any:
    """A new test client of ``app`` logged in as a user of ``role`` (see ensure_user)."""
    client = app.test_client()
    response = login_client(client, ensure_user(app, role, scope, username))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client
