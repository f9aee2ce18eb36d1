"""Frozen publications (geo/reports/publications.py) on the hand-checked week of
tests/stats_data.py: a reopen after publication leaves the published ranking unchanged
and, the period's figures being as they stood at its end, the recomputed view too; a
problem of the period filed later shows in the recomputed view; rank change compares with the
published previous ranking; an issued bulletin is byte-reproducible (HTML and PDF)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from geo.core.periods import parse_period
from geo.core.taxonomy_file import default_taxonomy
from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.lifecycle import transitions as lifecycle
from geo.lifecycle.changes import Change
from geo.lifecycle.selection import Selection
from geo.reports import publications as pub
from geo.reports import score_publications as sp
from geo.reports.scores import quarterly_scores
from geo.storage.db import transaction
from geo.storage.models import Problem
from geo.storage.publication_models import Publication
from tests.helpers import write_csv
from tests.stats_data import LATE_CSV, load_stats_city

AFTER = datetime(2026, 12, 1)  # W47 (16–22 Nov) is over
W46, W47 = parse_period("2026-W46"), parse_period("2026-W47")
Q4 = parse_period("2026-Q4")
NEW_YEAR = datetime(2027, 1, 5)  # Q4 is over
EAST = "329901001"
BOSS = "city_officer"


@pytest.fixture
def city(engine, tmp_path: Path):
    load_stats_city(engine, tmp_path)
    return engine


def _act(engine, external_id: str, change: Change) -> None:
    with engine.connect() as conn:
        pid = conn.execute(sa.select(Problem.id).where(Problem.external_id == external_id))
        ids = (pid.scalar_one(),)
    lifecycle.apply(engine, Selection(ids=ids), change)


def _publish(engine, level: str, period, now=AFTER) -> None:
    with transaction(engine) as session:
        ranking, stored = pub.frozen_ranking(session, level, period, now=now)
        assert stored is None
        pub.publish_ranking(session, ranking, now)


def _east(ranking):
    return ranking.rows.set_index("code").loc[EAST]


def test_a_reopen_after_publication_leaves_the_published_figures(city) -> None:
    _publish(city, "street", W47)
    _act(city, "P1", Change("reopen", "市创建办", "回头看发现反弹", at=AFTER + timedelta(days=1)))
    with transaction(city, write=False) as session:
        ranking, stored = pub.frozen_ranking(session, "street", W47, now=AFTER)
        assert stored is not None and stored.computed_at == AFTER
        east = _east(ranking)
        # As published: due P1–P4, closed P1 P2 (50.0 %), rank 2 behind 南湖.
        assert (east.due, east.closed, east.closed_on_time, east["rank"]) == (4, 2, 1, 2)
        comparison = pub.compare_ranking(session, stored, "Asia/Shanghai", AFTER + timedelta(2))
    # The reopen came after W47 ended: recomputed today, W47 still stands as it did at its
    # end (issue 16 item 1), so nothing differs; the event is listed all the same.
    assert comparison.changes == [] and comparison.since == {"reopen": 1}


def test_a_late_file_shows_in_the_recomputed_view(city, tmp_path: Path) -> None:
    _publish(city, "street", W47)
    # A problem of W47 filed after publication (from a file: no recorded events):
    # due Thu 19 Nov, closed on time → 东门 due 4 → 5, closed 2 → 3, on time 1 → 2.
    late = write_csv(tmp_path / "late.csv", LATE_CSV)
    ingest_file(city, late, IngestOptions(source="late"))
    with transaction(city, write=False) as session:
        _, stored = pub.frozen_ranking(session, "street", W47, now=AFTER)
        assert stored is not None
        comparison = pub.compare_ranking(session, stored, "Asia/Shanghai", AFTER + timedelta(2))
    change = next(c for c in comparison.changes if c["code"] == EAST)
    figures = change["figures"]
    assert (figures["due"], figures["closed"], figures["closed_on_time"]) == (
        (4, 5),
        (2, 3),
        (1, 2),
    )


def test_rank_change_compares_with_the_published_previous_ranking(city) -> None:
    _publish(city, "street", W46)  # W46: only P5 (东门) was due → 东门 ranked 1st
    _act(city, "P5", Change("request_hold", "东门", "需整体改造", at=AFTER))
    _act(city, "P5", Change("approve_hold", "市创建办", at=AFTER, role=BOSS))
    with transaction(city, write=False) as session:
        ranking, stored = pub.frozen_ranking(session, "street", W47, now=AFTER)
    # Recomputed today W46 has nothing due (P5 is held), but the published rank stands.
    east = _east(ranking)
    assert stored is None and east.previous_rank == 1 and east.rank_change == -1


def test_publishing_twice_keeps_the_first(city) -> None:
    _publish(city, "street", W47)
    with transaction(city) as session:
        ranking, _ = pub.frozen_ranking(session, "street", W47, now=AFTER)
        again = pub.publish_ranking(session, ranking, AFTER + timedelta(days=3))
        assert again.computed_at == AFTER
        assert session.scalar(sa.select(sa.func.count()).select_from(Publication)) == 1


def test_an_issued_bulletin_is_byte_reproducible(city) -> None:
    taxonomy = default_taxonomy()
    with transaction(city) as session:
        first = pub.issue_bulletin(session, W47, taxonomy, now=AFTER, issued_by="test")
        html = first.html
    assert html and "文明城市创建工作周通报" in html
    _act(city, "P1", Change("reopen", "市创建办", "反弹", at=AFTER + timedelta(days=1)))
    with transaction(city) as session:
        again = pub.issue_bulletin(session, W47, taxonomy, now=AFTER + timedelta(days=2))
        assert again.html == html and again.issued_by == "test"
        kinds = session.execute(sa.select(Publication.kind, Publication.level)).all()
        # The bulletin's three rankings were published with it.
        assert sorted(kinds) == [
            ("bulletin", ""),
            ("ranking", "district"),
            ("ranking", "street"),
            ("ranking", "unit"),
        ]
        archive = pub.archive(session)
    assert [(p.kind, p.period) for p in archive] == [("bulletin", "2026-W47")]
    assert pub.bulletin_pdf(again) == pub.bulletin_pdf(first)


def test_a_running_week_is_shown_but_not_stored(city) -> None:
    during = datetime(2026, 11, 18)
    with transaction(city) as session:
        shown = pub.issue_bulletin(session, W47, default_taxonomy(), now=during)
        assert shown.id is None and "本期尚未结束" in (shown.html or "")
        assert session.scalar(sa.select(sa.func.count()).select_from(Publication)) == 0


def test_published_scores_stay_when_a_report_is_voided_later(city) -> None:
    taxonomy = default_taxonomy()
    with transaction(city) as session:
        frame, stored = sp.frozen_scores(session, "street", Q4, taxonomy)
        assert stored is None
        assert sp.publish_scores(session, "street", Q4, frame, now=AFTER) is None  # Q4 runs
        stored = sp.publish_scores(session, "street", Q4, frame, now=NEW_YEAR, issued_by="t")
        assert stored is not None
        stored_id = stored.id
    later = NEW_YEAR + timedelta(days=1)
    _act(city, "P7", Change("void", "市创建办", "重复上报", at=later, role=BOSS))
    with transaction(city, write=False) as session:
        published, again = sp.frozen_scores(session, "street", Q4, taxonomy)
        today = quarterly_scores(session, "street", Q4, taxonomy)
        assert again is not None and (again.id, again.computed_at) == (stored_id, NEW_YEAR)
    assert list(published.columns) == list(today.columns)
    # 东门 in Q4: 5 failing locations (P1=P2 one litter spot, P3, P4, P5, P6 = P3's spot
    # and category, P7) → civilized_city 100 − 7 = 93.0. P7 (unsafe_charging, weight 2.0,
    # 东门 has fewer than 3 points: no normalisation) voided after publication: the
    # published score stays 93.0, a recomputation gives 95.0.
    east = published.set_index("code").loc[EAST]
    assert (east.civilized_city, east.civilized_city_deduction, east.indicators) == (93.0, 7.0, 5)
    assert east.rural_environment is None and east.civilized_city_detail
    assert today.set_index("code").loc[EAST].civilized_city == 95.0
