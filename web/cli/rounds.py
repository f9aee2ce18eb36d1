"""Rounds, visits and notices on the command line: `rounds add|list|show|visit` and
`notice`. Thin click wrappers over geo/rounds/rounds.py, geo/rounds/coverage.py and
geo/rounds/notices.py
(see web/cli/common.py for conventions)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from geo.core.errors import InvalidParameterError
from geo.core.rounding import percent
from geo.core.text import tr
from geo.rounds import coverage, notice_render, notices
from geo.rounds import rounds as georounds
from geo.storage.db import transaction
from web import database
from web.cli.common import domain_errors, echo, ready_engine, say, terminal_lang, when

rounds_group = AppGroup("rounds", help="实地测评轮次 Rounds of field evaluation and their visits.")


def init_app(app: Any) -> None:
    """Attach the commands to ``app.cli``."""
    app.cli.add_command(rounds_group)
    app.cli.add_command(notice_command)


@rounds_group.command("add")
@click.argument("name")
@click.option("--start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day.")
@click.option("--end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day.")
@click.option("--kind", "kinds", multiple=True, help="Point kind in scope (repeatable; all).")
@click.option("--area", "areas", multiple=True, help="Area in scope, level:code (repeatable).")
@click.option("--description", default="", help="What the round is about.")
@click.option("--actor", default="cli", show_default=True, help="Who creates it (recorded).")
@domain_errors
def rounds_add(name: str, start: datetime, end: datetime, **kw: Any) -> None:
    """Create a round 新建测评轮次."""
    spec = georounds.RoundSpec(
        name,
        start.date(),
        end.date(),
        tuple(kw["kinds"]),
        tuple(kw["areas"]),
        kw["description"],
        kw["actor"],
    )
    with transaction(ready_engine()) as session:
        rnd = georounds.create_round(session, spec, database.taxonomy())
        echo(
            tr(
                f"已新建测评轮次: {rnd.name} (id {rnd.id})",
                f"round created: {rnd.name} (id {rnd.id})",
            )
        )


@rounds_group.command("list")
@domain_errors
def rounds_list() -> None:
    """List rounds with their coverage 测评轮次列表."""
    tax = database.taxonomy()
    with transaction(ready_engine(), write=False) as session:
        for rnd in georounds.list_rounds(session):
            c = coverage.round_coverage(session, rnd, tax).total
            lang = terminal_lang()
            fail_rate = "fail rate" if lang == "en" else "不合格率"
            failing = percent(c.failed + c.serious, c.visited)
            echo(
                f"{rnd.id}\t{rnd.name}\t{rnd.starts_on} – {rnd.ends_on}\t"
                f"{georounds.scope_label(rnd, tax, lang)}\t{c.visited}/{c.points} "
                f"{percent(c.visited, c.points)}\t{fail_rate} {failing}"
            )


@rounds_group.command("show")
@click.argument("round_ref")
@click.option("--level", type=click.Choice(coverage.COVERAGE_LEVELS), default="street")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@domain_errors
def rounds_show(round_ref: str, level: str, as_json: bool) -> None:
    """A round's coverage: totals, by point kind, by area 测评覆盖情况."""
    tax = database.taxonomy()
    with transaction(ready_engine(), write=False) as session:
        rnd = georounds.find_round(session, round_ref)
        cov = coverage.round_coverage(session, rnd, tax, level)
        name = rnd.name
    if as_json:
        echo(json.dumps({"round": name, **cov.to_dict()}, ensure_ascii=False))
        return
    t = cov.total
    covered, failing = percent(t.visited, t.points), percent(t.failed + t.serious, t.visited)
    echo(
        f"{name}: 应测评 points {t.points}, 已测评 visited {t.visited} ({covered}), "
        f"未测评 not visited {t.not_visited}, 不合格率 fail rate {failing}"
    )
    for title, rows in (("点位类型 kind", cov.by_kind), (f"区域 {level}", cov.by_area)):
        echo(f"\n{title}\t应测评\t已测评\t未测评\t合格\t不合格\t严重\t不合格率")
        for r in rows:
            echo(
                f"{r['label']} {r['key'] or ''}\t{r['points']}\t{r['visited']}\t"
                f"{r['not_visited']}\t{r['passed']}\t{r['failed']}\t{r['serious']}\t"
                f"{percent(r['failed'] + r['serious'], r['visited'])}"
            )


@rounds_group.command("visit")
@click.option("--round", "round_ref", required=True, help="Round name or id.")
@click.option("--point", required=True, help="Inspection point code.")
@click.option("--result", required=True, help="合格|不合格|严重不合格 or pass|fail|serious_fail")
@click.option("--inspector", required=True, help="Who visited.")
@click.option("--at", "at_text", default=None, help="When (local time; default now).")
@click.option("--note", default="", help="Note on the visit.")
@click.option(
    "--problem",
    "problems",
    multiple=True,
    help="A problem found: CATEGORY or CATEGORY:description (repeatable).",
)
@domain_errors
def rounds_visit(round_ref: str, at_text: str | None, **kw: Any) -> None:
    """Record a visit and the problems found 登记测评结果."""
    tz = current_app.config["TIMEZONE"]
    at = when(at_text, tz)
    found = tuple((p.partition(":")[0], p.partition(":")[2]) for p in kw["problems"])
    visit = georounds.VisitInput(kw["point"], at, kw["inspector"], kw["result"], kw["note"], found)
    with transaction(ready_engine()) as session:
        rnd = georounds.find_round(session, round_ref)
        row = georounds.record_visit(session, rnd, visit, database.taxonomy(), tz)
        echo(
            tr(
                (
                    f"已登记: #{row.id} {kw['point']} "
                    f"{georounds.result_label(row.result)}（{len(found)} 个问题）"
                ),
                (
                    f"visit recorded: #{row.id} {kw['point']} "
                    f"{georounds.result_label(row.result, 'en')} ({len(found)} problems)"
                ),
            )
        )


@click.command("notice")
@with_appcontext
@click.option("--round", "round_ref", help="Round name or id.")
@click.option("--street", help="Street or town code.")
@click.option("--notice", "notice_id", type=int, help="Write this issued notice again.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="FILE.html or FILE.pdf",
)
@click.option("--actor", default="cli", show_default=True, help="Who issues it (recorded).")
@click.option("--assign", "assign_unit", help="Assign its problems still found to this unit.")
@click.option("--preview", is_flag=True, help="Write a draft: no number, nothing recorded.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@domain_errors
def notice_command(output: Path, **kw: Any) -> None:
    """Issue a notice 抄告单 to a street for a round (numbered and recorded) and write it."""
    with transaction(ready_engine(), write=not kw["preview"]) as session:
        doc = _notice_doc(session, kw)
        written = notice_render.write_notice(doc, output, _photo_dir(), kw["lang"])
    label = doc.number or say(tr("草稿", "draft"))
    echo(
        tr(
            (
                f"抄告单 {label}: {len(doc.points)} 个不合格点位, "
                f"{doc.problem_count} 个问题 → {written}"
            ),
            (
                f"notice {label}: {len(doc.points)} failed points, "
                f"{doc.problem_count} problems → {written}"
            ),
        )
    )


def _notice_doc(session: Any, kw: dict[str, Any]) -> notices.NoticeDoc:
    """An issued notice again (--notice), a draft (--preview) or a newly issued one."""
    settings, tax, lang = _settings(), database.taxonomy(), kw["lang"]
    if kw["notice_id"] is not None:
        return notices.issued_notice(session, kw["notice_id"], tax, settings, lang)
    if not kw["round_ref"] or not kw["street"]:
        raise InvalidParameterError(tr("请指定 --round 和 --street", "give --round and --street"))
    rnd = georounds.find_round(session, kw["round_ref"])
    if kw["preview"]:
        return notices.build_notice(session, rnd, kw["street"], tax, settings, lang=lang)
    issued = notices.issue_notice(
        session, rnd, kw["street"], kw["actor"], tax, settings, kw["assign_unit"], database.rules()
    )
    return notices.issued_notice(session, issued.id, tax, settings, lang)


def _settings() -> notices.NoticeSettings:
    cfg = current_app.config
    return notices.NoticeSettings(
        database.calendar(), cfg["NOTICE_PREFIX"], int(cfg["NOTICE_WARNING_DAYS"]), cfg["TIMEZONE"]
    )


def _photo_dir() -> Path:
    return Path(current_app.config["PHOTO_DIR"] or Path(current_app.instance_path) / "photos")
