"""Plain-pandas implementations of page queries, for the benchmark and as a cross-check.

``python -m cslib bench`` times these against the DuckDB path on the same data (the
frame loaded once into memory, as a pandas app would hold it); the tests check that
they give the same numbers as the SQL, so the comparison is of equal work.
"""

from __future__ import annotations

import pandas as pd

from .filters import FILTER_COLUMNS, Filters

#: account_month columns the page queries below read
COLUMNS = (
    "month", "is_target", *FILTER_COLUMNS.values(), "is_active", "mrr", "arr", "prev_mrr",
    "health_tier", "is_deferred", "value_tier", "new_mrr", "reactivation_mrr", "upsell_mrr",
    "cross_sell_mrr", "usage_expansion_mrr", "contraction_mrr", "churn_mrr", "renewals_due",
    "renewals_decided", "renewals_renewed", "renewal_due_arr", "renewal_decided_arr",
    "renewal_kept_arr",
)


def _slice(account_month: pd.DataFrame, filters: Filters) -> pd.Series:
    keep = pd.Series(True, index=account_month.index)
    if not filters.include_non_target:
        keep &= account_month["is_target"].astype(bool)
    for name, column in FILTER_COLUMNS.items():
        values = getattr(filters, name)
        if values:
            keep &= account_month[column].isin(values)
    return keep


def kpi_components(account_month: pd.DataFrame, filters: Filters, first_month: str, last_month: str) -> pd.DataFrame:
    """What cslib/sql/kpi_monthly.sql computes: per month, the KPI components of the slice."""
    rows = account_month[
        _slice(account_month, filters)
        & (account_month["month"] >= first_month)
        & (account_month["month"] <= last_month)
    ].copy()
    rows["healthy_arr"] = rows["arr"].where(
        rows["is_active"] & (rows["health_tier"] == "healthy") & ~rows["is_deferred"].astype(bool), 0.0
    )
    rows["expansion_mrr"] = rows["upsell_mrr"] + rows["cross_sell_mrr"] + rows["usage_expansion_mrr"]
    rows["active_accounts"] = rows["is_active"].astype("int64")
    out = rows.groupby("month", sort=True).agg(
        active_accounts=("active_accounts", "sum"),
        mrr=("mrr", "sum"),
        arr=("arr", "sum"),
        healthy_arr=("healthy_arr", "sum"),
        start_mrr=("prev_mrr", "sum"),
        new_mrr=("new_mrr", "sum"),
        reactivation_mrr=("reactivation_mrr", "sum"),
        upsell_mrr=("upsell_mrr", "sum"),
        cross_sell_mrr=("cross_sell_mrr", "sum"),
        usage_expansion_mrr=("usage_expansion_mrr", "sum"),
        expansion_mrr=("expansion_mrr", "sum"),
        contraction_mrr=("contraction_mrr", "sum"),
        churn_mrr=("churn_mrr", "sum"),
        renewals_due=("renewals_due", "sum"),
        renewals_decided=("renewals_decided", "sum"),
        renewals_renewed=("renewals_renewed", "sum"),
        renewal_due_arr=("renewal_due_arr", "sum"),
        renewal_decided_arr=("renewal_decided_arr", "sum"),
        renewal_kept_arr=("renewal_kept_arr", "sum"),
    )
    return out.reset_index()


def ninebox_cells(account_month: pd.DataFrame, filters: Filters, month: str) -> pd.DataFrame:
    """What cslib/sql/ninebox_cells.sql counts for one month: accounts and ARR per
    (health_tier, value_tier) of the active accounts in the slice."""
    rows = account_month[
        _slice(account_month, filters) & (account_month["month"] == month) & account_month["is_active"]
    ]
    return (
        rows.groupby(["health_tier", "value_tier"])
        .agg(accounts=("arr", "size"), arr=("arr", "sum"))
        .reset_index()
    )
