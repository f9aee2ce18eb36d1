"""Published quarterly scores (issue 16, item 2): a closed quarter's scores of one level,
frozen when first shown (``/scores``, ``/api/v1/scores``, ``civicgrid scores``) with the
computation time, like rankings and bulletins (geo/reports/publications.py). Later views
read the stored rows, so a report voided or filed after publication changes a recomputation,
never what was published. A running quarter is computed each time and never stored.

Rows are stored as canonical JSON (columns in order, then one list per area); scores and
deductions are the points of geo/reports/scores.py (rounded once, at display). Times are
naive UTC.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy.orm as so

from geo.core.periods import Period
from geo.core.taxonomy import Taxonomy
from geo.reports.publications import find, is_closed
from geo.reports.scores import quarterly_scores
from geo.storage.publication_models import Publication

KIND = "scores"


def frozen_scores(
    session: so.Session,
    level: str,
    quarter: Period,
    taxonomy: Taxonomy,
    tz: str = "Asia/Shanghai",
) -> tuple[pd.DataFrame, Publication | None]:
    """The scores of ``level`` over ``quarter`` as published (and their publication), or
    computed now when they never were (publication None). Columns as ``quarterly_scores``."""
    stored = find(session, KIND, level, quarter)
    if stored is not None:
        return scores_from(stored), stored
    return quarterly_scores(session, level, quarter, taxonomy, tz), None


def publish_scores(
    session: so.Session,
    level: str,
    quarter: Period,
    frame: pd.DataFrame,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
    issued_by: str = "",
) -> Publication | None:
    """Store ``frame`` (every area's row, the city's) as the scores of a closed quarter,
    unless it already has them; return the stored publication, or None while the quarter
    runs (its end in ``tz``; nothing stored). ``now`` is naive UTC. The caller owns the
    transaction."""
    stored = find(session, KIND, level, quarter)
    now = now or _utcnow()
    if stored is not None or not is_closed(quarter, tz, now):
        return stored
    return _store(session, level, quarter, frame, now, issued_by)


def scores_from(publication: Publication) -> pd.DataFrame:
    """The published scores, rebuilt from the stored rows (columns in their order)."""
    figures = json.loads(publication.figures)
    return pd.DataFrame(figures["rows"], columns=figures["columns"], dtype=object)


def _store(
    session: so.Session,
    level: str,
    quarter: Period,
    frame: pd.DataFrame,
    now: datetime,
    issued_by: str,
) -> Publication:
    rows = [[_plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    figures = {"level": level, "period": quarter.code, "columns": list(frame.columns)}
    publication = Publication(
        kind=KIND,
        level=level,
        period=quarter.code,
        period_kind=quarter.kind,
        computed_at=now,
        issued_by=issued_by,
        figures=json.dumps(
            {**figures, "rows": rows}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        ),
        html=None,
    )
    session.add(publication)
    session.flush()
    return publication


def _plain(value: Any) -> Any:
    """A cell as JSON: numpy numbers as Python numbers, NaN as None, details as they are."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
