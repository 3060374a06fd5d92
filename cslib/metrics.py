"""Every KPI defined once: name, label, description, formula, and how it is computed.

All metrics are computed from monthly *components* (sums over the ``account_month``
mart, ``cslib/sql/kpi_monthly.sql``) for the accounts in a ``Filters`` slice. Money:
``*_mrr`` per month, ``*_arr`` per year. Movements are signed (contraction and churn
<= 0), so e.g. NRR = (start + expansion + contraction + churn) / start.

Start MRR of month M is the sum of ``prev_mrr`` over the slice's rows of M. A ratio
whose denominator is 0 (or unknown) is NaN, never 0 and never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from .db import query, sql_file
from .months import check_month, data_months, shift_month
from .errors import UserError
from .filters import Filters

#: Columns of kpi_monthly.sql, in order (plus prev_healthy_arr, added in Python).
#: The signed MRR movements of ``mrr_movements`` / ``account_month`` (DESIGN.md "Metric
#: definitions"); on every row they sum to ``mrr - prev_mrr``.
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

_FILTER_MARKER = "/* filter_predicate */ true"


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is 0 or NaN."""
    den = denominator.astype(float)
    return numerator.astype(float) / den.where(den != 0)


@dataclass(frozen=True)
class Metric:
    """One KPI. ``compute`` maps the monthly components frame to a Series."""

    name: str
    label: str
    description: str
    formula: str
    format: str  # 'money' | 'percent' | 'count'
    compute: Callable[[pd.DataFrame], pd.Series]


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
        "ARR of active accounts whose month-end health tier is healthy.",
        "sum(arr) where health_tier = 'healthy'",
        "money",
        lambda c: c["healthy_arr"].astype(float),
    ),
    Metric(
        "health_rate",
        "Health rate",
        "Share of ARR held by healthy accounts; unscored accounts count in the "
        "denominator only. Calibrated to track the renewal rate (DOMAIN.md section 1).",
        "healthy_arr / arr (active accounts)",
        "percent",
        lambda c: _ratio(c["healthy_arr"], c["arr"]),
    ),
    Metric(
        "health_rate_mom",
        "Health rate MoM",
        "Healthy ARR this month over healthy ARR last month, same slice; above 100% the "
        "book climbs, below 100% is alarming.",
        "healthy_arr / healthy_arr of the previous month",
        "percent",
        lambda c: _ratio(c["healthy_arr"], c["prev_healthy_arr"]),
    ),
    Metric(
        "renewal_rate_arr",
        "Renewal rate (ARR)",
        "ARR kept over ARR due, for renewals due in the month that are decided (not "
        "pending); each renewal is capped at its due ARR (uplift is expansion).",
        "renewal_kept_arr / renewal_decided_arr",
        "percent",
        lambda c: _ratio(c["renewal_kept_arr"], c["renewal_decided_arr"]),
    ),
    Metric(
        "renewal_rate_count",
        "Renewal rate (count)",
        "Renewed renewals over decided renewals due in the month.",
        "renewals_renewed / renewals_decided",
        "percent",
        lambda c: _ratio(c["renewals_renewed"], c["renewals_decided"]),
    ),
    Metric(
        "nrr",
        "NRR",
        "Net revenue retention: MRR kept and grown from last month's customers; "
        "no new and no reactivation.",
        "(start_mrr + expansion_mrr + contraction_mrr + churn_mrr) / start_mrr "
        "(contraction and churn signed <= 0)",
        "percent",
        lambda c: _ratio(
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
        lambda c: _ratio(c["start_mrr"] + c["contraction_mrr"] + c["churn_mrr"], c["start_mrr"]),
    ),
    Metric(
        "net_mrr_churn_rate",
        "Net MRR churn rate",
        "MRR lost to churn and contraction, less expansion and reactivation, over start "
        "MRR; below 0 is negative churn (expansion beats losses).",
        "-(contraction_mrr + churn_mrr + expansion_mrr + reactivation_mrr) / start_mrr",
        "percent",
        lambda c: _ratio(
            -(c["contraction_mrr"] + c["churn_mrr"] + c["expansion_mrr"] + c["reactivation_mrr"]),
            c["start_mrr"],
        ),
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
)


def latest_month(conn: duckdb.DuckDBPyConnection) -> str:
    """The latest month ('YYYY-MM') in ``account_month``; UserError when it is empty."""
    return data_months(conn)[1]


def _components(
    conn: duckdb.DuckDBPyConnection, filters: Filters, first: str, last: str
) -> pd.DataFrame:
    """kpi_monthly.sql for months first..last (inclusive) over the filtered slice."""
    predicate, params = filters.where()
    sql = sql_file("kpi_monthly")
    if sql.count(_FILTER_MARKER) != 1:
        raise RuntimeError("kpi_monthly.sql must contain the filter marker exactly once")
    return query(conn, sql.replace(_FILTER_MARKER, predicate), [first, last, *params])


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
    for column in ("active_accounts", "renewals_due", "renewals_decided", "renewals_renewed"):
        frame[column] = frame[column].astype("int64")
    frame["prev_healthy_arr"] = frame["healthy_arr"].shift(1)
    if query_start < first:  # the month before the data is unknown, not zero
        frame.loc[frame["month"] == first, "prev_healthy_arr"] = np.nan
    for name, metric in METRICS.items():
        frame[name] = metric.compute(frame)
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
    delta (value - previous), format ('money' or 'percent'). A value that is undefined
    (zero denominator) is None, and so is any delta involving it.
    """
    series = kpi_series(conn, filters, end_month=month, n_months=2)
    current = series.iloc[-1]
    previous = series.iloc[-2] if len(series) > 1 else None
    tiles = []
    for name in TILES:
        metric = METRICS[name]
        value = _scalar(current[name])
        prev = _scalar(previous[name]) if previous is not None else None
        delta = value - prev if value is not None and prev is not None else None
        tiles.append(
            {
                "name": name,
                "label": metric.label,
                "value": value,
                "previous": prev,
                "delta": delta,
                "format": metric.format,
            }
        )
    return tiles
