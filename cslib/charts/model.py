"""Chart builders of the Renewal model & what-if page (Altair; pure functions).

Rates are fractions (0.71 = 71%); inputs are the frames of cslib.views.renewal_model and
cslib.views.whatif named in each docstring.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from cslib.charts.common import SERIES_COLORS, TIER_COLORS, TIER_LABELS, finish

MODEL_COLORS = {"Gradient boosting": "#4c78a8", "Logistic baseline": "#f58518"}
VERSION_COLORS = {"Current": "#9aa0a6", "What-if": "#4c78a8"}
#: colours of the segment groups of effect_chart: 'All' first, then the segments in order
SEGMENT_PALETTE = ("#333333", "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d", "#bab0ac")
HEIGHT = 300


def calibration_chart(calibration: pd.DataFrame, title: str = "Calibration on the test set") -> alt.LayerChart:
    """Reliability plot: mean predicted probability (x) vs observed renewal rate (y) per
    bin and model, point size = renewals in the bin, with the diagonal of perfect
    calibration. Requires label, mean_predicted, observed_rate, n."""
    diagonal = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(
        color=SERIES_COLORS["reference"], strokeDash=[4, 4]
    ).encode(x="x:Q", y="y:Q")
    labels = [m for m in MODEL_COLORS if m in set(calibration["label"])]
    base = alt.Chart(calibration).encode(
        x=alt.X("mean_predicted:Q", title="Predicted probability of renewal", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format=".0%")),
        y=alt.Y("observed_rate:Q", title="Observed renewal rate", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format=".0%")),
        color=alt.Color("label:N", scale=alt.Scale(domain=labels, range=[MODEL_COLORS[m] for m in labels]),
                        legend=alt.Legend(title=None, orient="top")),
        tooltip=[
            alt.Tooltip("label:N", title="Model"),
            alt.Tooltip("mean_predicted:Q", title="Predicted", format=".1%"),
            alt.Tooltip("observed_rate:Q", title="Observed", format=".1%"),
            alt.Tooltip("n:Q", title="Renewals"),
        ],
    )
    chart = diagonal + base.mark_line(strokeWidth=2) + base.mark_circle(opacity=0.9).encode(
        size=alt.Size("n:Q", legend=None, scale=alt.Scale(range=[20, 300]))
    )
    return finish(chart, title)


def rate_band_chart(bands: pd.DataFrame, title: str, x_title: str = "Month-end score before the due month") -> alt.LayerChart:
    """Renewal rate per band (bars, in the given row order) with 95% Wilson intervals.
    Requires band, renewal_rate, ci_low, ci_high, renewals."""
    order = list(bands["band"])
    base = alt.Chart(bands).encode(x=alt.X("band:N", sort=order, title=x_title, axis=alt.Axis(labelAngle=0)))
    bars = base.mark_bar(color=SERIES_COLORS["renewal_rate_arr"], opacity=0.85).encode(
        y=alt.Y("renewal_rate:Q", title="Renewal rate (count)", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%")),
        tooltip=[
            alt.Tooltip("band:N", title="Band"),
            alt.Tooltip("renewal_rate:Q", title="Renewal rate", format=".1%"),
            alt.Tooltip("ci_low:Q", title="95% CI low", format=".1%"),
            alt.Tooltip("ci_high:Q", title="95% CI high", format=".1%"),
            alt.Tooltip("renewals:Q", title="Renewals"),
        ],
    )
    errors = base.mark_rule(color="#333333").encode(y="ci_low:Q", y2="ci_high:Q")
    return finish(bars + errors, title)


def importance_chart(importance: pd.DataFrame, top: int = 8, title: str = "Permutation importance (test set)") -> alt.Chart:
    """Horizontal bars of the drop in ROC AUC when a feature is shuffled, segment 'all',
    the ``top`` largest. Requires segment, label, importance, importance_std."""
    data = importance[importance["segment"] == "all"].nlargest(top, "importance")
    chart = alt.Chart(data).mark_bar(color=SERIES_COLORS["arr"]).encode(
        y=alt.Y("label:N", sort="-x", title=None),
        x=alt.X("importance:Q", title="Drop in ROC AUC when shuffled"),
        tooltip=[
            alt.Tooltip("label:N", title="Feature"),
            alt.Tooltip("importance:Q", title="AUC drop", format=".4f"),
            alt.Tooltip("importance_std:Q", title="Std over shuffles", format=".4f"),
        ],
    )
    return finish(chart, title)


def effect_chart(effects: pd.DataFrame, title: str = "Renewal rate, top band minus bottom band (95% CI)") -> alt.LayerChart:
    """Per indicator (rows) and segment (colour): difference of renewal rates between the
    top and bottom scorecard band, with its 95% interval, indicators and segments in the
    frame's order (cslib.views.renewal_model.indicator_effects: scorecard order; 'all', then the
    segments). Requires label, segment, difference, ci_low, ci_high (segment_label
    optional: renewal_model.segment_label of segment)."""
    from cslib.views.renewal_model import segment_label

    data = effects.copy()
    if "segment_label" not in data:
        data["segment_label"] = data["segment"].map(segment_label)
    segments = list(dict.fromkeys(data["segment_label"]))
    palette = [SEGMENT_PALETTE[i % len(SEGMENT_PALETTE)] for i in range(len(segments))]
    base = alt.Chart(data).encode(
        y=alt.Y("label:N", title=None, sort=list(dict.fromkeys(data["label"]))),
        yOffset=alt.YOffset("segment_label:N", sort=segments),
        color=alt.Color("segment_label:N", sort=segments, legend=alt.Legend(title=None, orient="top"),
                        scale=alt.Scale(domain=segments, range=palette)),
    )
    rules = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title="Difference in renewal rate", axis=alt.Axis(format="+.0%")), x2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=50).encode(
        x="difference:Q",
        tooltip=[
            alt.Tooltip("label:N", title="Indicator"),
            alt.Tooltip("segment_label:N", title="Segment"),
            alt.Tooltip("top_band:N", title="Top band"),
            alt.Tooltip("bottom_band:N", title="Bottom band"),
            alt.Tooltip("difference:Q", title="Difference", format="+.1%"),
            alt.Tooltip("ci_low:Q", title="95% CI low", format="+.1%"),
            alt.Tooltip("ci_high:Q", title="95% CI high", format="+.1%"),
        ],
    )
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color=SERIES_COLORS["reference"], strokeDash=[4, 4]).encode(x="x:Q")
    return finish(zero + rules + points, title)


def _versions_long(frame: pd.DataFrame, before: str, after: str, value: str) -> pd.DataFrame:
    long = frame.melt(id_vars=["tier"], value_vars=[before, after], var_name="version", value_name=value)
    long["version"] = long["version"].map({before: "Current", after: "What-if"})
    long["tier_label"] = long["tier"].map(TIER_LABELS).fillna(long["tier"])
    return long


def tier_compare_chart(tiers: pd.DataFrame, title: str = "Accounts per tier: current vs what-if") -> alt.Chart:
    """Grouped bars of accounts per tier, current and what-if. Requires tier,
    accounts_before, accounts_after (cslib.views.whatif.tier_summary)."""
    long = _versions_long(tiers, "accounts_before", "accounts_after", "accounts")
    order = [TIER_LABELS[t] for t in TIER_COLORS]
    chart = alt.Chart(long).mark_bar().encode(
        x=alt.X("tier_label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("version:N", sort=list(VERSION_COLORS)),
        y=alt.Y("accounts:Q", title="Accounts"),
        color=alt.Color("version:N", scale=alt.Scale(domain=list(VERSION_COLORS), range=list(VERSION_COLORS.values())),
                        legend=alt.Legend(title=None, orient="top")),
        tooltip=[alt.Tooltip("tier_label:N", title="Tier"), alt.Tooltip("version:N", title="Version"),
                 alt.Tooltip("accounts:Q", title="Accounts")],
    )
    return finish(chart, title)


def backtest_chart(backtest: pd.DataFrame, title: str = "Renewal rate per tier: current vs what-if") -> alt.Chart:
    """Grouped bars of the renewal rate per tier (month-end tier before the due month),
    current and what-if. Requires version ('before'|'after'), tier, renewal_rate, renewals
    (cslib.views.whatif.backtest_summary); the 'all' row is left out."""
    data = backtest[(backtest["tier"] != "all") & (backtest["renewals"] > 0)].copy()
    data["version"] = data["version"].map({"before": "Current", "after": "What-if"})
    data["tier_label"] = data["tier"].map(TIER_LABELS).fillna(data["tier"])
    order = [TIER_LABELS[t] for t in TIER_COLORS]
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("tier_label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("version:N", sort=list(VERSION_COLORS)),
        y=alt.Y("renewal_rate:Q", title="Renewal rate", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%")),
        color=alt.Color("version:N", scale=alt.Scale(domain=list(VERSION_COLORS), range=list(VERSION_COLORS.values())),
                        legend=alt.Legend(title=None, orient="top")),
        tooltip=[alt.Tooltip("tier_label:N", title="Tier"), alt.Tooltip("version:N", title="Version"),
                 alt.Tooltip("renewal_rate:Q", title="Renewal rate", format=".1%"),
                 alt.Tooltip("renewals:Q", title="Renewals")],
    )
    return finish(chart, title)
