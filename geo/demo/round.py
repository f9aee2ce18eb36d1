"""A round of field evaluation for the demo city, through the same paths users take.

``add_demo_round`` creates "2026年第四季度实地测评" (1 October – 31 December 2026, every point
kind, the whole city) and writes a survey file of visits the way an evaluation team's
spreadsheet looks (点位编码, 测评结果, 问题类别, 问题描述, 检查时间, 测评员, 轮次; no
coordinates: the points' locations are used), then ingests it. About seven points in ten
are visited between 12 October and 20 November; three visits in ten fail (one in six
of those seriously), each failure with one or two problems of a category usual for the
point's kind. Seeded: the same every time.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.core.taxonomy import Taxonomy
from geo.core.taxonomy_file import default_taxonomy
from geo.core.text import tr
from geo.ingest.pipeline import IngestOptions, ingest_file
from geo.rounds.rounds import RoundSpec, create_round
from geo.storage.db import transaction
from geo.storage.models import InspectionPoint

DEMO_ROUND = "2026年第四季度实地测评"
SEED = 2026
INSPECTORS = ("测评组一 王敏", "测评组二 李强", "测评组三 陈静", "暗访组 周涛")


def add_demo_round(
    engine: Engine, taxonomy: Taxonomy | None = None, echo: Callable[[str], object] = print
) -> int:
    """Create the demo round and ingest its visits; returns the number of visits."""
    taxonomy = taxonomy or default_taxonomy()
    spec = RoundSpec(
        DEMO_ROUND,
        date(2026, 10, 1),
        date(2026, 12, 31),
        description="市文明办组织的季度实地测评（四不两直）",
        created_by="demo",
    )
    with transaction(engine) as session:
        create_round(session, spec, taxonomy)
        points = session.execute(
            sa.select(InspectionPoint.code, InspectionPoint.kind).order_by(InspectionPoint.code)
        ).all()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo-visits.csv"
        _write_visits(path, [(c, k) for c, k in points], taxonomy)
        result = ingest_file(
            engine, path, IngestOptions(source="demo-round", actor="demo"), taxonomy
        )
    echo(
        tr(
            f"round: {DEMO_ROUND}, {result.visits} 次测评",
            f"round: {DEMO_ROUND}, {result.visits} visits",
        )
    )
    return result.visits


def _write_visits(path: Path, points: list[tuple[str, str]], taxonomy: Taxonomy) -> None:
    rng = np.random.default_rng(SEED)
    header = ["编号", "点位编码", "测评结果", "问题类别", "问题描述", "检查时间", "测评员", "轮次"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        for n, (code, kind) in enumerate(points):
            if rng.random() > 0.72:
                continue
            day = date.fromordinal(date(2026, 10, 12).toordinal() + int(rng.integers(0, 40)))
            hour, minute = int(rng.integers(8, 18)), int(rng.integers(0, 60))
            when = f"{day:%Y-%m-%d} {hour:02d}:{minute:02d}"
            who = INSPECTORS[int(rng.integers(0, len(INSPECTORS)))]
            roll = rng.random()
            result = "合格" if roll < 0.7 else ("严重不合格" if roll > 0.95 else "不合格")
            if result == "合格":
                out.writerow([f"V{n}", code, result, "", "", when, who, DEMO_ROUND])
                continue
            usual = [c.code for c in taxonomy.categories_for_kind(kind)] or ["litter"]
            picked = rng.choice(usual, size=min(len(usual), int(rng.integers(1, 3))), replace=False)
            for i, category in enumerate(picked):
                label = taxonomy.category_label(str(category))
                row = [
                    f"V{n}-{i}",
                    code,
                    result,
                    category,
                    f"测评发现：{label}",
                    when,
                    who,
                    DEMO_ROUND,
                ]
                out.writerow(row)
