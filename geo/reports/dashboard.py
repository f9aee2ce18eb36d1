"""The dashboard's charts: trends of the accountability rates and where problems stand.

No figure is computed here a second time: the trends (and the backlog's overdue) sum
``geo.reports.stats.rates_for_periods`` (the rankings' own counts, per district, in one
scan) over the
districts the scope may see; the per-district chart is ``geo.reports.rankings.rankings``
for the chosen period (so it equals /rankings); the category and street charts are the
heat map's counts (``geo.reports.heat.area_heat`` with the map's filters).

A ``Chart`` is plain data: x labels, series of numbers (None = nothing to compute) and an
optional target line; the page draws it with ECharts and shows it as a table, and each
chart downloads as CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy.orm as so

from geo.access.scope import Scope, visible_area_ids
from geo.core.periods import Period
from geo.core.rounding import percent
from geo.core.taxonomy import Taxonomy
from geo.core.text import Text, tr
from geo.reports import rankings as georankings
from geo.reports.dashboard_backlog import unresolved_at_ends
from geo.reports.dashboard_rounds import round_figures
from geo.reports.heat import area_heat
from geo.reports.heat_filters import HeatFilters
from geo.reports.stats import rates_for_periods

ON_TIME_TARGET = 0.9
"""The on-time closure rate the campaign aims at (DOMAIN.md: red lists require ≥ 90 %)."""
PERIODS = 12
TOP_STREETS = 8
TOP_CATEGORIES = 8


@dataclass
class Series:
    """One line or bar series: its name and one value per x label."""

    name: Text
    values: list[float | None]
    kind: str = "line"  # "line" or "bar"
    percent: bool = False
    texts: list[str] | None = None
    """A rate's values as shown: from the exact counts, rounded once (geo/core/rounding.py)."""


@dataclass
class Chart:
    """A chart: id (for its CSV), title, x labels, series and an optional target line."""

    id: str
    title: Text
    labels: list[str]
    series: list[Series] = field(default_factory=list)
    target: float | None = None
    note: Text | None = None

    @property
    def empty(self) -> bool:
        return not any(v for s in self.series for v in s.values)


@dataclass(frozen=True)
class DashboardQuery:
    """What the dashboard shows: the map's filters, the last period and its kind."""

    view: HeatFilters
    period: Period
    categories: tuple[tuple[str, str], ...]  # (code, label) of every category, in order
    tz: str = "Asia/Shanghai"
    now: datetime | None = None
    taxonomy: Taxonomy | None = None  # for the rounds chart (none: that chart is empty)


def dashboard(session: so.Session, scope: Scope, query: DashboardQuery) -> list[Chart]:
    """Every chart of the dashboard for ``query`` within ``scope``.

    Steps: the rates of the last PERIODS periods per district (summed per period), the
    ranking of the chosen period, the heat map's counts by category and by street.
    """
    periods = _periods(query.period)
    frames = rates_for_periods(session, "district", periods, query.tz, query.now)
    districts = _district_ids(session, scope, query.view.district)
    totals = pd.DataFrame([_sum(f, districts) for f in frames])
    labels = [p.code for p in periods]
    unresolved = unresolved_at_ends(session, periods, districts, query.tz, query.now)
    return [
        _flow(labels, totals),
        _backlog(labels, unresolved, totals),
        _on_time(labels, totals),
        _by_district(session, query, districts),
        _by_category(session, scope, query),
        _by_street(session, scope, query),
        _rounds(session, scope, query, periods),
    ]


def chart_csv(chart: Chart, lang: str = "zh") -> str:
    """The chart's data as CSV text: the x label, then one column per series."""
    from geo.core.text import in_lang

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [in_lang(tr("项目", "item"), lang), *(in_lang(s.name, lang) for s in chart.series)]
    )
    for i, label in enumerate(chart.labels):
        writer.writerow(
            [label, *("" if s.values[i] is None else s.values[i] for s in chart.series)]
        )
    return out.getvalue()


def _periods(last: Period) -> list[Period]:
    periods = [last]
    while len(periods) < PERIODS:
        periods.append(periods[-1].previous())
    return periods[::-1]


def _district_ids(session: so.Session, scope: Scope, code: str | None) -> frozenset[int] | None:
    """The district ids whose rows count (None: all): the scope's, and the filter's."""
    from geo.reports.heat import district_ref

    ids = visible_area_ids(session, scope, "district")
    chosen = district_ref(session, code) if code else None
    if chosen is not None:
        ids = frozenset({chosen.id}) if ids is None else ids & {chosen.id}
    return ids


def _sum(frame: pd.DataFrame, ids: frozenset[int] | None) -> dict[str, float]:
    rows = frame if ids is None else frame[frame["id"].isin(ids)]
    keys = ("found", "due", "closed", "closed_on_time", "overdue")
    return {k: float(rows[k].sum()) for k in keys}


def _rate(name: Text, part: pd.Series, whole: pd.Series, kind: str = "line") -> Series:
    """The rate part ÷ whole per label: exact values for the chart (None when nothing was
    due) and their texts, rounded once, half-up, from the counts."""
    pairs = list(zip(part, whole, strict=True))
    values = [None if not w else float(p) / float(w) for p, w in pairs]
    return Series(name, values, kind, True, [percent(p, w) for p, w in pairs])


def _ints(values: pd.Series) -> list[float | None]:
    return [int(v) for v in values]


def _flow(labels: list[str], totals: pd.DataFrame) -> Chart:
    return Chart(
        "flow",
        tr("新发现、应结案、结案与超期（按周期）", "Found, due, closed and overdue per period"),
        labels,
        [
            Series(tr("新发现", "Found"), _ints(totals["found"]), "bar"),
            Series(tr("结案", "Closed"), _ints(totals["closed"]), "bar"),
            Series(tr("应结案", "Due"), _ints(totals["due"])),
            Series(tr("超期未整改（期末）", "Overdue (end of period)"), _ints(totals["overdue"])),
        ],
        note=tr(
            "与排名同一口径：结案 = 本期应结案且期末前已结案；超期 = 期末仍超期未结案的积压。",
            "As in the rankings: closed = due in the period and closed by its end; overdue = "
            "the overdue backlog at the period's end.",
        ),
    )


def _backlog(labels: list[str], unresolved: list[int], totals: pd.DataFrame) -> Chart:
    return Chart(
        "backlog",
        tr("期末积压：未销号与超期", "Backlog at each period's end: unresolved and overdue"),
        labels,
        [
            Series(
                tr("未销号（期末）", "Unresolved (end of period)"), [int(v) for v in unresolved]
            ),
            Series(tr("超期未整改（期末）", "Overdue (end of period)"), _ints(totals["overdue"])),
        ],
        note=tr(
            "未销号 = 期末尚未销号（含已整改待核查，不含挂账、作废），与通报同一口径；"
            "超期与排名同一口径。",
            "Unresolved = not closed at the period's end (rectified ones awaiting verification "
            "included, held and voided left out), as in the bulletin; overdue as in the rankings.",
        ),
    )


def _rounds(
    session: so.Session, scope: Scope, query: DashboardQuery, periods: list[Period]
) -> Chart:
    rows = (
        round_figures(session, scope, query.taxonomy, periods[0].start, periods[-1].end)
        if query.taxonomy is not None
        else []
    )
    return Chart(
        "rounds",
        tr("创建各阶段（测评轮次）", "The campaign by phase (inspection rounds)"),
        [r.name for r in rows],
        [
            Series(tr("覆盖率", "Coverage"), [r.coverage for r in rows], "bar", percent=True),
            Series(tr("不合格率", "Fail rate"), [r.fail_rate for r in rows], "bar", percent=True),
        ],
        note=tr(
            "阶段即测评轮次，数字与轮次页面一致（仅统计本账号范围内的点位）。",
            "Phases are the inspection rounds; the figures are the round pages' (points in "
            "your scope only).",
        ),
    )


def _on_time(labels: list[str], totals: pd.DataFrame) -> Chart:
    return Chart(
        "ontime",
        tr("结案率与按期结案率趋势", "Closure and on-time closure rate"),
        labels,
        [
            _rate(
                tr("按期结案率", "On-time closure rate"), totals["closed_on_time"], totals["due"]
            ),
            _rate(tr("结案率", "Closure rate"), totals["closed"], totals["due"]),
        ],
        target=ON_TIME_TARGET,
    )


def _by_district(session: so.Session, query: DashboardQuery, ids: frozenset[int] | None) -> Chart:
    ranking = georankings.rankings(session, "district", query.period, query.tz, now=query.now)
    rows = ranking.rows if ids is None else ranking.rows[ranking.rows["id"].isin(ids)]
    rows = rows.sort_values(["name"])
    return Chart(
        "districts",
        tr(
            f"各区结案率（{query.period.code}，同排名）",
            f"Rates by district ({query.period.code}, as ranked)",
        ),
        [str(n) for n in rows["name"]],
        [
            _rate(tr("结案率", "Closure rate"), rows["closed"], rows["due"], "bar"),
            _rate(
                tr("按期结案率", "On-time closure rate"), rows["closed_on_time"], rows["due"], "bar"
            ),
        ],
        target=ON_TIME_TARGET,
    )


def _by_category(session: so.Session, scope: Scope, query: DashboardQuery) -> Chart:
    # One heat read per category (summary cubes: cheap), the map's other filters kept.
    label_of = dict(query.categories)
    wanted = query.view.categories or tuple(label_of)
    counts: list[tuple[str, int]] = []
    for category in wanted:
        view = replace(query.view, level="district", metric="count", categories=(category,))
        heat = area_heat(session, view, scope=scope, now=query.now)
        counts.append((label_of.get(category, category), int(np.sum(heat.count))))
    counts.sort(key=lambda item: -item[1])  # stable: taxonomy order among equal counts
    top, rest = counts[:TOP_CATEGORIES], counts[TOP_CATEGORIES:]
    if len(rest) == 1:  # one bar folding one category would hide its name for nothing
        top, rest = counts, []
    labels = [label for label, _ in top]
    values: list[float | None] = [n for _, n in top]
    if rest:
        labels.append(str(tr(f"其余 {len(rest)} 类", f"{len(rest)} others")))
        values.append(sum(n for _, n in rest))
    return Chart(
        "categories",
        tr(
            f"按问题类别（前 {TOP_CATEGORIES} 类，其余合并；与地图筛选一致）",
            f"By category (top {TOP_CATEGORIES}, the rest folded; as filtered on the map)",
        ),
        labels,
        [Series(tr("问题数", "Problems"), values, "bar")],
    )


def _by_street(session: so.Session, scope: Scope, query: DashboardQuery) -> Chart:
    view = replace(query.view, level="street", metric="count")
    heat = area_heat(session, view, scope=scope, now=query.now)
    names = _names(session, [int(i) for i in heat.catalog.ids])
    pairs = sorted(
        zip([int(i) for i in heat.catalog.ids], heat.count.tolist(), strict=True),
        key=lambda p: (-p[1], p[0]),
    )
    top, rest = pairs[:TOP_STREETS], pairs[TOP_STREETS:]
    labels = [names[id_] for id_, _ in top]
    values: list[float | None] = [int(n) for _, n in top]
    if rest:
        labels.append(str(tr(f"其余 {len(rest)} 个", f"{len(rest)} others")))
        values.append(int(sum(n for _, n in rest)))
    return Chart(
        "streets",
        tr(
            f"按街道（前 {TOP_STREETS} 个，其余合并）",
            f"By street (top {TOP_STREETS}, the rest folded)",
        ),
        labels,
        [Series(tr("问题数", "Problems"), values, "bar")],
    )


def _names(session: so.Session, ids: list[int]) -> dict[int, str]:
    import sqlalchemy as sa

    from geo.storage.models import Area

    if not ids:
        return {}
    return dict(
        (row.id, row.name)
        for row in session.execute(sa.select(Area.id, Area.name).where(Area.id.in_(ids)))
    )
