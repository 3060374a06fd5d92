"""Every KPI defined once: name, label, description, formula, and how it is computed.

All metrics are computed from monthly *components* (sums over the ``account_month``
mart, ``cslib/sql/queries/overview/kpi_monthly.sql``) for the accounts in a ``Filters`` slice. Money:
``*_mrr`` per month, ``*_arr`` per year. Movements are signed (contraction and churn
<= 0), so e.g. NRR = (start + expansion + contraction + churn) / start.

Start MRR of month M is the sum of ``prev_mrr`` over the slice's rows of M. A ratio
whose denominator is 0 (or unknown) is NaN, never 0 and never an exception.

n/a, never a false zero: when the slice has active accounts in a month but none of them
has a month-end health score (no usage imported, or too few weeks of it), healthy ARR,
health rate and health-rate MoM are NaN (None in tiles and reports), not 0. A slice where
some accounts are scored keeps the definitions below (unscored ARR in the denominator).
``health_data_status`` and ``renewal_data_status`` say why a value is n/a; every page and
report takes its reason from them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import duckdb
import numpy as np
import pandas as pd

from cslib.store.db import query
from cslib.store.queries import render
from cslib.months import check_month, data_months, default_month, shift_month
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.ratios import ratio

#: Columns of kpi_monthly.sql, in order (plus prev_healthy_arr, added in Python).
#: The signed MRR movements of ``mrr_movements`` / ``account_month`` (docs/metrics.md,
#: "MRR movements"); on every row they sum to ``mrr - prev_mrr``.
MOVEMENT_COLUMNS: tuple[str, ...] = (
    "new_mrr",
    "reactivation_mrr",
    "upsell_mrr",
    "cross_sell_mrr",
    "usage_expansion_mrr",
    "contraction_mrr",
    "churn_mrr",
)

COMPONENTS: tuple[str, ...] = (
    "active_accounts",
    "scored_accounts",
    "mrr",
    "arr",
    "healthy_arr",
    "start_mrr",
    "new_mrr",
    "reactivation_mrr",
    "upsell_mrr",
    "cross_sell_mrr",
    "usage_expansion_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churn_mrr",
    "renewals_due",
    "renewals_decided",
    "renewals_renewed",
    "renewal_due_arr",
    "renewal_decided_arr",
    "renewal_kept_arr",
)

#: The metrics that need a month-end health score: n/a when nothing in the slice is scored.
HEALTH_METRICS: tuple[str, ...] = ("healthy_arr", "health_rate", "health_rate_mom")
#: The metrics that need decided renewals due in the month.
RENEWAL_METRICS: tuple[str, ...] = ("renewal_rate_arr", "renewal_rate_count")

#: What the pages and reports say instead of a false 0% (followed by ": <reason>").
NO_HEALTH_DATA = "No health data"
NO_RENEWAL_DATA = "No renewal rate"

#: Why a value is n/a (shown after "No health data: " / "No renewal rate: " on the pages).
NO_USAGE_IMPORTED = "no usage data was imported"
NO_ACTIVE_ACCOUNTS = "no active accounts in this slice"
NO_USAGE_THIS_MONTH = "no account in this slice has usage data in this month"
NO_RENEWALS_IN_DATA = "no renewals in the data"
NO_RENEWALS_DUE = "no renewals due in this month"
RENEWALS_ALL_PENDING = "the renewals due in this month are all still pending"
NO_PREVIOUS_MONTH = "no previous month in the data"
NO_PREVIOUS_HEALTHY = "no healthy ARR in the previous month"
NO_HEALTH_PREVIOUS_MONTH = "no health data in the previous month"
NO_START_MRR = "no MRR at the start of the month"


def too_few_weeks(min_weeks: int | None) -> str:
    """The reason when accounts have usage rows but none has enough weeks for a score."""
    needs = f" (needs {min_weeks} week{'' if min_weeks == 1 else 's'})" if min_weeks else ""
    return f"no account in this slice has enough weeks of usage to be scored{needs}"


class DataStatus(NamedTuple):
    """Whether a slice's month has the data a metric needs; ``reason`` (None when ok) is
    a lower-case phrase for a message such as "No health data: <reason>"."""

    ok: bool
    reason: str | None


@dataclass(frozen=True)
class Metric:
    """One KPI. ``compute`` maps the monthly components frame to a Series."""

    name: str
    label: str
    description: str
    formula: str
    format: str  # 'money' | 'percent' | 'count'
    compute: Callable[[pd.DataFrame], pd.Series]
    #: whether a rise is good (green), bad (red, e.g. a churn rate) or neither (None: grey);
    #: tile deltas are coloured by it (cslib.deltas)
    up_is_good: bool | None = True


_METRIC_LIST: tuple[Metric, ...] = (
    Metric(
        "arr",
        "ARR",
        "Annual recurring revenue of the accounts active in the month (subscription + usage).",
        "sum(mrr * 12) over accounts with mrr > 0",
        "money",
        lambda c: c["arr"].astype(float),
    ),
    Metric(
        "healthy_arr",
        "Healthy ARR",
        "ARR of active accounts whose month-end health tier is healthy and that are not "
        "overdue at the month end (their latest renewal due by then has no renewal order by "
        "then: an overdue customer is not healthy).",
        "sum(arr) where health_tier = 'healthy' and not is_overdue",
        "money",
        lambda c: c["healthy_arr"].astype(float),
    ),
    Metric(
        "health_rate",
        "Health rate",
        "Share of ARR held by healthy accounts (overdue ones are not healthy); unscored "
        "accounts count in the denominator only. Calibrated to track the renewal rate. The "
        "Nine-box's healthy row, the flows' healthy bridge, the what-if's current rate and "
        "the incentive books give the same share.",
        "healthy_arr / arr (active accounts)",
        "percent",
        lambda c: ratio(c["healthy_arr"], c["arr"]),
    ),
    Metric(
        "health_rate_mom",
        "Health rate MoM",
        "Healthy ARR this month over healthy ARR last month, same slice; above 100% the "
        "book climbs, below 100% is alarming.",
        "healthy_arr / healthy_arr of the previous month",
        "percent",
        lambda c: ratio(c["healthy_arr"], c["prev_healthy_arr"]),
    ),
    Metric(
        "renewal_rate_arr",
        "Renewal rate (ARR)",
        "ARR kept over ARR due, for renewals due in the month that are decided (not "
        "pending); each renewal is capped at its due ARR (uplift is expansion).",
        "renewal_kept_arr / renewal_decided_arr",
        "percent",
        lambda c: ratio(c["renewal_kept_arr"], c["renewal_decided_arr"]),
    ),
    Metric(
        "renewal_rate_count",
        "Renewal rate (count)",
        "Renewed renewals over decided renewals due in the month.",
        "renewals_renewed / renewals_decided",
        "percent",
        lambda c: ratio(c["renewals_renewed"], c["renewals_decided"]),
    ),
    Metric(
        "nrr",
        "NRR",
        "Net revenue retention: MRR kept and grown from last month's customers; "
        "no new and no reactivation.",
        "(start_mrr + expansion_mrr + contraction_mrr + churn_mrr) / start_mrr "
        "(contraction and churn signed <= 0)",
        "percent",
        lambda c: ratio(
            c["start_mrr"] + c["expansion_mrr"] + c["contraction_mrr"] + c["churn_mrr"],
            c["start_mrr"],
        ),
    ),
    Metric(
        "grr",
        "GRR",
        "Gross revenue retention: MRR kept from last month's customers, ignoring expansion.",
        "(start_mrr + contraction_mrr + churn_mrr) / start_mrr (signed <= 0)",
        "percent",
        lambda c: ratio(c["start_mrr"] + c["contraction_mrr"] + c["churn_mrr"], c["start_mrr"]),
    ),
    Metric(
        "net_mrr_churn_rate",
        "Net MRR churn rate",
        "MRR lost to churn and contraction, less expansion and reactivation, over start "
        "MRR; below 0 is negative churn (expansion beats losses).",
        "-(contraction_mrr + churn_mrr + expansion_mrr + reactivation_mrr) / start_mrr",
        "percent",
        lambda c: ratio(
            -(c["contraction_mrr"] + c["churn_mrr"] + c["expansion_mrr"] + c["reactivation_mrr"]),
            c["start_mrr"],
        ),
        up_is_good=False,
    ),
    Metric(
        "active_accounts",
        "Active accounts",
        "Accounts with MRR > 0 in the month.",
        "count(*) where mrr > 0",
        "count",
        lambda c: c["active_accounts"].astype(int),
    ),
)

#: name -> Metric; the one place every KPI is defined.
METRICS: dict[str, Metric] = {m.name: m for m in _METRIC_LIST}

#: The Overview tiles, in display order.
TILES: tuple[str, ...] = (
    "arr",
    "health_rate",
    "renewal_rate_arr",
    "renewal_rate_count",
    "nrr",
    "grr",
    "health_rate_mom",
    "active_accounts",
)


def latest_month(conn: duckdb.DuckDBPyConnection) -> str:
    """The month reports open on: the latest month ('YYYY-MM') in ``account_month``, or the
    last month with both revenue and usage when an import's revenue runs past its usage
    (``cslib.months.default_month``); UserError when it is empty."""
    return default_month(conn)


def _components(
    conn: duckdb.DuckDBPyConnection, filters: Filters, first: str, last: str
) -> pd.DataFrame:
    """kpi_monthly.sql for months first..last (inclusive) over the filtered slice."""
    return query(conn, *render("kpi_monthly", filters, first_month=first, last_month=last))


def min_weeks(conn: duckdb.DuckDBPyConnection) -> int | None:
    """The scorecard's min_weeks (weeks of usage an account needs for a score), from
    ``cfg_score_params``; None when the database has no such setting."""
    try:
        df = query(conn, "select min_weeks from cfg_score_params limit 1")
    except duckdb.Error:
        return None
    if df.empty or pd.isna(df["min_weeks"].iloc[0]):
        return None
    return int(df["min_weeks"].iloc[0])


def _status_row(conn: duckdb.DuckDBPyConnection, filters: Filters, month: str) -> dict[str, int]:
    row = query(conn, *render("kpi_data_status", filters, alias="a", month=month)).iloc[0]
    return {k: int(row[k]) for k in row.index}


def _resolve(conn: duckdb.DuckDBPyConnection, month: str | None) -> str:
    first, last = data_months(conn)
    return last if month is None else check_month(month, first, last)


def health_data_status(
    conn: duckdb.DuckDBPyConnection, filters: Filters, month: str | None = None
) -> DataStatus:
    """Does the slice have health data in ``month`` (None = latest)? The one place that
    says why health rate, health-rate MoM, healthy ARR, the nine-box, the flows and the
    commissions are n/a.

    ok when at least one active account of the slice has a month-end score. Otherwise the
    reason, checked in this order: NO_USAGE_IMPORTED (``health_weekly`` is empty),
    NO_ACTIVE_ACCOUNTS, NO_USAGE_THIS_MONTH (the slice's active accounts have no usage week
    starting in the month), else ``too_few_weeks(min_weeks)``. UserError for a bad month.
    """
    month = _resolve(conn, month)
    row = _status_row(conn, filters, month)
    if row["scored_accounts"] > 0:
        return DataStatus(True, None)
    if row["any_health_rows"] == 0:
        return DataStatus(False, NO_USAGE_IMPORTED)
    if row["active_accounts"] == 0:
        return DataStatus(False, NO_ACTIVE_ACCOUNTS)
    usage = query(conn, *render("kpi_usage_in_month", filters, alias="a", month=month))
    if int(usage["usage_accounts"].iloc[0]) == 0:
        return DataStatus(False, NO_USAGE_THIS_MONTH)
    return DataStatus(False, too_few_weeks(min_weeks(conn)))


def renewal_data_status(
    conn: duckdb.DuckDBPyConnection, filters: Filters, month: str | None = None
) -> DataStatus:
    """Are there decided renewals due in ``month`` (None = latest) in the slice? ok when
    at least one; else NO_RENEWALS_IN_DATA (none at all, any month or account),
    NO_RENEWALS_DUE (none due in the slice this month) or RENEWALS_ALL_PENDING."""
    month = _resolve(conn, month)
    row = _status_row(conn, filters, month)
    if row["renewals_decided"] > 0:
        return DataStatus(True, None)
    if row["renewals_in_data"] == 0:
        return DataStatus(False, NO_RENEWALS_IN_DATA)
    if row["renewals_due"] == 0:
        return DataStatus(False, NO_RENEWALS_DUE)
    return DataStatus(False, RENEWALS_ALL_PENDING)


def kpi_series(
    conn: duckdb.DuckDBPyConnection,
    filters: Filters,
    end_month: str | None = None,
    n_months: int = 13,
) -> pd.DataFrame:
    """Monthly KPI components and every METRICS column for the filtered slice.

    One row per calendar month, ascending, for the ``n_months`` months ending with
    ``end_month`` (None = latest month), limited to months inside the data. Columns:
    month, COMPONENTS, prev_healthy_arr, then one column per metric. Money per month
    (``*_mrr``) or per year (``*_arr``); ratios are fractions (1.0 = 100%), NaN when the
    denominator is 0. A month of the range with no rows in the slice has zero components.
    """
    first, last = data_months(conn)
    end = last if end_month is None else check_month(end_month, first, last)
    if isinstance(n_months, bool) or not isinstance(n_months, (int, np.integer)) or n_months < 1:
        raise UserError(f"n_months must be a whole number >= 1, got {n_months!r}")
    start = max(shift_month(end, -(int(n_months) - 1)), first)
    # one extra month before the range, so the first month has a previous month
    query_start = shift_month(start, -1)
    calendar = [query_start]
    while calendar[-1] < end:
        calendar.append(shift_month(calendar[-1], 1))

    raw = _components(conn, filters, query_start, end)
    frame = (
        raw.set_index("month")
        .reindex(calendar)
        .fillna(0)
        .rename_axis("month")
        .reset_index()
    )
    for column in ("active_accounts", "scored_accounts", "renewals_due", "renewals_decided", "renewals_renewed"):
        frame[column] = frame[column].astype("int64")
    frame["prev_healthy_arr"] = frame["healthy_arr"].shift(1)
    if query_start < first:  # the month before the data is unknown, not zero
        frame.loc[frame["month"] == first, "prev_healthy_arr"] = np.nan
    # a month with active accounts but no score: health is unknown, not zero
    no_health = (frame["active_accounts"] > 0) & (frame["scored_accounts"] == 0)
    frame.loc[no_health.shift(1, fill_value=False).to_numpy(), "prev_healthy_arr"] = np.nan
    for name, metric in METRICS.items():
        frame[name] = metric.compute(frame)
    frame.loc[no_health, list(HEALTH_METRICS)] = np.nan
    frame = frame[frame["month"] >= start].reset_index(drop=True)
    return frame[["month", *COMPONENTS, "prev_healthy_arr", *[m for m in METRICS if m not in COMPONENTS]]]


def _scalar(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def kpi_tiles(
    conn: duckdb.DuckDBPyConnection, filters: Filters, month: str | None = None
) -> list[dict[str, Any]]:
    """The Overview tiles for ``month`` (None = latest): one dict per name in TILES.

    Keys: name, label, value, previous (the month before; None before the data starts),
    delta (value - previous), format ('money', 'percent' or 'count'), up_is_good (how the
    delta is coloured, cslib.deltas), reason. A value that is
    undefined (zero denominator, or no health data) is None, and so is any delta involving
    it; ``reason`` then says why (from health_data_status / renewal_data_status for the
    health and renewal metrics), else it is None.
    """
    series = kpi_series(conn, filters, end_month=month, n_months=2)
    current = series.iloc[-1]
    previous = series.iloc[-2] if len(series) > 1 else None
    statuses: dict[str, DataStatus] = {}

    def status(kind: str) -> DataStatus:  # at most one query each, only when needed
        if kind not in statuses:
            check = health_data_status if kind == "health" else renewal_data_status
            statuses[kind] = check(conn, filters, str(current["month"]))
        return statuses[kind]

    def reason(name: str) -> str | None:
        if name in HEALTH_METRICS and not status("health").ok:
            return status("health").reason
        if name in RENEWAL_METRICS:
            return status("renewal").reason or NO_RENEWALS_DUE
        if int(current["active_accounts"]) == 0:
            return NO_ACTIVE_ACCOUNTS
        if name == "health_rate_mom":
            if previous is None:
                return NO_PREVIOUS_MONTH
            if int(previous["active_accounts"]) > 0 and int(previous["scored_accounts"]) == 0:
                return NO_HEALTH_PREVIOUS_MONTH
            return NO_PREVIOUS_HEALTHY
        if name in ("nrr", "grr", "net_mrr_churn_rate"):
            return NO_START_MRR
        return None

    tiles = []
    for name in TILES:
        metric = METRICS[name]
        value = _scalar(current[name])
        prev = _scalar(previous[name]) if previous is not None else None
        if metric.format == "count":  # counts are whole numbers on screen and in JSON
            value = None if value is None else int(value)
            prev = None if prev is None else int(prev)
        delta = value - prev if value is not None and prev is not None else None
        tiles.append(
            {
                "name": name,
                "label": metric.label,
                "value": value,
                "previous": prev,
                "delta": delta,
                "format": metric.format,
                "up_is_good": metric.up_is_good,
                "reason": reason(name) if value is None else None,
            }
        )
    return tiles
