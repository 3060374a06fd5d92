"""Chart builders for the Churn reasons page (Altair; pure functions returning charts).

Inputs are the frames of cslib.views.churn; shares are fractions, money is ARR per year,
months 'YYYY-MM'. Colours and formatting come from cslib.charts.common.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from cslib import labels
from cslib.charts.common import CHART_HEIGHT, LEGEND_TOP, MONEY_AXIS_EXPR, TIER_COLORS, TIER_LABELS, finish

#: reason category -> colour (the pseudo categories in greys)
CATEGORY_COLORS: dict[str, str] = {
    "customer": "#4c78a8",
    "product": "#f58518",
    "service": "#54a24b",
    "competition": "#b279a2",
    "price": "#e45756",
    "unclassified": "#bab0ac",
    "no_reason_logged": "#79706e",
}
_EXTRA_COLORS = ("#72b7b2", "#eeca3b", "#ff9da6", "#9d755d", "#439894", "#d6a5c9")
SHARE_LABELS = {"account_share": "Share of accounts", "arr_share": "Share of ARR"}
SHARE_COLORS = {"account_share": "#9ecae9", "arr_share": "#4c78a8"}
FLAG_COLORS = {"open": TIER_COLORS["unhealthy"], "resolved": TIER_COLORS["healthy"]}


def category_label(category) -> str:
    """'no_reason_logged' -> 'No reason logged'; 'external_factors' -> 'External factors'."""
    return labels.label(category, missing="—")


def category_scale(categories) -> alt.Scale:
    """Colour scale for category labels (known categories keep their colour)."""
    cats = list(dict.fromkeys(c for c in categories if c is not None and not pd.isna(c)))
    extra = iter(_EXTRA_COLORS * 4)
    colors = [CATEGORY_COLORS.get(c) or next(extra) for c in cats]
    return alt.Scale(domain=[category_label(c) for c in cats], range=colors)




def share_bars(df: pd.DataFrame, title: str) -> alt.Chart:
    """Per row of a breakdown: share of churned accounts next to share of churned ARR.

    Requires label, account_share, arr_share, churned_accounts, churned_arr (rows in
    display order). Horizontal grouped bars; both shares add to 100% over the rows.
    """
    order = list(df["label"])
    long = df.melt(
        id_vars=["label", "churned_accounts", "churned_arr"],
        value_vars=["account_share", "arr_share"], var_name="measure", value_name="share",
    )
    long["measure_label"] = long["measure"].map(SHARE_LABELS)
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort=order, axis=alt.Axis(title=None, labelLimit=220)),
            yOffset=alt.YOffset("measure_label:N", sort=list(SHARE_LABELS.values())),
            x=alt.X("share:Q", axis=alt.Axis(title=None, format=".0%", tickCount=5)),
            color=alt.Color(
                "measure_label:N",
                scale=alt.Scale(domain=list(SHARE_LABELS.values()), range=list(SHARE_COLORS.values())),
                legend=alt.Legend(orient="top", direction="vertical"),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="Group"),
                alt.Tooltip("measure_label:N", title="Measure"),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
                alt.Tooltip("churned_accounts:Q", title="Churned accounts", format=",.0f"),
                alt.Tooltip("churned_arr:Q", title="Churned ARR", format="$,.0f"),
            ],
        )
    )
    height = max(220, min(CHART_HEIGHT * 2, 38 * len(order) + 110))
    return finish(chart, title, height, legend=LEGEND_TOP)


def trend_bars(df: pd.DataFrame, measure: str = "churned_arr", title: str = "Churned ARR by month") -> alt.Chart:
    """Stacked monthly bars of ``measure`` ('churned_arr' or 'churned_accounts') by category.

    Requires month, category (None on months without churn), churned_accounts, churned_arr.
    """
    data = df.copy()
    data["month_start"] = pd.to_datetime(data["month"] + "-01", format="%Y-%m-%d")
    data["month_label"] = data["month_start"].dt.strftime("%b %y")
    data["category_label"] = [category_label(c) if c is not None and not pd.isna(c) else None
                              for c in data["category"]]
    months = list(dict.fromkeys(data.sort_values("month")["month_label"]))
    is_money = measure == "churned_arr"
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("month_label:O", sort=months, axis=alt.Axis(title=None, labelAngle=0)),
            y=alt.Y(
                f"sum({measure}):Q",
                axis=alt.Axis(title=None, labelExpr=MONEY_AXIS_EXPR, tickCount=5) if is_money
                else alt.Axis(title=None, tickMinStep=1, format="d"),
            ),
            color=alt.Color("category_label:N", scale=category_scale(data["category"].dropna())),
            tooltip=[
                alt.Tooltip("month:N", title="Month"),
                alt.Tooltip("category_label:N", title="Category"),
                alt.Tooltip("churned_accounts:Q", title="Churned accounts", format=",.0f"),
                alt.Tooltip("churned_arr:Q", title="Churned ARR", format="$,.0f"),
            ],
        )
    )
    return finish(chart, title, legend=LEGEND_TOP)


def health_before_churn(df: pd.DataFrame, title: str = "Health in the 13 weeks before churn") -> alt.Chart:
    """Per reason, the shares of scored weeks that were healthy / at risk / unhealthy.

    Requires reason_label, signal_check, healthy_week_share, at_risk_week_share,
    unhealthy_week_share, mean_score, scored_accounts (rows in display order; rows with
    no scored week are left out). A flagged reason carries its verdict in its label.
    """
    data = df[df["scored_accounts"] > 0].copy()
    data["row_label"] = [
        f"{label}  ⚑ {check}" if flagged else str(label)
        for label, check, flagged in zip(data["reason_label"], data["signal_check"], data["is_flagged"])
    ]
    order = list(data["row_label"])
    tiers = ["healthy", "at_risk", "unhealthy"]
    long = data.melt(
        id_vars=["row_label", "mean_score", "scored_accounts", "signal_check"],
        value_vars=[f"{t}_week_share" for t in tiers], var_name="tier", value_name="share",
    )
    long["tier"] = long["tier"].str.replace("_week_share", "", regex=False)
    long["tier_label"] = long["tier"].map(TIER_LABELS)
    long["tier_order"] = long["tier"].map({t: i for i, t in enumerate(tiers)})
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("row_label:N", sort=order, axis=alt.Axis(title=None, labelLimit=320)),
            x=alt.X("share:Q", stack="normalize", axis=alt.Axis(title=None, format=".0%", tickCount=5)),
            color=alt.Color(
                "tier_label:N",
                scale=alt.Scale(domain=[TIER_LABELS[t] for t in tiers], range=[TIER_COLORS[t] for t in tiers]),
                sort=[TIER_LABELS[t] for t in tiers],
            ),
            order=alt.Order("tier_order:Q"),
            tooltip=[
                alt.Tooltip("row_label:N", title="Reason"),
                alt.Tooltip("tier_label:N", title="Tier"),
                alt.Tooltip("share:Q", title="Share of scored weeks", format=".1%"),
                alt.Tooltip("mean_score:Q", title="Mean score", format=".1f"),
                alt.Tooltip("scored_accounts:Q", title="Scored churns", format=",.0f"),
                alt.Tooltip("signal_check:N", title="Check"),
            ],
        )
    )
    height = max(200, min(CHART_HEIGHT * 2, 30 * len(order) + 110))
    return finish(chart, title, height, legend=LEGEND_TOP)


def flags_by_owner(df: pd.DataFrame, title: str = "Red-light flags by owner") -> alt.Chart:
    """Stacked horizontal bars of open and resolved flags per routing owner.

    Requires owner_department, open, resolved (rows in display order).
    """
    order = list(df["owner_department"])
    long = df.melt(id_vars=["owner_department"], value_vars=["open", "resolved"], var_name="status", value_name="flags")
    long["status_label"] = long["status"].str.capitalize()
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("owner_department:N", sort=order, axis=alt.Axis(title=None, labelLimit=220)),
            x=alt.X("flags:Q", axis=alt.Axis(title=None, tickMinStep=1, format="d")),
            color=alt.Color(
                "status_label:N",
                scale=alt.Scale(domain=["Open", "Resolved"], range=[FLAG_COLORS["open"], FLAG_COLORS["resolved"]]),
            ),
            order=alt.Order("status:N"),
            tooltip=[
                alt.Tooltip("owner_department:N", title="Owner"),
                alt.Tooltip("status_label:N", title="Status"),
                alt.Tooltip("flags:Q", title="Flags", format=",.0f"),
            ],
        )
    )
    height = max(200, min(CHART_HEIGHT, 34 * len(order) + 110))
    return finish(chart, title, height, legend=LEGEND_TOP)
