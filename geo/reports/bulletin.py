"""The weekly bulletin (周通报): figures of the week, a heat map of unresolved problems by
district, the red and black lists, the categories that rose most, and the overdue
problems of each responsible unit. Written as one self-contained HTML file (the map
is an embedded PNG) or as PDF through WeasyPrint.

All figures come from SQL aggregates over the problems table (see geo/reports/stats.py for the
definitions); "unresolved" and "overdue" are as at the end of the period (or now, for
the running week). Times are naive UTC, shown in ``tz``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import InvalidParameterError
from geo.core.periods import Period
from geo.core.rounding import percent
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.reports.bulletin_map import district_heat_png
from geo.reports.rankings import Ranking, rankings
from geo.reports.stats import period_cutoff
from geo.storage.models import Area, Problem, ResponsibleUnit
from geo.storage.statuses import VOIDED, open_at_sql, overdue_at_sql

OVERDUE_ITEMS_PER_UNIT = 3
RISING_CATEGORIES = 5


@dataclass
class Bulletin:
    """Everything the bulletin shows, ready for the template."""

    period: Period
    generated_at: str
    as_of: str | None  # set while the period is still running: figures up to this time
    totals: dict[str, int]
    previous_totals: dict[str, int]
    map_png: str  # base64
    lists: list[tuple[str, Ranking]]
    rising: list[dict[str, Any]]
    overdue_units: list[dict[str, Any]] = field(default_factory=list)


def build_bulletin(
    session: so.Session,
    period: Period,
    taxonomy: Taxonomy,
    tz: str = "Asia/Shanghai",
    top: int | None = None,
    now: datetime | None = None,
    lists: list[tuple[str, Ranking]] | None = None,
) -> Bulletin:
    """Gather the bulletin's figures for ``period`` (usually an ISO week). ``lists`` are
    the (level, ranking) pairs to show — the published ones, from
    geo/reports/publications.py — else district, street and unit ranked now; ``top``
    overrides the levels' list sizes (data/rankings.toml)."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    start, cutoff = period_cutoff(period, tz, now)
    period_end = period.utc_bounds(tz)[1]
    prev_start, prev_cutoff = period_cutoff(period.previous(), tz, now)
    return Bulletin(
        period=period,
        generated_at=_local(now, ZoneInfo(tz), "%Y-%m-%d %H:%M"),
        as_of=_local(cutoff, ZoneInfo(tz), "%Y-%m-%d %H:%M") if cutoff < period_end else None,
        totals=week_totals(session, start, cutoff),
        previous_totals=week_totals(session, prev_start, prev_cutoff),
        map_png=district_heat_png(session, cutoff, period.label()),
        lists=lists
        or [
            (level, rankings(session, level, period, tz, top, now))
            for level in ("district", "street", "unit")
        ],
        rising=rising_categories(session, taxonomy, (start, cutoff), (prev_start, prev_cutoff)),
        overdue_units=overdue_by_unit(session, cutoff, taxonomy, tz),
    )


def write_bulletin(
    session: so.Session,
    period: Period,
    output: Path,
    taxonomy: Taxonomy,
    tz: str = "Asia/Shanghai",
    top: int | None = None,
    now: datetime | None = None,
) -> Path:
    """Write the bulletin to ``output``: ``.html`` as is, ``.pdf`` through WeasyPrint."""
    check_output(output)
    html = render_html(build_bulletin(session, period, taxonomy, tz, top, now), taxonomy)
    return write_document(html, output)


def check_output(output: Path) -> Path:
    """Refuse an output path that is not ``.html``/``.htm``/``.pdf`` in an existing folder
    (``InvalidParameterError``), before anything is computed or stored."""
    if output.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise InvalidParameterError(
            tr(
                f"{output}: 输出文件应为 .html 或 .pdf",
                f"{output}: output must end in .html or .pdf",
            )
        )
    if not output.parent.is_dir():
        raise InvalidParameterError(
            tr(f"{output.parent}: 目录不存在", f"{output.parent}: folder does not exist")
        )
    return output


def write_document(html: str, output: Path) -> Path:
    """Write a bulletin's HTML to ``output``: ``.html`` as is (UTF-8), ``.pdf`` rendered."""
    check_output(output)
    if output.suffix.lower() == ".pdf":
        output.write_bytes(pdf_bytes(html))
    else:
        output.write_bytes(html.encode("utf-8"))
    return output


def pdf_bytes(html: str) -> bytes:
    """The PDF of a bulletin's HTML (WeasyPrint; self-contained HTML, no base URL)."""
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())


def render_html(bulletin: Bulletin, taxonomy: Taxonomy) -> str:
    """The bulletin as one self-contained HTML document (zh-CN)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )
    return env.get_template("bulletin.html").render(b=bulletin, tax=taxonomy, pct=percent)


def week_totals(session: so.Session, start: datetime, cutoff: datetime) -> dict[str, int]:
    """City-wide: found and closed in [start, cutoff); unresolved and overdue at cutoff.
    Voided reports are not counted, held problems are neither unresolved nor overdue."""
    open_at_cutoff = open_at_sql(cutoff)  # held and voided ones are not waiting
    row = session.execute(
        sa.select(
            sa.func.count().filter(
                Problem.found_at >= start, Problem.found_at < cutoff, Problem.status != VOIDED
            ),
            sa.func.count().filter(Problem.closed_at >= start, Problem.closed_at < cutoff),
            sa.func.count().filter(open_at_cutoff),
            sa.func.count().filter(overdue_at_sql(cutoff)),
        )
    ).one()
    return dict(zip(("found", "closed", "unresolved", "overdue"), map(int, row), strict=True))


def rising_categories(
    session: so.Session,
    taxonomy: Taxonomy,
    this: tuple[datetime, datetime],
    before: tuple[datetime, datetime],
) -> list[dict[str, Any]]:
    """Categories whose number of new problems rose most against the period before."""
    in_this = sa.and_(Problem.found_at >= this[0], Problem.found_at < this[1])
    in_before = sa.and_(Problem.found_at >= before[0], Problem.found_at < before[1])
    rows = session.execute(
        sa.select(
            Problem.category,
            sa.func.count().filter(in_this),
            sa.func.count().filter(in_before),
        )
        .where(Problem.found_at >= before[0], Problem.found_at < this[1])
        .group_by(Problem.category)
    ).all()
    items: list[dict[str, Any]] = [
        {"category": taxonomy.category_label(c), "now": int(a), "before": int(b), "rise": a - b}
        for c, a, b in rows
    ]
    items.sort(key=lambda i: (-i["rise"], -i["now"], i["category"]))
    return [i for i in items if i["rise"] > 0][:RISING_CATEGORIES]


def overdue_by_unit(
    session: so.Session, cutoff: datetime, taxonomy: Taxonomy, tz: str
) -> list[dict[str, Any]]:
    """Per responsible unit (most overdue first): overdue count and its longest-overdue
    problems (``OVERDUE_ITEMS_PER_UNIT`` of them, longest first)."""
    overdue = overdue_at_sql(cutoff)
    counts = session.execute(
        sa.select(Problem.unit_id, ResponsibleUnit.name, sa.func.count())
        .outerjoin(ResponsibleUnit, ResponsibleUnit.id == Problem.unit_id)
        .where(overdue)
        .group_by(Problem.unit_id, ResponsibleUnit.name)
        .order_by(sa.func.count().desc(), ResponsibleUnit.name)
    ).all()
    zone = ZoneInfo(tz)
    return [
        {
            "unit": name or tr("（未交办）", "(unassigned)"),
            "count": int(n),
            "items": _overdue_items(session, unit_id, overdue, cutoff, taxonomy, zone),
        }
        for unit_id, name, n in counts
    ]


def _overdue_items(
    session: so.Session,
    unit_id: int | None,
    overdue: Any,
    cutoff: datetime,
    taxonomy: Taxonomy,
    zone: ZoneInfo,
) -> list[dict[str, Any]]:
    street = so.aliased(Area)
    unit_match = Problem.unit_id.is_(None) if unit_id is None else Problem.unit_id == unit_id
    rows = session.execute(
        sa.select(Problem.id, Problem.category, Problem.deadline, street.name, Problem.description)
        .outerjoin(street, street.id == Problem.street_id)
        .where(overdue, unit_match)
        .order_by(Problem.deadline, Problem.id)
        .limit(OVERDUE_ITEMS_PER_UNIT)
    ).all()
    return [
        {
            "id": pid,
            "category": taxonomy.category_label(category),
            "deadline": _local(deadline, zone),
            "days": (cutoff - deadline).days if deadline else 0,
            "street": street_name or "",
            "description": description,
        }
        for pid, category, deadline, street_name, description in rows
    ]


def _local(value: datetime | None, zone: ZoneInfo, fmt: str = "%m-%d %H:%M") -> str:
    return value.replace(tzinfo=UTC).astimezone(zone).strftime(fmt) if value else ""
