"""Visits carried by survey files, inside the ingest pipeline (geo/ingest/pipeline.py).

In a file with a result (结果/测评结果/result) or round (轮次/round) column, or ingested with
``IngestOptions.round``, a row naming a point code, a result or a round is a visit of the
inspection point its point code names, in the round of its 轮次 cell, else the option's,
else the one round whose period and scope contain it. With no category it is a visit
only (a "pass" when the result says so); with a category it is also a problem found in
that visit.
Rows of the same round, point and time are one visit; its result is the worst one given,
or fail when problems were found and no result was given. A visit needs a known point
code, in the round's scope, on one of the round's days; other rows are rejected with
their reason. Visits are written with the batch (same transaction) and a visit already
recorded (same round, point and time) is reused, so ingesting a file again adds nothing.
Times are naive UTC; the round's days are local (``tz``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite

from geo.core.errors import NotFoundError
from geo.core.text import in_lang, tr
from geo.ingest.rows import Reject
from geo.rounds.rounds import (
    FAILED,
    RESULTS,
    find_round,
    in_period,
    link_problems,
    scope_conditions,
)
from geo.storage.db import is_postgres
from geo.storage.models import InspectionPoint, Problem
from geo.storage.round_models import InspectionRound, Visit

_RANK = {r: i for i, r in enumerate(RESULTS)}  # pass < fail < serious_fail
_KEY = ["round_id", "point_id", "found_at"]


WGS84_NAMES = ("EPSG:4326", "EPSG:4490")


def fill_point_locations(session: so.Session, table: pd.DataFrame, crs: str) -> None:
    """Rows naming a point code but no coordinates take the point's location (WGS-84;
    only when the file's coordinates are WGS-84 / CGCS2000, so nothing needs converting)."""
    if "point_code" not in table or crs not in WGS84_NAMES:
        return
    for axis in ("lon", "lat"):
        if axis not in table:
            table[axis] = ""
    blank = (
        table["point_code"].notna()
        & (table["lon"].fillna("").astype(str).str.strip() == "")
        & (table["lat"].fillna("").astype(str).str.strip() == "")
    )
    if not blank.any():
        return
    codes = table.loc[blank, "point_code"].astype(str).str.strip()
    rows = session.execute(
        sa.select(InspectionPoint.code, InspectionPoint.lon, InspectionPoint.lat).where(
            InspectionPoint.code.in_(codes.unique().tolist())
        )
    ).all()
    where = {code: (repr(lon), repr(lat)) for code, lon, lat in rows}
    known = codes.map(lambda c: c in where)
    hit = codes[known]
    table.loc[hit.index, "lon"] = hit.map(lambda c: where[c][0]).to_numpy()
    table.loc[hit.index, "lat"] = hit.map(lambda c: where[c][1]).to_numpy()


@dataclass
class VisitRounds:
    """Rounds met while ingesting one file: by name or id, with their scope (point ids)."""

    session: so.Session
    default: str | None
    tz: str
    rounds: dict[str, InspectionRound | None] = field(default_factory=dict)
    scopes: dict[int, set[int]] = field(default_factory=dict)
    new_visits: int = 0
    known_visits: int = 0
    visit_file: bool = False  # the file has a result or round column

    def mark(self, rows: pd.DataFrame, rejects: list[Reject]) -> pd.DataFrame:
        """Give visit rows their ``round_id``; refuse those that cannot be visits."""
        rows["round_id"] = pd.array([None] * len(rows), dtype="Int64")
        is_visit = rows["result"].notna() | rows["round"].notna()
        if self.default is not None or self.visit_file:  # every row at a named point
            is_visit |= rows["point_code"].notna()
        if not is_visit.any():
            return rows
        reasons = pd.Series("", index=rows.index, dtype=object)
        self._no_point(rows, is_visit, reasons)
        self._round_ids(rows, is_visit & (reasons == ""), reasons)
        self._scope(rows, is_visit & (reasons == ""), reasons)
        bad = (reasons != "").to_numpy()
        for i in np.flatnonzero(bad):
            zh, en = in_lang(reasons.iloc[i], "zh"), in_lang(reasons.iloc[i], "en")
            rejects.append(
                Reject(int(rows["row"].iloc[i]), zh, en, rows["external_id"].iloc[i] or None)
            )
        return rows.loc[~bad].reset_index(drop=True)

    def write(self, rows: pd.DataFrame, batch_id: int | None, actor: str) -> pd.DataFrame:
        """Insert the visits of ``rows`` (one per round, point and time; inspector
        ``actor`` when the file names none) and return the problem rows' links as
        (external_id, visit_id)."""
        visits = rows[rows["round_id"].notna()]
        if visits.empty:
            return pd.DataFrame(columns=["external_id", "visit_id"])
        grouped = _grouped(visits, actor)
        self._insert(grouped, batch_id)
        ids = self._ids(grouped)
        keyed = visits.merge(ids, on=_KEY, how="left")
        found = keyed[keyed["category"].notna()]
        return found[["external_id", "visit_id"]]

    def link(self, source: str, links: pd.DataFrame) -> None:
        """Link the just written problems (by source and external id) to their visits."""
        if links.empty:
            return
        stored = pd.DataFrame(
            self.session.execute(
                sa.select(Problem.external_id, Problem.id).where(
                    Problem.source == source,
                    Problem.external_id.in_(links["external_id"].tolist()),
                )
            ).all(),
            columns=["external_id", "problem_id"],
        )
        link_problems(self.session, links.merge(stored, on="external_id"))

    # --- steps --------------------------------------------------------------------------

    def _no_point(self, rows: pd.DataFrame, mask: pd.Series, reasons: pd.Series) -> None:
        missing = mask & rows["point_id"].isna()
        reasons[missing] = tr("测评记录需要点位编码", "a visit needs a point code (点位编码)")

    def _round_ids(self, rows: pd.DataFrame, mask: pd.Series, reasons: pd.Series) -> None:
        names = rows["round"].where(rows["round"].notna(), self.default)
        for name in names[mask & names.notna()].unique():
            rnd = self._round(str(name))
            hit = mask & (names == name)
            if rnd is None:
                reasons[hit] = tr(f"未知的测评轮次 '{name}'", f"unknown round '{name}'")
            else:
                rows.loc[hit, "round_id"] = rnd.id
        guess = mask & names.isna()
        if guess.any():
            self._guess(rows, guess, reasons)

    def _guess(self, rows: pd.DataFrame, mask: pd.Series, reasons: pd.Series) -> None:
        """Rows naming no round: the one round whose period and scope hold them."""
        rounds = [r for r in self._all_rounds()]
        hits = pd.DataFrame(
            {
                r.id: in_period(r, rows["found_at"], self.tz).to_numpy()
                & rows["point_id"].isin(self._scope_of(r)).to_numpy()
                for r in rounds
            },
            index=rows.index,
        )
        count = hits.sum(axis=1) if rounds else pd.Series(0, index=rows.index)
        one = mask & (count == 1)
        if one.any():
            rows.loc[one, "round_id"] = hits.loc[one].idxmax(axis=1).astype("int64")
        reasons[mask & (count == 0)] = tr(
            "没有包含该点位和时间的测评轮次（请加“轮次”列或 --round）",
            "no round holds this point and time (add a 轮次/round column or --round)",
        )
        reasons[mask & (count > 1)] = tr(
            "多个测评轮次包含该点位和时间（请加“轮次”列或 --round）",
            "several rounds hold this point and time (add a 轮次/round column or --round)",
        )

    def _scope(self, rows: pd.DataFrame, mask: pd.Series, reasons: pd.Series) -> None:
        for round_id in rows.loc[mask, "round_id"].dropna().unique():
            rnd = self.session.get(InspectionRound, int(round_id))
            assert rnd is not None
            mine = mask & (rows["round_id"] == round_id)
            outside = mine & ~rows["point_id"].isin(self._scope_of(rnd))
            reasons[outside] = tr(
                f"点位不在「{rnd.name}」的测评范围内",
                f"point outside the scope of round '{rnd.name}'",
            )
            late = mine & ~outside & ~in_period(rnd, rows["found_at"], self.tz)
            reasons[late] = tr(
                f"测评时间不在「{rnd.name}」期间（{rnd.starts_on} – {rnd.ends_on}）",
                (
                    f"visit time outside the period of round '{rnd.name}' "
                    f"({rnd.starts_on} – {rnd.ends_on})"
                ),
            )

    def _round(self, name: str) -> InspectionRound | None:
        if name not in self.rounds:
            try:
                self.rounds[name] = find_round(self.session, name)
            except NotFoundError:  # an unknown round is a reject, not a failure
                self.rounds[name] = None
        return self.rounds[name]

    def _all_rounds(self) -> list[InspectionRound]:
        return list(self.session.scalars(sa.select(InspectionRound).order_by(InspectionRound.id)))

    def _scope_of(self, rnd: InspectionRound) -> set[int]:
        if rnd.id not in self.scopes:
            ids = self.session.scalars(
                sa.select(InspectionPoint.id).where(*scope_conditions(self.session, rnd))
            )
            self.scopes[rnd.id] = set(ids)
        return self.scopes[rnd.id]

    def _insert(self, grouped: pd.DataFrame, batch_id: int | None) -> None:
        before = self._count()
        records = [
            {
                "round_id": int(r.round_id),
                "point_id": int(r.point_id),
                "visited_at": r.found_at.to_pydatetime(),
                "inspector": r.inspector,
                "result": r.result,
                "note": r.note,
                "batch_id": batch_id,
            }
            for r in grouped.itertuples(index=False)
        ]
        insert: Any = postgresql.insert if is_postgres(self.session) else sqlite.insert
        stmt = insert(Visit).on_conflict_do_nothing(
            index_elements=["round_id", "point_id", "visited_at"]
        )
        self.session.execute(stmt, records)
        added = self._count() - before
        self.new_visits += added
        self.known_visits += len(records) - added

    def _count(self) -> int:
        return int(self.session.scalar(sa.select(sa.func.count(Visit.id))) or 0)

    def _ids(self, grouped: pd.DataFrame) -> pd.DataFrame:
        rounds = [int(r) for r in grouped["round_id"].unique()]
        points = [int(p) for p in grouped["point_id"].unique()]
        rows = self.session.execute(
            sa.select(Visit.round_id, Visit.point_id, Visit.visited_at, Visit.id).where(
                Visit.round_id.in_(rounds), Visit.point_id.in_(points)
            )
        ).all()
        ids = pd.DataFrame(rows, columns=[*_KEY, "visit_id"])
        ids["found_at"] = pd.to_datetime(ids["found_at"]).astype("datetime64[us]")
        for column in ("round_id", "point_id"):
            ids[column] = ids[column].astype("Int64")
        return ids


def _grouped(visits: pd.DataFrame, actor: str) -> pd.DataFrame:
    """One row per visit: worst result given (fail if none but problems), inspector, note."""
    frame = visits.assign(
        rank=visits["result"].map(_RANK).astype("float64"),
        has_problem=visits["category"].notna(),
        visit_note=visits["description"].where(visits["category"].isna()),
    )
    grouped = frame.groupby(_KEY, as_index=False, dropna=False).agg(
        rank=("rank", "max"),
        has_problem=("has_problem", "any"),
        inspector=("inspector", "first"),
        note=("visit_note", lambda s: "；".join(s.dropna().astype(str))),
    )
    names = list(RESULTS)
    fallback = np.where(grouped["has_problem"], FAILED[0], "pass")
    grouped["result"] = [
        names[int(r)] if r == r else f for r, f in zip(grouped["rank"], fallback, strict=True)
    ]
    grouped["inspector"] = grouped["inspector"].fillna(actor).astype(str).str.slice(0, 100)
    grouped["found_at"] = pd.to_datetime(grouped["found_at"]).astype("datetime64[us]")
    return grouped
