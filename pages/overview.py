"""Overview (executives): the month's KPI tiles with deltas, and 12-month trends.

A thin shell: the selection comes from the sidebar (ui.sidebar), numbers from
cslib.views.metrics through the cache (ui.data), charts from cslib.charts.common.
"""

from __future__ import annotations

import streamlit as st

from cslib import deltas
from cslib.charts import common as charts
from cslib.views import drivers, metrics
from cslib.store import renewals
from cslib.views.metrics import METRICS
from ui import data, na, sidebar, compare as ui_compare, tiles as ui_tiles, benchmarks as ui_benchmarks

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


def _renewal_counts(row) -> None:
    """How many renewals the renewal-rate tiles rest on."""
    due, decided = int(row["renewals_due"]), int(row["renewals_decided"])
    if due == 0:
        return
    st.caption(f"Renewal rates rest on {decided:,} renewal{'s' if decided != 1 else ''} decided of the {due:,} "
               f"due this month ({due - decided:,} still open).")


#: the page that shows each contributor, and the page-level choice that opens it on the month
_ARR_PAGE = ("pages/negative_churn.py", {"negative_churn_scope": "month"})
_HEALTH_PAGE = ("pages/flows.py", {})
TOP_DRIVERS = 4


def _lines(moves, top: int, with_accounts: bool = False) -> str:
    shown = moves.head(top)
    lines = []
    for r in shown.itertuples():
        accounts = f" ({int(r.accounts):,} account{'s' if int(r.accounts) != 1 else ''})" if with_accounts else ""
        label = str(r.label).lstrip("+−- ").strip()
        lines.append(f"{'+' if r.arr >= 0 else '−'}{charts.format_money(abs(r.arr))} {label.lower()}{accounts}")
    if len(moves) > top:
        rest = float(moves["arr"].iloc[top:].sum())
        lines.append(f"{'+' if rest >= 0 else '−'}{charts.format_money(abs(rest))} the rest")
    return "  \n".join(lines).replace("$", "\\$")  # a dollar sign is not the start of math


def _why(selection, tiles: dict, health_ok: bool) -> None:
    """The largest contributors to this month's change in ARR (the MRR movements) and in
    healthy ARR (the Health flows bridge), each with a link to the page that shows it."""
    arr_delta = tiles.get("arr", {}).get("delta")
    if arr_delta is None:  # the data's first month: nothing to explain yet
        return
    why = data.cached(drivers.month_drivers, selection.version, selection.filters, selection.month,
                      health_ok, float(arr_delta))
    st.subheader("What moved this month", anchor=False)
    params = sidebar.url_params()  # the same month and slice; no other page's choices
    left, right = st.columns(2)
    with left:
        sign = "+" if why.arr_change >= 0 else "−"
        st.markdown(f"**ARR {sign}{charts.format_money(abs(why.arr_change))}**".replace("$", "\\$"))
        if why.arr_moves.empty:
            st.caption("No revenue movement this month.")
        else:
            st.caption(_lines(why.arr_moves, TOP_DRIVERS))
        page, extra = _ARR_PAGE
        st.page_link(page, label="Movements on the Negative churn page", icon=":material/arrow_forward:",
                     query_params={**params, **extra})
    with right:
        if why.healthy_change is None:
            st.markdown("**Healthy ARR**")
            st.caption("n/a: no health data for this month.")
            return
        sign = "+" if why.healthy_change >= 0 else "−"
        st.markdown(f"**Healthy ARR {sign}{charts.format_money(abs(why.healthy_change))}**".replace("$", "\\$"))
        if why.healthy_steps.empty:
            st.caption("No account moved in or out of healthy this month.")
        else:
            st.caption(_lines(why.healthy_steps, TOP_DRIVERS, with_accounts=True))
        page, extra = _HEALTH_PAGE
        st.page_link(page, label="Where it came from on the Health flows page", icon=":material/arrow_forward:",
                     query_params={**params, **extra})


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

    _renewal_counts(this_month.iloc[0])
    _why(selection, tiles, health.ok)
    ui_compare.section(selection, "overview")

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
