"""`civicgrid summary …`: check, rebuild and refresh the per-area summary counts."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from geo.core.text import tr
from geo.storage.db import transaction
from geo.storage.schema import require_schema
from geo.summary import clock
from geo.summary import counts as summary
from web import database
from web.cli.common import domain_errors, echo, reading_engine

summary_group = AppGroup("summary", help="统计 Per-area summary counts behind the heat maps.")


@summary_group.command("refresh")
@domain_errors
def refresh_command() -> None:
    """Count problems that became overdue since the last refresh (run it hourly, e.g. cron)."""
    engine = database.engine()
    require_schema(engine)
    with transaction(engine) as session:
        touched = clock.advance_clock(session)
        as_of = summary.read_meta(session).overdue_as_of
    echo(
        tr(
            f"超期统计已更新至 {as_of:%Y-%m-%d %H:%M} UTC（{touched} 行）",
            f"overdue counts moved to {as_of:%Y-%m-%d %H:%M} UTC ({touched} rows)",
        )
    )


@summary_group.command("rebuild")
@click.option(
    "--day-offset",
    type=click.IntRange(-720, 840),
    default=None,
    help="UTC offset in minutes of the local day for found-date filters "
    "(default: that of CIVICGRID_TIMEZONE).",
)
@domain_errors
def rebuild_command(day_offset: int | None) -> None:
    """Recount everything from the problems table (after bulk SQL loads or repairs)."""
    engine = database.engine()
    require_schema(engine)
    with transaction(engine) as session:
        tz = current_app.config["TIMEZONE"]
        summary.rebuild(session, day_offset, progress=_show_progress, tz=tz)
    echo(tr("统计已重建", "summary rebuilt"))


def _show_progress(done: int, total: int) -> None:
    echo(
        tr(f"整改率统计: {done:,}/{total:,} 个问题", f"rate counts: {done:,}/{total:,} problems"),
        err=True,
    )


@summary_group.command("check")
@domain_errors
def check_command() -> None:
    """Compare the stored counts with a recount; exit 1 when they differ."""
    with transaction(reading_engine(), write=False) as session:
        bad = summary.mismatches(session)
    if bad.empty:
        echo(tr("统计与问题表一致", "summary agrees with the problems table"))
        return
    echo(
        tr(
            f"统计不一致: {len(bad)} 行不同，请运行 `civicgrid summary rebuild`",
            f"{len(bad)} summary rows differ; run `civicgrid summary rebuild`",
        )
    )
    raise SystemExit(1)
