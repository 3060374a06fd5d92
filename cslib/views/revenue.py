"""Negative churn: MRR movements, retention rates, cohorts, breakdowns and top accounts.

The numbers behind the Negative churn page and ``python -m cslib report revenue``.
Everything reads the ``account_month`` mart (and the ``revenue_t12m`` model for the
trailing-12-month rates) through ``cslib.store.queries.render`` of
``cslib/sql/queries/negative_churn/revenue_*.sql`` (named, bound parameters).

NRR, GRR and the net MRR churn rate are the ones defined in ``cslib.views.metrics.METRICS``
(applied to this module's monthly components); the metrics this page adds are defined
once in ``REVENUE_METRICS`` below. Money is MRR (per month, currency units); movements
are signed (contraction and churn <= 0); ratios are fractions (1.0 = 100%), NaN when the
denominator is 0. Months are 'YYYY-MM' strings.

Conventions (fixed; the README lists every edge case): reactivation is revenue again
after any gap (one month at zero is enough); NRR and GRR leave reactivation out, the net
MRR churn rate and the quick ratio count it; a product dropped while others remain is
contraction; revenue in a single month is new that month and churn the next.

Rates over several months are true period retention, never averages of monthly rates:
``period_nrr`` / ``period_grr`` (``period_retention``, revenue_period_retention.sql) take
the accounts active in the month before the period as the base and compare their MRR at
the period's last month with their MRR then (GRR: each account capped at its start and
floored at 0). The trailing-12-month rates are the same definition over the 12 months
ending with each month. What is still summed over the months (net MRR churn, gross MRR
churn) is labelled an average monthly rate.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from cslib.store.db import query
from cslib.store.queries import render
from cslib.months import calendar, check_month, data_months, default_month, shift_month
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.ratios import ratio
from cslib.views.metrics import METRICS, MOVEMENT_COLUMNS, Metric

#: the three expansion levers of method section 5 (account_month columns)
EXPANSION_COLUMNS: tuple[str, ...] = ("upsell_mrr", "cross_sell_mrr", "usage_expansion_mrr")
#: display labels of the movements (waterfall and stacked bars), in waterfall order
MOVEMENT_LABELS: dict[str, str] = {
    "new_mrr": "New",
    "reactivation_mrr": "Reactivation",
    "upsell_mrr": "Upsell",
    "cross_sell_mrr": "Cross-sell",
    "usage_expansion_mrr": "Usage expansion",
    "contraction_mrr": "Contraction",
    "churn_mrr": "Churn",
}
#: dimensions the by-group breakdown can use: name -> account_month column (a whitelist)
BREAKDOWN_DIMENSIONS: dict[str, str] = {
    "segment": "segment",
    "industry": "industry",
    "source_channel": "source_channel",
    "csm_team": "csm_team",
    "region": "region",
    "csm": "csm",
    "lifecycle_stage": "lifecycle_stage",
}
#: the ideal combined retention of method section 5 (NRR above 110%)
IDEAL_NRR = 1.10
#: cohort grains: name -> months per period
COHORT_GRAINS: dict[str, int] = {"month": 1, "quarter": 3}

_GROUP_MARKER = "/* group_column */ segment"


# --------------------------------------------------------------------------- metrics
def _expansion(c: pd.DataFrame) -> pd.Series:
    return c["upsell_mrr"] + c["cross_sell_mrr"] + c["usage_expansion_mrr"]


_REVENUE_METRIC_LIST: tuple[Metric, ...] = (
    Metric(
        "gross_mrr_churn_rate",
        "Gross MRR churn rate",
        "MRR lost to churn and contraction over start MRR, before any expansion "
        "(1 - GRR).",
        "-(contraction_mrr + churn_mrr) / start_mrr (contraction and churn signed <= 0)",
        "percent",
        lambda c: ratio(-(c["contraction_mrr"] + c["churn_mrr"]), c["start_mrr"]),
        up_is_good=False,
    ),
    Metric(
        "quick_ratio",
        "Quick ratio",
        "MRR gained (new, reactivation, expansion) per unit of MRR lost (churn, "
        "contraction); above 1 the book grows, n/a in a month with no losses.",
        "(new_mrr + reactivation_mrr + expansion_mrr) / -(contraction_mrr + churn_mrr)",
        "ratio",
        lambda c: ratio(
            c["new_mrr"] + c["reactivation_mrr"] + _expansion(c),
            -(c["contraction_mrr"] + c["churn_mrr"]),
        ),
    ),
    Metric(
        "period_nrr",
        "NRR over the period",
        "Net revenue retention over a period of n months: the accounts active (MRR > 0) in "
        "the month before the period are the base; their MRR in the period's last month "
        "over their MRR then. Expansion counts; accounts that start or come back during "
        "the period are not in the base (a base account that churned and came back counts "
        "with its end MRR).",
        "sum(end_mrr) / sum(start_mrr) over accounts with mrr > 0 in the month before the "
        "period (end_mrr: MRR in the period's last month, 0 when not paying)",
        "percent",
        lambda c: ratio(c["end_mrr"], c["start_mrr"]),
    ),
    Metric(
        "period_grr",
        "GRR over the period",
        "Gross revenue retention over a period of n months: as NRR over the period with "
        "each account's end MRR capped at its start MRR and floored at 0 (expansion "
        "ignored; no account loses more than 100% of its start). 0 <= GRR <= NRR.",
        "sum(least(greatest(end_mrr, 0), start_mrr)) / sum(start_mrr) over accounts with "
        "mrr > 0 in the month before the period",
        "percent",
        lambda c: ratio(c["gross_retained_mrr"], c["start_mrr"]),
    ),
    Metric(
        "nrr_t12m",
        "NRR (12 months)",
        "Trailing-12-month net revenue retention: NRR over the period of the 12 months "
        "ending with the month (the MRR now of the accounts active 12 months ago, over "
        "their MRR then).",
        "sum(end_mrr) / sum(start_mrr) over accounts with mrr > 0 in month M-12 "
        "(end_mrr: MRR in M)",
        "percent",
        lambda c: ratio(c["t12m_retained_mrr"], c["t12m_start_mrr"]),
    ),
    Metric(
        "grr_t12m",
        "GRR (12 months)",
        "Trailing-12-month gross revenue retention: GRR over the period of the 12 months "
        "ending with the month (each account's MRR now capped at its MRR 12 months ago "
        "and floored at 0, over their MRR then).",
        "sum(least(greatest(end_mrr, 0), start_mrr)) / sum(start_mrr) over accounts with "
        "mrr > 0 in month M-12",
        "percent",
        lambda c: ratio(c["t12m_gross_retained_mrr"], c["t12m_start_mrr"]),
    ),
    Metric(
        "upsell_share",
        "Upsell share of expansion",
        "Share of expansion MRR from upsell (a higher plan or more seats on a product "
        "the account has).",
        "upsell_mrr / expansion_mrr",
        "percent",
        lambda c: ratio(c["upsell_mrr"], _expansion(c)),
        up_is_good=None,  # a mix, neither good nor bad
    ),
    Metric(
        "cross_sell_share",
        "Cross-sell share of expansion",
        "Share of expansion MRR from cross-sell (a product new to the account).",
        "cross_sell_mrr / expansion_mrr",
        "percent",
        lambda c: ratio(c["cross_sell_mrr"], _expansion(c)),
        up_is_good=None,  # a mix, neither good nor bad
    ),
    Metric(
        "usage_expansion_share",
        "Usage share of expansion",
        "Share of expansion MRR from usage-based pricing (usage MRR up on a product).",
        "usage_expansion_mrr / expansion_mrr",
        "percent",
        lambda c: ratio(c["usage_expansion_mrr"], _expansion(c)),
        up_is_good=None,  # a mix, neither good nor bad
    ),
)

#: name -> Metric: the metrics this page adds to cslib.views.metrics.METRICS
REVENUE_METRICS: dict[str, Metric] = {m.name: m for m in _REVENUE_METRIC_LIST}
#: the period metrics (of ``period_retention``), not monthly rates
PERIOD_METRICS: tuple[str, ...] = ("period_nrr", "period_grr")
#: the monthly rates of ``rates()``: shared definitions first, then this page's
RATE_METRICS: dict[str, Metric] = {
    **{name: METRICS[name] for name in ("nrr", "grr", "net_mrr_churn_rate")},
    **{name: m for name, m in REVENUE_METRICS.items() if name not in PERIOD_METRICS},
}
#: the page's tiles, in display order (two rows of four)
TILES: tuple[str, ...] = (
    "net_mrr_churn_rate",
    "gross_mrr_churn_rate",
    "quick_ratio",
    "expansion_mrr",
    "nrr",
    "grr",
    "nrr_t12m",
    "grr_t12m",
)


# --------------------------------------------------------------------------- months








def check_period(
    conn: duckdb.DuckDBPyConnection, month_from: str | None, month_to: str | None
) -> tuple[str, str]:
    """Validated (month_from, month_to); None = the data's first / last month.

    UserError (one line) when a month is malformed, outside the data, or the period is
    reversed.
    """
    first, last = data_months(conn)
    month_to = last if month_to is None else check_month(month_to, first, last, "month")
    month_from = first if month_from is None else check_month(month_from, first, last, "from month")
    if month_from > month_to:
        raise UserError(f"the period starts ({month_from}) after it ends ({month_to})")
    return month_from, month_to


def period_bounds(conn: duckdb.DuckDBPyConnection, month_to: str, n_months: int) -> tuple[str, str]:
    """The ``n_months`` months ending with ``month_to``, clipped to the data: (from, to).

    A period starts at the data's second month at the earliest: the first month has no month
    before it, so every account in it would count as new (the existing book presented as new
    business) and a period from it would have no base month for its NRR. Only a month_to
    that is the data's first month gives (first, first)."""
    if isinstance(n_months, bool) or not isinstance(n_months, (int, np.integer)) or n_months < 1:
        raise UserError(f"the period must be a whole number of months >= 1, got {n_months!r}")
    first, last = data_months(conn)
    month_to = check_month(month_to, first, last, "month")
    earliest = first if month_to == first else shift_month(first, 1)
    return max(shift_month(month_to, -(int(n_months) - 1)), earliest), month_to


# --------------------------------------------------------------------------- queries
def _render_grouped(name: str, filters: Filters, group_sql: str, **params: Any) -> tuple[str, dict[str, Any]]:
    """``render`` of a query file with a group_column marker: the marker is replaced by
    ``group_sql`` (a whitelisted column, an attribute look-up or a literal) first, so the
    renderer checks the look-up's ``$attribute`` like any other placeholder."""
    return render(name, filters, splice={_GROUP_MARKER: group_sql}, **params)


def movements(
    conn: duckdb.DuckDBPyConnection, filters: Filters, month_from: str, month_to: str
) -> pd.DataFrame:
    """MRR movements per month for the filtered slice, months ``month_from``..``month_to``.

    One row per calendar month (ascending; months without rows in the slice are zeros):
    month, opening_mrr (start MRR: last month's MRR of this month's slice), the seven
    signed movements of ``MOVEMENT_COLUMNS`` (contraction and churn <= 0), closing_mrr,
    expansion_mrr (upsell + cross-sell + usage), net_new_mrr (closing - opening) and
    active_accounts. On every row opening_mrr + the seven movements = closing_mrr.
    Filters apply to each account's row of the month.
    """
    month_from, month_to = check_period(conn, month_from, month_to)
    raw = query(conn, *render("revenue_movements", filters, month_from=month_from, month_to=month_to))
    columns = ["opening_mrr", *MOVEMENT_COLUMNS, "closing_mrr", "active_accounts"]
    frame = (
        raw.set_index("month")[columns]
        .reindex(calendar(month_from, month_to))
        .fillna(0)
        .rename_axis("month")
        .reset_index()
    )
    for column in columns[:-1]:
        frame[column] = frame[column].astype(float)
    frame["active_accounts"] = frame["active_accounts"].astype("int64")
    frame["expansion_mrr"] = frame[list(EXPANSION_COLUMNS)].sum(axis=1)
    frame["net_new_mrr"] = frame["closing_mrr"] - frame["opening_mrr"]
    return frame


def waterfall(table: pd.DataFrame) -> pd.DataFrame:
    """The bridge from opening to closing MRR over the rows of a ``movements()`` frame.

    ``table`` holds one or more consecutive months (month, opening_mrr, the seven
    movements, closing_mrr). Returns one row per step: step ('opening', each movement
    column, 'slice_transfer', 'closing'), label, kind ('total' | 'increase' |
    'decrease' | 'transfer'), amount_mrr, start_mrr and end_mrr (the bar's ends; for a
    total 0 and the total). Opening is the first month's opening MRR and closing the
    last month's closing MRR. 'slice_transfer' appears only when accounts moved into or
    out of the slice between months (a lifecycle-stage filter: the sum of each month's
    opening minus the previous month's closing); with it the steps reconcile exactly.
    """
    if table.empty:
        raise ValueError("waterfall needs at least one month")
    rows = table.sort_values("month").reset_index(drop=True)
    opening = float(rows["opening_mrr"].iloc[0])
    closing = float(rows["closing_mrr"].iloc[-1])
    transfer = float((rows["opening_mrr"].iloc[1:].to_numpy() - rows["closing_mrr"].iloc[:-1].to_numpy()).sum())
    steps: list[tuple[str, str, str, float]] = [("opening", "Opening MRR", "total", opening)]
    for column in MOVEMENT_COLUMNS:
        amount = float(rows[column].sum())
        steps.append((column, MOVEMENT_LABELS[column], "increase" if amount >= 0 else "decrease", amount))
    if abs(transfer) >= 0.005:
        steps.append(("slice_transfer", "Moved in/out of the slice", "transfer", transfer))
    out, level = [], 0.0
    for step, label, kind, amount in steps:
        if kind == "total":
            start, end = 0.0, amount
            level = amount
        else:
            start, end = level, level + amount
            level = end
        out.append({"step": step, "label": label, "kind": kind, "amount_mrr": amount,
                    "start_mrr": start, "end_mrr": end})
    out.append({"step": "closing", "label": "Closing MRR", "kind": "total", "amount_mrr": closing,
                "start_mrr": 0.0, "end_mrr": closing})
    return pd.DataFrame(out)


def _t12m(conn, filters: Filters, month_from: str, month_to: str) -> pd.DataFrame:
    return query(conn, *render("revenue_t12m_rates", filters, month_from=month_from, month_to=month_to))


def rates(
    conn: duckdb.DuckDBPyConnection, filters: Filters, month_from: str, month_to: str
) -> pd.DataFrame:
    """Monthly retention rates for the filtered slice, months ``month_from``..``month_to``.

    One row per month: the movements() columns, start_mrr (= opening_mrr), the T12M
    inputs (t12m_start_mrr, t12m_retained_mrr, t12m_gross_retained_mrr,
    t12m_reactivation_mrr, t12m_accounts: the cohort of accounts active in month M-12,
    selected by the filters on their row of M-12), then one column per ``RATE_METRICS``
    entry (nrr, grr, net_mrr_churn_rate from cslib.views.metrics; gross_mrr_churn_rate,
    quick_ratio, nrr_t12m, grr_t12m and the expansion shares from REVENUE_METRICS) and
    is_negative_churn (net MRR churn rate < 0). Rates are fractions, NaN when undefined.
    """
    frame = movements(conn, filters, month_from, month_to)
    frame["start_mrr"] = frame["opening_mrr"]
    t12m = _t12m(conn, filters, frame["month"].iloc[0], frame["month"].iloc[-1]).set_index("month")
    t12m_columns = ["t12m_start_mrr", "t12m_retained_mrr", "t12m_gross_retained_mrr",
                    "t12m_reactivation_mrr", "t12m_accounts"]
    t12m = t12m.reindex(frame["month"]).fillna(0).reset_index(drop=True)
    for column in t12m_columns:
        frame[column] = t12m[column].astype("int64" if column == "t12m_accounts" else float)
    for name, metric in RATE_METRICS.items():
        frame[name] = metric.compute(frame).astype(float) + 0.0  # + 0.0 turns -0.0 into 0.0
    frame["is_negative_churn"] = frame["net_mrr_churn_rate"] < 0
    return frame


def period_retention(
    conn: duckdb.DuckDBPyConnection,
    filters: Filters,
    month_from: str,
    month_to: str,
    by: str | None = None,
) -> pd.DataFrame:
    """True retention over the period ``month_from``..``month_to`` (n months): NRR and GRR
    of the accounts active in the month before it (``period_nrr``, ``period_grr``).

    ``by``: None (one row, group_value 'all') or a breakdown dimension (a
    BREAKDOWN_DIMENSIONS key or ``attr.<name>``; the group is read on the base month).
    Columns: group_value, base_month (the month before the period), base_accounts,
    retained_accounts (base accounts paying in the last month), start_mrr (their MRR in
    the base month), end_mrr (their MRR in the last month), gross_retained_mrr (each
    account capped at its start and floored at 0), period_nrr and period_grr (NaN without
    a base: the period starts with the data, or the slice had nobody paying then).
    Filters select the base on its row of the base month.
    """
    from cslib.filters import attribute_value_sql, breakdown_attribute

    month_from, month_to = check_period(conn, month_from, month_to)
    base_month = shift_month(month_from, -1)
    attribute = breakdown_attribute(conn, by, BREAKDOWN_DIMENSIONS) if by else None
    dates = {"month_to": month_to, "base_month": base_month}
    if by is None:
        rendered = _render_grouped("revenue_period_retention", filters, "'all'", **dates)
    elif attribute is not None:  # the attribute's name is bound, never spliced
        rendered = _render_grouped("revenue_period_retention", filters,
                                   attribute_value_sql("account_month.account_id", param="attribute"),
                                   attribute=attribute, **dates)
    elif by in BREAKDOWN_DIMENSIONS:
        rendered = _render_grouped("revenue_period_retention", filters, BREAKDOWN_DIMENSIONS[by], **dates)
    else:
        raise UserError(f"cannot break down by '{by}' (choose from {', '.join(BREAKDOWN_DIMENSIONS)})")
    frame = query(conn, *rendered)
    if by is None and frame.empty:
        frame = pd.DataFrame([{"group_value": "all", "base_accounts": 0, "retained_accounts": 0,
                               "start_mrr": 0.0, "end_mrr": 0.0, "gross_retained_mrr": 0.0}])
    frame.insert(1, "base_month", base_month)
    for column in ("base_accounts", "retained_accounts"):
        frame[column] = frame[column].astype("int64")
    for column in ("start_mrr", "end_mrr", "gross_retained_mrr"):
        frame[column] = frame[column].astype(float)
    for name in PERIOD_METRICS:
        frame[name] = REVENUE_METRICS[name].compute(frame).astype(float) + 0.0
    return frame


def period_summary(
    conn: duckdb.DuckDBPyConnection, filters: Filters, table: pd.DataFrame
) -> dict[str, Any]:
    """The period's headline numbers for a ``rates()`` frame (its first to last month):
    what the page's period line and ``report revenue``'s ``period`` table show.

    Keys: month_from, month_to, months, base_month, base_accounts, retained_accounts,
    start_mrr, end_mrr, gross_retained_mrr, nrr and grr (true period retention:
    ``period_retention``), avg_monthly_net_mrr_churn_rate and
    avg_monthly_gross_mrr_churn_rate (the months' movements over the months' summed start
    MRR: MRR-weighted averages of the monthly rates), quick_ratio and the three expansion
    shares (the period's gains, losses and expansion summed: ratios of sums, not
    averages), and nrr_t12m, grr_t12m (of the last month). Undefined values are NaN.
    """
    months = table.sort_values("month")["month"]
    month_from, month_to = str(months.iloc[0]), str(months.iloc[-1])
    retention = period_retention(conn, filters, month_from, month_to).iloc[0]
    sums = table[["opening_mrr", *MOVEMENT_COLUMNS]].sum().to_frame().T
    sums["start_mrr"] = sums["opening_mrr"]
    sums["expansion_mrr"] = _expansion(sums)

    def rate(metric: Metric) -> float:
        return float(metric.compute(sums).iloc[0]) + 0.0

    out: dict[str, Any] = {
        "month_from": month_from,
        "month_to": month_to,
        "months": len(months),
        "base_month": str(retention["base_month"]),
        "base_accounts": int(retention["base_accounts"]),
        "retained_accounts": int(retention["retained_accounts"]),
        "start_mrr": float(retention["start_mrr"]),
        "end_mrr": float(retention["end_mrr"]),
        "gross_retained_mrr": float(retention["gross_retained_mrr"]),
        "nrr": float(retention["period_nrr"]),
        "grr": float(retention["period_grr"]),
        "avg_monthly_net_mrr_churn_rate": rate(METRICS["net_mrr_churn_rate"]),
        "avg_monthly_gross_mrr_churn_rate": rate(REVENUE_METRICS["gross_mrr_churn_rate"]),
    }
    for name in ("quick_ratio", "upsell_share", "cross_sell_share", "usage_expansion_share"):
        out[name] = rate(REVENUE_METRICS[name])
    for name in ("nrr_t12m", "grr_t12m"):
        out[name] = float(table.sort_values("month")[name].iloc[-1]) if name in table.columns else float("nan")
    return out


def tiles(table: pd.DataFrame, month: str) -> list[dict[str, Any]]:
    """The page's tiles for ``month`` from a ``rates()`` frame: one dict per TILES name.

    Keys: name, label, value, previous (the month before, None if not in the frame),
    delta, format ('percent' | 'ratio' | 'money'), help, up_is_good (cslib.deltas).
    Undefined values are None.
    """
    rows = table.set_index("month")
    if month not in rows.index:
        raise UserError(f"month {month} is not in the period")
    months = list(rows.index)
    i = months.index(month)
    out = []
    for name in TILES:
        if name == "expansion_mrr":
            label, fmt, up_is_good = "Expansion MRR", "money", True
            help_text = "Upsell + cross-sell + usage expansion of the month (MRR)."
        else:
            metric = RATE_METRICS[name]
            label, fmt, help_text = metric.label, metric.format, f"{metric.description} Formula: {metric.formula}."
            up_is_good = metric.up_is_good
        value = _scalar(rows[name].iloc[i])
        previous = _scalar(rows[name].iloc[i - 1]) if i > 0 else None
        delta = value - previous if value is not None and previous is not None else None
        out.append({"name": name, "label": label, "value": value, "previous": previous,
                    "delta": delta, "format": fmt, "help": help_text, "up_is_good": up_is_good})
    return out


def _scalar(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    value = float(value)
    return None if not np.isfinite(value) else value


def breakdown(
    conn: duckdb.DuckDBPyConnection, filters: Filters, month_from: str, month_to: str, by: str
) -> pd.DataFrame:
    """The period's movements and rates per group of ``by`` (a BREAKDOWN_DIMENSIONS key, or
    ``attr.<name>``: an account attribute; accounts without a value group as '(none)').

    One row per group value (sorted by average monthly net MRR churn rate, lowest
    first): group_value, active_accounts (active in any month of the period), start_mrr
    (sum of the months' start MRR), the seven movements and expansion_mrr summed over the
    period; then the period retention of the group (``period_retention`` with ``by``: the
    accounts active in the month before the period, grouped by their value then):
    base_accounts, base_start_mrr, base_end_mrr, base_gross_retained_mrr, nrr and grr
    (true period NRR and GRR, NaN for a group without base accounts); then
    avg_monthly_net_mrr_churn_rate and avg_monthly_gross_mrr_churn_rate (the summed
    movements over the summed start MRR: MRR-weighted average monthly rates), the
    expansion shares (of the summed expansion) and is_negative_churn (average monthly net
    MRR churn rate < 0). A group value present only in the base month (a lifecycle stage
    the accounts left) has zero movements.
    """
    from cslib.filters import attribute_value_sql, breakdown_attribute

    attribute = breakdown_attribute(conn, by, BREAKDOWN_DIMENSIONS)  # attr.<name>: an account attribute
    if attribute is None and by not in BREAKDOWN_DIMENSIONS:
        raise UserError(f"cannot break down by '{by}' (choose from {', '.join(BREAKDOWN_DIMENSIONS)})")
    month_from, month_to = check_period(conn, month_from, month_to)
    dates = {"month_from": month_from, "month_to": month_to}
    if attribute is not None:  # the attribute's name is bound, never spliced
        rendered = _render_grouped("revenue_breakdown", filters,
                                   attribute_value_sql("account_month.account_id", param="attribute"),
                                   attribute=attribute, **dates)
    else:
        rendered = _render_grouped("revenue_breakdown", filters, BREAKDOWN_DIMENSIONS[by], **dates)
    frame = query(conn, *rendered)
    retention = period_retention(conn, filters, month_from, month_to, by).drop(columns="base_month")
    retention = retention.rename(columns={
        "start_mrr": "base_start_mrr", "end_mrr": "base_end_mrr",
        "gross_retained_mrr": "base_gross_retained_mrr", "period_nrr": "nrr", "period_grr": "grr",
    }).drop(columns="retained_accounts")
    frame = frame.merge(retention, on="group_value", how="outer")
    counts = ["active_accounts", "base_accounts"]
    money = ["start_mrr", *MOVEMENT_COLUMNS, "expansion_mrr", "base_start_mrr", "base_end_mrr",
             "base_gross_retained_mrr"]
    frame[counts] = frame[counts].fillna(0).astype("int64")
    frame[money] = frame[money].fillna(0.0).astype(float)
    frame["avg_monthly_net_mrr_churn_rate"] = METRICS["net_mrr_churn_rate"].compute(frame).astype(float) + 0.0
    frame["avg_monthly_gross_mrr_churn_rate"] = (
        REVENUE_METRICS["gross_mrr_churn_rate"].compute(frame).astype(float) + 0.0)
    for name in ("upsell_share", "cross_sell_share", "usage_expansion_share"):
        frame[name] = REVENUE_METRICS[name].compute(frame).astype(float) + 0.0
    frame["is_negative_churn"] = frame["avg_monthly_net_mrr_churn_rate"] < 0
    columns = ["group_value", "active_accounts", "start_mrr", *MOVEMENT_COLUMNS, "expansion_mrr",
               "base_accounts", "base_start_mrr", "base_end_mrr", "base_gross_retained_mrr", "nrr", "grr",
               "avg_monthly_net_mrr_churn_rate", "avg_monthly_gross_mrr_churn_rate", "upsell_share",
               "cross_sell_share", "usage_expansion_share", "is_negative_churn"]
    return (frame[columns].sort_values(["avg_monthly_net_mrr_churn_rate", "group_value"], na_position="last")
            .reset_index(drop=True))


def cohorts(
    conn: duckdb.DuckDBPyConnection,
    filters: Filters,
    month_from: str,
    month_to: str,
    grain: str = "month",
) -> pd.DataFrame:
    """Net MRR retention by signing cohort, for cohorts starting in the period.

    ``grain`` 'month' or 'quarter'. An account's cohort is the month (or calendar
    quarter) of its first revenue. One row per cohort and age (0 = the signing period):
    cohort ('YYYY-MM' or 'YYYY-Qn'), cohort_start (first month, 'YYYY-MM'), age,
    accounts, base_mrr (the cohort's starting MRR: each account's MRR in its first
    revenue month), cohort_mrr (its accounts' MRR in the last month of period ``age``),
    active_accounts and retention = cohort_mrr / base_mrr (reactivation and expansion
    count). Cells after ``month_to`` are not returned. The lifecycle-stage filter is
    ignored here: a cohort passes through every stage.
    """
    if grain not in COHORT_GRAINS:
        raise UserError(f"cohort grain must be one of {', '.join(COHORT_GRAINS)}, got {grain!r}")
    month_from, month_to = check_period(conn, month_from, month_to)
    cohort_filters = dataclasses.replace(filters, lifecycle_stage=())
    first_start = month_from
    if grain == "quarter":
        first_start = f"{month_from[:4]}-{(int(month_from[5:7]) - 1) // 3 * 3 + 1:02d}"
    frame = query(conn, *render("revenue_cohorts", cohort_filters, period_months=COHORT_GRAINS[grain],
                                month_from=month_from, month_to=month_to, first_start=first_start))
    starts = pd.to_datetime(frame["cohort_start"])
    frame["cohort_start"] = starts.dt.strftime("%Y-%m")
    if grain == "quarter":
        frame.insert(0, "cohort", starts.dt.year.astype(str) + "-Q" + starts.dt.quarter.astype(str))
    else:
        frame.insert(0, "cohort", frame["cohort_start"])
    frame["age"] = frame["age"].astype("int64")
    frame["accounts"] = frame["accounts"].astype("int64")
    frame["active_accounts"] = frame["active_accounts"].astype("int64")
    frame["retention"] = ratio(frame["cohort_mrr"], frame["base_mrr"])
    return frame


def top_accounts(
    conn: duckdb.DuckDBPyConnection,
    filters: Filters,
    month_from: str,
    month_to: str,
    n: int = 10,
) -> pd.DataFrame:
    """The ``n`` top expanding and ``n`` top contracting accounts of the period.

    Ranked by retained_change_mrr = expansion + contraction + churn over the period
    (new and reactivation left out). Columns: direction ('expanding' | 'contracting'),
    rank_in_direction, account_id, name, segment, csm, main_lever ('upsell' |
    'cross_sell' | 'usage_expansion' for growth; 'churn' | 'contraction' for losses),
    retained_change_mrr, upsell_mrr, cross_sell_mrr, usage_expansion_mrr,
    contraction_mrr, churn_mrr, end_mrr and health_tier (both of ``month_to``; tier
    None when the account is not active then). Filters apply to each month's row.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise UserError(f"n must be a whole number >= 1, got {n!r}")
    month_from, month_to = check_period(conn, month_from, month_to)
    frame = query(conn, *render("revenue_top_accounts", filters, alias="a",
                                month_from=month_from, month_to=month_to, n=int(n)))
    frame["rank_in_direction"] = frame["rank_in_direction"].astype("int64")
    frame["health_tier"] = frame["health_tier"].astype(object).where(frame["health_tier"].notna(), None)
    return frame


# --------------------------------------------------------------------------- report
def revenue_report(conn, args) -> tuple[str, dict[str, pd.DataFrame]]:
    """``python -m cslib report revenue``: movements and rates per month of a period.

    The period is ``--from``..``--to``; without them the single month ``--month``
    (default: the latest). Tables: period (one row: ``period_summary``, the period's true
    NRR and GRR and its average monthly rates, as the page's period line), movements (per
    month), rates (monthly rates per month), waterfall (the period's bridge), and
    by_<dimension> with ``--by`` (``breakdown``).
    """
    first, last = data_months(conn)
    month = default_month(conn) if args.month is None else check_month(args.month, first, last, "month")
    month_to = args.month_to if args.month_to is not None else month
    month_from = args.month_from if args.month_from is not None else month_to
    month_from, month_to = check_period(conn, month_from, month_to)
    table = rates(conn, args.filters, month_from, month_to)
    movement_columns = ["month", "opening_mrr", *MOVEMENT_COLUMNS, "closing_mrr",
                        "expansion_mrr", "net_new_mrr", "active_accounts"]
    rate_columns = ["month", "start_mrr", "t12m_start_mrr", *RATE_METRICS, "is_negative_churn"]
    tables = {
        "movements": table[movement_columns],
        "rates": table[rate_columns],
        "waterfall": waterfall(table)[["step", "label", "amount_mrr", "start_mrr", "end_mrr"]],
        "period": pd.DataFrame([period_summary(conn, args.filters, table)]),
    }
    if args.by:
        tables[f"by_{args.by}"] = breakdown(conn, args.filters, month_from, month_to, args.by)
    return month_to, tables


def month_summary(table: pd.DataFrame, month: str) -> dict[str, Any]:
    """The month's negative-churn verdict from a ``rates()`` frame.

    Keys: month, start_mrr, gains_mrr (expansion + reactivation, >= 0), losses_mrr
    (churn + contraction as a positive amount), net_mrr_churn_rate, is_negative_churn
    (gains beat losses: net MRR churn rate < 0) and has_start (start MRR > 0).
    """
    rows = table.set_index("month")
    if month not in rows.index:
        raise UserError(f"month {month} is not in the period")
    row = rows.loc[month]
    gains = float(row["expansion_mrr"] + row["reactivation_mrr"])
    losses = float(-(row["churn_mrr"] + row["contraction_mrr"]))
    return {
        "month": month,
        "start_mrr": float(row["start_mrr"]),
        "gains_mrr": gains,
        "losses_mrr": losses,
        "net_mrr_churn_rate": _scalar(row["net_mrr_churn_rate"]),
        "is_negative_churn": bool(row["is_negative_churn"]),
        "has_start": float(row["start_mrr"]) > 0,
    }
