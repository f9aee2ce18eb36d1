"""geo.areas.loading.load_areas refuses bad boundary files: the message names the feature and the
reason, and nothing is written (both backends)."""

from __future__ import annotations

import json
import os

import pytest
import sqlalchemy as sa

from geo.areas.loading import AreaLoadOptions, load_areas
from geo.core.errors import AreaLoadError, InputFileError
from geo.storage.models import Area
from tests.helpers import (
    STREETS,
    box_feature,
    load_tiny_city,
    point_feature,
    raises_msg,
    table_counts,
    write_geojson,
)


def _snapshot(engine) -> tuple[dict[str, int], list[tuple]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                Area.id, Area.level, Area.code, Area.name, Area.parent_id, Area.area_m2
            ).order_by(Area.id)
        ).all()
    return table_counts(engine), [tuple(r) for r in rows]


# --- bad input: message names the feature and the reason, nothing is written ---------


def _garbage(tmp_path):
    path = tmp_path / "garbage.geojson"
    path.write_bytes(os.urandom(256) + b"\x00\xff\xfe")
    return path, AreaLoadOptions(level="street")


def _csv_named_geojson(tmp_path):
    path = tmp_path / "table.geojson"
    path.write_text("code,name,lon,lat\n329901009,x,120.8,32.0\n", encoding="utf-8")
    return path, AreaLoadOptions(level="street")


def _empty_file(tmp_path):
    path = tmp_path / "empty.geojson"
    path.write_bytes(b"")
    return path, AreaLoadOptions(level="street")


def _missing_field(tmp_path):
    return write_geojson(tmp_path / "s.geojson", STREETS), AreaLoadOptions(
        level="street", code_field="jddm"
    )


def _missing_code(tmp_path):
    features = [
        box_feature(120.80, 32.00, 120.85, 32.04, code="329901009", name="a"),
        box_feature(120.85, 32.00, 120.90, 32.04, code="  ", name="b"),
    ]
    return write_geojson(tmp_path / "s.geojson", features), AreaLoadOptions(level="street")


def _duplicate_code(tmp_path):
    features = [
        box_feature(120.80, 32.00, 120.82, 32.04, code="329901009", name="a"),
        box_feature(120.82, 32.00, 120.84, 32.04, code="329901010", name="b"),
        box_feature(120.84, 32.00, 120.86, 32.04, code="329901009", name="c"),
    ]
    return write_geojson(tmp_path / "s.geojson", features), AreaLoadOptions(level="street")


def _unknown_parent(tmp_path):
    features = [
        box_feature(120.80, 32.00, 120.85, 32.04, code="329901009", name="a", parent_code="329901"),
        box_feature(120.85, 32.00, 120.90, 32.04, code="329901010", name="b", parent_code="329999"),
    ]
    return write_geojson(tmp_path / "s.geojson", features), AreaLoadOptions(level="street")


def _point_geometry(tmp_path):
    features = [
        box_feature(120.80, 32.00, 120.85, 32.04, code="329901009", name="a"),
        point_feature(120.86, 32.02, code="329901010", name="b"),
    ]
    return write_geojson(tmp_path / "s.geojson", features), AreaLoadOptions(level="street")


def _unknown_level(tmp_path):
    return write_geojson(tmp_path / "s.geojson", STREETS), AreaLoadOptions(level="village")


def _outside_every_parent(tmp_path):
    features = [
        box_feature(120.80, 32.00, 120.85, 32.04, code="329901009", name="a"),
        box_feature(122.00, 32.00, 122.05, 32.04, code="329901010", name="far"),
    ]
    return write_geojson(tmp_path / "s.geojson", features), AreaLoadOptions(level="street")


BAD_INPUTS = {
    "garbage-bytes": (_garbage, InputFileError, ["garbage.geojson", "not a readable"]),
    "csv-named-geojson": (_csv_named_geojson, InputFileError, ["table.geojson", "not a readable"]),
    "empty-file": (_empty_file, InputFileError, ["empty.geojson", "empty file"]),
    "missing-field": (
        _missing_field,
        InputFileError,
        ["missing field 'jddm' (--code-field)", "parent_code"],
    ),
    "missing-code": (_missing_code, AreaLoadError, ["feature 2: missing code"]),
    "duplicate-code": (
        _duplicate_code,
        AreaLoadError,
        ["feature 3: duplicate code '329901009' (also feature 1)"],
    ),
    "unknown-parent": (
        _unknown_parent,
        AreaLoadError,
        ["feature 2 (329901010)", "parent code '329999' is not a loaded district"],
    ),
    "point-geometry": (
        _point_geometry,
        AreaLoadError,
        ["feature 2", "geometry is a Point", "Polygon or MultiPolygon"],
    ),
    "unknown-level": (_unknown_level, AreaLoadError, ["unknown level 'village'", "grid"]),
    "outside-every-parent": (
        _outside_every_parent,
        AreaLoadError,
        ["feature 2 (329901010)", "not inside any district"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_names_feature_and_reason_and_writes_nothing(engine, tmp_path, case):
    build, error, fragments = BAD_INPUTS[case]
    load_tiny_city(engine, tmp_path)
    before = _snapshot(engine)
    path, options = build(tmp_path)
    with pytest.raises(error) as excinfo:
        load_areas(engine, path, options)
    message = excinfo.value.message("en")
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message.strip()
    assert _snapshot(engine) == before


def test_failure_after_valid_features_rolls_back_all(engine, tmp_path):
    # Feature 1 is fine and new; feature 2 lies outside every district. Nothing of
    # feature 1 may be written either.
    load_tiny_city(engine, tmp_path)
    before = _snapshot(engine)
    features = [
        box_feature(120.80, 32.00, 120.81, 32.01, code="329901001001", name="ok"),
        box_feature(125.00, 32.00, 125.01, 32.01, code="329901001002", name="far"),
    ]
    with raises_msg(AreaLoadError, "feature 2"):
        load_areas(
            engine,
            write_geojson(tmp_path / "c.geojson", features),
            AreaLoadOptions(level="community"),
        )
    assert _snapshot(engine) == before


def test_geojson_without_features_refused(engine, tmp_path):
    path = tmp_path / "none.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}), encoding="utf-8")
    before = table_counts(engine)
    with pytest.raises((AreaLoadError, InputFileError)):
        load_areas(engine, path, AreaLoadOptions(level="district"))
    assert table_counts(engine) == before
