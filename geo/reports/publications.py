"""Published figures (issue 16, item 2): a closed period's ranking of one level, or its
weekly bulletin, frozen when first shown or issued, with the computation time.

Later views of the period read the stored figures; ``compare_ranking`` recomputes today
and explains each difference by the recorded events since publication (e.g. "2
reopened"). Rank change compares with the previous period's *published* ranks when there
are any. An issued bulletin keeps its HTML byte for byte: ``bulletin_html`` returns the
stored text and ``bulletin_pdf`` renders the same bytes each time. Times are naive UTC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import NotFoundError
from geo.core.periods import Period, parse_period
from geo.core.rounding import number, percent
from geo.core.taxonomy import Taxonomy
from geo.core.text import Text, tr
from geo.reports import bulletin as geobulletin
from geo.reports.list_rules import ListRule
from geo.reports.rankings import Ranking, rankings
from geo.storage.models import Problem, ProblemEvent
from geo.storage.publication_models import Publication

BULLETIN_LEVELS: tuple[str, ...] = ("district", "street", "unit")
COMPARED: tuple[str, ...] = ("rank", "due", "closed", "closed_on_time", "reworked", "overdue")
"""The figures the recomputed-today comparison checks, per area."""


def is_closed(period: Period, tz: str, now: datetime | None = None) -> bool:
    """Whether ``period`` has ended at ``now`` (naive UTC): only closed periods publish."""
    return period.utc_bounds(tz)[1] <= (now or _utcnow())


def frozen_ranking(
    session: so.Session,
    level: str,
    period: Period,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> tuple[Ranking, Publication | None]:
    """The ranking of ``level`` over ``period`` as published (and its publication), or
    computed now when it was never published (publication None; rank change against the
    previous period's published ranks when there are any)."""
    stored = find(session, "ranking", level, period)
    if stored is not None:
        return ranking_from(stored), stored
    before = find(session, "ranking", level, period.previous())
    previous = None if before is None else ranks(ranking_from(before))
    return rankings(session, level, period, tz, None, now, previous), None


def publish_ranking(
    session: so.Session, ranking: Ranking, now: datetime | None = None, issued_by: str = ""
) -> Publication:
    """Store ``ranking`` (every row, the city's) unless its period already has one; return
    the stored publication. The caller owns the transaction."""
    stored = find(session, "ranking", ranking.level, ranking.period)
    if stored is not None:
        return stored
    figures = {
        "level": ranking.level,
        "period": ranking.period.code,
        "previous": ranking.previous.code,
        "top": ranking.top,
        "rule": [
            ranking.rule.size,
            str(ranking.rule.red_min_on_time),
            str(ranking.rule.black_max_closure),
        ],
        "notes": [[str(n), n.en] for n in ranking.notes],
        "rows": ranking.records(),
    }
    return _store(session, "ranking", ranking.level, ranking.period, figures, None, now, issued_by)


def ranking_from(publication: Publication) -> Ranking:
    """The published ranking, rebuilt from its stored figures."""
    figures = json.loads(publication.figures)
    rows = pd.DataFrame.from_records(figures["rows"])
    for column in ("rank", "tie", "previous_rank", "rank_change"):
        if column in rows:
            rows[column] = rows[column].astype("Float64")
    size, floor, ceiling = figures["rule"]
    return Ranking(
        figures["level"],
        parse_period(figures["period"]),
        parse_period(figures["previous"]),
        int(figures["top"]),
        rows,
        [Text(zh, en) for zh, en in figures["notes"]],
        ListRule(int(size), Fraction(floor), Fraction(ceiling)),
    )


def issue_bulletin(
    session: so.Session,
    period: Period,
    taxonomy: Taxonomy,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
    issued_by: str = "",
) -> Publication:
    """The bulletin of ``period`` as issued: stored on first issue (with the published
    rankings of its levels, published now when they were not), else the stored one. The
    caller owns the transaction."""
    stored = find(session, "bulletin", "", period)
    if stored is not None:
        return stored
    now = now or _utcnow()
    lists = []
    for level in BULLETIN_LEVELS:
        ranking, published = frozen_ranking(session, level, period, tz, now)
        if published is None and is_closed(period, tz, now):
            publish_ranking(session, ranking, now, issued_by)
        lists.append((level, ranking))
    built = geobulletin.build_bulletin(session, period, taxonomy, tz, now=now, lists=lists)
    html = geobulletin.render_html(built, taxonomy)
    figures = {
        "period": period.code,
        "totals": built.totals,
        "previous_totals": built.previous_totals,
        "lists": {lvl: {"red": _codes(r.red), "black": _codes(r.black)} for lvl, r in lists},
        "rising": built.rising,
        "overdue_units": [[u["unit"], u["count"]] for u in built.overdue_units],
    }
    if not is_closed(period, tz, now):  # a running week is shown, never stored
        return Publication(
            kind="bulletin",
            level="",
            period=period.code,
            period_kind=period.kind,
            computed_at=now,
            issued_by=issued_by,
            figures=_json(figures),
            html=html,
        )
    return _store(session, "bulletin", "", period, figures, html, now, issued_by)


def bulletin_pdf(publication: Publication) -> bytes:
    """The PDF of an issued bulletin, from its stored HTML (the same bytes each time)."""
    return geobulletin.pdf_bytes(publication.html or "")


def ranking_html(
    publication: Publication, level_label: str, visible: frozenset[int] | None = None
) -> str:
    """A published ranking as one self-contained HTML document (zh-CN), from its stored
    figures (the same bytes each time); only the rows of ``visible`` area ids when given."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    ranking = ranking_from(publication)
    rows = ranking.records()
    if visible is not None:
        rows = [row for row in rows if row["id"] in visible]
    env = Environment(
        loader=FileSystemLoader(Path(geobulletin.__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )
    return env.get_template("ranking.html").render(
        r=ranking,
        rows=rows,
        title=f"{PERIOD_NAMES.get(ranking.period.kind, '')}排名 · {level_label}",
        published=publication.computed_at.strftime("%Y-%m-%d %H:%M UTC"),
        pct=percent,
        num=number,
    )


PERIOD_NAMES = {"week": "周", "month": "月度", "quarter": "季度"}


def find(
    session: so.Session, kind: str, level: str, period: Period, figures: bool = True
) -> Publication | None:
    """The stored publication of ``kind`` / ``level`` ('' for a bulletin) / ``period``.
    Without ``figures`` its figures and HTML are read only when first used (in
    ``session``): a caller that keeps the rebuilt figures needs just the id and time."""
    query = sa.select(Publication).where(
        Publication.kind == kind, Publication.level == level, Publication.period == period.code
    )
    if not figures:
        query = query.options(so.defer(Publication.figures), so.defer(Publication.html))
    return session.scalars(query).first()


def get(session: so.Session, publication_id: int) -> Publication:
    """One publication by id; ``NotFoundError`` when there is none."""
    found = session.get(Publication, publication_id)
    if found is None:
        raise NotFoundError(
            tr(f"没有编号为 {publication_id} 的通报", f"no publication {publication_id}")
        )
    return found


def archive(session: so.Session) -> list[Publication]:
    """The issued weekly bulletins and the monthly rankings, newest period first."""
    weekly = sa.and_(Publication.kind == "bulletin", Publication.period_kind == "week")
    monthly = sa.and_(Publication.kind == "ranking", Publication.period_kind == "month")
    return list(
        session.scalars(
            sa.select(Publication)
            .where(sa.or_(weekly, monthly))
            .order_by(Publication.period.desc(), Publication.kind, Publication.level)
        )
    )


@dataclass
class Comparison:
    """The published ranking against one computed today: the changed figures per area,
    and the recorded events since publication that explain them."""

    computed_at: datetime
    recomputed_at: datetime
    changes: list[dict[str, Any]] = field(default_factory=list)
    since: dict[str, int] = field(default_factory=dict)


def compare_ranking(
    session: so.Session, publication: Publication, tz: str, now: datetime | None = None
) -> Comparison:
    """Recompute the published ranking today and list, per area, each figure that differs
    (published → today) with the events since publication on the period's problems of
    that area (action → count), and those events city-wide."""
    now = now or _utcnow()
    published = ranking_from(publication)
    today = rankings(session, published.level, published.period, tz, published.top, now)
    events = _events_since(session, publication, published.level, tz)
    old = published.rows.set_index("id")
    new = today.rows.set_index("id")
    changes = []
    for area_id in new.index.intersection(old.index):
        diff = {c: (_value(old.at[area_id, c]), _value(new.at[area_id, c])) for c in COMPARED}
        diff = {c: pair for c, pair in diff.items() if pair[0] != pair[1]}
        if diff:
            changes.append(
                {
                    "id": int(area_id),
                    "code": new.at[area_id, "code"],
                    "name": new.at[area_id, "name"],
                    "figures": diff,
                    "events": events.get(int(area_id), {}),
                }
            )
    since: dict[str, int] = {}
    for per_area in events.values():
        for action, n in per_area.items():
            since[action] = since.get(action, 0) + n
    return Comparison(publication.computed_at, now, changes, since)


def _events_since(
    session: so.Session, publication: Publication, level: str, tz: str
) -> dict[int, dict[str, int]]:
    """Per owner id: the events recorded after publication on problems due or found in
    the period (action → count)."""
    start, end = parse_period(publication.period).utc_bounds(tz)
    owner = Problem.unit_id if level == "unit" else getattr(Problem, f"{level}_id")
    in_period = sa.or_(
        sa.and_(Problem.deadline >= start, Problem.deadline < end),
        sa.and_(Problem.found_at >= start, Problem.found_at < end),
    )
    rows = session.execute(
        sa.select(owner, ProblemEvent.action, sa.func.count())
        .join(Problem, Problem.id == ProblemEvent.problem_id)
        .where(ProblemEvent.at > publication.computed_at, in_period, owner.is_not(None))
        .group_by(owner, ProblemEvent.action)
    ).all()
    out: dict[int, dict[str, int]] = {}
    for owner_id, action, n in rows:
        out.setdefault(int(owner_id), {})[action] = int(n)
    return out


def _store(
    session: so.Session,
    kind: str,
    level: str,
    period: Period,
    figures: dict[str, Any],
    html: str | None,
    now: datetime | None,
    issued_by: str,
) -> Publication:
    publication = Publication(
        kind=kind,
        level=level,
        period=period.code,
        period_kind=period.kind,
        computed_at=now or _utcnow(),
        issued_by=issued_by,
        figures=_json(figures),
        html=html,
    )
    session.add(publication)
    session.flush()
    return publication


def _json(figures: dict[str, Any]) -> str:
    return json.dumps(figures, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def ranks(ranking: Ranking) -> dict[int, int]:
    """Area (or unit) id → rank, of the ranked rows of ``ranking``."""
    ranked = ranking.ranked
    return {int(i): int(r) for i, r in zip(ranked["id"], ranked["rank"], strict=True)}


def _codes(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame["code"]]


def _value(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
