"""ARR outlook (executives): the next 12 months of ARR, and the levers that move it.

The base case and the model are cslib.views.outlook's (stated in full in docs/pages.md); the
executive moves the renewal rate per health tier, the monthly net expansion rate and new
business, and sees each lever's effect against the base case, plus the health-rate goal a
target NRR needs. Everything starts from what was known at the end of the sidebar's month.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cslib.charts import common as charts, outlook as charts_outlook
from cslib.views import outlook
from cslib.labels import column_label
from ui import data, sidebar

TIER_LABELS = {"healthy": "Healthy", "at_risk": "At risk", "unhealthy": "Unhealthy", "unscored": "Unscored"}


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value * 100:.{digits}f}%"


def render() -> None:
    selection = sidebar.current()
    month = selection.month
    st.title(f"ARR outlook · {sidebar.month_label(month)}", anchor=False)
    st.caption("The next 12 months of ARR from the renewals due, each tier's renewal rate, net expansion and "
               "new business, as known at the end of the month. Move the levers to see their effect against "
               "the base case (the last 12 months' own rates).")
    inp = data.cached(outlook.inputs, selection.version, selection.filters, month)
    if inp.start_arr <= 0:
        st.info("No ARR in this slice at the end of the month: nothing to project. Widen the filters.")
        return
    base = inp.base
    with st.expander("Levers", expanded=True, icon=":material/tune:"):
        cols = st.columns(2)
        rates = {}
        for i, tier in enumerate(outlook.TIERS):
            rates[tier] = cols[i % 2].slider(
                f"Renewal rate, {TIER_LABELS[tier].lower()} accounts", 0.0, 100.0,
                value=round(base.rate(tier) * 100, 1), step=0.5, format="%.1f%%", key=f"outlook_rate_{tier}", bind="query-params",
                help=f"Base case {_pct(base.rate(tier))}: the tier's renewal rate (ARR) over the last 12 months.")
        left, right = st.columns(2)
        expansion = left.slider("Monthly net expansion", -5.0, 10.0, value=round(base.expansion_rate * 100, 2),
                                step=0.05, format="%.2f%%", key="outlook_expansion", bind="query-params",
                                help="(Upsell + cross-sell + usage expansion - contraction) / start MRR, per month. "
                                     f"Base case {_pct(base.expansion_rate, 2)}.")
        new_arr = right.number_input("New business ARR per month ($)", min_value=0.0,
                                     value=float(round(base.new_arr, 0)), step=1000.0, format="%.0f", key="outlook_new",
                                     bind="query-params",
                                     help=f"New and won-back ARR per month. Base case {charts.format_money(base.new_arr)}.")
        target = st.slider("Target NRR for the health-rate goal", 80.0, 130.0, value=100.0, step=0.5,
                           format="%.1f%%", key="outlook_target", bind="query-params")
    # a lever left where the base case put it (rounded for the slider) keeps the base value exactly
    def kept(value: float, base_value: float, digits: int, scale: float = 100.0) -> float:
        return base_value if abs(value - round(base_value * scale, digits)) < 1e-9 else value / scale

    levers = outlook.Levers(
        tuple(sorted((t, kept(r, base.rate(t), 1)) for t, r in rates.items())),
        kept(expansion, base.expansion_rate, 2),
        kept(float(new_arr), base.new_arr, 0, scale=1.0),
    )
    base_summary = outlook.summarise(inp, base)
    summary = outlook.summarise(inp, levers)
    t1, t2 = st.columns(2)
    t3, t4 = st.columns(2)
    t1.metric("ARR now", charts.format_money(inp.start_arr), border=True)
    change = summary.end_arr - base_summary.end_arr
    t2.metric("ARR in 12 months", charts.format_money(summary.end_arr), border=True,
              delta=None if abs(change) < 0.5 else ("+" if change > 0 else "-") + charts.format_money(abs(change)) + " vs base",
              help=f"Base case {charts.format_money(base_summary.end_arr)}.")
    nrr_change = (summary.nrr - base_summary.nrr) * 100 if summary.nrr is not None and base_summary.nrr is not None else None
    t3.metric("NRR of today's book", _pct(summary.nrr), border=True,
              delta=None if nrr_change is None or abs(nrr_change) < 0.05 else f"{nrr_change:+.1f} pp vs base",
              help="(ARR now - renewal losses + net expansion) / ARR now, over the 12 months; new business "
                   f"is not in it. Base case {_pct(base_summary.nrr)}.")
    goal = outlook.renewal_rate_for_nrr(inp, target / 100, levers.expansion_rate)
    t4.metric(f"Health-rate goal for {target:.1f}% NRR", _pct(goal), border=True,
              help="The renewal rate every renewal of the next 12 months would need, with the expansion set above; "
                   "the health rate is calibrated to track the renewal rate, so it is the health rate to aim for. "
                   "n/a: no rate from 0% to 100% reaches the target.")
    st.vega_lite_chart(charts.to_spec(charts_outlook.arr_paths(outlook.path(inp, base), outlook.path(inp, levers))),
                       width="stretch")
    effects = outlook.lever_effects(inp, levers)
    st.subheader("Each lever against the base case", anchor=False)
    if effects.empty:
        st.caption("The levers are at the base case. Move one to see its effect here.")
    else:
        shown = pd.DataFrame({
            "Lever": effects["lever"],
            "Base case": [charts.format_money(v) if "New business" in n else _pct(v, 2 if "expansion" in n else 1)
                          for n, v in zip(effects["lever"], effects["base"])],
            "Set to": [charts.format_money(v) if "New business" in n else _pct(v, 2 if "expansion" in n else 1)
                       for n, v in zip(effects["lever"], effects["set"])],
            "ARR in 12 months": [("+" if v >= 0 else "-") + charts.format_money(abs(v)) for v in effects["end_arr_change"]],
            "NRR": [f"{v * 100:+.1f} pp" if v is not None and not pd.isna(v) else "n/a" for v in effects["nrr_change"]],
        })
        st.dataframe(shown, hide_index=True, width="stretch", key="outlook_effects")
    ev = inp.tier_evidence[inp.tier_evidence["health_tier"] != "all"]
    st.caption(f"{len(inp.renewals):,} renewals ({charts.format_money(inp.renewals['due_arr'].sum())} ARR) fall due in "
               f"the 12 months. Base-case renewal rates rest on {int(ev['renewals_decided'].sum()):,} decided renewals "
               "of the last 12 months; unscored accounts and a tier without renewals take the slice's overall rate. "
               f"{column_label('health_tier').capitalize()} is the Nine-box's (an overdue account is unhealthy).")


render()
