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
from geo.core.text import en, tr
from geo.storage.models import LEVELS
from geo.summary.upgrade import upgrade
from web import database
from web.cli import lifecycle as cli_lifecycle
from web.cli import rounds as cli_rounds
from web.cli import security as security_cli
from web.cli.common import domain_errors, echo, ready_engine
from web.cli.demo import demo_command
from web.cli.export import export_command
from web.cli.ingest import ingest_command
from web.cli.publish import publish_command
from web.cli.serve import serve_command
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
        serve_command,
        publish_command,
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
    echo(
        tr(
            f"数据库已就绪: {current_app.config['DATABASE_URL']}",
            f"database ready: {current_app.config['DATABASE_URL']}",
        )
    )


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
    echo(
        tr(
            (
                f"{file.name}: {r.features} 个{r.level} — 新增 {r.inserted}, "
                f"更新 {r.updated}, 未变 {r.unchanged}"
            ),
            (
                f"{file.name}: {r.features} {r.level} features — inserted "
                f"{r.inserted}, updated {r.updated}, unchanged {r.unchanged}"
            ),
        )
    )
    if r.crs_hint:
        echo(tr(f"警告: {r.crs_hint}", f"warning: {en(r.crs_hint)}"), err=True)
    if r.parents_by_containment:
        echo(
            tr(
                f"  按空间包含确定上级: {r.parents_by_containment}",
                f"  parents found by containment: {r.parents_by_containment}",
            )
        )
    for line in r.repaired:
        echo(tr(f"  已修复几何: {line}", f"  repaired geometry: {line}"))
    for o in r.overlaps[:20]:
        echo(
            tr(
                f"  重叠: {o.code_a} × {o.code_b}: {o.m2:.2f} m²",
                f"  overlap: {o.code_a} × {o.code_b}: {o.m2:.2f} m²",
            )
        )
    if r.gaps:
        total = sum(g.m2 for g in r.gaps)
        echo(
            tr(
                f"  空隙: {len(r.gaps)} 处, 共 {total:.1f} m²",
                f"  gaps: {len(r.gaps)}, {total:.1f} m² in all",
            )
        )
        for g in r.gaps[:20]:
            where = f"in {g.parent_code} " if g.parent_code else ""
            echo(f"    {where}{g.m2:.1f} m² near {g.lon:.6f},{g.lat:.6f}")
    if r.reassigned_problems or r.reassigned_points:
        echo(
            tr(
                f"  重新归属: {r.reassigned_problems} problems, {r.reassigned_points} points",
                f"  re-assigned: {r.reassigned_problems} problems, {r.reassigned_points} points",
            )
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
    echo(
        tr(
            (
                f"{file.name}: {report.features} 个点位 — 新增 "
                f"{report.inserted}, 更新 {report.updated}, 区域外 "
                f"{report.outside}"
            ),
            (
                f"{file.name}: {report.features} points — inserted "
                f"{report.inserted}, updated {report.updated}, outside "
                f"{report.outside}"
            ),
        )
    )
    if report.crs_hint:
        echo(tr(f"警告: {report.crs_hint}", f"warning: {en(report.crs_hint)}"), err=True)
