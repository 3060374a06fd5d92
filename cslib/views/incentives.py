"""CSM incentive calculator (method section 7).

monthly commission = healthy MRR in the CSM's book x rate x coefficient, where the
coefficient comes from the book's health-rate month-over-month (healthy MRR this month /
healthy MRR last month) through an asymmetric band table with a neutral band above 100%
(``cslib/config/incentives.toml``; lower bound inclusive). Worked example: a book of
1.2M ARR, all healthy, rate 1%: 1,200,000 / 12 x 1% = 1,000; MoM 106% -> 1.1 -> 1,100.

A book with no scored account in the month (no usage data, or too few weeks of it) has no
health data: its healthy MRR, health rate, MoM, coefficient and commission are n/a (NaN,
null in reports), never 0, and ``note`` gives the reason (cslib.views.metrics.health_data_status).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from cslib.store.db import query, sql_file
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.rules import tomlfile
from cslib.settings import CONFIG_DIR

DEFAULT_PATH = CONFIG_DIR / "incentives.toml"
_FILTER_MARKER = "/* filter_predicate */ true"
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


def _month_start(conn, month: str) -> pd.Timestamp:
    """First day of ``month``; UserError for a malformed month or one outside the data."""
    if not isinstance(month, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise UserError(f"month must be YYYY-MM, got {month!r}")
    bounds = query(conn, "select min(month) as first, max(month) as last from account_month")
    first, last = bounds["first"].iloc[0], bounds["last"].iloc[0]
    if first is None or not first <= month <= last:
        raise UserError(f"month {month} is not in the data ({first} to {last})")
    return pd.Timestamp(f"{month}-01")


def csm_payouts(conn, month: str, filters: Filters | None = None, plan: IncentivePlan | None = None) -> pd.DataFrame:
    """Per CSM of the slice in ``month``: accounts, overdue_accounts, mrr, healthy_mrr,
    prev_mrr, prev_healthy_mrr, scored_accounts (with a month-end score), health_rate
    (healthy / all MRR), mom (healthy MRR / last month's; NaN without last month),
    coefficient, commission (per month, currency, rounded to cents), note.

    A CSM whose book has no scored account this month gets NaN healthy_mrr, health_rate,
    mom, coefficient and commission (n/a, not 0) and the reason in ``note`` (None otherwise).
    """
    plan = plan or load_incentive_plan()
    filters = filters or Filters()
    where, params = filters.where("a")
    sql = sql_file("model_incentive_books").replace(_FILTER_MARKER, where)
    df = _payouts(query(conn, sql, [_month_start(conn, month).date(), plan.deferred_is_unhealthy, *params]), plan)
    df["note"] = None
    unscored = df.index[df["scored_accounts"] == 0]
    if len(unscored):
        from cslib.views.metrics import health_data_status

        book_status = health_data_status(conn, filters, month)
        for i in unscored:
            csm = df.at[i, "csm"]
            status = book_status
            if book_status.ok and isinstance(csm, str):  # the slice has health data, this book not
                status = health_data_status(conn, replace(filters, csm=(csm,)), month)
            df.at[i, "note"] = status.reason or "no account in this book has a health score"
    return df


def _payouts(df: pd.DataFrame, plan: IncentivePlan) -> pd.DataFrame:
    df = df.copy()
    prev = df["prev_healthy_mrr"].astype(float)
    df["healthy_mrr"] = df["healthy_mrr"].astype(float)
    df["health_rate"] = df["healthy_mrr"] / df["mrr"].where(df["mrr"] > 0)
    df["mom"] = df["healthy_mrr"] / prev.where(prev > 0)
    df["coefficient"] = [coefficient(m, plan) for m in df["mom"]]
    df["commission"] = [commission(h, m, plan) for h, m in zip(df["healthy_mrr"], df["mom"])]
    if "scored_accounts" in df.columns:  # no health data in the book: n/a, not 0
        no_health = df["scored_accounts"] == 0
        df.loc[no_health, ["healthy_mrr", "health_rate", "mom", "coefficient", "commission"]] = np.nan
    return df


def team_payouts(per_csm: pd.DataFrame) -> pd.DataFrame:
    """Per CSM team: CSMs, accounts, mrr, healthy_mrr, prev_healthy_mrr, mom (of the team's
    summed books) and commission (the sum of its CSMs' commissions). CSMs whose commission
    is n/a (no scored account) add nothing; a team where every CSM is n/a is n/a (NaN)."""

    def total(values: pd.Series) -> float:
        return values.sum(min_count=1)

    g = per_csm.groupby("csm_team", as_index=False).agg(
        csms=("csm", "size"),
        accounts=("accounts", "sum"),
        mrr=("mrr", "sum"),
        healthy_mrr=("healthy_mrr", total),
        prev_healthy_mrr=("prev_healthy_mrr", "sum"),
        commission=("commission", total),
    )
    prev = g["prev_healthy_mrr"].astype(float)
    g["mom"] = g["healthy_mrr"] / prev.where(prev > 0)
    return g


def payout_tables(conn, month: str, filters: Filters | None = None, plan: IncentivePlan | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per CSM, per team) payouts of the slice in ``month``: :func:`csm_payouts` and
    :func:`team_payouts` of it."""
    per_csm = csm_payouts(conn, month, filters, plan)
    return per_csm, team_payouts(per_csm)


def incentives_report(conn, args) -> tuple[str, dict[str, pd.DataFrame]]:
    """``report incentives --month YYYY-MM [filters]``: per-CSM and per-team payouts."""
    from cslib.views.metrics import latest_month

    month = args.month or latest_month(conn)
    per_csm = csm_payouts(conn, month, args.filters)
    return month, {"csms": per_csm, "teams": team_payouts(per_csm)}
