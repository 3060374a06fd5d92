"""Chart builders for the Nine-box page: the 3x3 heat grid and the per-owner small multiples.

Pure functions: frames from cslib.views.ninebox in, Altair charts out. Colour encodes the
cell's meaning, not a number: the hue is the health tier (green / amber / red, the
tier colours of cslib.charts.common) and the intensity is the value tier (darkest = high
value), so "high value, unhealthy" is the deepest red wherever it appears.
"""

from __future__ import annotations


import altair as alt
import pandas as pd

from cslib.charts.common import TIER_COLORS, format_count, format_money, format_percent, unvalidated
from cslib.views.ninebox import CELL_IDS, HEALTH_LABELS, HEALTH_TIERS, VALUE_LABELS, VALUE_TIERS

#: name of the grid's point selection (``st.altair_chart(..., selection_mode=...)``)
SELECTION = "cell"
SELECTION_FIELDS = ("health_tier", "value_tier")
#: cell -> fill colour: health hue, value intensity (high darkest)
CELL_COLORS: dict[str, str] = {
    "high|healthy": "#1d6f42",
    "mid|healthy": TIER_COLORS["healthy"],
    "low|healthy": "#9fd3b1",
    "high|at_risk": "#b86e00",
    "mid|at_risk": TIER_COLORS["at_risk"],
    "low|at_risk": "#f8d79e",
    "high|unhealthy": "#9e1c19",
    "mid|unhealthy": TIER_COLORS["unhealthy"],
    "low|unhealthy": "#f0a3a0",
}
#: text colour readable on each fill
_TEXT_COLORS: dict[str, str] = {
    cell: ("#ffffff" if cell.startswith(("high|", "mid|")) and not cell == "mid|at_risk" else "#1f2328")
    for cell in CELL_IDS
}
CELL_WIDTH = 160  # px per cell of the main grid: the grid fits a 1024 px wide screen
CELL_HEIGHT = 112
#: the whole grid chart's width (cells plus the health-tier labels), for the page layout
GRID_WIDTH = 3 * CELL_WIDTH + 90
MEASURES = ("arr", "accounts")
_VALUE_ORDER = [VALUE_LABELS[v] for v in VALUE_TIERS]
_HEALTH_ORDER = [HEALTH_LABELS[h] for h in HEALTH_TIERS]


def to_dict(self, validate: bool = False, **kwargs) -> dict:  # type: ignore[override]
        return super().to_dict(validate=validate, **kwargs)


def share_color(column: str) -> str:
    """The colour of a compare-books share bar: its column's health tier (healthy green,
    at risk amber, unhealthy red, unscored grey), never one colour for every column."""
    return TIER_COLORS[column.split("|")[-1]]


def _signed_money(value: float) -> str:
    if pd.isna(value):
        return "n/a"
    if round(value) == 0:
        return "±$0"
    return ("+" if value > 0 else "") + format_money(value)


def _signed_count(value: float) -> str:
    if pd.isna(value):
        return "n/a"
    return f"{value:+,.0f}" if round(value) != 0 else "±0"


def grid_frame(grid: pd.DataFrame, measure: str = "arr", previous_label: str = "last month",
               selected_cell: str | None = None) -> pd.DataFrame:
    """The grid rows with display labels (primary, secondary, delta line), colours and
    ``is_selected``. Requires the GRID_COLUMNS of cslib.views.ninebox.grid."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    out = grid.copy()
    out["value_label"] = out["value_tier"].map(VALUE_LABELS)
    out["health_label"] = out["health_tier"].map(HEALTH_LABELS)
    out["fill"] = out["cell_id"].map(CELL_COLORS)
    out["text_color"] = out["cell_id"].map(_TEXT_COLORS)
    accounts_text = [f"{format_count(n)} account{'s' if n != 1 else ''}" for n in out["accounts"]]
    if measure == "arr":
        out["primary"] = [format_money(v) for v in out["arr"]]
        out["secondary"] = [
            f"{format_percent(s)} of ARR · {a}" for s, a in zip(out["arr_share"], accounts_text)
        ]
        out["delta_line"] = [f"{_signed_money(d)} vs {previous_label}" for d in out["delta_arr"]]
    else:
        out["primary"] = accounts_text
        out["secondary"] = [
            f"{format_percent(s)} of accounts · {format_money(v)}"
            for s, v in zip(out["accounts_share"], out["arr"])
        ]
        out["delta_line"] = [f"{_signed_count(d)} vs {previous_label}" for d in out["delta_accounts"]]
    out["is_selected"] = out["cell_id"] == selected_cell
    out["arr_text"] = [format_money(v) for v in out["arr"]]
    out["share_text"] = [format_percent(v) for v in out["arr_share"]]
    out["delta_arr_text"] = [_signed_money(v) for v in out["delta_arr"]]
    out["delta_accounts_text"] = [_signed_count(v) for v in out["delta_accounts"]]
    return out


@unvalidated
def grid_chart(grid: pd.DataFrame, measure: str = "arr", previous_label: str = "last month",
               selected_cell: str | None = None) -> alt.LayerChart:
    """The 3x3 heat grid: rows health tier (healthy on top), columns value tier (high
    left). Each cell: the measure ('arr' or 'accounts') large, its share and the other
    measure, and the change vs the previous month. Clicking a cell sets the point
    selection ``SELECTION`` on fields ``SELECTION_FIELDS``; ``selected_cell`` is outlined.
    """
    data = grid_frame(grid, measure, previous_label, selected_cell)
    data["details"] = data["secondary"] + "\n" + data["delta_line"]
    data = data[["health_tier", "value_tier", "cell_id", "value_label", "health_label", "fill", "text_color",
                 "primary", "details", "is_selected", "accounts", "arr_text", "share_text",
                 "delta_arr_text", "delta_accounts_text"]]
    # built from constructors, not chained methods (each chained call deep-copies the
    # chart), with construction-time validation off (@unvalidated): both cost milliseconds
    # per rerun; the page draws ``common.to_spec`` of it
    return _grid_layers(data, previous_label)


def _grid_layers(data: pd.DataFrame, previous_label: str) -> alt.LayerChart:
    x = alt.X(
        "value_label:N",
        sort=_VALUE_ORDER,
        scale=alt.Scale(domain=_VALUE_ORDER, paddingInner=0.04),
        axis=alt.Axis(orient="top", title=None, labelAngle=0, domain=False, ticks=False,
                      labelFontSize=13, labelFontWeight="bold", labelPadding=8),
    )
    y = alt.Y(
        "health_label:N",
        sort=_HEALTH_ORDER,
        scale=alt.Scale(domain=_HEALTH_ORDER, paddingInner=0.05),
        axis=alt.Axis(title=None, domain=False, ticks=False, labelFontSize=13,
                      labelFontWeight="bold", labelPadding=8),
    )
    text_color = alt.Color("text_color:N", scale=None, legend=None)
    cells = alt.Chart(
        mark=alt.MarkDef(type="rect", cornerRadius=6, cursor="pointer"),
        encoding=alt.FacetedEncoding(
            x=x,
            y=y,
            color=alt.Color("fill:N", scale=None, legend=None),
            stroke=alt.condition("datum.is_selected", alt.value("#111111"), alt.value("#ffffff")),
            strokeWidth=alt.condition("datum.is_selected", alt.value(5), alt.value(1)),
            tooltip=[
                alt.Tooltip("value_label:N", title="Value"),
                alt.Tooltip("health_label:N", title="Health"),
                alt.Tooltip("accounts:Q", title="Accounts", format=",.0f"),
                alt.Tooltip("arr_text:N", title="ARR"),
                alt.Tooltip("share_text:N", title="Share of ARR"),
                alt.Tooltip("delta_arr_text:N", title=f"ARR change vs {previous_label}"),
                alt.Tooltip("delta_accounts_text:N", title=f"Accounts change vs {previous_label}"),
            ],
        ),
        params=[alt.selection_point(name=SELECTION, fields=list(SELECTION_FIELDS), on="click", clear="dblclick").param],
    )
    primary = alt.Chart(
        mark=alt.MarkDef(type="text", fontSize=22, fontWeight="bold", dy=-20),
        encoding=alt.FacetedEncoding(x=x, y=y, text=alt.Text("primary:N"), color=text_color),
    )
    details = alt.Chart(
        mark=alt.MarkDef(type="text", fontSize=12, dy=8, lineBreak="\n", lineHeight=17),
        encoding=alt.FacetedEncoding(x=x, y=y, text=alt.Text("details:N"), color=text_color),
    )
    return alt.LayerChart(
        data=data,
        layer=[cells, primary, details],
        width=CELL_WIDTH * 3,
        height=CELL_HEIGHT * 3,
        config=alt.Config(view=alt.ViewConfig(stroke=None), axis=alt.AxisConfig(grid=False)),
    )


def books_chart(books: pd.DataFrame, measure: str = "arr", columns: int = 4) -> alt.FacetChart:
    """Small multiples: one mini nine-box per owner (``cslib.views.ninebox.books`` rows).

    Hue and intensity as in the main grid; the opacity is the cell's share of the
    owner's ARR (or accounts), and each cell is labelled with that share.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    share = f"{measure}_share"
    data = books[books["health_tier"] != "unscored"].copy()
    data["value_label"] = data["value_tier"].map({"high": "High", "mid": "Mid", "low": "Low"})
    data["health_label"] = data["health_tier"].map(HEALTH_LABELS)
    data["fill"] = data["cell_id"].map(CELL_COLORS)
    data["share_text"] = [format_percent(v) if v > 0 else "" for v in data[share].fillna(0)]
    data["arr_text"] = [format_money(v) for v in data["arr"]]
    data["owner_title"] = [
        f"{o} · {format_money(a)} · {format_count(n)} accounts"
        for o, a, n in zip(data["owner"], data["owner_arr"], data["owner_accounts"])
    ]
    base = alt.Chart().encode(
        x=alt.X("value_label:N", sort=["High", "Mid", "Low"], title=None,
                axis=alt.Axis(orient="bottom", labelAngle=0, domain=False, ticks=False)),
        y=alt.Y("health_label:N", sort=_HEALTH_ORDER, title=None,
                axis=alt.Axis(domain=False, ticks=False)),
    )
    rects = base.mark_rect(cornerRadius=3, stroke="#ffffff", strokeWidth=1).encode(
        color=alt.Color("fill:N", scale=None, legend=None),
        opacity=alt.Opacity(f"{share}:Q", scale=alt.Scale(domain=[0, 0.5], range=[0.12, 1], clamp=True), legend=None),
        tooltip=[
            alt.Tooltip("owner:N", title="Owner"),
            alt.Tooltip("value_label:N", title="Value"),
            alt.Tooltip("health_label:N", title="Health"),
            alt.Tooltip("accounts:Q", title="Accounts"),
            alt.Tooltip("arr_text:N", title="ARR"),
            alt.Tooltip(f"{share}:Q", title="Share of the book", format=".1%"),
        ],
    )
    labels = base.mark_text(fontSize=11, color="#1f2328").encode(text="share_text:N")
    return (
        alt.layer(rects, labels, data=data)
        .properties(width=150, height=96)
        .facet(facet=alt.Facet("owner_title:N", title=None, header=alt.Header(labelFontSize=12, labelFontWeight="bold")),
               columns=columns)
        .configure_view(stroke=None)
        .configure_axis(grid=False, labelFontSize=11)
    )
