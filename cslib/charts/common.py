"""Chart builders and number formatting for the pages: one place for colours and axes.

Every builder is a pure function: it takes a DataFrame and returns an Altair chart
object; the page renders it. Months are 'YYYY-MM' strings in the input; ratios are
fractions (0.713 = 71.3%); money is in currency units (ARR per year).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import altair as alt
import pandas as pd
from altair.utils.schemapi import debug_mode

#: health tier -> colour (healthy green, at-risk amber, unhealthy red, unscored grey)
TIER_COLORS: dict[str, str] = {
    "healthy": "#2e9e5b",
    "at_risk": "#f2a93b",
    "unhealthy": "#d64541",
    "unscored": "#9aa0a6",
}
TIER_LABELS: dict[str, str] = {
    "healthy": "Healthy",
    "at_risk": "At risk",
    "unhealthy": "Unhealthy",
    "unscored": "Unscored",
}
#: colours of non-tier series
SERIES_COLORS: dict[str, str] = {
    "arr": "#4c78a8",
    "healthy_arr": TIER_COLORS["healthy"],
    "health_rate": TIER_COLORS["healthy"],
    "renewal_rate_arr": "#4c78a8",
    "renewal_rate_count": "#9ecae9",
    "nrr": "#4c78a8",
    "grr": "#e45756",
    "health_rate_mom": TIER_COLORS["healthy"],
    "reference": "#6b6b6b",
}
SERIES_LABELS: dict[str, str] = {
    "arr": "ARR",
    "healthy_arr": "Healthy ARR",
    "health_rate": "Health rate",
    "renewal_rate_arr": "Renewal rate (ARR)",
    "renewal_rate_count": "Renewal rate (count)",
    "nrr": "NRR",
    "grr": "GRR",
    "health_rate_mom": "Health-rate MoM",
}
CHART_HEIGHT = 320  # the whole chart (title, legend, axes), as Streamlit sizes it
MONEY_AXIS_EXPR = (
    "abs(datum.value) >= 1e6 ? '$' + format(datum.value / 1e6, '.1f') + 'M'"
    " : abs(datum.value) >= 1e3 ? '$' + format(datum.value / 1e3, '.0f') + 'K'"
    " : '$' + format(datum.value, '.0f')"
)


# --------------------------------------------------------------------------- formatting
def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def format_money(value: float | None) -> str:
    """$12.3M / $845K / $12.3K / $950 (1 decimal for millions and below $100K); '–' if missing."""
    if _is_missing(value):
        return "–"
    value = float(value)
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e9:
        body = f"{v / 1e9:.1f}B"
    elif v >= 1e6:
        body = f"{v / 1e6:.1f}M"
    elif v >= 1e5:
        body = f"{v / 1e3:.0f}K"
    elif v >= 1e3:
        body = f"{v / 1e3:.1f}K"
    else:
        body = f"{v:.0f}"
    return f"{sign}${body}"


def format_percent(value: float | None) -> str:
    """A fraction as a percentage with one decimal: 0.7134 -> '71.3%'; '–' if missing."""
    if _is_missing(value):
        return "–"
    return f"{float(value) * 100:.1f}%"


def format_count(value: float | None) -> str:
    """A count with thousands separators; '–' if missing."""
    if _is_missing(value):
        return "–"
    return f"{float(value):,.0f}"


def format_delta(delta: float | None, fmt: str) -> str | None:
    """Signed change for a tile: percent -> '+1.3 pp' (fraction difference), money -> '+$12.0K'.

    None when the delta is missing (no previous month, or an undefined ratio).
    The leading '-' is what makes Streamlit draw a down arrow.
    """
    if _is_missing(delta):
        return None
    delta = float(delta)
    if fmt == "percent":
        points = round(delta * 100, 1)
        return f"{points:+.1f} pp" if points != 0 else "0.0 pp"
    if fmt == "money":
        return ("+" if delta >= 0 else "") + format_money(delta)
    return f"{delta:+,.0f}" if round(delta) != 0 else "0"


def format_value(value: float | None, fmt: str) -> str:
    """Format a tile value by its format name ('money' | 'percent' | anything else = count)."""
    if fmt == "money":
        return format_money(value)
    if fmt == "percent":
        return format_percent(value)
    return format_count(value)


# --------------------------------------------------------------------------- charts
def with_month_start(df: pd.DataFrame) -> pd.DataFrame:
    """Copy with month_start (datetime) and month_label ('Nov 25'), sorted by month."""
    out = df.sort_values("month").copy()
    out["month_start"] = pd.to_datetime(out["month"].astype(str) + "-01", format="%Y-%m-%d")
    out["month_label"] = out["month_start"].dt.strftime("%b %y")
    return out


def month_x(data: pd.DataFrame) -> alt.X:
    """Months (``month`` 'YYYY-MM', ``month_label``) as evenly spaced ordinal labels in
    calendar order, one per month; labels that would overlap are thinned out."""
    order = list(dict.fromkeys(data.sort_values("month")["month_label"]))
    return alt.X("month_label:O", sort=order, axis=alt.Axis(labelAngle=0, title=None, grid=False, labelOverlap=True))


def _long(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """month/month_start + one row per (month, series) with a display label."""
    present = [c for c in columns if c in df.columns]
    long = with_month_start(df).melt(
        id_vars=["month", "month_start", "month_label"], value_vars=present, var_name="series", value_name="value"
    )
    long["value"] = pd.to_numeric(long["value"], errors="coerce").astype(float)
    long["label"] = long["series"].map(SERIES_LABELS).fillna(long["series"])
    return long


def _series_color(columns: Sequence[str]) -> alt.Color:
    labels = [SERIES_LABELS.get(c, c) for c in columns]
    return alt.Color(
        "label:N",
        scale=alt.Scale(domain=labels, range=[SERIES_COLORS.get(c, "#777777") for c in columns]),
        legend=alt.Legend(title=None, orient="top"),
        sort=labels,
    )


def _rule(y: float, label: str) -> alt.Chart:
    ref = pd.DataFrame({"y": [y], "label": [label]})
    return (
        alt.Chart(ref)
        .mark_rule(color=SERIES_COLORS["reference"], strokeDash=[4, 4])
        .encode(y="y:Q", tooltip=[alt.Tooltip("label:N", title="Reference")])
    )


#: the house style every chart gets from :func:`finish`: small axis text, titles on the left
_AXIS = alt.AxisConfig(labelFontSize=11, titleFontSize=11)
_TITLE = alt.TitleConfig(anchor="start", fontSize=14)
#: ``finish(frame=...)``: no border around the plot (``FRAMELESS``) or no stroke (``NO_STROKE``)
FRAMELESS = alt.ViewConfig(strokeWidth=0)
NO_STROKE = alt.ViewConfig(stroke=None)
#: ``finish(legend=LEGEND_TOP)``: the legend above the plot, untitled, labels never cut
LEGEND_TOP = alt.LegendConfig(orient="top", title=None, labelLimit=0)


def finish(chart, title: str, height=CHART_HEIGHT, data: pd.DataFrame | None = None,
           frame: alt.ViewConfig | None = None, legend: alt.LegendConfig | None = None):
    """Title, height and the house style, in one step: the one way every chart is finished.

    ``chart`` is one chart or a list of layers. Each Altair ``.properties`` /
    ``.configure_*`` call deep-copies the whole chart (and re-merges a layer's data), which
    made a page of nine charts cost seconds, so the config is built once here. Layers that
    share one frame are built without data and get it here (``data``); Altair would
    otherwise hoist it itself, hashing the frame's repr."""
    extra = {k: v for k, v in (("view", frame), ("legend", legend)) if v is not None}
    config = alt.Config(axis=_AXIS, title=_TITLE, **extra)
    if isinstance(chart, list):
        more = {} if data is None else {"data": data}
        return alt.LayerChart(layer=chart, title=title, height=height, config=config, **more)
    return chart.properties(title=title, height=height, config=config)


def arr_trend(df: pd.DataFrame, title: str = "ARR and healthy ARR") -> alt.LayerChart:
    """Bars of ARR per month with healthy ARR overlaid in green.

    Requires columns month ('YYYY-MM') and arr; healthy_arr is drawn when present.
    """
    columns = ["arr", "healthy_arr"] if "healthy_arr" in df.columns else ["arr"]
    long = _long(df, columns)
    long["order"] = long["series"].map({"arr": 0, "healthy_arr": 1})
    bars = (
        alt.Chart(long)
        .mark_bar(opacity=0.9)
        .encode(
            x=month_x(long),
            y=alt.Y(
                "value:Q",
                stack=None,
                axis=alt.Axis(title=None, labelExpr=MONEY_AXIS_EXPR, tickCount=5),
            ),
            color=_series_color(columns),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("month:N", title="Month"),
                alt.Tooltip("label:N", title="Series"),
                alt.Tooltip("value:Q", title="Value", format="$,.0f"),
            ],
        )
    )
    return finish(alt.layer(bars), title)


def _rate_lines(
    df: pd.DataFrame,
    columns: Sequence[str],
    dashed: Sequence[str] = (),
    scale: alt.Scale | None = None,
    axis_format: str = ".0%",
) -> alt.Chart:
    long = _long(df, columns)
    long["is_dashed"] = long["series"].isin(list(dashed))
    base = alt.Chart(long).encode(
        x=month_x(long),
        y=alt.Y(
            "value:Q",
            axis=alt.Axis(title=None, format=axis_format, tickCount=5),
            scale=scale if scale is not None else alt.Undefined,
        ),
        color=_series_color([c for c in columns if c in df.columns]),
        strokeDash=alt.StrokeDash(
            "is_dashed:N", scale=alt.Scale(domain=[False, True], range=[[1, 0], [5, 3]]), legend=None
        ),
        tooltip=[
            alt.Tooltip("month:N", title="Month"),
            alt.Tooltip("label:N", title="Metric"),
            alt.Tooltip("value:Q", title="Value", format=".1%"),
        ],
    )
    return base.mark_line(strokeWidth=2.5) + base.mark_point(filled=True, size=40)


def health_vs_renewal(df: pd.DataFrame, title: str = "Health rate vs renewal rate") -> alt.LayerChart:
    """Health rate and renewal rates (fractions) on one chart: calibration wants them close.

    Requires month, health_rate, renewal_rate_arr; renewal_rate_count (dashed) if present.
    NaN (no renewals due) leaves a gap.
    """
    columns = ["health_rate", "renewal_rate_arr", "renewal_rate_count"]
    chart = _rate_lines(df, columns, dashed=["renewal_rate_count"], scale=alt.Scale(domain=[0, 1]))
    return finish(chart, title)


def retention_trend(df: pd.DataFrame, title: str = "NRR and GRR") -> alt.LayerChart:
    """Net and gross revenue retention (fractions) per month with a 100% reference rule.

    Requires month, nrr, grr.
    """
    chart = _rate_lines(df, ["nrr", "grr"], scale=alt.Scale(zero=False), axis_format=".1%") + _rule(1.0, "100%")
    return finish(chart, title)


def health_rate_mom_trend(df: pd.DataFrame, title: str = "Health-rate month-over-month") -> alt.LayerChart:
    """Healthy ARR this month / last month, as bars (green >= 100%, red below) and a 100% line.

    Requires month, health_rate_mom (fraction; 1.0 = flat).
    """
    data = with_month_start(df[["month", "health_rate_mom"]])
    data["health_rate_mom"] = pd.to_numeric(data["health_rate_mom"], errors="coerce").astype(float)
    data["direction"] = ["climbing" if v >= 1 else "falling" for v in data["health_rate_mom"].fillna(1.0)]
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=month_x(data),
            y=alt.Y(
                "health_rate_mom:Q",
                axis=alt.Axis(title=None, format=".0%", tickCount=5),
                scale=alt.Scale(zero=False),
            ),
            y2=alt.Y2(datum=1.0),
            color=alt.Color(
                "direction:N",
                scale=alt.Scale(
                    domain=["climbing", "falling"],
                    range=[TIER_COLORS["healthy"], TIER_COLORS["unhealthy"]],
                ),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("month:N", title="Month"),
                alt.Tooltip("health_rate_mom:Q", title="Health-rate MoM", format=".1%"),
            ],
        )
    )
    return finish(bars + _rule(1.0, "100%"), title)


def unvalidated(fn: Callable) -> Callable:
    """The one way charts skip Altair's JSON-schema validation: run ``fn`` with Altair's
    debug mode off. As a decorator on a builder it stops each channel and mark from
    validating itself as it is made (which costs more than the query behind it); ``to_spec``
    uses it to serialise. The tests validate every builder's output instead
    (``chart.to_dict()``)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with debug_mode(False):
            return fn(*args, **kwargs)

    return wrapper


@unvalidated
def to_spec(chart) -> dict:
    """The chart's Vega-Lite spec, unvalidated, for ``st.vega_lite_chart``: validating on
    every rerun cost more than the queries."""
    return chart.to_dict(validate=False)
