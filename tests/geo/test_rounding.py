"""One rounding (geo/core/rounding.py): exact rates, half-up once, at display."""

from __future__ import annotations

from geo.core.rounding import number, percent, points


def test_percent_rounds_once_half_up() -> None:
    assert percent(38, 73) == "52.1%"  # 52.0548 %: rounding 0.5205 first would give 52.0 %
    assert percent(21, 40) == "52.5%" and percent(1, 8) == "12.5%"
    assert percent(1, 16) == "6.3%"  # 6.25 → half up
    assert percent(0, 0) == "—" and percent(3, None) == "—"
    assert percent(2, 2) == "100.0%" and percent(1, 3, digits=2) == "33.33%"


def test_points_and_numbers() -> None:
    assert points((1, 2), (1, 3)) == "+16.7" and points((1, 3), (1, 2)) == "-16.7"
    assert points((1, 2), (2, 4)) == "+0.0" and points((1, 2), (0, 0)) == "—"
    assert points((1, 16), (0, 1)) == "+6.3" and points((0, 1), (1, 16)) == "-6.3"
    assert number(2.25) == "2.3" and number(float("nan")) == "—" and number(None) == "—"


def test_dashboard_rates_are_rounded_once_from_the_counts() -> None:
    import pandas as pd

    from geo.reports.dashboard import _on_time

    totals = pd.DataFrame({"closed_on_time": [38, 0, 1], "closed": [73, 0, 1], "due": [73, 0, 8]})
    on_time, closure = _on_time(["a", "b", "c"], totals).series
    # 38 of 73 = 52.0547…%: 52.1%, not 52.0% (0.5205 rounded first, then 52.05 → 52.0);
    # 1 of 8 = 12.5% exactly; nothing due: no value, "—".
    assert on_time.texts == ["52.1%", "—", "12.5%"] and closure.texts == ["100.0%", "—", "12.5%"]
    assert on_time.values == [38 / 73, None, 0.125]
