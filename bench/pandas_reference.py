"""Plain-pandas implementations of page queries, for the benchmark and as a cross-check.

``python -m bench`` times these against the DuckDB path on the same data (the
frame loaded once into memory, as a pandas app would hold it); the tests check that
they give the same numbers as the SQL, so the comparison is of equal work.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from cslib.filters import FILTER_COLUMNS, Filters
from cslib.ratios import ratio
from cslib.rules.scorecard import HEALTH_WEEKLY_COLUMNS, MODULES, Bands, Scorecard
from cslib.views.renewal_model import (
    IndicatorBands,
    _indicator_band_rates,
    _score_band_order,
    _score_band_rates,
    indicator_feature,
    order_segments,
    value_column,
)

#: account_month columns the page queries below read
COLUMNS = (
    "month", "is_target", *FILTER_COLUMNS.values(), "is_active", "mrr", "arr", "prev_mrr",
    "health_tier", "is_overdue", "value_tier", "new_mrr", "reactivation_mrr", "upsell_mrr",
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
    """What cslib/sql/queries/overview/kpi_monthly.sql computes: per month, the KPI components of the slice."""
    rows = account_month[
        _slice(account_month, filters)
        & (account_month["month"] >= first_month)
        & (account_month["month"] <= last_month)
    ].copy()
    rows["healthy_arr"] = rows["arr"].where(
        rows["is_active"] & (rows["health_tier"] == "healthy") & ~rows["is_overdue"].astype(bool), 0.0
    )
    rows["expansion_mrr"] = rows["upsell_mrr"] + rows["cross_sell_mrr"] + rows["usage_expansion_mrr"]
    rows["active_accounts"] = rows["is_active"].astype("int64")
    rows["scored_accounts"] = (rows["is_active"] & (rows["health_tier"] != "unscored")).astype("int64")
    out = rows.groupby("month", sort=True).agg(
        active_accounts=("active_accounts", "sum"),
        scored_accounts=("scored_accounts", "sum"),
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
    """What cslib/sql/queries/ninebox/ninebox_cells.sql counts for one month: accounts and ARR per
    (health_tier, value_tier) of the active accounts in the slice; an account overdue at
    the month end is in the unhealthy row (ninebox_account_month.sql)."""
    rows = account_month[
        _slice(account_month, filters) & (account_month["month"] == month) & account_month["is_active"]
    ]
    rows = rows.assign(health_tier=rows["health_tier"].where(~rows["is_overdue"].astype(bool), "unhealthy"))
    return (
        rows.groupby(["health_tier", "value_tier"])
        .agg(accounts=("arr", "size"), arr=("arr", "sum"))
        .reset_index()
    )



def overdue_flags(account_month: pd.DataFrame, renewals: pd.DataFrame) -> pd.Series:
    """The overdue rule (account_month.is_overdue), recomputed in pandas from the mart's
    account_id, month, is_active and raw_renewals' account_id, due_on, renewed_on; a
    boolean Series aligned with ``account_month``'s index.

    At a month's last day an account is overdue when it is active, its latest renewal due
    on or before that day has no renewal order dated on or before it (any renewal due that
    same day without an order counts), and it had revenue every month since that
    renewal's due month.
    """
    rows = account_month[["account_id", "month", "is_active"]].copy()
    rows["month_start"] = pd.to_datetime(rows["month"] + "-01")
    rows["month_end"] = rows["month_start"] + pd.offsets.MonthEnd(0)
    rows = rows.sort_values(["account_id", "month_start"])
    inactive_start = rows["month_start"].where(~rows["is_active"].astype(bool))
    rows["last_inactive"] = inactive_start.groupby(rows["account_id"]).ffill()  # months ascending
    dues = renewals[["account_id", "due_on", "renewed_on"]].copy()
    dues["due_on"] = pd.to_datetime(dues["due_on"])
    dues["renewed_on"] = pd.to_datetime(dues["renewed_on"])
    dues = dues.groupby(["account_id", "due_on"], as_index=False).agg(
        any_missing=("renewed_on", lambda v: v.isna().any()), last_order_on=("renewed_on", "max")
    )
    dues.loc[dues["any_missing"], "last_order_on"] = pd.NaT
    latest = pd.merge_asof(
        rows.reset_index().sort_values("month_end"),
        dues.sort_values("due_on")[["account_id", "due_on", "last_order_on"]],
        left_on="month_end", right_on="due_on", by="account_id", direction="backward",
    ).set_index("index")
    due_month = latest["due_on"].dt.to_period("M").dt.to_timestamp()
    overdue = (
        latest["is_active"].astype(bool)
        & latest["due_on"].notna()
        & (latest["last_order_on"].isna() | (latest["last_order_on"] > latest["month_end"]))
        & (latest["last_inactive"].isna() | (latest["last_inactive"] < due_month))
    )
    return overdue.reindex(account_month.index).astype(bool)

# --------------------------------------------------------------------------- health flows
#: flows_account_month columns the Health flows queries below read
FLOWS_COLUMNS = (
    "month", "is_target", *FILTER_COLUMNS.values(), "arr", "prev_arr", "from_state", "state",
    "healthy_step", "healthy_step_arr", "unhealthy_step", "unhealthy_step_arr",
)
#: bridge -> the states in its group (deferred counts as unhealthy, method section 3)
_BRIDGE_GROUPS = {"healthy": ("healthy",), "unhealthy": ("unhealthy", "deferred")}


def _month_rows(frame: pd.DataFrame, filters: Filters, month: str) -> pd.DataFrame:
    return frame[_slice(frame, filters) & (frame["month"] == month)]


def _matrix_of(rows: pd.DataFrame) -> pd.DataFrame:
    from cslib.views.flows import FROM_STATES, TO_STATES

    flow_arr = rows["prev_arr"].where(rows["state"] == "churned", rows["arr"])
    found = (
        rows.assign(flow_arr=flow_arr)
        .groupby(["from_state", "state"])
        .agg(accounts=("flow_arr", "size"), arr=("flow_arr", "sum"))
    )
    found.index = found.index.set_names(["from_state", "to_state"])
    grid = pd.MultiIndex.from_product([FROM_STATES, TO_STATES], names=["from_state", "to_state"])
    out = found.reindex(grid, fill_value=0).reset_index()
    out["accounts"] = out["accounts"].astype("int64")
    out["arr"] = out["arr"].astype(float)
    return out


def _bridges_of(rows: pd.DataFrame) -> pd.DataFrame:
    from cslib.views.flows import BRIDGE_STEPS, BRIDGES

    out = []
    for bridge in BRIDGES:
        was = rows["from_state"].isin(_BRIDGE_GROUPS[bridge])
        now = rows["state"].isin(_BRIDGE_GROUPS[bridge])
        steps = rows.groupby(f"{bridge}_step")[f"{bridge}_step_arr"].agg(["sum", "size"])
        out.append((bridge, "start", float(rows.loc[was, "prev_arr"].sum()), int(was.sum())))
        for step, _label, _sign in BRIDGE_STEPS[bridge]:
            if step in steps.index:
                out.append((bridge, step, float(steps.at[step, "sum"]), int(steps.at[step, "size"])))
            else:
                out.append((bridge, step, 0.0, 0))
        out.append((bridge, "end", float(rows.loc[now, "arr"].sum()), int(now.sum())))
    return pd.DataFrame(out, columns=["bridge", "step", "arr", "accounts"])


def flows_matrix(flows_account_month: pd.DataFrame, filters: Filters, month: str) -> pd.DataFrame:
    """What cslib.views.flows.transition_matrix returns: from_state, to_state, accounts, arr for
    every pair of FROM_STATES x TO_STATES (zeros included); arr is this month's ARR, last
    month's for to_state 'churned'. Reads FLOWS_COLUMNS."""
    return _matrix_of(_month_rows(flows_account_month, filters, month))


def flows_bridges(flows_account_month: pd.DataFrame, filters: Filters, month: str) -> pd.DataFrame:
    """What cslib.views.flows.bridges returns: bridge, step, arr (signed ARR), accounts; per
    bridge 'start', every step of BRIDGE_STEPS in order, 'end'. Start is last month's ARR
    of the accounts then in the group, end this month's of those in it now."""
    return _bridges_of(_month_rows(flows_account_month, filters, month))


def flows_month(flows_account_month: pd.DataFrame, filters: Filters,
                month: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(flows_matrix, flows_bridges) of the month from one slice: what cslib.views.flows.month_flows
    (flows_month.sql, one scan) gives the Health flows page."""
    rows = _month_rows(flows_account_month, filters, month)
    return _matrix_of(rows), _bridges_of(rows)


# --------------------------------------------------------------------------- churn reasons
#: churn_events columns the Churn reasons queries below read
CHURN_COLUMNS = (
    "churn_month", "is_target", *FILTER_COLUMNS.values(), "churned_arr", "reason_code",
    "reason_label", "category", "avoidability", "owner_department", "weeks_scored",
    "weeks_healthy", "weeks_at_risk", "weeks_unhealthy", "score_sum", "last_tier",
)


def _churns(churn_events: pd.DataFrame, filters: Filters, month_from: str, month_to: str) -> pd.DataFrame:
    return churn_events[
        _slice(churn_events, filters)
        & (churn_events["churn_month"] >= month_from)
        & (churn_events["churn_month"] <= month_to)
    ]


def churn_reason_breakdown(churn_events: pd.DataFrame, filters: Filters, month_from: str,
                           month_to: str) -> pd.DataFrame:
    """What cslib.views.churn.churn_breakdown(by='reason') returns (churn_breakdown.sql): per reason
    of the churns in month_from..month_to: value, label, churned_accounts, churned_arr,
    account_share, arr_share (fractions of the period, NaN arr_share when no churned ARR),
    category, avoidability, owner_department; largest churned ARR first. Reads CHURN_COLUMNS."""
    rows = _churns(churn_events, filters, month_from, month_to)
    out = rows.groupby("reason_code").agg(
        churned_accounts=("churned_arr", "size"),
        churned_arr=("churned_arr", "sum"),
        label=("reason_label", "first"),
        category=("category", "first"),
        avoidability=("avoidability", "first"),
        owner_department=("owner_department", "first"),
    ).rename_axis("value").reset_index()
    total_arr = out["churned_arr"].sum()
    out["account_share"] = out["churned_accounts"] / out["churned_accounts"].sum()
    out["arr_share"] = out["churned_arr"] / total_arr if total_arr != 0 else float("nan")
    out = out.sort_values(["churned_arr", "churned_accounts", "value"], ascending=[False, False, True])
    return out[["value", "label", "churned_accounts", "churned_arr", "account_share", "arr_share",
                "category", "avoidability", "owner_department"]].reset_index(drop=True)


def churn_reason_health(churn_events: pd.DataFrame, filters: Filters, month_from: str,
                        month_to: str) -> pd.DataFrame:
    """What cslib.views.churn.reason_vs_health returns (churn_vs_health.sql): per reason,
    churned_accounts, churned_arr, scored_accounts, weeks_scored, mean_score (0-100), the
    healthy / at_risk / unhealthy week shares of scored weeks, healthy_at_churn_share,
    signal_check and is_flagged; most churns first. Reads CHURN_COLUMNS."""
    from cslib.views.churn import SIGNAL_CONTRADICTS, SIGNAL_INVISIBLE, signal_check

    rows = _churns(churn_events, filters, month_from, month_to)
    rows = rows.assign(
        is_scored=rows["weeks_scored"] > 0, is_healthy_at_churn=rows["last_tier"] == "healthy"
    )
    g = rows.groupby("reason_code").agg(
        reason_label=("reason_label", "first"),
        category=("category", "first"),
        churned_accounts=("churned_arr", "size"),
        churned_arr=("churned_arr", "sum"),
        scored_accounts=("is_scored", "sum"),
        weeks_scored=("weeks_scored", "sum"),
        weeks_healthy=("weeks_healthy", "sum"),
        weeks_at_risk=("weeks_at_risk", "sum"),
        weeks_unhealthy=("weeks_unhealthy", "sum"),
        score_sum=("score_sum", "sum"),
        healthy_at_churn=("is_healthy_at_churn", "sum"),
    ).reset_index()
    out = g[["reason_code", "reason_label", "category", "churned_accounts", "churned_arr",
             "scored_accounts", "weeks_scored"]].copy()
    out["mean_score"] = ratio(g["score_sum"], g["weeks_scored"])
    out["healthy_week_share"] = ratio(g["weeks_healthy"], g["weeks_scored"])
    out["at_risk_week_share"] = ratio(g["weeks_at_risk"], g["weeks_scored"])
    out["unhealthy_week_share"] = ratio(g["weeks_unhealthy"], g["weeks_scored"])
    out["healthy_at_churn_share"] = ratio(g["healthy_at_churn"], g["scored_accounts"])
    out = out.sort_values(["churned_accounts", "reason_code"], ascending=[False, True]).reset_index(drop=True)
    out["signal_check"] = [
        signal_check(code, int(n), share)
        for code, n, share in zip(out["reason_code"], out["scored_accounts"], out["healthy_week_share"])
    ]
    out["is_flagged"] = out["signal_check"].isin([SIGNAL_CONTRADICTS, SIGNAL_INVISIBLE])
    return out


# --------------------------------------------------------------------------- negative churn
#: revenue_t12m columns the Negative churn rates read (account_month: COLUMNS)
T12M_COLUMNS = (
    "month", "is_target", *FILTER_COLUMNS.values(), "start_mrr", "retained_mrr",
    "gross_retained_mrr", "window_reactivation_mrr",
)


def revenue_rates(account_month: pd.DataFrame, revenue_t12m: pd.DataFrame, filters: Filters,
                  month_from: str, month_to: str) -> pd.DataFrame:
    """What cslib.views.revenue.rates returns (revenue_movements.sql, revenue_t12m_rates.sql):
    one row per calendar month month_from..month_to with opening_mrr, the seven signed
    movements, closing_mrr, active_accounts, expansion_mrr, net_new_mrr, start_mrr, the
    T12M inputs, every revenue.RATE_METRICS rate (fractions, NaN when undefined) and
    is_negative_churn. Reads COLUMNS of account_month and T12M_COLUMNS of revenue_t12m."""
    from cslib.views.metrics import MOVEMENT_COLUMNS
    from cslib.months import calendar
    from cslib.views.revenue import EXPANSION_COLUMNS, RATE_METRICS

    months = calendar(month_from, month_to)
    rows = account_month[
        _slice(account_month, filters)
        & (account_month["month"] >= month_from)
        & (account_month["month"] <= month_to)
    ]
    frame = rows.groupby("month").agg(
        opening_mrr=("prev_mrr", "sum"),
        **{c: (c, "sum") for c in MOVEMENT_COLUMNS},
        closing_mrr=("mrr", "sum"),
        active_accounts=("is_active", "sum"),
    ).reindex(months, fill_value=0).astype(float).rename_axis("month").reset_index()
    frame["active_accounts"] = frame["active_accounts"].astype("int64")
    frame["expansion_mrr"] = frame[list(EXPANSION_COLUMNS)].sum(axis=1)
    frame["net_new_mrr"] = frame["closing_mrr"] - frame["opening_mrr"]
    frame["start_mrr"] = frame["opening_mrr"]

    windows = revenue_t12m[
        _slice(revenue_t12m, filters)
        & (revenue_t12m["month"] >= month_from)
        & (revenue_t12m["month"] <= month_to)
    ]
    t12m = windows.groupby("month").agg(
        t12m_start_mrr=("start_mrr", "sum"),
        t12m_retained_mrr=("retained_mrr", "sum"),
        t12m_gross_retained_mrr=("gross_retained_mrr", "sum"),
        t12m_reactivation_mrr=("window_reactivation_mrr", "sum"),
        t12m_accounts=("start_mrr", "size"),
    ).reindex(months, fill_value=0)
    for column in t12m.columns:
        frame[column] = t12m[column].to_numpy().astype("int64" if column == "t12m_accounts" else float)
    for name, metric in RATE_METRICS.items():
        frame[name] = metric.compute(frame).astype(float) + 0.0
    frame["is_negative_churn"] = frame["net_mrr_churn_rate"] < 0
    return frame


# --------------------------------------------------------------------------- renewal model
#: model_renewal_indicator_features columns the indicator tables read (any indicator set)
RENEWAL_INDICATOR_COLUMNS = ("account_id", "due_on", "indicator", "points_mean", "value_mean")


def renewal_columns() -> tuple[str, ...]:
    """model_renewal_features columns the score-band and indicator tables read."""
    return (
        "account_id", "due_on", "is_target", *FILTER_COLUMNS.values(), "due_arr", "renewed_arr", "is_decided",
        "is_renewed", "month_end_score",
    )


def renewal_score_bands(model_renewal_features: pd.DataFrame, filters: Filters,
                        coarse: bool = False) -> pd.DataFrame:
    """What cslib.views.renewal_model.score_band_table returns: renewal rate by month-end score
    band of the slice's decided renewals: the frame held in memory, sliced and counted in
    numpy (score_band_rates, below) where the page counts in SQL
    (model_score_bands.sql). Reads ``renewal_columns()``."""
    return score_band_rates(model_renewal_features[_slice(model_renewal_features, filters)], coarse=coarse)


def renewal_indicator_tables(model_renewal_features: pd.DataFrame, model_renewal_indicator_features: pd.DataFrame,
                             filters: Filters, bands: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What cslib.views.renewal_model.indicator_tables returns: (band rates, effects) of the
    slice, banded and counted in numpy (indicator_bands, below) where the page
    counts in SQL (model_indicator_bands.sql). The frames hold ``renewal_columns()`` and
    ``RENEWAL_INDICATOR_COLUMNS`` (long: one row per renewal and indicator); ``bands`` is
    renewal_model.scorecard_bands(conn), read once (its keys are the indicators)."""
    from cslib.views.renewal_model import indicator_effects, with_indicator_columns

    sliced = model_renewal_features[_slice(model_renewal_features, filters)]
    decided = sliced[sliced["is_decided"].astype(bool)]
    wide = with_indicator_columns(decided, model_renewal_indicator_features, tuple(bands))
    rates = indicator_bands(wide, bands)
    if rates.empty:
        return rates, pd.DataFrame()
    return rates, indicator_effects(rates)


# --------------------------------------------------------------------------- renewal bands in numpy
def indicator_bands(features: pd.DataFrame, bands: dict[str, IndicatorBands]) -> pd.DataFrame:
    """Renewal rate per indicator band (of the indicator's mean over the 13-week window),
    overall (segment 'all') and per segment, over decided renewals (in memory; the page
    counts in SQL with cslib.views.renewal_model.indicator_band_table, same result). ``features``: the
    columns of cslib.views.renewal_model.renewal_features (value_column / the points mean of each banded
    indicator, segment, is_decided, is_renewed).

    Columns: indicator, label, segment, segment_label, band (ordinal), band_label,
    min_value, points, renewals, renewed, renewal_rate, ci_low, ci_high (Wilson 95%). A
    window without data is band 'no data' (band -1).
    """
    decided = features[features["is_decided"].astype(bool)]
    renewed = decided["is_renewed"].astype(bool).to_numpy()
    segment = decided["segment"].to_numpy()
    groups = [("all", np.ones(len(decided), dtype=bool)),
              *((seg, segment == seg) for seg in order_segments(decided["segment"]))]
    counts = []
    for indicator, spec in bands.items():
        column = indicator_feature(indicator, "mean") if spec.on_points else value_column(indicator)
        mins = np.array([lo for lo, _ in spec.bands])
        values = decided[column].to_numpy(dtype="float64", na_value=np.nan)
        idx = np.searchsorted(mins, np.nan_to_num(values, nan=-np.inf), side="right") - 1
        slot = np.where(np.isnan(values), -1, idx) + 1  # 0 = no data, i + 1 = band i
        for group, mask in groups:
            sizes = np.bincount(slot[mask], minlength=len(mins) + 1)
            hits = np.bincount(slot[mask & renewed], minlength=len(mins) + 1)
            for s_i in np.flatnonzero(sizes):
                counts.append((indicator, group, int(s_i) - 1, int(sizes[s_i]), int(hits[s_i])))
    return _indicator_band_rates(
        pd.DataFrame(counts, columns=["indicator", "segment_group", "band", "renewals", "renewed"]), bands
    )


def score_band_rates(features: pd.DataFrame, coarse: bool = False) -> pd.DataFrame:
    """Renewal rate (count and ARR) by band of the month-end score of the month before the
    due month, over decided renewals (in memory; the page counts in SQL with
    cslib.views.renewal_model.score_band_table, same result); an unscored month-end is band 'unscored'.

    Fine bands: 0-10 .. 90-100 (lower bound inclusive; 100 in 90-100). Coarse: <30,
    30-70, >=70 (the default tier thresholds). Columns: band, renewals, renewed,
    due_arr, kept_arr (kept = min(renewed, due)), renewal_rate, renewal_rate_arr, ci_low, ci_high.
    """
    decided = features[features["is_decided"].astype(bool)]
    score = decided["month_end_score"].to_numpy(dtype="float64", na_value=np.nan)
    order = _score_band_order(coarse)
    if coarse:
        slot = np.select([score < 30, score < 70, score >= 70], [0, 1, 2], 3)
    else:
        slot = np.where(np.isnan(score), 10, np.floor(np.minimum(np.nan_to_num(score), 99.999) / 10)).astype(int)
    renewed = decided["is_renewed"].astype(bool).to_numpy()
    due_arr = decided["due_arr"].to_numpy(dtype="float64", na_value=np.nan)
    renewed_arr = decided["renewed_arr"].to_numpy(dtype="float64", na_value=np.nan)
    kept_arr = np.where(renewed, np.minimum(np.nan_to_num(renewed_arr), due_arr), 0.0)
    width = len(order)
    counts = pd.DataFrame(
        {
            "band": order,
            "renewals": np.bincount(slot, minlength=width),
            "renewed": np.bincount(slot[renewed], minlength=width),
            "due_arr": np.bincount(slot, weights=due_arr, minlength=width),
            "kept_arr": np.bincount(slot, weights=kept_arr, minlength=width),
        }
    )
    return _score_band_rates(counts, coarse)


# --------------------------------------------------------------------------- the scorecard in pandas
# The health_weekly and health_indicator_weekly models scored in plain pandas from the
# weekly long frame: the tests compare the SQL with it on random data, ``python -m bench``
# times it against the SQL.
class Scored(NamedTuple):
    """score_usage_pandas's result: ``weekly`` (HEALTH_WEEKLY_COLUMNS, one row per scored
    account-week) and ``indicators`` (INDICATOR_COLUMNS, one row per scored week and
    indicator, 'modules' first)."""

    weekly: pd.DataFrame
    indicators: pd.DataFrame | None


def score_usage_pandas(usage: pd.DataFrame, scorecard: Scorecard, long_form: bool = True) -> Scored:
    """Plain-pandas reference of the health_weekly and health_indicator_weekly models.

    With ``long_form`` false, ``indicators`` is None and ``weekly`` carries every
    indicator's value_k, week_points_k and window_points_k columns (k: the ordinal,
    'modules' 0), as the health_weekly table stores them (health_indicator_weekly is a
    view of it): the same output as the product writes, for the benchmark.

    usage: the weekly long frame of stg_usage_weekly: account_id, week_start (Monday;
    date or datetime), metric, value; at most one row per account, week and metric (rolled
    up and missing weeks filled). Names declared under [metrics] are metrics, every other
    name is a feature. Rows sorted by account_id, week_start (and the indicators' ordinal);
    week_start as datetime64[us]; score in 0..100 or NaN.
    """
    sc = scorecard
    u = usage[["account_id", "week_start", "metric", "value"]].copy()
    u["week_start"] = _as_week_start(u["week_start"])
    declared = set(sc.metric_names())
    is_metric = u["metric"].isin(declared).to_numpy()
    m = u[is_metric]
    wide = m.set_index(["account_id", "week_start", "metric"])["value"].astype("float64").unstack("metric")
    wide = wide.sort_index()
    index = wide.index  # the scored weeks
    n = len(index)

    names = [MODULES, *(i.name for i in sc.indicators)]
    values = np.full((n, len(names)), np.nan)
    points = np.zeros((n, len(names)))
    for k, ind in enumerate(sc.indicators, start=1):
        num = wide[ind.numerator] if ind.numerator in wide else pd.Series(np.nan, index=index)
        if ind.denominator is None:
            value = num.astype("float64")
        else:
            den = wide[ind.denominator] if ind.denominator in wide else pd.Series(np.nan, index=index)
            value = ratio(num, den)
        values[:, k] = value.to_numpy()
        points[:, k] = ind.weight * _band_points(value, sc.bands_for(ind.name))

    f = u[~is_metric]
    f = f[f["value"] >= sc.module_min_records]
    listed = dict(sc.module_points)
    f = f.assign(
        points=f["metric"].map(listed).fillna(sc.module_default_points).astype("float64"),
        is_core=f["metric"].isin(sc.core_modules),
    )
    per_week = f.groupby(["account_id", "week_start"]).agg(
        modules_used=("metric", "size"), core_modules_used=("is_core", "sum"), points=("points", "sum")
    )
    per_week = per_week.reindex(index)
    modules_used = per_week["modules_used"].fillna(0).to_numpy().astype("int32")
    values[:, 0] = modules_used
    points[:, 0] = np.minimum(per_week["points"].fillna(0.0).to_numpy(), sc.modules_cap_points)

    # Window: a source week contributes to the week lag*7 days later, if that week exists.
    frame = pd.DataFrame(points, index=index)
    weighted = np.zeros_like(points)
    weight_sum = np.zeros(n)
    weeks_in_window = np.zeros(n, dtype="int64")
    for lag, weight in sc.window_weights():
        source = frame.copy()
        source.index = source.index.set_levels(source.index.levels[1] + pd.Timedelta(days=7 * lag), level=1)
        aligned = source.reindex(index)
        present = aligned[0].notna().to_numpy()
        weighted += weight * aligned.fillna(0.0).to_numpy()
        weight_sum += weight * present
        weeks_in_window += present
    window_points = weighted / weight_sum[:, None]  # lag 0 is always present: no 0/0

    total = window_points[:, 0].copy()
    for k in range(1, len(names)):
        total += window_points[:, k]
    total = np.minimum(100.0, total)
    score = np.where(weeks_in_window >= sc.min_weeks, _round_score(total), np.nan)

    keys = index.to_frame(index=False)
    weekly = keys.copy()
    weekly["weeks_in_window"] = weeks_in_window.astype("int32")
    weekly["score"] = score
    weekly["tier"] = np.select(
        [np.isnan(score), score >= sc.healthy_min, score < sc.unhealthy_below],
        ["unscored", "healthy", "unhealthy"],
        "at_risk",
    )
    weekly["modules_points"] = window_points[:, 0]
    weekly["modules_used"] = modules_used
    weekly["core_modules_used"] = per_week["core_modules_used"].fillna(0).to_numpy().astype("int32")

    if not long_form:
        per_indicator = {
            f"{kind}_{j}": array[:, j]
            for j in range(len(names))
            for kind, array in (("value", values), ("week_points", points), ("window_points", window_points))
        }
        return Scored(weekly[list(HEALTH_WEEKLY_COLUMNS)].reset_index(drop=True).assign(**per_indicator), None)

    k = len(names)
    long = pd.DataFrame(
        {
            "account_id": np.repeat(keys["account_id"].to_numpy(), k),
            "week_start": np.repeat(keys["week_start"].to_numpy(), k),
            "indicator": np.tile(np.array(names, dtype=object), n),
            "value": values.reshape(-1),
            "window_points": window_points.reshape(-1),
            "week_points": points.reshape(-1),
        }
    )
    return Scored(weekly[list(HEALTH_WEEKLY_COLUMNS)].reset_index(drop=True), long)


def _as_week_start(values: pd.Series) -> pd.Series:
    """Dates as datetime64[us], the type DuckDB's .df() gives a DATE column."""
    return pd.to_datetime(values).astype("datetime64[us]")


def _band_points(values: pd.Series, bands: Bands) -> np.ndarray:
    """Points of the highest band with min_value <= value; 0 below the first band or for NaN."""
    mins = np.array([lo for lo, _ in bands])
    pts = np.array([p for _, p in bands])
    v = values.to_numpy(dtype="float64")
    idx = np.searchsorted(mins, np.nan_to_num(v, nan=-np.inf), side="right") - 1
    return np.where((idx >= 0) & ~np.isnan(v), pts[np.clip(idx, 0, None)], 0.0)


def _round_score(total: np.ndarray) -> np.ndarray:
    """As the SQL's round(round(x, 9)::decimal(18, 9), 1)::double: snap to 9 decimals
    (drops floating-point noise), then round to 1 decimal, exact ties away from zero."""
    nanos = _scaled_round(total, 1e9)  # integer count of 1e-9
    tenths = np.sign(nanos) * ((np.abs(nanos) + 50_000_000) // 100_000_000)
    return tenths / 10.0


def _scaled_round(x: np.ndarray, scale: float) -> np.ndarray:
    """x * scale rounded to an integer (int64) by its exact value, ties away from zero.

    This is how DuckDB's round(double, n) behaves. The product x * scale is split into
    its rounded value p and exact error e (Dekker's two-product), so a tie is judged on
    the exact product, not on p.
    """
    a = np.abs(np.asarray(x, dtype="float64"))
    p = a * scale
    a_hi, a_lo = _split(a)
    s_hi, s_lo = _split(np.float64(scale))
    e = ((a_hi * s_hi - p) + a_hi * s_lo + a_lo * s_hi) + a_lo * s_lo
    whole = np.floor(p)
    above_half = (p - whole) - 0.5  # exact: both are multiples of p's last bit
    up = (above_half > 0) | ((above_half == 0) & (e >= 0))
    return (np.sign(x) * (whole + up)).astype("int64")


def _split(a):
    """Veltkamp split of a double into two halves of 26 bits each (a == hi + lo)."""
    c = 134217729.0 * a  # 2**27 + 1
    hi = c - (c - a)
    return hi, a - hi
