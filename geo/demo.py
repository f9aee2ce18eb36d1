"""Building the demo city database from data/demo/ through the same loaders users run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from geo.areas import AreaLoadOptions, load_areas
from geo.db import make_engine, upgrade
from geo.demo_round import add_demo_round
from geo.errors import ConfigError
from geo.ingest import IngestOptions, ingest_file
from geo.models import Base
from geo.points import load_points

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
    with its visits (geo/demo_round.py).
    """
    _check_files(demo_dir)
    engine = make_engine(url)
    _reset(engine, url)
    upgrade(engine)
    for level, name in DEMO_LEVEL_FILES:
        report = load_areas(engine, demo_dir / name, AreaLoadOptions(level=level))
        echo(f"{level}: {report.inserted} 个区域 / areas")
    points = load_points(engine, demo_dir / "points.geojson")
    echo(f"points: {points.inserted} 个点位 / inspection points")
    result = ingest_file(
        engine, demo_dir / "problems.csv", IngestOptions(source="demo", actor="demo")
    )
    echo(f"problems: {result.accepted} 个问题 / problems (outside {result.outside})")
    add_demo_round(engine, echo=echo)
    engine.dispose()


def _check_files(demo_dir: Path) -> None:
    needed = [name for _, name in DEMO_LEVEL_FILES] + ["points.geojson", "problems.csv"]
    missing = [name for name in needed if not (demo_dir / name).is_file()]
    if missing:
        raise ConfigError(
            f"{demo_dir}: 缺少示例数据 / missing demo files: {', '.join(missing)} "
            "(run scripts/make_demo_city.py)"
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
