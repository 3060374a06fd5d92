"""The one ratio of two columns: numerator / denominator, NaN where the denominator is 0 or
missing. Every rate (KPIs, revenue rates, health rates, the pandas reference) divides this
way, so a 0 base never shows as 0% or infinity."""

from __future__ import annotations

import pandas as pd


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator as float64, NaN where the denominator is 0 or NaN."""
    den = denominator.astype("float64")
    return numerator.astype("float64") / den.where(den != 0)
