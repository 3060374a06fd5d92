"""CSM incentive calculator (method section 7).

monthly commission = healthy MRR in the CSM's book x rate x coefficient, where the
coefficient comes from the book's health-rate month-over-month (healthy MRR this month /
healthy MRR last month) through an asymmetric band table with a neutral band above 100%
(``cslib/config/incentives.toml``; lower bound inclusive). Worked example: a book of
1.2M ARR, all healthy, rate 1%: 1,200,000 / 12 x 1% = 1,000; MoM 106% -> 1.1 -> 1,100.

A book with no scored account in the month (no usage data, or too few weeks of it) has no
health data: its healthy MRR, health rate, MoM, coefficient and commission are n/a (NaN,
null in reports), never 0, and ``note`` gives the reason (cslib.views.metrics.health_data_status).
The plan itself (bands, coefficient, commission) is cslib.rules.incentive_plan.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd

from cslib.store.db import query
from cslib.store.queries import render
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.rules.incentive_plan import IncentivePlan, coefficient, commission, load_incentive_plan


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
    rendered = render("model_incentive_books", filters, alias="a", month_start=_month_start(conn, month).date(),
                      deferred_is_unhealthy=plan.deferred_is_unhealthy)
    df = _payouts(query(conn, *rendered), plan)
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
