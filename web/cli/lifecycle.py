"""Lifecycle and accountability commands: problems assign|rectify|close|reopen, units,
rank, scores, bulletin. Thin click wrappers over geo/ (see web/cli/common.py for conventions)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from geo.access.actions import Action
from geo.access.scope import ROLES
from geo.core.periods import Period, parse_period
from geo.core.rounding import number, percent
from geo.core.text import tr
from geo.core.workcal import end_of_local_day
from geo.lifecycle import problems as geoproblems
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import DEADLINE_ACTIONS, Change
from geo.lifecycle.selection import SELECTION_LEVELS, Selection
from geo.lifecycle.transitions import ACTIONS
from geo.reports import rankings as georankings
from geo.reports import scores as geoscores
from geo.reports.stats import RATE_LEVELS
from geo.storage.db import transaction
from web import database
from web.cli.common import domain_errors, echo, ready_engine

problems_group = AppGroup(
    "problems",
    help="问题处置 Problem lifecycle: assign, rectify, close, reopen; extension, hold, "
    "send back, void.",
)
units_group = AppGroup("units", help="责任单位 Responsible units.")


def init_app(app: Any) -> None:
    """Attach the commands to ``app.cli``."""
    for command in (problems_group, units_group, rank_command, scores_command, bulletin_command):
        app.cli.add_command(command)


def _selection_options(func: Any) -> Any:
    options = [
        click.option("--id", "ids", type=int, multiple=True, help="Problem id (repeatable)."),
        click.option("--level", type=click.Choice(SELECTION_LEVELS), help="Area level of --area."),
        click.option("--area", "area_code", help="Area code: only problems in this area."),
        click.option("--category", help="Only this category (code or label)."),
        click.option("--of-unit", "of_unit", help="Only problems of this responsible unit."),
        click.option("--overdue", is_flag=True, help="Only problems past their deadline."),
        click.option("--actor", required=True, help="Who acts (recorded in the history)."),
        click.option("--note", default="", help="Note (required for rectify, close, reopen)."),
        click.option("--expect-version", type=int, help="Refuse if the problem changed since."),
        click.option("--dry-run", is_flag=True, help="Count what would change, change nothing."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run_action(action: Action, kw: dict[str, Any]) -> None:
    """Apply one lifecycle action to the selected problems and say what changed."""
    tz = current_app.config["TIMEZONE"]
    selection = Selection(
        ids=kw["ids"],
        level=kw["level"],
        area_code=kw["area_code"],
        category=kw["category"],
        unit=kw["of_unit"],
        overdue=kw["overdue"],
    )
    deadline: datetime | None = kw["deadline"]
    change = Change(
        action.name,
        kw["actor"],
        kw["note"],
        unit=kw["unit"],
        deadline=end_of_local_day(deadline.date(), tz) if deadline else None,
        version=kw["expect_version"],
        role=kw["role"],
    )
    with transaction(ready_engine()) as session:
        result = lifecycle.bulk_transition(
            session, selection, change, database.taxonomy(), tz, database.rules()
        )
        if kw["dry_run"]:
            session.rollback()
    verb = "将" if kw["dry_run"] else "已"
    echo(
        tr(
            f"{verb}{action.zh} {result.changed} 个问题 → {result.status}"
            + ("（试运行）" if kw["dry_run"] else ""),
            f"{action.en.lower()}: {result.changed} problems → {result.status}"
            + (" (dry run)" if kw["dry_run"] else ""),
        )
    )
    if result.ids:
        echo("ids: " + " ".join(map(str, result.ids[:50])) + (" …" if result.changed > 50 else ""))


def _make_action(name: str) -> click.Command:
    action = ACTIONS[name]

    @problems_group.command(
        action.cli_name,
        help=f"{action.zh} {action.en} (from {', '.join(sorted(action.sources))})."
        + (" Needs the approval right (--role city_officer|admin)." if action.needs_right else ""),
    )
    @_selection_options
    @click.option(
        "--unit", help="Responsible unit to assign to (assign only).", hidden=name != "assign"
    )
    @click.option(
        "--deadline",
        type=click.DateTime(["%Y-%m-%d"]),
        help="Deadline date (local): assign and reopen (default from the category), "
        "request-extension (required), approve-extension (default: as requested).",
        hidden=name not in DEADLINE_ACTIONS,
    )
    @click.option(
        "--role",
        type=click.Choice(sorted(ROLES)),
        help="The actor's role (see `civicgrid users`): approvals need city_officer or admin.",
    )
    @domain_errors
    def command(**kw: Any) -> None:
        _run_action(action, kw)

    return command


for _name in ACTIONS:
    _make_action(_name)


@units_group.command("add")
@click.argument("name")
@click.option(
    "--kind", type=click.Choice(geoproblems.UNIT_KINDS), help="department or street_office"
)
@domain_errors
def units_add(name: str, kind: str | None) -> None:
    """Add a responsible unit 新增责任单位."""
    with transaction(ready_engine()) as session:
        unit = geoproblems.add_unit(session, name, kind)
        echo(
            tr(
                f"已新增责任单位: {unit.name} (id {unit.id})",
                f"unit added: {unit.name} (id {unit.id})",
            )
        )


@units_group.command("list")
@domain_errors
def units_list() -> None:
    """List responsible units 责任单位列表."""
    with transaction(ready_engine(), write=False) as session:
        for unit in geoproblems.units(session):
            echo(f"{unit.id}\t{unit.name}\t{unit.kind or ''}")


@click.command("rank")
@with_appcontext
@click.option("--level", type=click.Choice(RATE_LEVELS), default="district", show_default=True)
@click.option("--period", required=True, help="2026-W47, 2026-11 or 2026-Q4")
@click.option(
    "--top",
    type=click.IntRange(1, 100),
    default=None,
    help="List size (default: the level's, data/rankings.toml)",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@domain_errors
def rank_command(level: str, period: str, top: int | None, as_json: bool) -> None:
    """Rank areas or units with their rates; red and black lists 排名与红黑榜. A closed
    period shows its published ranking (published now when it never was, as on /rankings);
    ``--top`` is a what-if, computed and never stored."""
    ranking, published_at = _shown_ranking(level, parse_period(period), top)
    rows = ranking.records()
    if as_json:
        shown = {"level": level, "period": ranking.period.code, "published_at": published_at}
        echo(json.dumps({**shown, "rows": rows}, ensure_ascii=False))
        return
    zh, en = (
        ("", "")
        if published_at is None
        else (f" · 发布于 {published_at}", f" · published {published_at}")
    )
    echo(
        tr(
            f"{ranking.period.label()} · 对比 {ranking.previous.code}{zh}",
            f"{ranking.period.label('en')} · vs {ranking.previous.code}{en}",
        )
    )
    echo(
        "名次 rank\t名称 name\t应结案 due\t结案率 closure\t按期 on-time\t返工 rework\t"
        "延期 extended\t超期 overdue\t平均天数 days\t变化 Δrank\t榜 list"
    )
    for r in rows:
        echo(
            "\t".join(
                [
                    "—"
                    if r["rank"] is None
                    else f"{r['rank']}{'=' if (r['tie'] or 0) > 1 else ''}",
                    f"{r['name']} {r['code'] if level != 'unit' else ''}".strip(),
                    str(r["due"]),
                    percent(r["closed"], r["due"]),
                    percent(r["closed_on_time"], r["due"]),
                    percent(r["reworked"], r["due"]),
                    percent(r["extended"], r["due"]),
                    str(r["overdue"]),
                    number(r["avg_rectify_days"]),
                    _delta(r["rank_change"]),
                    {"red": "红榜 red", "black": "黑榜 black"}.get(r["list"] or "", ""),
                ]
            )
        )


@click.command("scores")
@with_appcontext
@click.option(
    "--level", type=click.Choice(geoscores.SCORE_LEVELS), default="district", show_default=True
)
@click.option("--period", required=True, help="A quarter, e.g. 2026-Q4")
@domain_errors
def scores_command(level: str, period: str) -> None:
    """Quarterly scores, one per evaluation scheme 季度测评得分（三标融合）. A closed
    quarter prints its published scores (published now when they never were, as on
    /scores)."""
    from geo.reports import score_publications  # the bulletin's imports: only when scoring

    taxonomy, tz, quarter = (
        database.taxonomy(),
        current_app.config["TIMEZONE"],
        parse_period(period),
    )
    with transaction(ready_engine()) as session:
        frame, stored = score_publications.frozen_scores(session, level, quarter, taxonomy, tz)
        if stored is None:
            stored = score_publications.publish_scores(
                session, level, quarter, frame, tz, issued_by="cli"
            )
        published = None if stored is None else stored.computed_at.isoformat()
    if published is not None:
        echo(tr(f"{quarter.code} · 发布于 {published}", f"{quarter.code} · published {published}"))
    schemes = list(taxonomy.schemes)
    echo(
        "\t".join(
            [
                "代码 code",
                "名称 name",
                "指标 indicators",
                "问题 problems",
                *(taxonomy.scheme_label(s) for s in schemes),
            ]
        )
    )
    for row in frame.to_dict(orient="records"):
        echo(
            "\t".join(
                [
                    row["code"],
                    row["name"],
                    str(row["indicators"]),
                    str(row["problems"]),
                    *(_score(row[s], row[s + "_deduction"]) for s in schemes),
                ]
            )
        )


@click.command("bulletin")
@with_appcontext
@click.option("--period", required=True, help="The week, e.g. 2026-W47")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="FILE.html or FILE.pdf",
)
@domain_errors
def bulletin_command(period: str, output: Path) -> None:
    """Issue the weekly bulletin 周通报 and write it as HTML or PDF. A closed week's
    bulletin is stored when first issued; issuing it again writes the same bytes."""
    from geo.reports.bulletin import check_output, write_document
    from geo.reports.publications import issue_bulletin

    check_output(output)
    week = parse_period(period)
    with transaction(ready_engine()) as session:
        issued = issue_bulletin(
            session, week, database.taxonomy(), current_app.config["TIMEZONE"], issued_by="cli"
        )
        html = issued.html or ""
    written = write_document(html, output)
    echo(tr(f"已生成周通报: {written}", f"bulletin written: {written}"))


def _score(score: float | None, deduction: float | None) -> str:
    """A scheme's score and deduction, rounded once (half-up); "—" where it does not apply."""
    if score is None or deduction is None:
        return "—"
    return f"{number(score)} (-{number(deduction, 2).rstrip('0').rstrip('.')})"


def _shown_ranking(
    level: str, period: Period, top: int | None
) -> tuple[georankings.Ranking, str | None]:
    """The ranking the command prints and its publication time (ISO, UTC), if published."""
    from geo.reports import publications  # the bulletin's imports: only when ranking

    tz = current_app.config["TIMEZONE"]
    if top is not None:  # a what-if list size
        with transaction(ready_engine(), write=False) as session:
            return georankings.rankings(session, level, period, tz, top), None
    with transaction(ready_engine()) as session:
        ranking, stored = publications.frozen_ranking(session, level, period, tz)
        if stored is None and publications.is_closed(period, tz):
            stored = publications.publish_ranking(session, ranking, issued_by="cli")
        return ranking, None if stored is None else stored.computed_at.isoformat()


def _delta(value: int | None) -> str:
    if not value:
        return "—"
    return f"↑{value}" if value > 0 else f"↓{-value}"
