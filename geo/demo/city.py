"""Building the demo city database from data/demo/ through the same loaders users run."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import SCOPE_REQUIRED
from geo.access.users import create_user
from geo.areas.loading import AreaLoadOptions, load_areas
from geo.areas.points import load_points
from geo.core.errors import ConfigError
from geo.core.text import tr
from geo.demo.history import record_demo_history
from geo.demo.round import add_demo_round
from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.storage.db import make_engine, transaction
from geo.storage.models import Area, Base, Problem
from geo.summary.upgrade import upgrade

DEMO_LEVEL_FILES = (
    ("city", "city.geojson"),
    ("district", "districts.geojson"),
    ("street", "streets.geojson"),
    ("community", "communities.geojson"),
    ("grid", "grids.geojson"),
)


def build_demo(url: str, demo_dir: Path, echo: Callable[[str], object] = print) -> None:
    """Create a fresh database at ``url`` and load the demo city from ``demo_dir``.

    Steps: reset the database, create the schema, load each area level, the
    inspection points, the problems (source ``demo``), then a round of field evaluation
    with its visits (geo/demo/round.py).
    """
    _check_files(demo_dir)
    engine = make_engine(url)
    _reset(engine, url)
    upgrade(engine)
    for level, name in DEMO_LEVEL_FILES:
        report = load_areas(engine, demo_dir / name, AreaLoadOptions(level=level))
        echo(tr(f"{level}: {report.inserted} 个区域", f"{level}: {report.inserted} areas"))
    points = load_points(engine, demo_dir / "points.geojson")
    echo(tr(f"points: {points.inserted} 个点位", f"points: {points.inserted} inspection points"))
    result = ingest_file(
        engine, demo_dir / "problems.csv", IngestOptions(source="demo", actor="demo")
    )
    echo(
        tr(
            f"problems: {result.accepted} 个问题（区域外 {result.outside}）",
            f"problems: {result.accepted} problems (outside {result.outside})",
        )
    )
    with transaction(engine) as session:
        events = record_demo_history(session)
    echo(tr(f"history: {events} 条处理记录", f"history: {events} recorded events"))
    add_demo_round(engine, echo=echo)
    with transaction(engine) as session:
        accounts = create_demo_users(session)
    print_accounts(accounts, echo)
    engine.dispose()


def print_accounts(accounts: list[DemoAccount], echo: Callable[[str], object]) -> None:
    """Print the demo accounts, one a line: username, password, role, scope."""
    echo(tr("示例账号（密码只显示这一次）:", "demo accounts (passwords shown once):"))
    for account in accounts:
        echo(f"  {account.username:<14} {account.password:<18} {account.role:<17} {account.scope}")


def _check_files(demo_dir: Path) -> None:
    needed = [name for _, name in DEMO_LEVEL_FILES] + ["points.geojson", "problems.csv"]
    missing = [name for name in needed if not (demo_dir / name).is_file()]
    if missing:
        raise ConfigError(
            tr(
                f"{demo_dir}: 缺少示例数据: {', '.join(missing)} (run scripts/make_demo_city.py)",
                (
                    f"{demo_dir}: missing demo files: {', '.join(missing)} (run "
                    "scripts/make_demo_city.py)"
                ),
            )
        )


def _reset(engine: sa.Engine, url: str) -> None:
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "", ":memory:"):
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sa_url.database}{suffix}").unlink(missing_ok=True)
        return
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


@dataclass(frozen=True)
class DemoAccount:
    """A demo user's credentials, printed once by `civicgrid demo`."""

    username: str
    password: str
    role: str
    scope: str


def create_demo_users(session: so.Session) -> list[DemoAccount]:
    """One user per role with a random password, scoped to real demo areas: the first
    district for the district officer, that district's two busiest grids for the grid
    manager, the whole city for the others."""
    district = session.scalars(
        sa.select(Area).where(Area.level == "district").order_by(Area.code)
    ).first()
    grids = _busiest_grids(session, district.id if district else None, 2)
    plan = [
        ("demo-admin", "admin", "演示管理员", []),
        ("demo-city", "city_officer", "市创建办演示", []),
        ("demo-district", "district_officer", "区创建办演示", [district] if district else []),
        ("demo-grid", "grid_manager", "网格员演示", grids),
        ("demo-planner", "planner", "规划演示", []),
    ]
    accounts = []
    for username, role, name, areas in plan:
        if role in SCOPE_REQUIRED and not areas:
            continue  # a demo city without districts or grids
        password = secrets.token_urlsafe(12)
        codes = [f"{a.level}:{a.code}" for a in areas]
        create_user(session, username, password, role, name, codes, actor="demo")
        scope = ", ".join(f"{a.code} {a.name}" for a in areas) or tr("全市", "whole city")
        accounts.append(DemoAccount(username, password, role, scope))
    return accounts


def _busiest_grids(session: so.Session, district_id: int | None, n: int) -> list[Area]:
    if district_id is None:
        return []
    busiest = (
        sa.select(Problem.grid_id)
        .where(Problem.district_id == district_id, Problem.grid_id.is_not(None))
        .group_by(Problem.grid_id)
        .order_by(sa.func.count().desc(), Problem.grid_id)
        .limit(n)
    )
    ids = list(session.scalars(busiest))
    if len(ids) < n:
        more = sa.select(Area.id).where(Area.level == "grid", Area.district_id == district_id)
        ids += [i for i in session.scalars(more.order_by(Area.code)) if i not in ids][
            : n - len(ids)
        ]
    return list(session.scalars(sa.select(Area).where(Area.id.in_(ids)).order_by(Area.code)))
