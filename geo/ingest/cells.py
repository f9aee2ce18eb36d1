"""Column helpers of row validation: a column's text without per-value work, and the
reason a row is refused (the first reason found wins)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def as_text(values: pd.Series) -> pd.Series:
    """A column as object-dtype text with "" for missing values (no per-value work)."""
    values = values.astype(object)
    return values.where(values.notna(), "")


def flag(bad: pd.Series, mask: pd.Series | np.ndarray, reason: str) -> None:
    """Record ``reason`` for rows in ``mask`` that have no reason yet (first one wins)."""
    bad[np.asarray(mask, bool) & (bad == "").to_numpy()] = reason
