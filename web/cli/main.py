"""The `civicgrid` command line: thin click wrappers over geo/ functions.

Domain errors become one line on stderr and exit code 1 (bad input) or 2 (setup).
Available as the `civicgrid` console script and as `flask --app web ...`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from geo.areas.loading import AreaLoadOptions, AreaLoadReport, load_areas
from geo.areas.points import PointLoadOptions, load_points
from geo.storage.models import LEVELS
from geo.summary.upgrade import upgrade
from web import database
from web.cli import lifecycle as cli_lifecycle
from web.cli import rounds as cli_rounds
from web.cli import security as security_cli
from web.cli.common import domain_errors, ready_engine
from web.cli.demo import demo_command
from web.cli.export import export_command
from web.cli.ingest import ingest_command
from web.cli.summary import summary_group

CRS_HELP = (
    "Coordinate system of the file, overriding the one it declares: wgs84, cgcs2000, "
    "gcj02 (AMap/Tencent, DataV boundaries), bd09 (Baidu) or EPSG:n."
)

areas_group = AppGroup("areas", help="区域（区/街道/社区/网格） Areas of the hierarchy.")
points_group = AppGroup("points", help="点位 Inspection points.")


def init_app(app: Flask) -> None:
    """Attach the commands to ``app.cli``."""
    for command in (
        init_command,
        ingest_command,
        demo_command,
        areas_group,
        points_group,
        summary_group,
        export_command,
    ):
        app.cli.add_command(command)
    cli_lifecycle.init_app(app)  # problems, units, rank, scores, bulletin
    cli_rounds.init_app(app)  # rounds, notice
    security_cli.init_app(app)  # users, tokens, audit, run


@click.command("init")
@with_appcontext
@domain_errors
def init_command() -> None:
    """Create or upgrade the database schema 创建/升级数据库."""
    upgrade(database.engine())
    click.echo(f"数据库已就绪 / database ready: {current_app.config['DATABASE_URL']}")


@areas_group.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--level", required=True, type=click.Choice(LEVELS), help="Level of the areas.")
@click.option("--code-field", default="code", show_default=True)
@click.option("--name-field", default="name", show_default=True)
@click.option("--parent-field", default="parent_code", show_default=True)
@click.option("--crs", default=None, help=CRS_HELP)
@click.option("--layer", default=None, help="Layer of a GeoPackage.")
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse the file when it looks like another coordinate system (GCJ-02, BD-09).",
)
@domain_errors
def areas_load(file: Path, level: str, **fields: Any) -> None:
    """Load areas of one level from GeoJSON / GeoPackage / Shapefile 加载区域."""
    report = load_areas(ready_engine(), file, AreaLoadOptions(level=level, **fields))
    _print_area_report(file, report)


def _print_area_report(file: Path, r: AreaLoadReport) -> None:
    click.echo(
        f"{file.name}: {r.features} 个{r.level} / features — 新增 inserted {r.inserted}, "
        f"更新 updated {r.updated}, 未变 unchanged {r.unchanged}"
    )
    if r.crs_hint:
        click.echo(f"警告 / warning: {r.crs_hint}", err=True)
    if r.parents_by_containment:
        click.echo(
            f"  按空间包含确定上级 / parents found by containment: {r.parents_by_containment}"
        )
    for line in r.repaired:
        click.echo(f"  已修复几何 / repaired geometry: {line}")
    for o in r.overlaps[:20]:
        click.echo(f"  重叠 / overlap: {o.code_a} × {o.code_b}: {o.m2:.2f} m²")
    if r.gaps:
        total = sum(g.m2 for g in r.gaps)
        click.echo(f"  空隙 / gaps: {len(r.gaps)} 处, 共 {total:.1f} m²")
        for g in r.gaps[:20]:
            where = f"in {g.parent_code} " if g.parent_code else ""
            click.echo(f"    {where}{g.m2:.1f} m² near {g.lon:.6f},{g.lat:.6f}")
    if r.reassigned_problems or r.reassigned_points:
        click.echo(
            f"  重新归属 / re-assigned: {r.reassigned_problems} problems, "
            f"{r.reassigned_points} points"
        )


@points_group.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--code-field", default="code", show_default=True)
@click.option("--name-field", default="name", show_default=True)
@click.option("--kind-field", default="kind", show_default=True)
@click.option("--address-field", default="address", show_default=True)
@click.option("--unit-field", default="unit", show_default=True)
@click.option("--crs", default=None, help=CRS_HELP)
@click.option("--layer", default=None, help="Layer of a GeoPackage.")
@click.option(
    "--school-buffer",
    "school_buffer_m",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Metres around schools for school_surroundings (default from the taxonomy: 200).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse the file when it looks like another coordinate system (GCJ-02, BD-09).",
)
@domain_errors
def points_load(file: Path, **fields: Any) -> None:
    """Load inspection points 加载点位."""
    report = load_points(ready_engine(), file, PointLoadOptions(**fields), database.taxonomy())
    click.echo(
        f"{file.name}: {report.features} 个点位 / points — 新增 inserted {report.inserted}, "
        f"更新 updated {report.updated}, 区域外 outside {report.outside}"
    )
    if report.crs_hint:
        click.echo(f"警告 / warning: {report.crs_hint}", err=True)
