"""The demo city's recorded history (issue 17 item 7, issue 16 item 1): one event per step
every demo problem took — reported, assigned, extended, sent back, rectified, closed,
reopened, held, voided — with the demo users as actors and times consistent with the
problem's stored times and status, so period figures and timelines have data.

The loaded problems carry the main path's times (found, assigned, rectified, closed, the
last round after a reopen); this adds, deterministically (a fixed seed), a few side
paths: a share of never-assigned reports voided, of overdue assigned problems held, of
assigned problems with an approved extension, and of them first sent to the wrong unit.
Their status, extension count and assignment time are updated, with the summaries (only
the changed problems are recounted). Times are naive UTC; the events are written in one
bulk INSERT.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.storage.models import Problem, ProblemEvent, ResponsibleUnit
from geo.summary import counts as summary

SEED = 1617
GRID, OFFICE, CITY = "user:demo-grid", "user:demo-district", "user:demo-city"
SHARES = {"void": 0.2, "hold": 0.03, "extend": 0.06, "send_back": 0.025}
"""Of the candidates (never-assigned reports; overdue assigned; assigned; assigned and not
extended), the share that takes each side path."""
HOUR = pd.Timedelta(hours=1)
NOTES = {
    "report": "网格巡查发现",
    "assign": "交办责任单位整改",
    "rectify": "已按要求整改",
    "close": "复查合格，销号",
    "reopen": "回头看发现反弹，返工",
    "request_extension": "需协调相关部门，申请延期",
    "approve_extension": "同意延期",
    "send_back": "不属于本单位职责，退回",
    "request_hold": "需整体改造，暂无法整改，申请挂账",
    "approve_hold": "同意挂账",
    "void": "重复上报，作废",
}
_SIDE_ACTIONS = ("void", "approve_hold", "approve_extension", "send_back")
"""The first event of each side path (when it changed the problem's figures)."""
_COLUMNS = [
    "problem_id",
    "at",
    "actor",
    "action",
    "from_status",
    "to_status",
    "unit_id",
    "deadline",
]


def record_demo_history(session: so.Session) -> int:
    """Write the history of every problem (the demo's, loaded without events), apply the
    side paths to their rows and summaries. Returns the number of events."""
    frame = _problems(session)
    if frame.empty:
        return 0
    rng = np.random.default_rng(SEED)
    paths = _side_paths(frame, rng)
    units = list(session.scalars(sa.select(ResponsibleUnit.id).order_by(ResponsibleUnit.id)))
    events = pd.concat(
        [_main_path(frame, paths), _side_events(frame, paths, units, rng)], ignore_index=True
    )
    events = events.sort_values(["problem_id", "at", "order"], kind="mergesort")
    events["unit_id"] = pd.to_numeric(events["unit_id"]).astype("Int64")
    changed = [int(i) for i in frame.loc[paths.any(axis=1), "id"]]
    before = summary.snapshot(session, changed)
    _update_rows(session, frame, paths)
    # A side path changes the periods from its first event on; ended ones stay as they stood.
    side = events[events["action"].isin(_SIDE_ACTIONS) & events["problem_id"].isin(changed)]
    as_of = side.groupby("problem_id")["at"].min()
    summary.apply_changes(session, before, summary.snapshot(session, changed), as_of=as_of)
    records = events[_COLUMNS].assign(note=events["action"].map(NOTES))
    records = records.astype(object).where(records.notna(), None)
    session.execute(sa.insert(ProblemEvent), records.to_dict(orient="records"))
    return len(records)


def _problems(session: so.Session) -> pd.DataFrame:
    columns = [
        Problem.id,
        Problem.status,
        Problem.unit_id,
        Problem.found_at,
        Problem.assigned_at,
        Problem.deadline,
        Problem.rectified_at,
        Problem.closed_at,
        Problem.reopen_count,
    ]
    rows = session.execute(sa.select(*columns).order_by(Problem.id)).all()
    frame = pd.DataFrame(rows, columns=[c.key for c in columns])
    for c in ("found_at", "assigned_at", "deadline", "rectified_at", "closed_at"):
        frame[c] = pd.to_datetime(frame[c])
    return frame


def _side_paths(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Which problems take which side path (boolean columns), drawn once."""
    draw = pd.Series(rng.random(len(frame)), index=frame.index)
    draw2 = pd.Series(rng.random(len(frame)), index=frame.index)
    snapshot = frame[["found_at", "assigned_at", "rectified_at", "closed_at"]].max().max()
    assigned = frame["assigned_at"].notna() & frame["deadline"].notna()
    first_round = frame["reopen_count"].fillna(0) == 0
    void = (frame["status"] == "found") & (draw < SHARES["void"])
    overdue = (
        (frame["status"] == "assigned") & assigned & (frame["deadline"] < snapshot - 48 * HOUR)
    )
    hold = overdue & (draw < SHARES["hold"])
    extend = assigned & first_round & ~hold & (draw2 < SHARES["extend"])
    spare = frame["rectified_at"].fillna(frame["deadline"]) - frame["assigned_at"] > 4 * HOUR
    send_back = assigned & first_round & ~extend & ~hold & spare
    send_back &= (draw2 >= SHARES["extend"]) & (draw2 < SHARES["extend"] + SHARES["send_back"])
    return pd.DataFrame({"void": void, "hold": hold, "extend": extend, "send_back": send_back})


def _main_path(frame: pd.DataFrame, paths: pd.DataFrame) -> pd.DataFrame:
    """Reported, then for each earlier round (one per reopen) assigned or reopened,
    rectified and closed, then the stored round: assigned (or reopened) at ``last_start``
    (``_last_start``), rectified and closed at the stored times."""
    parts = [_rows(frame, frame["found_at"], GRID, "report", None, "found", order=0)]
    rounds = frame["reopen_count"].fillna(0).astype(int)
    first, span = frame["assigned_at"], _round_span(frame, rounds)
    for k in range(1, int(rounds.max()) + 1 if len(rounds) else 1):
        sub = frame[rounds >= k]  # round k of the earlier ones happened
        start = (first + span * (k - 1)).loc[sub.index]
        kind, before = ("assign", "found") if k == 1 else ("reopen", "closed")
        step = span.loc[sub.index]
        parts += [
            _rows(sub, start, OFFICE, kind, before, "assigned", unit=sub["unit_id"], order=1),
            _rows(sub, start + step * 0.5, GRID, "rectify", "assigned", "rectified", order=2),
            _rows(sub, start + step * 0.8, OFFICE, "close", "rectified", "closed", order=3),
        ]
    last = _last_start(frame, paths, rounds, span)
    plain = frame["assigned_at"].notna() & (rounds == 0) & ~paths["send_back"]
    for rows, kind, before in ((plain, "assign", "found"), (rounds > 0, "reopen", "closed")):
        parts.append(
            _rows(
                frame[rows],
                last,
                OFFICE,
                kind,
                before,
                "assigned",
                unit=frame["unit_id"],
                deadline=frame["deadline"],
                order=1,
            )
        )
    done, closed = frame["rectified_at"].notna(), frame["closed_at"].notna()
    parts.append(
        _rows(frame[done], frame["rectified_at"], GRID, "rectify", "assigned", "rectified", order=2)
    )
    parts.append(
        _rows(frame[closed], frame["closed_at"], OFFICE, "close", "rectified", "closed", order=3)
    )
    return pd.concat(parts, ignore_index=True)


def _round_span(frame: pd.DataFrame, rounds: pd.Series | int) -> pd.Series:
    """Length of each round before the stored one: the time from the first assignment to
    the stored rectification (else the deadline, else the snapshot), in rounds + 1
    equal parts, so every earlier round ends before the stored one starts."""
    snapshot = _snapshot(frame)
    end = frame["rectified_at"].fillna(frame["deadline"].clip(upper=snapshot)).fillna(snapshot)
    return (end - frame["assigned_at"]) / (rounds + 1)


def _last_start(
    frame: pd.DataFrame, paths: pd.DataFrame, rounds: pd.Series, span: pd.Series
) -> pd.Series:
    """When the stored round started: the stored assignment, after the earlier rounds
    for a reopened problem, after the send-back for one first sent to the wrong unit."""
    last = frame["assigned_at"] + span * rounds
    back = paths["send_back"]
    return last.where(~back, frame["assigned_at"] + span * 0.5)


def _snapshot(frame: pd.DataFrame) -> pd.Timestamp:
    return frame[["found_at", "assigned_at", "rectified_at", "closed_at"]].max().max()


def _side_events(
    frame: pd.DataFrame, paths: pd.DataFrame, units: list[int], rng: np.random.Generator
) -> pd.DataFrame:
    """The side paths' events, between the stored times they must fall between."""
    found, assigned = frame["found_at"], frame["assigned_at"]
    end = frame["rectified_at"].fillna(frame["deadline"]).clip(upper=frame["deadline"])
    snapshot = frame[["found_at", "assigned_at", "rectified_at", "closed_at"]].max().max()
    parts = []
    v = paths["void"]
    void_at = found + ((snapshot - found) / 2).clip(upper=26 * HOUR)
    parts.append(_rows(frame[v], void_at, CITY, "void", "found", "voided", order=4))
    h = paths["hold"]
    ask = assigned + (frame["deadline"] - assigned) * 0.7
    parts.append(_rows(frame[h], ask, GRID, "request_hold", "assigned", "assigned", order=4))
    approve = ask + (frame["deadline"] - ask) * 0.5
    parts.append(_rows(frame[h], approve, CITY, "approve_hold", "assigned", "held", order=5))
    e = paths["extend"]
    ask = assigned + (end - assigned) * 0.4
    parts.append(_rows(frame[e], ask, GRID, "request_extension", "assigned", "assigned", order=4))
    parts.append(
        _rows(
            frame[e],
            ask + (end - ask) * 0.3,
            CITY,
            "approve_extension",
            "assigned",
            "assigned",
            deadline=frame["deadline"],
            order=5,
        )
    )
    s = paths["send_back"]
    wrong = _other_units(frame, units, rng)
    span = _round_span(frame, pd.Series(0, index=frame.index))
    again = assigned + span * 0.5  # the stored round's start (_last_start)
    parts += [
        _rows(frame[s], assigned, OFFICE, "assign", "found", "assigned", unit=wrong, order=1),
        _rows(frame[s], assigned + span * 0.25, GRID, "send_back", "assigned", "found", order=2),
        _rows(
            frame[s],
            again,
            OFFICE,
            "assign",
            "found",
            "assigned",
            unit=frame["unit_id"],
            deadline=frame["deadline"],
            order=3,
        ),
    ]
    return pd.concat(parts, ignore_index=True)


def _other_units(frame: pd.DataFrame, units: list[int], rng: np.random.Generator) -> pd.Series:
    """A unit other than the problem's own (the wrong one a send-back returns from)."""
    if len(units) < 2:
        return pd.Series(units[0] if units else None, index=frame.index)
    pick = pd.Series(rng.choice(units, len(frame)), index=frame.index)
    spare = pd.Series(np.roll(np.asarray(units), 1)[rng.integers(0, len(units), len(frame))])
    return pick.where(pick != frame["unit_id"], spare.set_axis(frame.index))


def _rows(
    frame: pd.DataFrame,
    at: pd.Series,
    actor: str,
    action: str,
    from_status: str | None,
    to_status: str,
    unit: pd.Series | None = None,
    deadline: pd.Series | None = None,
    order: int = 0,
) -> pd.DataFrame:
    index = frame.index
    return pd.DataFrame(
        {
            "problem_id": frame["id"],
            "at": at.loc[index].dt.floor("s"),
            "actor": actor,
            "action": action,
            "from_status": from_status,
            "to_status": to_status,
            "unit_id": None if unit is None else unit.loc[index],
            "deadline": None if deadline is None else deadline.loc[index],
            "order": order,
        },
        index=index,
    )


def _update_rows(session: so.Session, frame: pd.DataFrame, paths: pd.DataFrame) -> None:
    """The side paths' effect on the problem rows: voided and held statuses, the approved
    extension counted (the stored deadline is the extended one)."""
    for column, status in (("void", "voided"), ("hold", "held")):
        ids = [int(i) for i in frame.loc[paths[column], "id"]]
        if ids:
            session.execute(sa.update(Problem).where(Problem.id.in_(ids)).values(status=status))
    ids = [int(i) for i in frame.loc[paths["extend"], "id"]]
    if ids:
        session.execute(sa.update(Problem).where(Problem.id.in_(ids)).values(extension_count=1))
    back = paths["send_back"]
    again = _last_start(frame, paths, pd.Series(0, index=frame.index), _round_span(frame, 0))
    rows = [
        {"pid": int(i), "at": t.to_pydatetime()}
        for i, t in zip(frame.loc[back, "id"], again[back].dt.floor("s"), strict=True)
    ]
    if rows:  # assigned anew, to the right unit, after the send-back
        stmt = sa.update(Problem).where(Problem.id == sa.bindparam("pid"))
        session.connection().execute(stmt.values(assigned_at=sa.bindparam("at")), rows)
