"""geo/reports/ranking_cache.py: the bounded cache, what it keys published and computed
rankings by, and that unit rankings are never kept."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from geo.core.periods import parse_period
from geo.reports import publications as pub
from geo.reports import ranking_cache as rc
from geo.reports.rankings import Ranking, rankings
from geo.storage.db import transaction
from geo.storage.publication_models import Publication
from tests.stats_data import load_stats_city

AFTER = datetime(2026, 12, 1)
W46, W47 = parse_period("2026-W46"), parse_period("2026-W47")
TZ = "Asia/Shanghai"


@pytest.fixture
def city(engine, tmp_path: Path):
    load_stats_city(engine, tmp_path)
    return engine


def _kept(rows: int) -> rc.Kept:
    frame = pd.DataFrame({"id": range(rows), "rank": [1.0] * rows})
    return rc.Kept(Ranking("grid", W47, W46, 3, frame), [{"id": i} for i in range(rows)])


def test_the_cache_drops_the_least_recently_used_past_its_entries() -> None:
    cache = rc.RankingCache(entries=2)
    cache.put("a", _kept(1))
    cache.put("b", _kept(1))
    assert cache.get("a") is not None  # now "b" is the least recently used
    cache.put("c", _kept(1))
    assert cache.get("b") is None and cache.get("a") and cache.get("c") and len(cache) == 2


def test_the_cache_is_bounded_by_rows_but_keeps_the_newest() -> None:
    cache = rc.RankingCache(entries=10, rows=5)
    cache.put("a", _kept(3))
    cache.put("b", _kept(3))
    assert cache.get("a") is None and cache.get("b") is not None
    cache.put("huge", _kept(50))  # larger than the bound alone: kept, the rest dropped
    assert len(cache) == 1 and cache.get("huge") is not None


def test_requests_for_a_ranking_being_built_wait_for_that_build() -> None:
    cache = rc.RankingCache()
    started, asked, release = threading.Event(), threading.Event(), threading.Event()
    builds: list[int] = []

    def build() -> rc.Kept:
        builds.append(1)
        started.set()
        release.wait(30)
        return _kept(1)

    plain_get = cache.get

    def get(key: object) -> rc.Kept | None:
        found = plain_get(key)
        if threading.current_thread().name == "second" and found is None:
            asked.set()  # the second request found nothing kept: it must now wait
        return found

    cache.get = get  # type: ignore[method-assign]
    first = threading.Thread(target=cache.get_or_build, args=("k", build))
    second = threading.Thread(target=cache.get_or_build, args=("k", build), name="second")
    first.start()
    started.wait(30)
    second.start()
    asked.wait(30)
    release.set()
    first.join(30)
    second.join(30)
    assert builds == [1] and cache.get("k") is not None


def test_a_publication_is_kept_by_its_id_and_computation_time(city) -> None:
    cache = rc.RankingCache()
    with transaction(city) as session:
        ranking, _ = pub.frozen_ranking(session, "street", W47, TZ, AFTER)
        pub.publish_ranking(session, ranking, AFTER)
    with transaction(city) as session:
        found = rc.published(cache, session, "street", W47)
        assert found is not None and found[0].records == ranking.records()
        assert rc.published(cache, session, "street", W46) is None
    # Another publication under the same id (a database recreated meanwhile): another
    # computation time, other figures (a list size of 1).
    with transaction(city) as session:
        old_id = found[1].id
        session.execute(sa.delete(Publication))
        other = rankings(session, "street", W47, TZ, 1, AFTER)
        new_id = pub.publish_ranking(session, other, AFTER + timedelta(days=1)).id
        session.execute(sa.update(Publication).where(Publication.id == new_id).values(id=old_id))
    with transaction(city) as session:
        again = rc.published(cache, session, "street", W47)
        assert again is not None and again[1].id == old_id
        assert again[0].ranking.top == 1 and len(cache) == 2


def test_unit_rankings_are_computed_each_time(city) -> None:
    cache = rc.RankingCache()
    with transaction(city) as session:
        for level in ("street", "unit"):
            rc.computed(cache, session, level, W47, TZ, 1, AFTER, frozen=False)
    assert len(cache) == 1  # the street ranking only


def test_a_computed_ranking_of_a_running_period_is_kept_for_its_minute(city) -> None:
    cache = rc.RankingCache()
    during = datetime(2026, 11, 18, 9, 30, 5)
    with transaction(city) as session:
        first = rc.computed(cache, session, "street", W47, TZ, None, during, frozen=False)
        same = rc.computed(
            cache, session, "street", W47, TZ, None, during + timedelta(seconds=30), frozen=False
        )
        later = rc.computed(
            cache, session, "street", W47, TZ, None, during + timedelta(minutes=1), frozen=False
        )
        fresh = rankings(session, "street", W47, TZ, None, during.replace(second=0))
    assert same is first and later is not first and len(cache) == 2
    assert first.records == fresh.records()
