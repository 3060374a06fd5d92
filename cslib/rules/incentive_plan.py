"""The CSM incentive plan (``cslib/config/incentives.toml``, method section 7): rate,
coefficient bands on the book's health-rate month-over-month, and what a book earns.

A rule set a company decides, not a query: the payouts per CSM and team, which need the
database, are in cslib.views.incentives. Worked example: a book of 1.2M ARR, all healthy,
rate 1%: 1,200,000 / 12 x 1% = 1,000; MoM 106% -> coefficient 1.1 -> 1,100.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from cslib.errors import UserError
from cslib.rules import tomlfile
from cslib.settings import CONFIG_DIR

DEFAULT_PATH = CONFIG_DIR / "incentives.toml"
_KEYS = {"rate", "deferred_is_unhealthy", "no_history_coefficient", "bands"}


@dataclass(frozen=True)
class IncentivePlan:
    """rate (share of healthy MRR), bands ((min_mom, coefficient), ...) ascending from 0,
    deferred_is_unhealthy, no_history_coefficient. Construction validates (UserError)."""

    rate: float = 0.01
    bands: tuple[tuple[float, float], ...] = ((0.0, 0.8), (0.95, 0.9), (1.0, 1.0), (1.06, 1.1))
    deferred_is_unhealthy: bool = True
    no_history_coefficient: float = 1.0
    source: str = "incentive plan"

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", tuple((float(lo), float(c)) for lo, c in self.bands))
        object.__setattr__(self, "rate", float(self.rate))
        object.__setattr__(self, "no_history_coefficient", float(self.no_history_coefficient))

        def fail(key: str, problem: str) -> UserError:
            return UserError(f"{self.source}: {key}: {problem}")

        if not (math.isfinite(self.rate) and self.rate >= 0):
            raise fail("rate", f"must be a number >= 0, got {self.rate:g}")
        if not (math.isfinite(self.no_history_coefficient) and self.no_history_coefficient >= 0):
            raise fail("no_history_coefficient", "must be a number >= 0")
        if not self.bands:
            raise fail("bands", "must be a non-empty list of [min_mom, coefficient]")
        if self.bands[0][0] != 0:
            raise fail("bands", f"the first band must start at 0, got {self.bands[0][0]:g}")
        for lo, c in self.bands:
            if not (math.isfinite(lo) and math.isfinite(c)) or c < 0:
                raise fail("bands", f"min_mom and coefficient must be finite, coefficient >= 0 (band {lo:g})")
        mins = [lo for lo, _ in self.bands]
        for a, b in zip(mins, mins[1:]):
            if not a < b:
                raise fail("bands", f"min_mom must be strictly ascending ({a:g} then {b:g})")


def load_incentive_plan(path: str | os.PathLike | None = None) -> IncentivePlan:
    """Read and validate an incentive TOML (default ``cslib/config/incentives.toml``)."""
    path = Path(path) if path is not None else DEFAULT_PATH
    data = tomlfile.read(path, "incentive plan")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise UserError(f"{path}: unknown key {unknown[0]}")
    missing = sorted(_KEYS - set(data))
    if missing:
        raise UserError(f"{path}: missing key {missing[0]}")
    bands = data["bands"]
    if not isinstance(bands, list) or not all(isinstance(b, list) and len(b) == 2 for b in bands):
        raise UserError(f"{path}: bands: must be a list of [min_mom, coefficient]")
    if not isinstance(data["deferred_is_unhealthy"], bool):
        raise UserError(f"{path}: deferred_is_unhealthy: must be true or false")
    try:
        return IncentivePlan(
            rate=data["rate"],
            bands=tuple((b[0], b[1]) for b in bands),
            deferred_is_unhealthy=data["deferred_is_unhealthy"],
            no_history_coefficient=data["no_history_coefficient"],
            source=str(path),
        )
    except (TypeError, ValueError):
        raise UserError(f"{path}: rate, bands and no_history_coefficient must be numbers") from None


def coefficient(mom: float | None, plan: IncentivePlan) -> float:
    """The coefficient of a health-rate MoM (1.06 = +6%): the band with the highest
    min_mom <= MoM (lower bound inclusive, MoM rounded to 9 decimals); the plan's
    no_history_coefficient when MoM is None/NaN (no healthy MRR last month)."""
    if mom is None or (isinstance(mom, float) and math.isnan(mom)):
        return plan.no_history_coefficient
    m = round(float(mom), 9)
    chosen = plan.bands[0][1]
    for lo, c in plan.bands:
        if m >= lo:
            chosen = c
    return chosen


def commission(healthy_mrr: float, mom: float | None, plan: IncentivePlan) -> float:
    """healthy_mrr (per month, currency) x rate x coefficient(mom), rounded to cents."""
    return round(float(healthy_mrr) * plan.rate * coefficient(mom, plan), 2)


def band_table(plan: IncentivePlan) -> pd.DataFrame:
    """The plan's bands as rows: from_mom, to_mom (exclusive; NaN = no upper end), coefficient."""
    los = [lo for lo, _ in plan.bands]
    return pd.DataFrame(
        {
            "from_mom": los,
            "to_mom": [*los[1:], np.nan],
            "coefficient": [c for _, c in plan.bands],
        }
    )


def plan_from_table(table: pd.DataFrame, rate: float, base: IncentivePlan) -> IncentivePlan:
    """A plan with the bands of an edited table (columns from_mom, coefficient; rows sorted
    by from_mom, empty rows dropped) and ``rate``; other settings from ``base``."""
    rows = table.dropna(subset=["from_mom", "coefficient"]).sort_values("from_mom")
    return replace(
        base,
        rate=rate,
        bands=tuple((float(a), float(c)) for a, c in zip(rows["from_mom"], rows["coefficient"])),
        source="edited plan",
    )
