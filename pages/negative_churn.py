"""Negative churn: expansion by lever against churn and contraction (method section 5).

A thin shell: the selection comes from the sidebar (ui.sidebar), numbers from
cslib.views.revenue through the cache (ui.data.cached), charts from cslib.charts.revenue.
"""

from __future__ import annotations

import streamlit as st

from cslib.charts import revenue as charts
from cslib import deltas, labels
from cslib.views import revenue
from cslib.charts.common import TIER_LABELS, format_money
from ui import data, links, sidebar, tables, compare as ui_compare, tiles as ui_tiles, benchmarks as ui_benchmarks
from ui import revenue_panels

PERIOD_CHOICES = (3, 6, 12, 24, 36)
DEFAULT_PERIOD = 12
TOP_N = 10
BY_LABELS = {name: labels.column_label(name) for name in ("segment", "industry", "source_channel", "csm_team", "region")}
LEVER_LABELS = {"upsell": "Upsell", "cross_sell": "Cross-sell", "usage_expansion": "Usage",
                "contraction": "Contraction", "churn": "Churn"}


def _attribute_labels(version) -> dict[str, str]:
    """``attr.<name>`` -> 'Plan tier' for each account attribute in the data (cslib.filters)."""
    from cslib.filters import ATTRIBUTE_PREFIX, attribute_label

    return {key: attribute_label(key[len(ATTRIBUTE_PREFIX):])
            for key in data.filter_options(version) if key.startswith(ATTRIBUTE_PREFIX)}


def _chart(spec: dict) -> None:
    # specs come built and cached with their frames (ui.revenue_panels)
    st.vega_lite_chart(spec=spec, width="stretch")


def _tiles(table, month: str) -> None:
    tiles = revenue.tiles(table, month)
    for i, row in enumerate((tiles[:4], tiles[4:])):
        for column, tile in zip(ui_tiles.grid(len(row), f"negative_churn_{i}"), row):
            change = deltas.tile_delta(tile["delta"], tile["format"], tile["up_is_good"], charts.format_tile_delta)
            column.metric(
                tile["label"],
                charts.format_tile(tile["value"], tile["format"]),
                delta=change.text, delta_color=change.color, delta_arrow=change.arrow,
                help=tile["help"],
                border=True,
            )


def _verdict(summary: dict) -> None:
    label = sidebar.month_label(summary["month"])
    if not summary["has_start"]:
        st.info(f"{label}: no start MRR in this slice (no account was paying the month before).")
    elif summary["is_negative_churn"]:
        st.success(
            f"**Negative churn in {label}**: expansion and reactivation "
            f"({format_money(summary['gains_mrr'])}) beat churn and contraction "
            f"({format_money(summary['losses_mrr'])}); net MRR churn "
            f"{charts.format_tile(summary['net_mrr_churn_rate'], 'percent')}.",
            icon=":material/trending_up:",
        )
    else:
        st.warning(
            f"**No negative churn in {label}**: churn and contraction "
            f"({format_money(summary['losses_mrr'])}) outweighed expansion and reactivation "
            f"({format_money(summary['gains_mrr'])}); net MRR churn "
            f"{charts.format_tile(summary['net_mrr_churn_rate'], 'percent')}.",
            icon=":material/trending_down:",
        )


def _period(period: dict) -> None:
    """The period's true NRR and GRR (revenue.period_summary) and its average monthly rates."""

    def pct(name: str) -> str:
        return charts.format_tile(period[name], "percent")

    span = f"{sidebar.month_label(period['month_from'])} to {sidebar.month_label(period['month_to'])}"
    st.markdown(f"**Over the period, {span}**")
    nrr, grr = revenue.REVENUE_METRICS["period_nrr"], revenue.REVENUE_METRICS["period_grr"]
    cols = ui_tiles.grid(4, "negative_churn_period", min_tile="15rem")
    cols[0].metric(nrr.label, pct("nrr"), border=True, help=f"{nrr.description} Formula: {nrr.formula}.")
    cols[1].metric(grr.label, pct("grr"), border=True, help=f"{grr.description} Formula: {grr.formula}.")
    cols[2].metric("Base accounts", f"{period['base_accounts']:,}", border=True,
                   help=f"Accounts paying in {sidebar.month_label(period['base_month'])}, the month before the period.")
    cols[3].metric("Average monthly net MRR churn", pct("avg_monthly_net_mrr_churn_rate"), border=True,
                   help="The months' churn, contraction, expansion and reactivation over the months' summed "
                        "start MRR: an MRR-weighted average of the monthly rates, not a period rate.")
    if period["base_accounts"]:
        base = (f"NRR and GRR over the period: the {period['base_accounts']:,} accounts paying in "
                f"{sidebar.month_label(period['base_month'])} ({format_money(period['start_mrr'])} MRR) had "
                f"{format_money(period['end_mrr'])} MRR in {sidebar.month_label(period['month_to'])} "
                f"({period['retained_accounts']:,} still paying); GRR caps each at its start.")
    else:
        base = (f"No NRR or GRR over the period: nobody in this slice was paying in "
                f"{sidebar.month_label(period['base_month'])}, the month before it (a period that starts "
                "with the data has no base: choose a shorter one).")
    st.caption(
        f"{base} Averages of the "
        f"months: net MRR churn {pct('avg_monthly_net_mrr_churn_rate')}, gross MRR churn "
        f"{pct('avg_monthly_gross_mrr_churn_rate')}. Period sums: quick ratio "
        f"{charts.format_ratio(period['quick_ratio'])}; expansion from upsell {pct('upsell_share')}, "
        f"cross-sell {pct('cross_sell_share')}, usage {pct('usage_expansion_share')}."
    )


def _accounts_table(frame, month: str) -> None:
    if frame.empty:
        st.caption("None in this period.")
        return
    shown = links.account_links(frame, month)[["name", "segment", "csm", "main_lever", "retained_change_mrr",
                                                "end_mrr", "health_tier"]].copy()  # fits at 1440 px
    shown["segment"] = shown["segment"].map(labels.label)
    shown["main_lever"] = shown["main_lever"].map(LEVER_LABELS)
    shown["health_tier"] = shown["health_tier"].map(TIER_LABELS).fillna("inactive")
    tables.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "name": links.account_column(),
            "segment": st.column_config.TextColumn("Segment"),
            "main_lever": st.column_config.TextColumn("Lever"),
            "csm": st.column_config.TextColumn("CSM"),
            "retained_change_mrr": st.column_config.NumberColumn("MRR change", format="dollar", step=1, width=100),
            "end_mrr": st.column_config.NumberColumn("MRR now", format="dollar", step=1, width=100),
            "health_tier": st.column_config.TextColumn("Health"),
        },
    )


def render() -> None:
    selection = sidebar.current()
    month, filters, version = selection.month, selection.filters, selection.version
    st.title(f"Negative churn · {sidebar.month_label(month)}")
    st.caption("This page is about month-to-month movements, so it counts in MRR (monthly recurring "
               "revenue); every other page speaks ARR, which is MRR x 12.")

    left, middle, right = st.columns([1, 1, 2])
    n_months = left.selectbox(
        "Period", PERIOD_CHOICES, index=PERIOD_CHOICES.index(DEFAULT_PERIOD), key="negative_churn_months", bind="query-params",
        format_func=lambda n: f"Last {n} months",
        help="Months shown in the trends, cohorts, breakdown and accounts, and over which NRR and GRR "
             "over the period are measured.",
    )
    scope = middle.radio(
        "Bridge", ("month", "period"), key="negative_churn_scope", bind="query-params", horizontal=True,
        format_func=lambda s: "Month" if s == "month" else "Period",
        help="Opening to closing MRR for the selected month or for the whole period.",
    )
    month_from, month_to = data.cached(revenue.period_bounds, version, month, int(n_months))
    right.caption(
        f"Period: {sidebar.month_label(month_from)} to {sidebar.month_label(month_to)}. "
        "NRR and GRR leave new and reactivated revenue out; net MRR churn counts reactivation. "
        "The tiles are the selected month's; the period's NRR and GRR are under Retention rates."
    )

    panel = data.cached(revenue_panels.rates_panel, version, filters, month_from, month_to)
    table, specs, period = panel["table"], panel["specs"], panel["period"]
    summary = revenue.month_summary(table, month)
    if int(table.loc[table["month"] == month, "active_accounts"].iloc[0]) == 0 and not summary["has_start"]:
        st.info(
            f"No accounts match the selected filters in {sidebar.month_label(month)}. "
            "Widen the filters in the sidebar (or use Reset filters)."
        )
        return
    _tiles(table, month)
    _verdict(summary)
    ui_compare.section(selection, "revenue")

    st.subheader("MRR movements")
    left, right = st.columns(2)
    with left:
        _chart(specs["bridge_month" if scope == "month" else "bridge_period"])
    with right:
        _chart(specs["movements"])

    st.subheader("Retention rates")
    left, right = st.columns(2)
    with left:
        _chart(specs["retention"])
    with right:
        _chart(specs["net_churn"])
    left, right = st.columns(2)
    with left:
        _chart(specs["quick_ratio"])
    with right:
        _chart(specs["levers"])
    _period(period)

    st.subheader("Cohorts")
    grain = st.radio(
        "Cohort by", ("month", "quarter"), key="negative_churn_cohort_grain", bind="query-params", horizontal=True,
        format_func=str.capitalize,
        help="Accounts grouped by the month (or quarter) of their first revenue.",
    )
    cohort = data.cached(revenue_panels.cohort_panel, version, filters, month_from, month_to, grain)
    if cohort["spec"] is None:
        st.caption("No account started paying in this period.")
    else:
        _chart(cohort["spec"])
        st.caption(
            "Cell = the cohort's MRR at the end of that period over its starting MRR (expansion, "
            "contraction, churn and reactivation all count). Row label: cohort (accounts). "
            "The lifecycle-stage filter does not apply here."
        )

    st.subheader("Who achieves negative churn")
    by_labels = {**BY_LABELS, **_attribute_labels(version)}  # then the data's own account attributes
    by = st.selectbox("Break down by", tuple(by_labels), key="negative_churn_by", bind="query-params", format_func=by_labels.get)
    breakdown = data.cached(revenue_panels.breakdown_panel, version, filters, month_from, month_to, by, by_labels[by])
    groups = breakdown["table"]
    left, right = st.columns(2)
    with left:
        _chart(breakdown["specs"]["rate"])
    with right:
        _chart(breakdown["specs"]["levers"])
    st.caption("NRR and GRR over the period of each group's accounts paying in the month before it "
               "(grouped by their value then); net MRR churn is the average of the months.")
    tables.dataframe(
        groups[["group_value", "active_accounts", "expansion_mrr", "contraction_mrr", "churn_mrr",
                "avg_monthly_net_mrr_churn_rate", "base_accounts", "nrr", "grr", "is_negative_churn"]],
        hide_index=True,
        width="stretch",
        column_config={
            "group_value": st.column_config.TextColumn(by_labels[by]),
            "active_accounts": st.column_config.NumberColumn("Accounts", width=75),
            "expansion_mrr": st.column_config.NumberColumn("Expansion", format="dollar", step=1, width=95),
            "contraction_mrr": st.column_config.NumberColumn("Contraction", format="dollar", step=1, width=95),
            "churn_mrr": st.column_config.NumberColumn("Churn", format="dollar", step=1, width=95),
            "avg_monthly_net_mrr_churn_rate": st.column_config.NumberColumn(
                "Net churn / month", format="percent", width=110, help="Average monthly net MRR churn rate"),
            "base_accounts": st.column_config.NumberColumn("Base", width=60, help="Accounts paying in the month "
                                                           "before the period (the base of NRR and GRR)"),
            "nrr": st.column_config.NumberColumn("NRR (period)", format="percent", width=95,
                                                 help="NRR over the period"),
            "grr": st.column_config.NumberColumn("GRR (period)", format="percent", width=95,
                                                 help="GRR over the period"),
            "is_negative_churn": st.column_config.CheckboxColumn("Negative churn", width=100),
        },
    )

    st.subheader("Accounts of the period")
    top = data.cached(revenue.top_accounts, version, filters, month_from, month_to, TOP_N)
    expanding, contracting = st.tabs(["Top expanding", "Top contracting"])
    with expanding:
        st.caption("Expansion net of contraction and churn over the period.")
        _accounts_table(top[top["direction"] == "expanding"], month_to)
    with contracting:
        st.caption("Churn and contraction net of expansion over the period.")
        _accounts_table(top[top["direction"] == "contracting"], month_to)
    st.caption(f"Health tier at the end of {sidebar.month_label(month_to)}; new and reactivated MRR left out.")

    with st.expander("Definitions and conventions"):
        st.markdown(
            "\n".join(f"- **{m.label}**: {m.description} `{m.formula}`"
                      for m in (*revenue.RATE_METRICS.values(),
                                *(revenue.REVENUE_METRICS[n] for n in revenue.PERIOD_METRICS)))
            + "\n- Reactivation is revenue again after any gap (one month at zero). A product dropped "
            "while others remain is contraction. Revenue in a single month is new that month and "
            "churn the next. NRR and GRR over the period (and per group) are true period retention "
            "of the accounts paying in the month before it; the net and gross MRR churn over the "
            "period are MRR-weighted averages of the monthly rates, labelled as such."
        )

    ui_benchmarks.section(selection, "negative_churn")  # issue 17: published benchmarks per ACV band


render()
