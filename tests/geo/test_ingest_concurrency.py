"""A long ingest does not make other writers wait (issue 22, item 3), on PostgreSQL: while
a batch is being written, a lifecycle change of a stored problem goes through at once;
an overdue-clock advance committed meanwhile is settled when the batch ends, so the
summaries still agree with a recount."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from geo.areas.units import unit_ids
from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.lifecycle.changes import Change
from geo.lifecycle.transitions import transition
from geo.storage.models import Problem
from geo.summary import clock
from geo.summary import counts as summary
from tests.helpers import load_tiny_city, write_csv

HEADER = "id,lon,lat,category,found_at,status,unit,deadline\n"


def test_lifecycle_writes_and_clock_advances_go_through_during_an_ingest(engine, tmp_path) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time by design (busy timeout, then 503)")
    load_tiny_city(engine, tmp_path)
    ingest_file(
        engine, write_csv(tmp_path / "a.csv", HEADER + "A1,120.82,32.01,litter,2024-05-01,,,\n")
    )
    with so.Session(engine) as session, session.begin():
        unit_ids(session, ["东门街道办事处"])
    now = summary.utcnow()
    soon = (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = "".join(
        f"N{i},120.8{i % 9 + 1},32.02,litter,2024-05-01,assigned,东门街道办事处,{soon}\n"
        for i in range(40)
    )
    started, go = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def pause(done: int, total: int) -> None:
        if not started.is_set():
            started.set()
            go.wait(30)

    def run() -> None:
        try:
            options = IngestOptions(source="long", chunk_rows=10, progress=pause)
            ingest_file(engine, write_csv(tmp_path / "long.csv", HEADER + rows), options)
        except BaseException as exc:  # reported in the main thread
            failure.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert started.wait(30), "the ingest did not start"
        with so.Session(engine) as session, session.begin():
            session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            pid = session.scalar(sa.select(Problem.id).where(Problem.external_id == "A1"))
            change = Change("assign", actor="test", unit="东门街道办事处", version=1)
            transition(session, pid, change)
        with so.Session(engine) as session, session.begin():
            session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            clock.advance_clock(session, now + timedelta(hours=3))  # past the batch's deadlines
    finally:
        go.set()
        worker.join(60)
    assert not failure, failure
    with so.Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Problem)) == 41
        assert summary.mismatches(session).empty
