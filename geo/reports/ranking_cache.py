"""Rankings kept in process memory (issue 21, item 5): rebuilding a ranking of every grid
from its stored JSON and turning each row into a dict cost a thousand times more than
rendering the page's 200 rows, on every request.

- A published ranking (geo/reports/publications.py) is kept by its publication's id and
  computation time. Publications are immutable: only ``publish_ranking`` and
  ``issue_bulletin`` write them, each adding a row once per period (a unique key), and
  nothing updates or deletes one. So an entry never goes stale, and the copies kept by
  several workers are the same. The time in the key keeps a database recreated under a
  running process (its ids starting over) from reading another database's entry.
- A ranking computed because its period has no publication (still running, a what-if
  list size, or a closed period whose first showing could not be stored) is kept by the
  summary's bookkeeping row (``summary_meta``: its versions grow with every write of
  problems, areas or points, in the writer's transaction) and, while the period runs,
  the minute it was computed for (overdue counts move with the clock), as the heat maps
  are; a closed period also by the previous period's publication (its ranks give the
  rank change). Unit rankings are not kept: adding a responsible unit (a new row of the
  ranking) changes no version.

Kept rows are the whole city's; callers filter to a user's scope after reading. Kept
records are shared between requests: read them, never change them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy.orm as so

from geo.core.periods import Period
from geo.reports import publications
from geo.reports.rankings import Ranking, rankings
from geo.storage.publication_models import Publication
from geo.summary import counts as summary

MAX_ENTRIES = 32
MAX_ROWS = 200_000
"""At 20,000 grids a kept ranking holds ~20 MB of row dicts: bound the rows as well."""
MAX_DERIVED = 16


@dataclass(frozen=True)
class Kept:
    """A ranking and its rows as plain dicts (``Ranking.records()``, the same order), its
    key in the cache (None when not kept: what the ranking depends on, for ETags), and
    what callers derived from them (a rendered page of rows, say), built once while kept."""

    ranking: Ranking
    records: list[dict[str, Any]]
    key: Hashable = None
    _derived: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False)

    def derived(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """What ``build`` makes of this ranking for ``key``: built on first use, then the
        same; at most ``MAX_DERIVED`` kept per ranking (the least recently used go)."""
        with self._lock:
            if key in self._derived:
                self._derived.move_to_end(key)
                return self._derived[key]
        value = build()  # outside the lock: two first uses may both build, alike
        with self._lock:
            self._derived[key] = value
            while len(self._derived) > MAX_DERIVED:
                self._derived.popitem(last=False)
        return value


def keep(ranking: Ranking, key: Hashable = None) -> Kept:
    """``ranking`` with its records built once."""
    return Kept(ranking, ranking.records(), key)


class RankingCache:
    """The most recently used rankings, at most ``entries`` of them and ``rows`` rows in
    all; safe across request threads."""

    def __init__(self, entries: int = MAX_ENTRIES, rows: int = MAX_ROWS) -> None:
        self.entries = entries
        self.rows = rows
        self._kept: OrderedDict[Hashable, Kept] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable) -> Kept | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
            return kept

    def put(self, key: Hashable, kept: Kept) -> None:
        with self._lock:
            if key in self._kept:
                return
            self._kept[key] = kept
            self._rows += len(kept.records)
            while len(self._kept) > 1 and (
                len(self._kept) > self.entries or self._rows > self.rows
            ):
                _, dropped = self._kept.popitem(last=False)
                self._rows -= len(dropped.records)

    def get_or_build(self, key: Hashable, build: Callable[[], Kept]) -> Kept:
        """The ranking kept for ``key``, else ``build()`` kept. Requests asking for the
        same key meanwhile wait for that one build instead of repeating it: on a page's
        first showing under load, every request thread would otherwise compute it."""
        kept = self.get(key)
        if kept is not None:
            return kept
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        try:
            with building:
                kept = self.get(key)
                if kept is None:
                    kept = build()
                    self.put(key, kept)
                return kept
        finally:
            with self._lock:
                self._building.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._rows = 0

    def __len__(self) -> int:
        return len(self._kept)


def published(
    cache: RankingCache, session: so.Session, level: str, period: Period
) -> tuple[Kept, Publication] | None:
    """The published ranking of ``level`` over ``period`` and its publication, or None
    when it was never published. Its figures (the stored JSON) are read and rebuilt only
    when this process does not keep it yet."""
    stored = publications.find(session, "ranking", level, period, figures=False)
    if stored is None:
        return None
    key = ("published", stored.id, stored.computed_at)
    # ranking_from loads the deferred figures
    kept = cache.get_or_build(key, lambda: keep(publications.ranking_from(stored), key))
    return kept, stored


def computed(
    cache: RankingCache,
    session: so.Session,
    level: str,
    period: Period,
    tz: str,
    top: int | None,
    now: datetime,
    frozen: bool,
) -> Kept:
    """The ranking of ``level`` over ``period`` computed as of ``now``'s minute (naive
    UTC). ``frozen``: as it would be published (rank change against the previous
    period's published ranks, when there are any; the level's list size)."""
    meta = summary.read_meta(session)  # before the figures: a write between shows as newer
    closed = publications.is_closed(period, tz, now)
    minute = None if closed else now.replace(second=0, microsecond=0)
    before = published(cache, session, level, period.previous()) if frozen else None
    previous = None if before is None else before[0].key  # the published ranks it uses
    key = ("computed", meta, level, period.code, tz, top, minute, previous)

    def build(key: Hashable = None) -> Kept:
        ranks = None if before is None else publications.ranks(before[0].ranking)
        return keep(rankings(session, level, period, tz, top, minute or now, ranks), key)

    return build() if level == "unit" else cache.get_or_build(key, lambda: build(key))
