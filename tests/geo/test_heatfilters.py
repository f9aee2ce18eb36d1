"""Parsing heat filters from query arguments: canonical values, clear errors."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from werkzeug.datastructures import MultiDict

from geo.core.taxonomy_file import default_taxonomy
from geo.reports.heat_filters import (
    FilterError,
    HeatFilters,
    parse_bbox,
    parse_filters,
    parse_filters_strict,
    parse_int,
)
from tests.helpers import raises_msg

TAX = default_taxonomy()


def test_defaults_and_canonical_arguments() -> None:
    view, errors = parse_filters({}, TAX)
    assert view == HeatFilters() and errors == [] and view.query_args() == {}
    args = MultiDict(
        [
            ("category", "litter,暴露垃圾/环境卫生差"),
            ("category", "Illegal ads / posting / graffiti"),
            ("level", "street"),
        ]
    )
    view, errors = parse_filters(args, TAX)
    assert errors == []
    assert view.categories == ("illegal_ads", "litter")  # labels resolved, sorted, unique
    assert view.query_args() == {"level": "street", "category": "illegal_ads,litter"}
    assert parse_filters(view.query_args(), TAX)[0] == view  # round trip


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({"category": "nope"}, "category", "unknown category 'nope'"),
        ({"kind": "castle"}, "kind", "unknown kind"),
        ({"campaign": "x"}, "campaign", "unknown campaign"),
        ({"level": "planet"}, "level", "bad level"),
        ({"metric": "sum"}, "metric", "bad metric"),
        ({"status": "open"}, "status", "bad status"),
        ({"from": "2026-13-01"}, "from", "malformed date"),
        ({"to": "2026/11/01"}, "to", "malformed date"),
        ({"from": "1850-01-01"}, "from", "years 2000-2100"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "from", "reversed date range"),
        ({"district": "x" * 40}, "district", "bad district"),
    ],
)
def test_bad_values_are_reported_and_dropped(args, field, fragment) -> None:
    view, errors = parse_filters(args, TAX)
    assert [e.field for e in errors] == [field]
    assert fragment in errors[0].en and errors[0].zh
    assert view == HeatFilters() or field == "from"
    with raises_msg(FilterError, fragment):
        parse_filters_strict(args, TAX)


def test_found_bounds_are_local_days_in_utc() -> None:
    view = HeatFilters(found_from=date(2026, 11, 1), found_to=date(2026, 11, 1))
    assert view.found_bounds(480) == (datetime(2026, 10, 31, 16), datetime(2026, 11, 1, 16))


@pytest.mark.parametrize(
    "text", ["1,2,3", "a,b,c,d", "1e308,0,1,1", "0,0,200,10", "10,0,5,10", "nan,0,1,1", "0,0,1,inf"]
)
def test_bad_bbox_is_refused(text: str) -> None:
    with raises_msg(FilterError, "bbox"):
        parse_bbox(text)


def test_bbox_and_int_parsing() -> None:
    assert parse_bbox("120.8,31.9,121,32.1") == (120.8, 31.9, 121.0, 32.1)
    assert parse_bbox("") is None
    assert parse_int("zoom", "12", 3, 0, 22) == 12 and parse_int("zoom", None, 3, 0, 22) == 3
    with raises_msg(FilterError, "zoom"):
        parse_int("zoom", "99", 3, 0, 22)
    with raises_msg(FilterError, "zoom"):
        parse_int("zoom", "x", 3, 0, 22)
