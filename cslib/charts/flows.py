"""Chart builders of the Health flows page (Altair; pages render what these return).

Colours and formatting come from cslib.charts.common. Money is ARR (currency per year);
ratios are fractions (1.0 = 100%); score changes are points.

Speed: Altair validates every object against the Vega-Lite JSON schema when it is built
and again in ``to_dict``; on this page that was most of a rerun (about 1.5 s for six
charts). The builders therefore run with Altair's debug mode off, and ``cslib.charts.common.to_spec(chart)``
gives the page an unvalidated dict for ``st.vega_lite_chart``; the tests validate every
builder's output once with ``chart.to_dict()``. Encodings are channel objects
(``alt.X2("high:Q")``), never bare shorthand strings: Altair resolves a string by hashing
its whole schema (about 12 ms per string).
"""

from __future__ import annotations


import altair as alt
import pandas as pd

from cslib.charts.common import CHART_HEIGHT, MONEY_AXIS_EXPR, NO_STROKE, SERIES_COLORS, TIER_COLORS, finish, format_money, unvalidated
from cslib.views.flows import FROM_STATES, STATE_LABELS, TO_STATES

STATE_COLORS: dict[str, str] = {
    **TIER_COLORS,
    "deferred": "#8e6bbf",
    "churned": "#3b3b3b",
    "new": "#4c78a8",
    "won_back": "#72b7b2",
}
_UP, _DOWN, _TOTAL = TIER_COLORS["healthy"], TIER_COLORS["unhealthy"], "#4c78a8"


def _bar_ends(data: pd.DataFrame, is_total: pd.Series) -> None:
    """A waterfall's bars, in place: ``low``/``high`` (a total stands on 0 and resets the
    running level; a step goes from the level before it to the level after it) and
    ``direction`` ('total', 'up' or 'down'), from ``data["arr"]`` in row order."""
    running, lows, highs, colours = 0.0, [], [], []
    for arr, total in zip(data["arr"], is_total):
        if total:
            lows.append(0.0)
            highs.append(arr)
            running = arr
            colours.append("total")
        else:
            before, running = running, running + arr
            lows.append(min(before, running))
            highs.append(max(before, running))
            colours.append("up" if arr >= 0 else "down")
    data["low"], data["high"], data["direction"] = lows, highs, colours




@unvalidated
def flow_bars(matrix: pd.DataFrame, value: str = "arr", title: str | None = None) -> alt.Chart:
    """Where each group went: one horizontal bar per from-state, stacked by to-state.

    Requires the long transition matrix (from_state, to_state, accounts, arr); ``value``
    is 'arr' or 'accounts'. From-states with nothing in them are left out.
    """
    data = matrix[matrix[value] > 0].copy()
    data["from_label"] = data["from_state"].map(STATE_LABELS)
    data["to_label"] = data["to_state"].map(STATE_LABELS)
    data["to_order"] = data["to_state"].map({s: i for i, s in enumerate(TO_STATES)})
    data["shown"] = data[value].map(format_money) if value == "arr" else data[value].map(lambda v: f"{v:,.0f}")
    from_order = [STATE_LABELS[s] for s in FROM_STATES if s in set(data["from_state"])]
    to_present = [s for s in TO_STATES]
    axis = alt.Axis(title=None, labelExpr=MONEY_AXIS_EXPR) if value == "arr" else alt.Axis(title="Accounts")
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("from_label:N", sort=from_order, title="Last month", axis=alt.Axis(labelLimit=120)),
            x=alt.X(f"{value}:Q", axis=axis, stack="zero"),
            color=alt.Color(
                "to_label:N",
                title="This month",
                scale=alt.Scale(
                    domain=[STATE_LABELS[s] for s in to_present],
                    range=[STATE_COLORS[s] for s in to_present],
                ),
                legend=alt.Legend(orient="bottom", columns=3, labelLimit=100, symbolSize=80),
            ),
            order=alt.Order("to_order:Q"),
            tooltip=[
                alt.Tooltip("from_label:N", title="From"),
                alt.Tooltip("to_label:N", title="To"),
                alt.Tooltip("shown:N", title="ARR" if value == "arr" else "Accounts"),
            ],
        )
    )
    default = "Where last month's accounts went (ARR)" if value == "arr" else "Where last month's accounts went"
    return finish(chart, title or default, frame=NO_STROKE)


@unvalidated
def waterfall(steps: pd.DataFrame, title: str) -> alt.LayerChart:
    """A bridge as a waterfall: start and end bars from 0, each step floating from the
    running total before it (green up, red down).

    Requires label, kind ('start' | 'step' | 'end'), arr (signed for steps), order.
    """
    data = steps.sort_values("order").reset_index(drop=True).copy()
    _bar_ends(data, data["kind"].isin(("start", "end")))
    data["shown"] = [
        format_money(v) if k != "step" else ("+" if v >= 0 else "") + format_money(v)
        for v, k in zip(data["arr"], data["kind"])
    ]
    order = list(data["label"])
    # horizontal: the step names stay readable at any width
    base = alt.Chart().encode(
        y=alt.Y("label:N", sort=order, axis=alt.Axis(title=None, labelLimit=220, labelFontSize=11)),
    )
    bars = base.mark_bar(size=20).encode(
        x=alt.X("low:Q", axis=alt.Axis(title=None, labelExpr=MONEY_AXIS_EXPR, tickCount=5)),
        x2=alt.X2("high:Q"),
        color=alt.Color(
            "direction:N",
            scale=alt.Scale(domain=["total", "up", "down"], range=[_TOTAL, _UP, _DOWN]),
            legend=None,
        ),
        tooltip=[
            alt.Tooltip("label:N", title="Step"),
            alt.Tooltip("shown:N", title="ARR"),
            alt.Tooltip("accounts:Q", title="Accounts"),
        ],
    )
    text = base.mark_text(align="left", dx=4, fontSize=11, color="#333333").encode(x=alt.X("high:Q"), text=alt.Text("shown:N"))
    return finish([bars, text], title, height=CHART_HEIGHT, data=data, frame=NO_STROKE)


def bridge_waterfall(bridges: pd.DataFrame, bridge: str = "healthy") -> alt.LayerChart:
    """The waterfall of one bridge ('healthy' | 'unhealthy') of a cslib.views.flows.bridges
    frame (both bridges), titled with BRIDGE_TITLES."""
    from cslib.views.flows import BRIDGE_TITLES

    return waterfall(bridges[bridges["bridge"] == bridge], BRIDGE_TITLES[bridge])


@unvalidated
def health_rate_lines(trend: pd.DataFrame, metric: str = "health_rate_mom", title: str | None = None,
                      max_groups: int = 10) -> alt.LayerChart:
    """One line per group of ``health_rate_trend`` (metric 'health_rate' or
    'health_rate_mom'), with the 100% line marked; only the ``max_groups`` groups with
    the most ARR in the last month are drawn."""
    data = trend.copy()
    last = data["month"].max()
    top = data[data["month"] == last].sort_values("arr", ascending=False)["group"].head(max_groups).tolist()
    data = data[data["group"].isin(top)].copy()
    data["group_label"] = data["group"].map(lambda g: "All accounts" if g == "all" else str(g))
    data["month_label"] = pd.to_datetime(data["month"] + "-01").dt.strftime("%b %y")
    months = list(dict.fromkeys(data.sort_values("month")["month_label"]))
    data[metric] = pd.to_numeric(data[metric], errors="coerce").astype(float)
    lines = (
        alt.Chart(data)
        .mark_line(point=True, strokeWidth=2.2)
        .encode(
            x=alt.X("month_label:O", sort=months, axis=alt.Axis(title=None, labelAngle=0)),
            y=alt.Y(f"{metric}:Q", axis=alt.Axis(title=None, format=".0%"), scale=alt.Scale(zero=False)),
            color=alt.Color("group_label:N", title=None, legend=alt.Legend(orient="top", columns=5)),
            tooltip=[
                alt.Tooltip("month:N", title="Month"),
                alt.Tooltip("group_label:N", title="Group"),
                alt.Tooltip(f"{metric}:Q", title="Value", format=".1%"),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"y": [1.0], "label": ["100%"]}))
        .mark_rule(color=SERIES_COLORS["reference"], strokeDash=[4, 4], strokeWidth=1.5)
        .encode(y=alt.Y("y:Q"), tooltip=[alt.Tooltip("label:N", title="Reference")])
    )
    default = "Health-rate MoM (healthy ARR vs last month)" if metric == "health_rate_mom" else "Health rate"
    return finish([lines, rule], title or default, frame=NO_STROKE)


@unvalidated
def indicator_waterfall(changes: pd.DataFrame, prev_score: float, score: float, title: str) -> alt.LayerChart:
    """Score change of one alert explained: last week's score, one floating bar per
    indicator's point change, this week's score. Requires label and change (points)."""
    rows = [{"label": "Last week", "kind": "start", "arr": float(prev_score), "order": 0}]
    for i, r in enumerate(changes.itertuples(), start=1):
        rows.append({"label": r.label, "kind": "step", "arr": float(r.change or 0.0), "order": i})
    rows.append({"label": "This week", "kind": "end", "arr": float(score), "order": len(rows)})
    data = pd.DataFrame(rows)
    _bar_ends(data, data["kind"] != "step")
    data["shown"] = [f"{v:+.1f}" if k == "step" else f"{v:.1f}" for v, k in zip(data["arr"], data["kind"])]
    base = alt.Chart().encode(
        x=alt.X("label:N", sort=list(data["label"]),
                axis=alt.Axis(title=None, labelAngle=-30, labelOverlap=False, labelLimit=110))
    )
    bars = base.mark_bar(size=34).encode(
        y=alt.Y("low:Q", axis=alt.Axis(title="Score points"), scale=alt.Scale(domain=[0, 100])),
        y2=alt.Y2("high:Q"),
        color=alt.Color(
            "direction:N", scale=alt.Scale(domain=["total", "up", "down"], range=[_TOTAL, _UP, _DOWN]), legend=None
        ),
        tooltip=[alt.Tooltip("label:N", title="Part"), alt.Tooltip("shown:N", title="Points")],
    )
    text = base.mark_text(dy=-6, fontSize=11).encode(y=alt.Y("high:Q"), text=alt.Text("shown:N"))
    return finish([bars, text], title, height=280, data=data, frame=NO_STROKE)


@unvalidated
def tradeoff_chart(tradeoff: pd.DataFrame, title: str = "Alerts per 100 accounts by window") -> alt.Chart:
    """Bars of score-drop + tier-fall alerts per 100 accounts for each window length,
    labelled with the median lag. Requires window_weeks, alerts_per_100_accounts,
    median_lag_weeks."""
    data = tradeoff.copy()
    data["window"] = data["window_weeks"].map(lambda w: f"{int(w)} week" + ("s" if w != 1 else ""))
    data["lag"] = data["median_lag_weeks"].map(lambda v: "lag –" if pd.isna(v) else f"lag {v:.0f} wk")
    base = alt.Chart().encode(
        x=alt.X("window:N", sort=list(data["window"]), axis=alt.Axis(title="Scorecard window", labelAngle=0))
    )
    bars = base.mark_bar(size=48, color=_TOTAL).encode(
        y=alt.Y("alerts_per_100_accounts:Q", axis=alt.Axis(title="Alerts per 100 accounts")),
        tooltip=[
            alt.Tooltip("window:N", title="Window"),
            alt.Tooltip("alerts_per_100_accounts:Q", title="Alerts / 100 accounts", format=".1f"),
            alt.Tooltip("median_lag_weeks:Q", title="Median lag (weeks)"),
        ],
    )
    text = base.mark_text(dy=-8, fontSize=11).encode(y=alt.Y("alerts_per_100_accounts:Q"), text=alt.Text("lag:N"))
    return finish([bars, text], title, height=260, data=data, frame=NO_STROKE)


# --------------------------------------------------------------------------- one alert
def has_score_change(alert: pd.DataFrame) -> bool:
    """True when ``alert`` (rows of cslib.views.alerts.month_alerts) is one alert whose week has
    a score and a previous week's score, so alert_waterfall can explain the change."""
    return len(alert) == 1 and not pd.isna(alert["score"].iloc[0]) and not pd.isna(alert["prev_score"].iloc[0])


def alert_waterfall(alert: pd.DataFrame) -> alt.LayerChart:
    """indicator_waterfall of one alert: a one-row frame of cslib.views.alerts.month_alerts
    (score, prev_score, score_change and indicator_changes); ValueError
    unless has_score_change(alert)."""
    from cslib.views.alerts import indicator_changes

    if not has_score_change(alert):
        raise ValueError("alert_waterfall needs one alert with a score and a previous score")
    row = alert.iloc[0]
    title = f"Score change {row['score_change']:+.1f} points, by indicator"
    return indicator_waterfall(indicator_changes(row), row["prev_score"], row["score"], title)
