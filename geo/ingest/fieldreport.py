"""A report from the field (/report, the phone app): one problem through the same intake
as the API (geo/ingest/intake.py ``create_problem``), made idempotent by the phone's
client-generated id, and optionally fixed on the spot (即查即改).

The client id is the problem's ``external_id`` under source ``mobile``: a report sent
again after a lost response (or replayed from the offline queue) finds the problem it
already created instead of making a second one. A problem fixed on the spot is stored as
found and then rectified in the same transaction, with both events in its history; it
still needs verification (close 销号) like any rectified problem.
Coordinates are WGS-84 lon/lat degrees; times naive UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so
from pyproj import Geod

from geo.access.scope import Scope, scoped
from geo.core.errors import InvalidParameterError, NotFoundError
from geo.core.taxonomy import Taxonomy
from geo.core.text import tr
from geo.ingest.intake import create_problem
from geo.storage.models import ANCESTRY_COLUMNS, Problem, ProblemEvent
from geo.storage.models import InspectionPoint as P
from geo.summary import counts as summary

SOURCE = "mobile"
"""The ``source`` of problems reported from the phone app."""
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class Outcome:
    """The problem a report made (or had already made: ``created`` False)."""

    problem_id: int
    created: bool


def existing_report(session: so.Session, client_id: str, scope: Scope) -> Outcome | None:
    """The problem an earlier send of report ``client_id`` created, if any.

    Raises ``InvalidParameterError`` for a malformed id and ``NotFoundError`` when the
    problem exists but lies outside ``scope`` (someone else's id is never revealed)."""
    check_client_id(client_id)
    row = session.execute(
        sa.select(Problem.id, *(getattr(Problem, c) for c in ANCESTRY_COLUMNS)).where(
            Problem.source == SOURCE, Problem.external_id == client_id
        )
    ).first()
    if row is None:
        return None
    if not scope.contains(*row[1:]):
        raise NotFoundError(tr("找不到该上报", "no such report"))
    return Outcome(int(row[0]), created=False)


def create_report(
    session: so.Session,
    client_id: str,
    data: Mapping[str, Any],
    actor: str,
    taxonomy: Taxonomy,
    tz: str,
    scope: Scope,
) -> Problem:
    """Create the problem of report ``client_id`` (``data``: the intake fields
    ``category``, ``lon``, ``lat``, ``description``, ``point_code``, ``found_at``) in the
    caller's transaction; the scope and every field are checked by the intake."""
    check_client_id(client_id)
    fields = {k: v for k, v in data.items() if v not in (None, "")}
    fields.update(source=SOURCE, external_id=client_id)
    return create_problem(session, fields, actor, taxonomy, tz, scope)


def fix_on_spot(
    session: so.Session, problem: Problem, actor: str, note: str, photo: str | None
) -> None:
    """Record that the just-reported ``problem`` was fixed on the spot: status
    rectified, a rectify event with ``note`` and the "after" ``photo``, summary counts
    moved, all in the caller's transaction."""
    note = note.strip()
    if not note:
        raise InvalidParameterError(
            tr("即查即改需要填写整改说明", "a note is required for a fix on the spot")
        )
    now = datetime.now(UTC).replace(tzinfo=None)
    before = _summary_frame(problem)
    problem.status, problem.rectified_at = "rectified", now
    problem.version = problem.version + 1
    session.add(
        ProblemEvent(
            problem_id=problem.id,
            at=max(now, problem.found_at),
            actor=actor,
            action="rectify",
            from_status="found",
            to_status="rectified",
            note=note[:2000],
            photo=photo,
        )
    )
    session.flush()
    summary.apply_changes(session, before, _summary_frame(problem))


def attach_photo(session: so.Session, problem_id: int, photo: str) -> None:
    """Keep the "before" ``photo`` on the report event of ``problem_id``."""
    session.execute(
        sa.update(ProblemEvent)
        .where(ProblemEvent.problem_id == problem_id, ProblemEvent.action == "report")
        .values(photo=photo)
    )


def check_client_id(client_id: str) -> None:
    """Refuse a client id that is not 8–64 letters, digits, ``-`` or ``_``."""
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise InvalidParameterError(
            tr(
                "client_id 应为 8–64 位字母、数字、- 或 _",
                "client_id must be 8–64 letters, digits, - or _",
            )
        )


def _summary_frame(problem: Problem) -> pd.DataFrame:
    return pd.DataFrame([{c: getattr(problem, c) for c in summary.SOURCE_COLUMNS}])


NEARBY_LIMIT = 10


def nearby_points(
    session: so.Session, scope: Scope, lon: float, lat: float, radius_m: float = 500.0
) -> list[dict[str, Any]]:
    """Inspection points of ``scope`` within ``radius_m`` metres of (``lon``, ``lat``)
    (WGS-84 degrees), nearest first, at most ``NEARBY_LIMIT``; each with ``code``,
    ``name``, ``kind`` and ``distance_m`` (metres on the WGS-84 ellipsoid, to the point's
    representative location)."""
    dlat = radius_m / 110_000.0  # a little more than a degree's shortest length: a box
    dlon = dlat / max(np.cos(np.radians(lat)), 0.01)  # that surely holds the circle
    stmt = scoped(
        sa.select(P.code, P.name, P.kind, P.lon, P.lat).where(
            P.lon.between(lon - dlon, lon + dlon), P.lat.between(lat - dlat, lat + dlat)
        ),
        scope,
        P,
    )
    frame = pd.DataFrame(
        session.execute(stmt).all(), columns=["code", "name", "kind", "lon", "lat"]
    )
    if frame.empty:
        return []
    n = len(frame)
    _, _, dist = Geod(ellps="WGS84").inv(
        np.full(n, lon), np.full(n, lat), frame["lon"].to_numpy(), frame["lat"].to_numpy()
    )
    frame["distance_m"] = np.round(dist).astype(int)
    near = frame[frame["distance_m"] <= radius_m].sort_values(["distance_m", "code"])
    return near.head(NEARBY_LIMIT)[["code", "name", "kind", "distance_m"]].to_dict("records")
