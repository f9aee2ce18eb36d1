"""The one rounding of published figures (issue 16): rates are kept exact, as a numerator
and a denominator, and rounded once, at display, half-up (``ROUND_HALF_UP``, so 38 of 73
= 52.054794…% shows as 52.1%, never 52.0% from a value rounded twice).

Pages (a Jinja filter), the CLI, the bulletin and the API's display fields all call these.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

PERCENT_DIGITS = 1
"""Decimals of a percentage (a city may configure another number)."""

DASH = "—"


def exact(numerator: Any, denominator: Any) -> Fraction | None:
    """The rate numerator ÷ denominator as an exact fraction; None when nothing was due
    (denominator 0 or missing)."""
    if denominator is None or numerator is None or int(denominator) == 0:
        return None
    return Fraction(int(numerator), int(denominator))


def half_up(value: Fraction | float | int, digits: int) -> Decimal:
    """``value`` rounded half-up to ``digits`` decimals, once (a float is taken at its
    shortest decimal form, so 0.5250000000000001 stays above the half)."""
    if isinstance(value, Fraction):
        decimal = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        decimal = Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)
    return decimal.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def percent(
    numerator: Any, denominator: Any, digits: int = PERCENT_DIGITS, sign: bool = False
) -> str:
    """numerator ÷ denominator as a percentage text, e.g. ``percent(38, 73)`` → "52.1%";
    "—" when nothing was due. Exact arithmetic, one half-up rounding."""
    rate = exact(numerator, denominator)
    if rate is None:
        return DASH
    return _text(half_up(rate * 100, digits), sign) + "%"


def points(now: tuple[Any, Any], before: tuple[Any, Any], digits: int = PERCENT_DIGITS) -> str:
    """Change of a rate in percentage points, (num, den) now minus (num, den) before,
    exact, rounded once half-up (away from zero for negative halves); "—" when either
    rate is missing. E.g. ``points((1, 2), (1, 3))`` → "+16.7"."""
    a, b = exact(*now), exact(*before)
    if a is None or b is None:
        return DASH
    diff = (a - b) * 100
    rounded = half_up(abs(diff), digits)
    return _text(-rounded if diff < 0 else rounded, sign=True)


def number(value: Any, digits: int = 1) -> str:
    """A measured number (average days, a score) rounded half-up once; "—" for None/NaN."""
    if value is None or (isinstance(value, float) and value != value):
        return DASH
    return _text(half_up(value, digits), False)


def _text(value: Decimal, sign: bool) -> str:
    text = f"{value:f}"
    if text.startswith("-") and value == 0:
        text = text[1:]
    return f"+{text}" if sign and not text.startswith("-") else text
