"""Chart builders for the Negative churn page (Altair; pure functions returning charts).

Inputs are the frames of ``cslib.views.revenue`` (movements, waterfall, rates, cohorts,
breakdown). Months are 'YYYY-MM'; money is MRR; ratios are fractions. Colours and
number formats come from ``cslib.charts.common``.

The builders run with Altair's debug mode off (no JSON-schema validation of every object
as it is built) and the page gets ``cslib.charts.common.to_spec`` dicts; the tests validate every
builder's output once with ``chart.to_dict()``.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from cslib.charts.common import FRAMELESS, SERIES_COLORS, TIER_COLORS, finish, format_money, format_percent, month_x, to_spec, unvalidated
from cslib.ratios import ratio
from cslib.views.revenue import IDEAL_NRR, MOVEMENT_LABELS, waterfall

#: movement column -> colour: acquisition blues, expansion greens, losses warm
MOVEMENT_COLORS: dict[str, str] = {
    "new_mrr": "#4c78a8",
    "reactivation_mrr": "#9ecae9",
    "upsell_mrr": "#2e9e5b",
    "cross_sell_mrr": "#7fc97f",
    "usage_expansion_mrr": "#b5dfa8",
    "contraction_mrr": "#f2a93b",
    "churn_mrr": "#d64541",
}
LEVER_COLUMNS: tuple[str, ...] = ("upsell_mrr", "cross_sell_mrr", "usage_expansion_mrr")
_TOTAL_COLOR = "#6b7a8f"
_TRANSFER_COLOR = "#bbbbbb"
MONEY_AXIS_EXPR = (
    "abs(datum.value) >= 1e6 ? format(datum.value / 1e6, '$.1f') + 'M'"
    " : abs(datum.value) >= 1e3 ? format(datum.value / 1e3, '$.0f') + 'K'"
    " : format(datum.value, '$.0f')"
)


def format_ratio(value: float | None) -> str:
    """A quick ratio: 2.345 -> '2.3x'; '–' if missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.1f}x"


def format_tile(value: float | None, fmt: str) -> str:
    """Tile text by format name: 'percent' (a rate that rounds to zero is '0.0%'), 'money'
    or 'ratio'."""
    if fmt == "percent":
        if value is not None and not math.isnan(value) and round(value * 100, 1) == 0:
            return "0.0%"  # not "-0.0%" for a tiny negative rate
        return format_percent(value)
    if fmt == "ratio":
        return format_ratio(value)
    return format_money(value)


def format_tile_delta(delta: float | None, fmt: str) -> str | None:
    """Signed change: percent -> '+1.3 pp', money -> '+$1.2K', ratio -> '+0.4x'; None if missing."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return None
    if fmt == "percent":
        return f"{round(delta * 100, 1):+.1f} pp"
    if fmt == "ratio":
        return f"{delta:+.1f}x"
    return ("+" if delta >= 0 else "") + format_money(delta)


def _months(df: pd.DataFrame, columns) -> pd.DataFrame:
    """Only ``columns`` (Altair sanitises every column it is given), sorted, with month_label."""
    out = df[["month", *columns]].sort_values("month").copy()
    out["month_label"] = pd.to_datetime(out["month"] + "-01").dt.strftime("%b %y")
    return out




def _rule(y: float, label: str, color: str = SERIES_COLORS["reference"]) -> alt.Chart:
    ref = pd.DataFrame({"y": [y], "label": [label]})
    return (
        alt.Chart(ref)
        .mark_rule(color=color, strokeDash=[4, 4])
        .encode(y=alt.Y("y:Q"), tooltip=[alt.Tooltip("label:N", title="Reference")])
    )


_STEP_SHORT = {
    "opening": "Opening",
    "new_mrr": "New",
    "reactivation_mrr": "Reactivation",
    "upsell_mrr": "Upsell",
    "cross_sell_mrr": "Cross-sell",
    "usage_expansion_mrr": "Usage",
    "contraction_mrr": "Contraction",
    "churn_mrr": "Churn",
    "slice_transfer": "Slice moves",
    "closing": "Closing",
}


def _waterfall_floor(data: pd.DataFrame) -> float:
    """Where the total bars start: 0, or (when the movements are small next to the totals)
    a round level below the lowest running total, so the movements stay visible."""
    moving = ~data["step"].isin(["opening", "closing"])
    levels = pd.concat([data["end_mrr"], data.loc[moving, "start_mrr"]]).astype(float)
    low, high = float(levels.min()), float(levels.max())
    if low <= 0 or high <= 0 or (high - low) > 0.25 * high:
        return 0.0
    floor = max(0.0, low - 0.6 * (high - low) - 1e-9)
    magnitude = 10 ** max(0, math.floor(math.log10(max(floor, 1))) - 1)
    return math.floor(floor / magnitude) * magnitude


@unvalidated
def waterfall_chart(steps: pd.DataFrame, title: str = "MRR bridge") -> alt.LayerChart:
    """Opening MRR -> each movement -> closing MRR as floating bars.

    Requires the columns of ``cslib.views.revenue.waterfall``: step, label, amount_mrr,
    start_mrr, end_mrr. When the movements are small next to the totals, the value axis
    starts above zero (the title says where) so the movements can be read.
    """
    data = steps[["step", "label", "amount_mrr", "start_mrr", "end_mrr"]].copy()
    floor = _waterfall_floor(data)
    is_total = data["step"].isin(["opening", "closing"])
    data.loc[is_total, "start_mrr"] = floor
    data["short"] = data["step"].map(_STEP_SHORT).fillna(data["label"])
    data["amount_text"] = [format_money(v) for v in data["amount_mrr"]]
    colors = {**MOVEMENT_COLORS, "opening": _TOTAL_COLOR, "closing": _TOTAL_COLOR, "slice_transfer": _TRANSFER_COLOR}
    data["color"] = data["step"].map(colors).fillna(_TOTAL_COLOR)
    data["text_y"] = data[["start_mrr", "end_mrr"]].max(axis=1)
    order = list(data["short"])
    x = alt.X("short:N", sort=order, axis=alt.Axis(labelAngle=0, title=None, labelOverlap=False, labelFontSize=10))
    bars = alt.Chart().mark_bar(size=34).encode(
        x=x,
        y=alt.Y("start_mrr:Q", scale=alt.Scale(zero=floor == 0),
                axis=alt.Axis(title=None, labelExpr=MONEY_AXIS_EXPR, tickCount=5)),
        y2=alt.Y2("end_mrr"),
        color=alt.Color("color:N", scale=None),
        tooltip=[
            alt.Tooltip("label:N", title="Step"),
            alt.Tooltip("amount_mrr:Q", title="MRR", format="$,.0f"),
            alt.Tooltip("end_mrr:Q", title="Running total", format="$,.0f"),
        ],
    )
    text = (
        alt.Chart()
        .mark_text(dy=-7, fontSize=10, color="#333333")
        .encode(x=x, y=alt.Y("text_y:Q"), text=alt.Text("amount_text:N"))
    )
    if floor > 0:
        title = f"{title} (axis from {format_money(floor)})"
    return finish([bars, text], title, data=data, frame=FRAMELESS)


@unvalidated
def movements_chart(movements: pd.DataFrame, title: str = "MRR movements per month") -> alt.LayerChart:
    """Stacked bars of the seven signed movements per month (gains up, losses down) and
    a line of net new MRR. Requires month, the movement columns and net_new_mrr."""
    data = _months(movements, [*MOVEMENT_LABELS, "net_new_mrr"])
    columns = list(MOVEMENT_LABELS)
    long = data.melt(id_vars=["month", "month_label"], value_vars=columns, var_name="movement", value_name="mrr")
    long["label"] = long["movement"].map(MOVEMENT_LABELS)
    long["order"] = long["movement"].map({c: i for i, c in enumerate(columns)})
    labels = [MOVEMENT_LABELS[c] for c in columns]
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=month_x(long),
            y=alt.Y("sum(mrr):Q", stack="zero", axis=alt.Axis(title=None, labelExpr=MONEY_AXIS_EXPR, tickCount=6)),
            color=alt.Color(
                "label:N",
                scale=alt.Scale(domain=labels, range=[MOVEMENT_COLORS[c] for c in columns]),
                legend=alt.Legend(title=None, orient="top", columns=4),
                sort=labels,
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("month:N", title="Month"),
                alt.Tooltip("label:N", title="Movement"),
                alt.Tooltip("sum(mrr):Q", title="MRR", format="$,.0f"),
            ],
        )
    )
    net = (
        alt.Chart(data)
        .mark_line(color="#222222", strokeWidth=1.5, point=alt.OverlayMarkDef(color="#222222", size=25))
        .encode(
            x=month_x(data),
            y=alt.Y("net_new_mrr:Q"),
            tooltip=[alt.Tooltip("month:N", title="Month"),
                     alt.Tooltip("net_new_mrr:Q", title="Net new MRR", format="$,.0f")],
        )
    )
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#888888").encode(y=alt.Y("y:Q"))
    return finish([bars, zero, net], title, frame=FRAMELESS)


@unvalidated
def retention_chart(rates: pd.DataFrame, title: str = "NRR and GRR: monthly and trailing 12 months") -> alt.LayerChart:
    """Monthly NRR/GRR (solid) and trailing-12-month NRR/GRR (dashed), with the 100%
    line and the ideal of method section 5 (NRR above 110%) marked.

    Requires month, nrr, grr, nrr_t12m, grr_t12m (fractions; NaN leaves a gap).
    """
    series = {
        "nrr": ("NRR", SERIES_COLORS["nrr"], False),
        "grr": ("GRR", SERIES_COLORS["grr"], False),
        "nrr_t12m": ("NRR 12 months", SERIES_COLORS["nrr"], True),
        "grr_t12m": ("GRR 12 months", SERIES_COLORS["grr"], True),
    }
    data = _months(rates, list(series))
    long = data.melt(id_vars=["month", "month_label"], value_vars=list(series), var_name="series", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce").astype(float)
    long["label"] = long["series"].map({k: v[0] for k, v in series.items()})
    long["is_t12m"] = long["series"].map({k: v[2] for k, v in series.items()})
    labels = [v[0] for v in series.values()]
    base = alt.Chart(long).encode(
        x=month_x(long),
        y=alt.Y("value:Q", axis=alt.Axis(title=None, format=".0%", tickCount=6), scale=alt.Scale(zero=False)),
        color=alt.Color("label:N", scale=alt.Scale(domain=labels, range=[v[1] for v in series.values()]),
                        legend=alt.Legend(title=None, orient="top", columns=4), sort=labels),
        strokeDash=alt.StrokeDash("is_t12m:N", scale=alt.Scale(domain=[False, True], range=[[1, 0], [6, 3]]),
                                  legend=None),
        tooltip=[alt.Tooltip("month:N", title="Month"), alt.Tooltip("label:N", title="Metric"),
                 alt.Tooltip("value:Q", title="Value", format=".1%")],
    )
    lines = base.mark_line(strokeWidth=2.2, point=alt.OverlayMarkDef(filled=True, size=30))
    ideal = _rule(IDEAL_NRR, f"Ideal NRR > {IDEAL_NRR:.0%}", color=TIER_COLORS["healthy"])
    ideal_text = (
        alt.Chart(pd.DataFrame({"y": [IDEAL_NRR], "text": [f"ideal > {IDEAL_NRR:.0%}"]}))
        .mark_text(align="left", dx=4, dy=-6, fontSize=10, color=TIER_COLORS["healthy"])
        .encode(y=alt.Y("y:Q"), x=alt.XValue(0), text=alt.Text("text:N"))
    )
    return finish([lines, _rule(1.0, "100%"), ideal, ideal_text], title, frame=FRAMELESS)


@unvalidated
def net_churn_chart(rates: pd.DataFrame, title: str = "Net MRR churn rate (below 0 = negative churn); gross dashed") -> alt.LayerChart:
    """Bars of the monthly net MRR churn rate: green below zero (negative churn: expansion
    and reactivation beat churn and contraction), red above; gross MRR churn as a line.

    Requires month, net_mrr_churn_rate, gross_mrr_churn_rate (fractions).
    """
    data = _months(rates, ["net_mrr_churn_rate", "gross_mrr_churn_rate"])
    data["net_mrr_churn_rate"] = pd.to_numeric(data["net_mrr_churn_rate"], errors="coerce").astype(float)
    data["kind"] = ["negative churn" if v < 0 else "net churn" for v in data["net_mrr_churn_rate"].fillna(0)]
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=month_x(data),
            y=alt.Y("net_mrr_churn_rate:Q", axis=alt.Axis(title=None, format=".1%", tickCount=6)),
            color=alt.Color("kind:N", scale=alt.Scale(domain=["negative churn", "net churn"],
                                                      range=[TIER_COLORS["healthy"], TIER_COLORS["unhealthy"]]),
                            legend=alt.Legend(title=None, orient="top")),
            tooltip=[alt.Tooltip("month:N", title="Month"),
                     alt.Tooltip("net_mrr_churn_rate:Q", title="Net MRR churn", format=".2%"),
                     alt.Tooltip("gross_mrr_churn_rate:Q", title="Gross MRR churn", format=".2%")],
        )
    )
    gross = (
        alt.Chart(data)
        .mark_line(color="#555555", strokeDash=[5, 3], strokeWidth=1.5)
        .encode(x=month_x(data), y=alt.Y("gross_mrr_churn_rate:Q"),
                tooltip=[alt.Tooltip("month:N", title="Month"),
                         alt.Tooltip("gross_mrr_churn_rate:Q", title="Gross MRR churn", format=".2%")])
    )
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#888888").encode(y=alt.Y("y:Q"))
    return finish([bars, zero, gross], title, frame=FRAMELESS)


#: the quick ratio axis stops here (a month with almost no losses would flatten the rest)
QUICK_RATIO_AXIS_MAX = 10.0


@unvalidated
def quick_ratio_chart(rates: pd.DataFrame, title: str = "Quick ratio (gains / losses)") -> alt.LayerChart:
    """Line of the monthly quick ratio with a reference at 1 (gains = losses).

    Requires month, quick_ratio (NaN in a month without losses leaves a gap). Values
    above QUICK_RATIO_AXIS_MAX are drawn at the top edge (the tooltip has the value).
    """
    data = _months(rates, ["quick_ratio"])
    data["quick_ratio"] = pd.to_numeric(data["quick_ratio"], errors="coerce").astype(float)
    top = float(data["quick_ratio"].max()) if data["quick_ratio"].notna().any() else 1.0
    clipped = top > QUICK_RATIO_AXIS_MAX
    scale = alt.Scale(domain=[0, QUICK_RATIO_AXIS_MAX], clamp=True) if clipped else alt.Scale(zero=True)
    line = (
        alt.Chart(data)
        .mark_line(color=SERIES_COLORS["nrr"], strokeWidth=2.2, point=alt.OverlayMarkDef(filled=True, size=30))
        .encode(
            x=month_x(data),
            y=alt.Y("quick_ratio:Q", axis=alt.Axis(title=None, format=".1f", tickCount=5), scale=scale),
            tooltip=[alt.Tooltip("month:N", title="Month"), alt.Tooltip("quick_ratio:Q", title="Quick ratio", format=".2f")],
        )
    )
    if clipped:
        title = f"{title}, axis capped at {QUICK_RATIO_AXIS_MAX:.0f}"
    return finish([line, _rule(1.0, "1.0: gains = losses")], title, frame=FRAMELESS)


@unvalidated
def lever_share_chart(rates: pd.DataFrame, title: str = "Expansion MRR by lever") -> alt.LayerChart:
    """Stacked bars of expansion MRR per month split into upsell, cross-sell and usage.

    Requires month and the three lever columns (MRR >= 0).
    """
    data = _months(rates, list(LEVER_COLUMNS))
    long = data.melt(id_vars=["month", "month_label"], value_vars=list(LEVER_COLUMNS), var_name="lever", value_name="mrr")
    long["label"] = long["lever"].map(MOVEMENT_LABELS)
    long["order"] = long["lever"].map({c: i for i, c in enumerate(LEVER_COLUMNS)})
    total = long.groupby("month")["mrr"].transform("sum")
    long["share"] = ratio(long["mrr"], total)
    labels = [MOVEMENT_LABELS[c] for c in LEVER_COLUMNS]
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=month_x(long),
            y=alt.Y("mrr:Q", stack="zero", axis=alt.Axis(title=None, labelExpr=MONEY_AXIS_EXPR, tickCount=5)),
            color=alt.Color("label:N", scale=alt.Scale(domain=labels, range=[MOVEMENT_COLORS[c] for c in LEVER_COLUMNS]),
                            legend=alt.Legend(title=None, orient="top"), sort=labels),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("month:N", title="Month"), alt.Tooltip("label:N", title="Lever"),
                     alt.Tooltip("mrr:Q", title="MRR", format="$,.0f"),
                     alt.Tooltip("share:Q", title="Share of expansion", format=".1%")],
        )
    )
    return finish([bars], title, data=long, frame=FRAMELESS)


@unvalidated
def cohort_heatmap(cohorts: pd.DataFrame, title: str = "Net MRR retention by signing cohort") -> alt.LayerChart:
    """Heat table: cohort (rows) x age (columns), colour and text = retention.

    Requires cohort, age, retention (fraction; NaN cells are blank), accounts, base_mrr,
    cohort_mrr. Green above 100%, red below.
    """
    data = cohorts[["cohort", "age", "accounts", "base_mrr", "cohort_mrr", "retention"]].copy()
    data["retention"] = pd.to_numeric(data["retention"], errors="coerce").astype(float)
    data["text"] = [f"{v * 100:.0f}%" if pd.notna(v) else "" for v in data["retention"]]
    data["cohort_label"] = [f"{c} ({n})" for c, n in zip(data["cohort"], data["accounts"])]
    rows = list(dict.fromkeys(data.sort_values("cohort")["cohort_label"]))
    base = alt.Chart().encode(
        x=alt.X("age:O", axis=alt.Axis(title="Periods since the cohort's first revenue", labelAngle=0, orient="top")),
        y=alt.Y("cohort_label:N", sort=rows, axis=alt.Axis(title=None, labelOverlap=False)),
    )
    rect = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "retention:Q",
            scale=alt.Scale(domain=[0.8, 1.0, 1.2], range=[TIER_COLORS["unhealthy"], "#f7f7f7", TIER_COLORS["healthy"]],
                            clamp=True),
            legend=alt.Legend(title="Retention", format=".0%", orient="right"),
        ),
        tooltip=[alt.Tooltip("cohort:N", title="Cohort"), alt.Tooltip("age:O", title="Age"),
                 alt.Tooltip("accounts:Q", title="Accounts"),
                 alt.Tooltip("base_mrr:Q", title="Starting MRR", format="$,.0f"),
                 alt.Tooltip("cohort_mrr:Q", title="MRR at this age", format="$,.0f"),
                 alt.Tooltip("retention:Q", title="Net MRR retention", format=".1%")],
    )
    text = base.mark_text(fontSize=10, color="#222222").encode(text=alt.Text("text:N"))
    return finish([rect, text], title, height=alt.Step(24), data=data, frame=FRAMELESS)


@unvalidated
def breakdown_rate_chart(table: pd.DataFrame, label: str, title: str | None = None) -> alt.LayerChart:
    """Horizontal bars of the period's average monthly net MRR churn rate per group,
    green below zero.

    Requires group_value, avg_monthly_net_mrr_churn_rate, nrr, grr (period retention),
    start_mrr; ``label`` names the dimension.
    """
    data = table[["group_value", "avg_monthly_net_mrr_churn_rate", "nrr", "grr", "start_mrr"]].rename(
        columns={"avg_monthly_net_mrr_churn_rate": "net_mrr_churn_rate"})
    data["net_mrr_churn_rate"] = pd.to_numeric(data["net_mrr_churn_rate"], errors="coerce").astype(float)
    data["kind"] = ["negative churn" if v < 0 else "net churn" for v in data["net_mrr_churn_rate"].fillna(0)]
    order = list(data.sort_values("net_mrr_churn_rate")["group_value"])
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("group_value:N", sort=order, axis=alt.Axis(title=None, labelLimit=160)),
            x=alt.X("net_mrr_churn_rate:Q", axis=alt.Axis(title="Average monthly net MRR churn rate", format=".1%")),
            color=alt.Color("kind:N", scale=alt.Scale(domain=["negative churn", "net churn"],
                                                      range=[TIER_COLORS["healthy"], TIER_COLORS["unhealthy"]]),
                            legend=alt.Legend(title=None, orient="top")),
            tooltip=[alt.Tooltip("group_value:N", title=label),
                     alt.Tooltip("net_mrr_churn_rate:Q", title="Average monthly net MRR churn", format=".2%"),
                     alt.Tooltip("nrr:Q", title="NRR over the period", format=".1%"),
                     alt.Tooltip("grr:Q", title="GRR over the period", format=".1%"),
                     alt.Tooltip("start_mrr:Q", title="Start MRR (sum of months)", format="$,.0f")],
        )
    )
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#888888").encode(x=alt.X("x:Q"))
    return finish([bars, zero], title or f"Average monthly net MRR churn by {label.lower()}", height=alt.Step(26), frame=FRAMELESS)


@unvalidated
def breakdown_levers_chart(table: pd.DataFrame, label: str, title: str | None = None) -> alt.LayerChart:
    """Horizontal stacked bars of the period's expansion MRR per lever and group.

    Requires group_value and the three lever columns.
    """
    long = table.melt(id_vars=["group_value"], value_vars=list(LEVER_COLUMNS), var_name="lever", value_name="mrr")
    long["label"] = long["lever"].map(MOVEMENT_LABELS)
    long["order"] = long["lever"].map({c: i for i, c in enumerate(LEVER_COLUMNS)})
    labels = [MOVEMENT_LABELS[c] for c in LEVER_COLUMNS]
    order = list(table["group_value"])
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            y=alt.Y("group_value:N", sort=order, axis=alt.Axis(title=None, labelLimit=160)),
            x=alt.X("mrr:Q", stack="zero", axis=alt.Axis(title="Expansion MRR over the period", labelExpr=MONEY_AXIS_EXPR)),
            color=alt.Color("label:N", scale=alt.Scale(domain=labels, range=[MOVEMENT_COLORS[c] for c in LEVER_COLUMNS]),
                            legend=alt.Legend(title=None, orient="top"), sort=labels),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("group_value:N", title=label), alt.Tooltip("label:N", title="Lever"),
                     alt.Tooltip("mrr:Q", title="MRR", format="$,.0f")],
        )
    )
    return finish([bars], title or f"Expansion by lever and {label.lower()}", height=alt.Step(26), data=long, frame=FRAMELESS)


# --------------------------------------------------------------------------- page panels
# Every chart of a panel as Vega-Lite dicts from the panel's frames (no query here: the
# frames come from cslib.views.revenue; ui.revenue_panels caches frames and specs together,
# so a rerun with a known selection builds no chart at all).
def _month_label(month: str) -> str:
    return pd.Timestamp(f"{month}-01").strftime("%b %Y")


def rates_specs(table: pd.DataFrame) -> dict[str, dict]:
    """The specs of the charts of ``revenue.rates`` for a period: {name: Vega-Lite dict}
    with names bridge_month (the last month's waterfall), bridge_period (the whole
    period's), movements, retention, net_churn, quick_ratio, levers."""
    last = table["month"].iloc[-1]
    charts = {
        "bridge_month": waterfall_chart(waterfall(table.iloc[[-1]]), title=f"MRR bridge, {_month_label(last)}"),
        "bridge_period": waterfall_chart(
            waterfall(table),
            title=f"MRR bridge, {_month_label(table['month'].iloc[0])} to {_month_label(last)}",
        ),
        "movements": movements_chart(table),
        "retention": retention_chart(table),
        "net_churn": net_churn_chart(table),
        "quick_ratio": quick_ratio_chart(table),
        "levers": lever_share_chart(table),
    }
    return {name: to_spec(chart) for name, chart in charts.items()}


def cohort_spec(table: pd.DataFrame) -> dict | None:
    """The heat table's spec of ``revenue.cohorts`` (None when there is no cohort)."""
    return None if table.empty else to_spec(cohort_heatmap(table))


def breakdown_specs(table: pd.DataFrame, label: str) -> dict[str, dict]:
    """{"rate", "levers"}: the two charts' specs of a ``revenue.breakdown`` table (group
    values already display labels); ``label`` names the dimension on the charts."""
    return {
        "rate": to_spec(breakdown_rate_chart(table, label)),
        "levers": to_spec(breakdown_levers_chart(table, label)),
    }
