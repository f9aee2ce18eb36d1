"""Search across problems, inspection points, areas and addresses, within a scope.

``search(session, scope, text)`` normalises the query (trimmed, whitespace collapsed,
cut to ``MAX_QUERY`` characters, lone surrogates dropped) and returns ``SearchResults``:
one group per kind, each at most ``limit`` hits, every hit visible to ``scope``
(geo.access.scope.visible, the one scope rule). The text only ever reaches SQL as a
bound LIKE parameter with ``%``, ``_`` and the escape character escaped, so SQL- or
regex-looking input is matched literally.

Matches:
- problems: the number (id) exactly, or the external id containing the text;
- inspection points: code or name containing the text;
- areas: code or name containing the text, or the name's pinyin initials (拼音首字母,
  "dmjd" finds 东门街道) starting with an all-letter query;
- addresses: inspection points whose address contains the text.
``exact_problem`` is the problem whose number is the whole query (the page jumps to it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.access.scope import Scope, visible
from geo.core.params import record_id
from geo.storage.models import Area, InspectionPoint, Problem

MAX_QUERY = 100
"""Characters of the query that are searched; the rest is ignored (no code or name is longer)."""
DEFAULT_LIMIT = 20
_PINYIN_QUERY = re.compile(r"[a-z]{2,20}")
_PINYIN_SCAN = 5000
"""Areas whose initials are compared at most: a city has a few thousand grids."""
AREA_LEVELS = ("district", "street", "community", "grid")


@dataclass(frozen=True)
class Hit:
    """One result: what it is (kind, id, code), its label and the area it lies in."""

    kind: str  # "problem", "point", "area", "address"
    id: int
    code: str
    label: str
    detail: str = ""
    level: str = ""  # areas: their level; points and problems: the finest area's level
    area_code: str = ""  # the finest area the hit lies in (areas: themselves)


@dataclass
class SearchResults:
    """Hits grouped by kind; ``query`` is the normalised text that was searched."""

    query: str
    problems: list[Hit] = field(default_factory=list)
    points: list[Hit] = field(default_factory=list)
    areas: list[Hit] = field(default_factory=list)
    addresses: list[Hit] = field(default_factory=list)
    truncated: bool = False  # the query was longer than MAX_QUERY
    more: frozenset[str] = frozenset()  # groups that had more hits than the limit

    @property
    def groups(self) -> list[tuple[str, list[Hit]]]:
        return [
            ("problems", self.problems),
            ("points", self.points),
            ("areas", self.areas),
            ("addresses", self.addresses),
        ]

    @property
    def total(self) -> int:
        return sum(len(hits) for _, hits in self.groups)

    @property
    def exact_problem(self) -> int | None:
        """The id of the problem whose number is the whole query, if visible."""
        number = record_id(self.query.lstrip("#"))
        return next((h.id for h in self.problems if number is not None and h.id == number), None)


def normalise(text: object) -> tuple[str, bool]:
    """The searchable form of ``text`` and whether it was cut to MAX_QUERY characters."""
    raw = text if isinstance(text, str) else ""
    raw = raw.encode("utf-8", "ignore").decode("utf-8")  # lone surrogates never reach SQL
    cleaned = " ".join(raw.split())
    return cleaned[:MAX_QUERY], len(cleaned) > MAX_QUERY


def search(
    session: so.Session, scope: Scope, text: object, limit: int = DEFAULT_LIMIT
) -> SearchResults:
    """Everything ``scope`` may see that matches ``text`` (see the module docstring).

    An empty query finds nothing. Results are ordered exact matches first, then by id.
    No coordinates are returned (no CRS involved).
    """
    query, truncated = normalise(text)
    results = SearchResults(query=query, truncated=truncated)
    if not query:
        return results
    # One hit past the limit says whether a group has more than it shows.
    found = {
        "problems": _problems(session, scope, query, limit + 1),
        "points": _points(session, scope, query, limit + 1),
        "areas": _areas(session, scope, query, limit + 1),
        "addresses": _addresses(session, scope, query, limit + 1),
    }
    for group, hits in found.items():
        setattr(results, group, hits[:limit])
    results.more = frozenset(group for group, hits in found.items() if len(hits) > limit)
    return results


def _like(
    column: sa.ColumnElement[str] | so.InstrumentedAttribute[str], query: str
) -> sa.ColumnElement[bool]:
    """Case-insensitive "contains", with LIKE's wildcards in ``query`` taken literally."""
    return sa.func.lower(column).contains(query.lower(), autoescape=True)


def _problems(session: so.Session, scope: Scope, query: str, limit: int) -> list[Hit]:
    number = record_id(query.lstrip("#"))
    match = _like(Problem.external_id, query)
    if number is not None:
        match = sa.or_(Problem.id == number, match)
    stmt = (
        sa.select(
            Problem.id, Problem.external_id, Problem.category, Problem.status, *_ancestry(Problem)
        )
        .where(match, visible(scope, Problem))
        .order_by((Problem.id == (number or 0)).desc(), Problem.id)
        .limit(limit)
    )
    rows = session.execute(stmt).all()
    places = _finest_areas(session, rows)
    return [Hit("problem", r.id, r.external_id, r.category, r.status, *places[r.id]) for r in rows]


def _points(session: so.Session, scope: Scope, query: str, limit: int) -> list[Hit]:
    match = sa.or_(_like(InspectionPoint.code, query), _like(InspectionPoint.name, query))
    return _point_hits(session, scope, match, query, limit, "point")


def _addresses(session: so.Session, scope: Scope, query: str, limit: int) -> list[Hit]:
    match = _like(sa.func.coalesce(InspectionPoint.address, ""), query)
    return _point_hits(session, scope, match, query, limit, "address")


def _point_hits(
    session: so.Session,
    scope: Scope,
    match: sa.ColumnElement[bool],
    query: str,
    limit: int,
    kind: str,
) -> list[Hit]:
    point = InspectionPoint
    stmt = (
        sa.select(point.id, point.code, point.name, point.address, point.kind, *_ancestry(point))
        .where(match, visible(scope, point))
        .order_by((sa.func.lower(point.code) == query.lower()).desc(), point.id)
        .limit(limit)
    )
    rows = session.execute(stmt).all()
    places = _finest_areas(session, rows)
    return [
        Hit(
            kind,
            r.id,
            r.code,
            r.name,
            (r.address or "") if kind == "address" else r.kind,
            *places[r.id],
        )
        for r in rows
    ]


def _areas(session: so.Session, scope: Scope, query: str, limit: int) -> list[Hit]:
    base = sa.select(Area.id, Area.level, Area.code, Area.name).where(
        Area.level.in_(AREA_LEVELS), visible(scope, Area)
    )
    match = sa.or_(_like(Area.code, query), _like(Area.name, query))
    stmt = base.where(match).order_by((Area.code == query).desc(), Area.id).limit(limit)
    rows = list(session.execute(stmt).all())
    if len(rows) < limit and _PINYIN_QUERY.fullmatch(query.lower()):
        seen = {r.id for r in rows}
        # Initials are not stored: computed per name (cached), only for letter queries.
        for r in session.execute(base.order_by(Area.id).limit(_PINYIN_SCAN)):
            if r.id not in seen and initials(r.name).startswith(query.lower()):
                rows.append(r)
                if len(rows) >= limit:
                    break
    return [Hit("area", r.id, r.code, r.name, "", r.level, r.code) for r in rows]


@functools.lru_cache(maxsize=65536)
def initials(name: str) -> str:
    """The lower-case pinyin initials of ``name``'s Chinese characters ("东门街道" → "dmjd");
    letters and digits are kept as they are, anything else dropped."""
    from pypinyin import Style, lazy_pinyin

    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")
    return "".join(ch for ch in "".join(letters).lower() if ch.isascii() and ch.isalnum())


_FINEST_FIRST = ("grid", "community", "street", "district")


def _ancestry(
    entity: type[Problem] | type[InspectionPoint],
) -> list[so.InstrumentedAttribute[int | None]]:
    return [getattr(entity, f"{level}_id") for level in _FINEST_FIRST]


def _finest_areas(session: so.Session, rows: Sequence[Any]) -> dict[int, tuple[str, str]]:
    """Row id → (level, code) of the finest area the row lies in; ("", "") outside all."""
    finest: dict[int, tuple[str, int | None]] = {}
    for row in rows:
        level = next((lvl for lvl in _FINEST_FIRST if getattr(row, f"{lvl}_id") is not None), "")
        finest[row.id] = (level, getattr(row, f"{level}_id") if level else None)
    wanted = sorted({id_ for _, id_ in finest.values() if id_ is not None})
    codes = (
        dict(session.execute(sa.select(Area.id, Area.code).where(Area.id.in_(wanted))).all())
        if wanted
        else {}
    )
    return {key: (level, codes.get(id_, "") if id_ else "") for key, (level, id_) in finest.items()}
