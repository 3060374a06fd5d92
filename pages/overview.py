"""Overview (executives): the month's KPI tiles with deltas, and 12-month trends.

A thin shell: the selection comes from the sidebar (ui.sidebar), numbers from
cslib.metrics through the cache (ui.data), charts from cslib.charts.
"""

from __future__ import annotations

import streamlit as st

from cslib import charts, deltas, metrics, renewals
from cslib.metrics import METRICS
from ui import data, na, sidebar
from ui import tiles as ui_tiles
from ui import benchmarks as ui_benchmarks

#: tile rows: what an executive reads first (size and health), then retention
TILE_ROWS: tuple[tuple[str, ...], ...] = (
    ("arr", "health_rate", "health_rate_mom", "active_accounts"),
    ("renewal_rate_arr", "renewal_rate_count", "nrr", "grr"),
)
TREND_MONTHS = 12


def _tile(container, tile: dict) -> None:
    description = METRICS[tile["name"]].description if tile["name"] in METRICS else None
    reason = tile.get("reason") if tile["value"] is None else None
    change = deltas.tile_delta(tile["delta"], tile["format"], tile.get("up_is_good", True))
    container.metric(
        tile["label"],
        na.NA if reason else charts.format_value(tile["value"], tile["format"]),
        delta=change.text, delta_color=change.color, delta_arrow=change.arrow,
        help=f"n/a: {reason}. {description or ''}".strip() if reason else description,
        border=True,
    )


def _renewals_source_note(version) -> str:
    """' Renewals are derived from revenue (...)' when they were not imported, else ''."""
    if data.cached(renewals.renewals_source, version) == "file":
        return ""
    return " " + data.cached(renewals.renewals_source_text, version)


def _caption(*names: str) -> None:
    st.caption("  \n".join(f"**{METRICS[n].label}**: {METRICS[n].description}" for n in names))


def render() -> None:
    selection = sidebar.current()
    month, filters = selection.month, selection.filters
    st.title(f"Overview · {sidebar.month_label(month)}")

    series = data.kpi_series(selection.version, filters, month, TREND_MONTHS)
    this_month = series[series["month"] == month]
    if this_month.empty or int(this_month["active_accounts"].iloc[0]) == 0:
        st.info(
            f"No active accounts match the selected filters in {sidebar.month_label(month)}. "
            "Widen the filters in the sidebar (or use Reset filters)."
        )
        return

    health = data.cached(metrics.health_data_status, selection.version, filters, month)
    na.show_health(
        health, sidebar.month_label(month),
        "Health rate and health-rate MoM are n/a, not 0%: a health score needs enough weeks of usage data.",
    )
    tiles = {t["name"]: t for t in data.kpi_tiles(selection.version, filters, month)}
    shown = {name for row in TILE_ROWS for name in row}
    rows = [list(row) for row in TILE_ROWS]
    rows[-1].extend(name for name in tiles if name not in shown)  # a tile added to cslib later
    for i, row in enumerate(rows):
        names = [name for name in row if name in tiles]
        for slot, name in zip(ui_tiles.grid(len(names), f"overview_{i}"), names):
            _tile(slot, tiles[name])
    if any(tiles[n]["value"] is None for n in metrics.RENEWAL_METRICS if n in tiles):
        renewals = data.cached(metrics.renewal_data_status, selection.version, filters, month)
        if not renewals.ok:
            st.caption(na.renewal_message(renewals, sidebar.month_label(month)))
    st.caption(
        "Deltas compare with the previous month; percentages change in percentage points (pp). "
        "n/a: not enough data for the value (hover over the tile for the reason). Non-target accounts are "
        + ("included." if filters.include_non_target else "excluded (see the sidebar).")
        + _renewals_source_note(selection.version)
    )

    st.subheader("Trends, last 12 months")
    if series["health_rate"].isna().all() and not health.ok:
        st.caption("No month of the trend has health data, so the health lines and bars are empty (n/a).")
    left, right = st.columns(2)
    with left:
        st.vega_lite_chart(data.chart_spec(charts.arr_trend, series), width="stretch")
        _caption("arr", "healthy_arr")
    with right:
        st.vega_lite_chart(data.chart_spec(charts.health_vs_renewal, series), width="stretch")
        _caption("health_rate", "renewal_rate_arr", "renewal_rate_count")
    left, right = st.columns(2)
    with left:
        st.vega_lite_chart(data.chart_spec(charts.retention_trend, series), width="stretch")
        _caption("nrr", "grr")
    with right:
        st.vega_lite_chart(data.chart_spec(charts.health_rate_mom_trend, series), width="stretch")
        _caption("health_rate_mom")

    ui_benchmarks.section(selection, "overview")  # issue 17: published benchmarks per ACV band


render()
