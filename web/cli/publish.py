"""``civicgrid publish``: store the figures of the periods that just closed, for a daily
timer (geo/reports/scheduled.py). Without it a closed period is published when first
shown, which is also kept."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from geo.core.text import tr
from geo.reports.scheduled import publish_closed
from web import database
from web.cli.common import domain_errors, echo, ready_engine, when

_KIND_LABELS = {
    "ranking": ("排名", "ranking"),
    "scores": ("得分", "scores"),
    "bulletin": ("通报", "bulletin"),
}


@click.command("publish")
@with_appcontext
@click.option(
    "--at",
    "at_text",
    default=None,
    help="As if run at this local time (default now), e.g. '2026-12-07 00:05'.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@domain_errors
def publish_command(at_text: str | None, as_json: bool) -> None:
    """Publish the closed week, month and quarter: rankings of every level, the quarter's
    scores and the week's bulletin 发布已结束周期的排名、得分和通报. Stores only what was
    never stored; run it daily after midnight (README: Deployment)."""
    tz = current_app.config["TIMEZONE"]
    outcomes = publish_closed(ready_engine(), database.taxonomy(), tz, when(at_text, tz))
    if as_json:
        echo(json.dumps([o.as_dict() for o in outcomes], ensure_ascii=False))
        return
    for o in outcomes:
        kind_zh, kind_en = _KIND_LABELS[o.kind]
        state_zh, state_en = (
            ("新发布", "published now") if o.new else ("已发布", "already published")
        )
        head = f"{o.period}\t{{}}\t{o.level}\t{{}}\t{o.computed_at:%Y-%m-%d %H:%M} UTC"
        echo(tr(head.format(kind_zh, state_zh), head.format(kind_en, state_en)))
