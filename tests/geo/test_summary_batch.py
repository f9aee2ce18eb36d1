"""The summary counts computed in pandas for a whole batch (geo/summary/batch.py) agree,
row for row, with a full SQL rebuild; large merges go through COPY on PostgreSQL and keep
any text intact."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.storage.db import transaction
from geo.storage.models import Area, AreaSummary, Problem
from geo.summary import counts as summary
from geo.summary import merge as summary_merge
from geo.summary.batch import BatchCounts
from tests.helpers import load_tiny_city_with_points, write_csv

# Deadlines far from now, so moving the overdue clock (a rebuild does) changes nothing.
CSV = (
    "id,lon,lat,category,found_at,status,deadline,closed_at,campaign,point_code\n"
    "1,120.82,32.01,litter,2026-11-01T09:00:00+08:00,found,2020-01-03T09:00:00Z,,,P1\n"
    "2,120.82,32.02,litter,2026-11-01T07:00:00+08:00,closed,2099-01-03T09:00:00Z,"
    "2026-11-02T09:00:00+08:00,,\n"
    "3,120.96,32.02,illegal_ads,2026-11-01T23:30:00+08:00,assigned,2099-01-01T00:00:00Z,,"
    "psa_upgrade,\n"
    "4,121.50,32.02,illegal_ads,2026-11-02T09:00:00+08:00,found,,,,\n"
    "5,120.92,32.015,litter,2026-11-03T09:00:00+08:00,closed,2020-01-01T00:00:00Z,"
    "2026-11-04T09:00:00+08:00,psa_upgrade,\n"
    "6,120.83,32.01,street_vending,2026-11-03T09:00:00+08:00,closed,,"
    "2026-11-04T09:00:00+08:00,,\n"
    "7,120.96,32.03,litter,2026-11-04T09:00:00+08:00,rectified,2020-01-01T00:00:00Z,,,P3\n"
    "8,120.84,32.01,litter,2026-11-05T09:00:00+08:00,closed,2099-01-01T00:00:00Z,"
    "2026-11-06T09:00:00+08:00,,\n"
    "9,120.85,32.01,illegal_ads,2026-11-05T09:00:00+08:00,found,2020-01-01T00:00:00Z,,,\n"
)
# Voided problems are neither unresolved nor closed (on time or not); held ones are
# unresolved.
SIDE_STATUSES = {"1": "voided", "8": "voided", "9": "held"}


def _summary_rows(session) -> set[tuple]:
    columns = [getattr(AreaSummary, c) for c in (*summary.ROW_KEYS, *summary.MEASURES)]
    rows = session.execute(sa.select(*columns).where(AreaSummary.n != 0)).all()
    return {tuple(r) for r in rows}


def _frame_rows(frame: pd.DataFrame) -> set[tuple]:
    frame = frame[frame["n"] != 0]
    keys = [frame[c].astype(str) for c in summary.ROW_KEYS[:-1]]
    numbers = [frame[c].astype(int) for c in ("area_id", *summary.MEASURES)]
    return set(zip(*keys, *numbers, strict=True))


def _set_status(session, external_ids: dict[str, str]) -> None:
    """Change statuses the way lifecycle code does: snapshot, update, apply_changes."""
    for external_id, status in external_ids.items():
        pid = session.scalar(sa.select(Problem.id).where(Problem.external_id == external_id))
        before = summary.snapshot(session, [pid])
        session.execute(sa.update(Problem).where(Problem.id == pid).values(status=status))
        summary.apply_changes(session, before, summary.snapshot(session, [pid]))


@pytest.fixture
def ingested(engine, tmp_path: Path):
    load_tiny_city_with_points(engine, tmp_path)
    path = write_csv(tmp_path / "p.csv", CSV)
    result = ingest_file(engine, path, IngestOptions(chunk_rows=2))
    assert result.accepted == 9
    return engine


def test_ingest_counts_equal_a_sql_rebuild(ingested) -> None:
    with transaction(ingested) as session:
        _set_status(session, SIDE_STATUSES)
        stored = _summary_rows(session)
        summary.rebuild(session)
        assert _summary_rows(session) == stored
        assert any(r[0] == "day" for r in stored)
        session.rollback()


def test_batch_counts_of_any_chunks_equal_a_sql_rebuild(ingested) -> None:
    with transaction(ingested) as session:
        _set_status(session, SIDE_STATUSES)
        ids = session.scalars(sa.select(Problem.id).order_by(Problem.id)).all()
        counts = BatchCounts(session)
        for start in range(0, len(ids), 4):
            counts.add(summary.snapshot(session, ids[start : start + 4]))
        batch = _frame_rows(counts.total())
        summary.rebuild(session)
        assert batch == _summary_rows(session)
        voided = summary.snapshot(session, ids).query("status == 'voided'")
        assert len(voided) == 2
        session.rollback()


def test_a_large_merge_keeps_any_text_and_adds_to_stored_rows(
    engine, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(summary_merge, "COPY_MIN_ROWS", 1)  # the COPY path on PostgreSQL
    load_tiny_city_with_points(engine, tmp_path)
    texts = ["\\N", "a\tb", "c\\d", "e\nf", "", "普通", "g\rh"]
    with transaction(engine) as session:
        area = session.scalar(sa.select(Area.id).limit(1))
        rows = pd.DataFrame(
            {
                "cube": "attrs",
                "level": "street",
                "k1": texts,
                "k2": list(reversed(texts)),
                "k3": "x",
                "area_id": area,
                "n": 2,
                "unresolved": 1,
                "overdue": 0,
                "closed_on_time": 1,
            }
        )
        summary.add_counts(session, rows)
        summary.add_counts(session, rows)
    with transaction(engine, write=False) as session:
        stored = session.execute(
            sa.select(AreaSummary.k1, AreaSummary.k2, AreaSummary.n).where(
                AreaSummary.cube == "attrs"
            )
        ).all()
    assert sorted(stored) == sorted((a, b, 4) for a, b in zip(texts, reversed(texts), strict=True))


def test_a_bulk_ingest_checks_summary_keys_once_and_keeps_them(
    engine, tmp_path: Path, monkeypatch
) -> None:
    from geo.storage import bulk

    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(summary_merge, "COPY_MIN_ROWS", 1)
    load_tiny_city_with_points(engine, tmp_path)
    keys_before = sa.inspect(engine).get_foreign_keys("area_summary")
    ingest_file(engine, write_csv(tmp_path / "p.csv", CSV), IngestOptions(chunk_rows=4))
    engine.dispose()
    assert sa.inspect(engine).get_foreign_keys("area_summary") == keys_before
    with transaction(engine) as session:
        stored = _summary_rows(session)
        summary.rebuild(session)
        assert _summary_rows(session) == stored
        session.rollback()
