"""ARR outlook: the next 12 months of a slice's ARR, with levers an executive can move.

The model is deliberately simple and stated in full (docs/pages.md, "ARR outlook page"),
from what was known at the month's end only:

- **Start**: the slice's ARR at the month's end (active accounts).
- **Renewals**: every renewal due in the 12 months after the month (contract dates from
  ``raw_renewals``) keeps ``r x`` its ARR due in its due month and loses the rest, where
  ``r`` is the renewal rate (ARR) of the account's health tier at the month's end. Base
  case: each tier's own renewal rate over the 12 months up to the month (the renewal-rate
  metric's definition; a tier without decided renewals, and unscored accounts, take the
  slice's overall rate).
  This is the method's calibration, health rate ~= renewal rate, turned forward: a lever is
  "the renewal rate of at-risk accounts".
- **Net expansion**: each month the ARR of the existing book grows by the monthly net
  expansion rate, (upsell + cross-sell + usage expansion - contraction) / start MRR, base
  case the average of the last 12 months (churn is in the renewals).
- **New business**: new + reactivated ARR per month, base case the average of the last 12
  months; it is not part of NRR.

NRR of the existing book over the 12 months = (start - renewal losses + expansion) / start.
The health-rate goal for a target NRR is the renewal rate that would reach it with the
expansion lever as set (one rate for every renewal), since the health rate is calibrated to
track the renewal rate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from cslib.store.db import query
from cslib.store.queries import render, render_sql
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.months import check_month, data_months, month_end, shift_month

HORIZON_MONTHS = 12
TIERS = ("healthy", "at_risk", "unhealthy", "unscored")


@dataclass(frozen=True)
class Levers:
    """What the executive moves: renewal rate per tier (fractions), monthly net expansion
    rate (fraction of ARR per month) and new business ARR per month."""

    renewal_rates: tuple[tuple[str, float], ...]
    expansion_rate: float
    new_arr: float

    def rate(self, tier: str) -> float:
        return dict(self.renewal_rates)[tier]

    def with_rate(self, tier: str, value: float) -> "Levers":
        rates = dict(self.renewal_rates)
        rates[tier] = float(value)
        return replace(self, renewal_rates=tuple(sorted(rates.items())))


@dataclass(frozen=True)
class Inputs:
    """What the outlook starts from (all known at the month's end)."""

    month: str
    start_arr: float
    renewals: pd.DataFrame  # account_id, due_on, due_month, due_arr, health_tier
    base: Levers
    tier_evidence: pd.DataFrame  # health_tier, renewals_decided, decided_arr, kept_arr, rate


def inputs(conn, filters: Filters, month: str) -> Inputs:
    """The start ARR, the renewals due in the next 12 months and the base-case levers."""
    first, last = data_months(conn)
    month = check_month(month, first, last)
    end = month_end(month)
    horizon = month_end(shift_month(month, HORIZON_MONTHS))
    renewals = query(conn, *render("outlook_renewals", filters, alias="n",
                                   month=month, month_end_on=end, horizon_end_on=horizon))
    renewals["due_on"] = pd.to_datetime(renewals["due_on"]).dt.date
    renewals["due_arr"] = renewals["due_arr"].astype(float)

    arr = query(conn, *render_sql("select coalesce(sum(a.arr), 0) as arr from account_month as a "
                                  "where a.month = $month and a.is_active and /* filter_predicate */ true",
                                  filters, alias="a", name="outlook start ARR", month=month))
    start_arr = float(arr["arr"].iloc[0])

    first_window = max(shift_month(month, -(HORIZON_MONTHS - 1)), first)
    evidence = query(conn, *render("outlook_tier_rates", filters, alias="m",
                                   first_month=first_window, last_month=month))
    evidence["rate"] = [k / d if d else float("nan") for k, d in zip(evidence["kept_arr"], evidence["decided_arr"])]
    overall = evidence.loc[evidence["health_tier"] == "all", "rate"]
    fallback = float(overall.iloc[0]) if len(overall) and pd.notna(overall.iloc[0]) else 1.0
    by_tier = dict(zip(evidence["health_tier"], evidence["rate"]))
    # unscored accounts take the slice's overall rate: an account is unscored at a renewal
    # mostly because its usage stopped (it is leaving), which says nothing about an account
    # unscored today because it is new
    rates = tuple((t, float(by_tier[t]) if t != "unscored" and pd.notna(by_tier.get(t, float("nan"))) else fallback)
                  for t in TIERS)

    from cslib.views.revenue import movements

    start_window = max(shift_month(month, -(HORIZON_MONTHS - 1)), shift_month(first, 1) if month > first else first)
    moves = movements(conn, filters, start_window, month)
    opening = moves["opening_mrr"].astype(float)
    net = (moves["expansion_mrr"] + moves["contraction_mrr"]).astype(float)  # contraction is negative
    usable = opening > 0
    expansion = float((net[usable] / opening[usable]).mean()) if usable.any() else 0.0
    new_arr = float(((moves["new_mrr"] + moves["reactivation_mrr"]).astype(float) * 12).mean()) if len(moves) else 0.0
    return Inputs(month, start_arr, renewals, Levers(tuple(sorted(rates)), expansion, new_arr), evidence)


def path(inp: Inputs, levers: Levers) -> pd.DataFrame:
    """Month by month over the next 12 months: month, due_arr, lost_arr (renewal losses),
    expansion_arr, new_arr, existing_arr (the start book after losses and expansion),
    arr (existing + cumulative new business)."""
    if not -0.5 <= levers.expansion_rate <= 0.5:
        raise UserError("the monthly net expansion rate must be between -50% and 50%")
    for tier, rate in levers.renewal_rates:
        if not 0 <= rate <= 1:
            raise UserError(f"the renewal rate of {tier} accounts must be between 0% and 100%")
    due = inp.renewals.assign(kept=[levers.rate(t) for t in inp.renewals["health_tier"]])
    due["lost"] = due["due_arr"] * (1 - due["kept"])
    by_month = due.groupby("due_month").agg(due_arr=("due_arr", "sum"), lost_arr=("lost", "sum"))
    existing, new_total, rows = inp.start_arr, 0.0, []
    for k in range(1, HORIZON_MONTHS + 1):
        month = shift_month(inp.month, k)
        expansion = existing * levers.expansion_rate
        lost = float(by_month["lost_arr"].get(month, 0.0))
        existing = existing + expansion - lost
        new_total += levers.new_arr
        rows.append({"month": month, "due_arr": float(by_month["due_arr"].get(month, 0.0)), "lost_arr": lost,
                     "expansion_arr": expansion, "new_arr": levers.new_arr, "existing_arr": existing,
                     "arr": existing + new_total})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Summary:
    start_arr: float
    end_arr: float
    existing_end_arr: float
    nrr: float | None
    lost_arr: float
    expansion_arr: float
    new_arr: float


def summarise(inp: Inputs, levers: Levers) -> Summary:
    p = path(inp, levers)
    end_existing = float(p["existing_arr"].iloc[-1])
    nrr = end_existing / inp.start_arr if inp.start_arr > 0 else None
    return Summary(inp.start_arr, float(p["arr"].iloc[-1]), end_existing, nrr, float(p["lost_arr"].sum()),
                   float(p["expansion_arr"].sum()), float(p["new_arr"].sum()))


def lever_effects(inp: Inputs, levers: Levers) -> pd.DataFrame:
    """Each lever moved alone from the base case to its set value: lever, base, set,
    end_arr_change (ARR in 12 months vs the base case), nrr_change (points of NRR)."""
    base = summarise(inp, inp.base)
    rows = []
    labels = {"healthy": "Renewal rate, healthy", "at_risk": "Renewal rate, at risk",
              "unhealthy": "Renewal rate, unhealthy", "unscored": "Renewal rate, unscored"}
    for tier in TIERS:
        if abs(levers.rate(tier) - inp.base.rate(tier)) > 1e-12:
            alone = summarise(inp, inp.base.with_rate(tier, levers.rate(tier)))
            rows.append((labels[tier], inp.base.rate(tier), levers.rate(tier), alone))
    if abs(levers.expansion_rate - inp.base.expansion_rate) > 1e-12:
        rows.append(("Monthly net expansion", inp.base.expansion_rate, levers.expansion_rate,
                     summarise(inp, replace(inp.base, expansion_rate=levers.expansion_rate))))
    if abs(levers.new_arr - inp.base.new_arr) > 1e-9:
        rows.append(("New business per month", inp.base.new_arr, levers.new_arr,
                     summarise(inp, replace(inp.base, new_arr=levers.new_arr))))
    out = [{"lever": name, "base": b, "set": s, "end_arr_change": alone.end_arr - base.end_arr,
            "nrr_change": (alone.nrr - base.nrr) if alone.nrr is not None and base.nrr is not None else None}
           for name, b, s, alone in rows]
    return pd.DataFrame(out, columns=["lever", "base", "set", "end_arr_change", "nrr_change"])


def renewal_rate_for_nrr(inp: Inputs, target_nrr: float, expansion_rate: float) -> float | None:
    """The one renewal rate (for every renewal due in the 12 months) that brings the existing
    book's NRR to ``target_nrr`` with ``expansion_rate``; None when no rate in [0, 1] does
    (the target is below what losing every renewal gives, or above what keeping all does).
    NRR is increasing in the rate, so a bisection finds it to 1e-9."""
    def nrr(rate: float) -> float:
        levers = Levers(tuple((t, rate) for t in TIERS), expansion_rate, 0.0)
        return summarise(inp, levers).nrr or 0.0

    if inp.start_arr <= 0:
        return None
    low, high = 0.0, 1.0
    if not nrr(low) - 1e-12 <= target_nrr <= nrr(high) + 1e-12:
        return None
    for _ in range(60):
        mid = (low + high) / 2
        if nrr(mid) < target_nrr:
            low = mid
        else:
            high = mid
    return (low + high) / 2
