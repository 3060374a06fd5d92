"""Chart builders for the Account page (pure: a frame in, an Altair chart out).

``score_history`` stacks each indicator's points per week (their sum is the week's score)
under the score line with the 70/30 tier lines; ``ninebox_path`` shows the account's ARR
and nine-box cell by month. Inputs are the frames of cslib.views.account.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from cslib.charts.common import MONEY_AXIS_EXPR, TIER_COLORS, TIER_LABELS, finish, month_x, unvalidated, with_month_start

#: a categorical palette for indicators (colour-blind friendly, none of them a tier colour)
INDICATOR_PALETTE = ("#4c78a8", "#72b7b2", "#b279a2", "#9d755d", "#bab0ac", "#54a24b", "#ff9da6", "#79706e")
HEALTHY_MIN = 70.0
UNHEALTHY_BELOW = 30.0




@unvalidated
def score_history(long_scores: pd.DataFrame, healthy_min: float = HEALTHY_MIN,
                  unhealthy_below: float = UNHEALTHY_BELOW, title: str = "Health score by week") -> alt.LayerChart:
    """Stacked areas of each indicator's points per week, the score as a line on top, and
    dashed lines at the healthy and unhealthy thresholds.

    Requires week_start, score, indicator_label, ordinal, window_points (cslib.views.account.scores).
    """
    data = long_scores.copy()
    data["week_start"] = pd.to_datetime(data["week_start"])
    data["window_points"] = pd.to_numeric(data["window_points"], errors="coerce").astype(float).fillna(0.0)
    labels = list(dict.fromkeys(data.sort_values("ordinal")["indicator_label"]))
    colors = [INDICATOR_PALETTE[i % len(INDICATOR_PALETTE)] for i in range(len(labels))]
    x = alt.X("week_start:T", axis=alt.Axis(title=None, format="%b %y", grid=False, tickCount="month"))
    y_scale = alt.Scale(domain=[0, 100])
    areas = (
        alt.Chart(data)
        .mark_area(opacity=0.55)
        .encode(
            x=x,
            y=alt.Y("window_points:Q", stack="zero", scale=y_scale, axis=alt.Axis(title="Points", tickCount=5)),
            color=alt.Color("indicator_label:N", scale=alt.Scale(domain=labels, range=colors), sort=labels,
                            legend=alt.Legend(title=None, orient="top")),
            order=alt.Order("ordinal:Q"),
            tooltip=[
                alt.Tooltip("week_start:T", title="Week of", format="%d %b %Y"),
                alt.Tooltip("indicator_label:N", title="Indicator"),
                alt.Tooltip("window_points:Q", title="Points", format=".1f"),
            ],
        )
    )
    weekly = data.drop_duplicates("week_start")[["week_start", "score", "tier"]].copy()
    weekly["score"] = pd.to_numeric(weekly["score"], errors="coerce").astype(float)
    weekly["tier_label"] = weekly["tier"].map(TIER_LABELS).fillna("Unscored")
    line = (
        alt.Chart(weekly)
        .mark_line(color="#333333", strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y("score:Q", scale=y_scale),
            tooltip=[
                alt.Tooltip("week_start:T", title="Week of", format="%d %b %Y"),
                alt.Tooltip("score:Q", title="Score", format=".1f"),
                alt.Tooltip("tier_label:N", title="Tier"),
            ],
        )
    )
    rules = pd.DataFrame({
        "y": [healthy_min, unhealthy_below],
        "label": [f"Healthy from {healthy_min:g}", f"Unhealthy below {unhealthy_below:g}"],
        "color": [TIER_COLORS["healthy"], TIER_COLORS["unhealthy"]],
    })
    thresholds = (
        alt.Chart(rules)
        .mark_rule(strokeDash=[4, 4])
        .encode(y="y:Q", color=alt.Color("color:N", scale=None), tooltip=[alt.Tooltip("label:N", title="Threshold")])
    )
    return finish(alt.layer(areas, line, thresholds), title)


@unvalidated
def ninebox_path(month_rows: pd.DataFrame, title: str = "ARR and nine-box cell by month") -> alt.LayerChart:
    """Bars of the account's ARR per month, coloured by the month's health tier (grey when
    unscored, none when not active), with the cell in the tooltip.

    Requires month, arr, health_tier, value_tier, is_active (cslib.views.account.month_rows).
    """
    from cslib.views.ninebox import VALUE_LABELS

    data = with_month_start(month_rows)
    data["arr"] = pd.to_numeric(data["arr"], errors="coerce").astype(float).fillna(0.0)
    tier = data["health_tier"].where(data["health_tier"].notna(), "unscored")
    data["tier"] = tier.where(data["is_active"].astype(bool), "not_active")
    data["tier_label"] = data["tier"].map({**TIER_LABELS, "not_active": "Not a customer"})
    data["value_label"] = data["value_tier"].map(VALUE_LABELS).fillna("–")
    domain = ["Healthy", "At risk", "Unhealthy", "Unscored"]
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=month_x(data),  # a band per month: one label each, bars as wide as the band allows
            y=alt.Y("arr:Q", axis=alt.Axis(title=None, labelExpr=MONEY_AXIS_EXPR, tickCount=4)),
            color=alt.Color("tier_label:N", sort=domain,
                            scale=alt.Scale(domain=domain, range=[TIER_COLORS[t] for t in
                                                                  ("healthy", "at_risk", "unhealthy", "unscored")]),
                            legend=alt.Legend(title=None, orient="top")),
            tooltip=[
                alt.Tooltip("month:N", title="Month"),
                alt.Tooltip("arr:Q", title="ARR", format="$,.0f"),
                alt.Tooltip("tier_label:N", title="Health"),
                alt.Tooltip("value_label:N", title="Value"),
            ],
        )
    )
    return finish(alt.layer(bars), title, height=240)

