"""Keyset paging of OGC API items: which row ids make a page, and the ``next`` cursor.

A page is chosen with ids only (the collection's order: id, or ``sortby`` then id, NULL
the highest value on both backends), so the features are rendered for the page's rows alone. The
``next`` link carries a cursor: the sort values and the id of the page's last row,
base64url-encoded JSON. Following it asks for the rows after that key, which both
engines find from an index at any depth; ``offset`` (Part 1) still works but has to
step over the rows before it (an id-only scan). ``numberMatched`` is counted only up to
``geo.export.query.COUNT_CAP`` rows: beyond that it is left out (the spec makes it
optional), as an exact count of a million rows would cost more than the page itself.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.core.errors import InvalidParameterError
from geo.core.text import tr
from geo.export.query import count_up_to, filtered, model_of
from geo.reports.filters import ProblemFilter, Target

Key = tuple[Any, ...]
"""A row's sort values then its id."""


def encode_cursor(key: Key) -> str:
    """The ``cursor`` argument text of a row's key (times as ISO 8601, naive UTC)."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(target: Target, sortby: Sequence[tuple[str, bool]], text: str) -> Key:
    """The key in a ``cursor`` argument for this ``sortby``; ``InvalidParameterError``
    (400) if it is not one this server wrote for that order."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = json.loads(raw.decode())
    except (binascii.Error, ValueError):
        raise _bad_cursor(text) from None
    if not isinstance(values, list) or len(values) != len(sortby) + 1:
        raise _bad_cursor(text)
    model = model_of(target)
    columns = [getattr(model, name) for name, _ in sortby] + [model.id]
    return tuple(_value(column, value, text) for column, value in zip(columns, values, strict=True))


def _value(column: Any, value: Any, text: str) -> Any:
    if value is None:
        if column.key == "id":
            raise _bad_cursor(text)
        return None
    kind = column.type.python_type
    if kind is datetime and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise _bad_cursor(text) from None
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is str and isinstance(value, str):
        return value
    raise _bad_cursor(text)


def _bad_cursor(text: str) -> InvalidParameterError:
    return InvalidParameterError(
        tr(
            f"cursor 无效(请使用 next 链接中的值): '{text[:40]}'",
            f"invalid cursor (use the value from a next link): '{text[:40]}'",
        )
    )


def page_keys(
    session: so.Session,
    target: Target,
    filt: ProblemFilter,
    where: Sequence[sa.ColumnElement[bool]],
    sortby: Sequence[tuple[str, bool]],
    limit: int,
    offset: int = 0,
    after: Key | None = None,
) -> list[Key]:
    """Keys (sort values, id) of up to ``limit + 1`` rows in order, from ``offset`` or
    after the key ``after``, within ``filt`` (and its scope) and ``where``. One more row
    than the page tells whether there is a next page."""
    model = model_of(target)
    sort_columns = [getattr(model, name) for name, _ in sortby]
    stmt = filtered(sa.select(*sort_columns, model.id), target, filt).where(*where)
    if after is not None:
        stmt = stmt.where(_after(model, sortby, after))
    order = [_order(c, descending) for c, (_, descending) in zip(sort_columns, sortby, strict=True)]
    stmt = stmt.order_by(*order, model.id)  # ties by ascending id
    stmt = stmt.limit(limit + 1).offset(offset or None)
    return [tuple(row) for row in session.execute(stmt).all()]


def _order(column: Any, descending: bool) -> Any:
    """NULLs count as the highest value, as PostgreSQL's b-tree indexes keep them (last
    ascending, first descending), so the index serves either direction; SQLite is told."""
    if not column.nullable:
        return column.desc() if descending else column.asc()
    return column.desc().nulls_first() if descending else column.asc().nulls_last()


def _after(model: Any, sortby: Sequence[tuple[str, bool]], key: Key) -> sa.ColumnElement[bool]:
    """Rows that come after ``key`` in the order (sort values, NULL highest, then id)."""
    *values, last_id = key
    later: sa.ColumnElement[bool] = model.id > last_id
    # Built from the last sort column up: after on column i, or equal there and after
    # on the rest.
    for (name, descending), value in reversed(list(zip(sortby, values, strict=True))):
        column = getattr(model, name)
        if value is None:  # NULL is highest: last ascending, first descending
            equal = sa.and_(column.is_(None), later)
            later = sa.or_(column.is_not(None), equal) if descending else equal
            continue
        beyond = column < value if descending else column > value
        if column.nullable and not descending:
            beyond = sa.or_(beyond, column.is_(None))
        later = sa.or_(beyond, sa.and_(column == value, later))
        if not column.nullable:
            # A bound the index can start from; the OR above alone it cannot use.
            later = sa.and_(column <= value if descending else column >= value, later)
    return later


def capped_count(
    session: so.Session,
    target: Target,
    filt: ProblemFilter,
    where: Sequence[sa.ColumnElement[bool]],
) -> int | None:
    """How many rows match, or None when more than ``COUNT_CAP`` do."""
    model = model_of(target)
    return count_up_to(session, filtered(sa.select(model.id), target, filt).where(*where))
