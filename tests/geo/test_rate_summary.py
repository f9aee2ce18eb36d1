"""``rate_summary``: rates of finished periods read from the counts per owner and period
give the same figures as aggregating the problems, and are only used when they can."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command

from geo.core.periods import parse_period
from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.reports import rankings, stats
from geo.storage.db import transaction, writer
from geo.storage.models import RateSummary
from geo.storage.schema import alembic_config
from geo.summary import counts as summary
from geo.summary.rate_cubes import rate_rows
from geo.summary.upgrade import upgrade
from tests.helpers import write_csv
from tests.stats_data import U1, U2, load_stats_city

LATER = datetime(2027, 2, 1)  # every period below is over
PERIODS = ["2026-W44", "2026-W47", "2026-W49", "2026-10", "2026-11", "2026-12", "2026-Q4"]


def _random_csv(n: int, seed: int) -> str:
    """``n`` problems in the stats city's grids, found over October–December 2026, at
    every stage, some reworked, times in Beijing time."""
    rng = np.random.default_rng(seed)
    lines = ["id,lon,lat,category,found_at,status,unit,deadline,rectified_at,closed_at,reopened"]
    start = datetime(2026, 9, 28)
    for i in range(n):
        found = start + timedelta(minutes=int(rng.integers(0, 95 * 24 * 60)))
        deadline = found + timedelta(hours=int(rng.integers(2, 20 * 24)))
        rectified = found + timedelta(hours=int(rng.integers(1, 30 * 24)))
        closed = rectified + timedelta(hours=int(rng.integers(1, 72)))
        status = str(rng.choice(["found", "assigned", "rectified", "closed"]))
        stage = ["found", "assigned", "rectified", "closed"].index(status)
        cells = [
            f"R{i}",
            f"{rng.uniform(120.805, 120.915):.5f}",
            f"{rng.uniform(32.002, 32.038):.5f}",
            str(rng.choice(["litter", "illegal_ads", "street_vending"])),
            f"{found:%Y-%m-%dT%H:%M}+08:00",
            status,
            str(rng.choice([U1, U2])) if stage else "",
            f"{deadline:%Y-%m-%dT%H:%M}+08:00" if stage else "",
            f"{rectified:%Y-%m-%dT%H:%M}+08:00" if stage >= 2 else "",
            f"{closed:%Y-%m-%dT%H:%M}+08:00" if stage == 3 else "",
            str(int(rng.random() < 0.2)) if stage == 3 else "0",
        ]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


@pytest.fixture
def busy_city(engine, tmp_path: Path):
    load_stats_city(engine, tmp_path)
    ingest_file(
        engine, write_csv(tmp_path / "r.csv", _random_csv(400, 7)), IngestOptions(source="r")
    )
    return engine


def _both_ways(engine, monkeypatch, level: str, period: str) -> tuple[list, list]:
    p = parse_period(period)
    with transaction(engine, write=False) as session:
        assert stats._summary_covers(
            session,
            [p, p.previous()],
            [stats.period_cutoff(x, "Asia/Shanghai", LATER) for x in (p, p.previous())],
            "Asia/Shanghai",
        )
        fast = stats.rates_for_periods(session, level, [p, p.previous()], now=LATER)
    with monkeypatch.context() as patched:
        patched.setattr(stats, "_summary_covers", lambda *a: False)
        with transaction(engine, write=False) as session:
            slow = stats.rates_for_periods(session, level, [p, p.previous()], now=LATER)
    return fast, slow


@pytest.mark.parametrize("level", stats.RATE_LEVELS)
def test_summary_rates_equal_the_problems_aggregate(busy_city, monkeypatch, level) -> None:
    compared = pd.Series(0, index=["found", "due", "closed", "overdue", "reworked"])
    for period in PERIODS:
        fast, slow = _both_ways(busy_city, monkeypatch, level, period)
        for a, b in zip(fast, slow, strict=True):
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-6)
            compared += b[compared.index].sum()
    if level != "community":  # the stats city has no community areas
        assert (compared > 0).all(), compared  # every figure was met, not only zeros


def test_rankings_read_the_summary_for_finished_periods_only(busy_city, monkeypatch) -> None:
    used: list[str] = []
    real = stats.summary_counts_query

    def spy(*args, **kwargs):
        used.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(stats, "summary_counts_query", spy)
    week = parse_period("2026-W47")
    with transaction(busy_city, write=False) as session:
        finished = rankings.rankings(session, "grid", week, now=LATER)
        assert used == ["week"]
        running = rankings.rankings(session, "grid", week, now=datetime(2026, 11, 19))
        assert used == ["week"]  # the week was still running: the problems were read
        elsewhere = rankings.rankings(session, "grid", week, tz="Europe/Berlin", now=LATER)
        assert used == ["week"]  # other local midnights than the summary's
    assert len(finished.ranked) and len(running.rows) == len(finished.rows)
    assert len(elsewhere.rows) == len(finished.rows)


def test_a_stale_summary_is_not_read(busy_city, monkeypatch) -> None:
    with transaction(busy_city) as session:
        session.execute(sa.text("UPDATE summary_meta SET stale = :s").bindparams(s=True))
    monkeypatch.setattr(stats, "summary_counts_query", pytest.fail)
    with transaction(busy_city, write=False) as session:
        frame = stats.rates(session, "grid", parse_period("2026-11"), now=LATER)
    assert frame["due"].sum() > 0


def test_one_problem_lands_in_its_local_periods() -> None:
    # Found Fri 20 Nov 10:00, due Mon 30 Nov 01:00 and closed Wed 2 Dec 10:00 (Beijing);
    # the deadline is still Sunday 29 November in UTC.
    frame = pd.DataFrame(
        {
            "district_id": [1],
            "street_id": [2],
            "community_id": [None],
            "grid_id": [3],
            "unit_id": [9],
            "status": ["closed"],
            "found_at": [datetime(2026, 11, 20, 2)],
            "assigned_at": [datetime(2026, 11, 20, 3)],
            "deadline": [datetime(2026, 11, 29, 17)],
            "rectified_at": [datetime(2026, 11, 30, 15)],  # Mon 30 Nov 23:00 Beijing
            "closed_at": [datetime(2026, 12, 2, 2)],
            "reopen_count": [1],
            "extension_count": [0],
        }
    )
    rows = rate_rows(frame, 480).set_index(["level", "kind", "owner_id", "period_start"])
    assert set(rows.index.get_level_values("level")) == {"district", "street", "grid", "unit"}
    grid = rows.loc[("grid",)]

    def at(kind: str, day: str) -> pd.Series:
        return grid.loc[(kind, 3, np.datetime64(day))]

    assert at("week", "2026-11-16")[["found", "due", "overdue_delta"]].tolist() == [1, 0, 0]
    due_week = at("week", "2026-11-30")  # the week of the local deadline
    assert due_week[["due", "closed", "closed_on_time", "reworked", "rectified"]].tolist() == [
        1,
        1,  # closed on Wednesday, before the week's end
        0,  # after the deadline
        1,
        1,
    ]
    assert due_week["rectify_days"] == pytest.approx(10.5)  # 20 Nov 11:00 → 30 Nov 23:00
    assert due_week["overdue_delta"] == 0  # overdue from Monday, closed the same week
    november, december = at("month", "2026-11-01"), at("month", "2026-12-01")
    # Due in November (the 30th, Beijing), closed only in December: overdue at its end.
    assert november[["found", "due", "closed", "overdue_delta"]].tolist() == [1, 1, 0, 1]
    assert december[["due", "overdue_delta"]].tolist() == [0, -1]
    assert at("quarter", "2026-10-01")[["found", "due", "overdue_delta"]].tolist() == [1, 1, 0]


def test_overdue_spans_the_periods_between_deadline_and_closing() -> None:
    frame = pd.DataFrame(
        {
            "district_id": [None],
            "street_id": [None],
            "community_id": [None],
            "grid_id": [5],
            "unit_id": [None],
            "status": ["closed"],
            "found_at": [datetime(2026, 9, 1)],
            "assigned_at": [None],
            "deadline": [datetime(2026, 9, 10)],
            "rectified_at": [datetime(2026, 11, 20)],
            "closed_at": [datetime(2026, 11, 21)],
            "reopen_count": [0],
            "extension_count": [0],
        }
    )
    rows = rate_rows(frame, 480)
    months = rows[rows["kind"] == "month"].set_index("period_start")["overdue_delta"]
    assert months.to_dict() == {np.datetime64("2026-09-01"): 1, np.datetime64("2026-11-01"): -1}
    sept = rows[(rows["kind"] == "month") & (rows["due"] == 1)]
    assert sept["closed"].tolist() == [0]  # not closed by the end of September
    assert sept["rectified"].tolist() == [0]


def test_migration_creates_and_fills_the_rate_summary(busy_city) -> None:
    with writer(busy_city).begin() as conn:
        command.downgrade(alembic_config(conn), "0010")
        assert not sa.inspect(conn).has_table("rate_summary")
    upgrade(busy_city)  # marks the summary stale: rebuilt right after migrating
    with transaction(busy_city, write=False) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(RateSummary)).scalar()
        assert summary.mismatches(session).empty
        assert not summary.read_meta(session).stale
