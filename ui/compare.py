"""The "Compare two slices (A vs B)" section of the Overview and Negative churn pages.

A and B are the sidebar's slice narrowed on one dimension (A: a value; B: another value or
everything else), B optionally some months earlier; the numbers are the page's own tiles
(cslib.views.compare), the difference coloured by whether up is good for that measure
(cslib.deltas), zero neutral. The choices are in the URL like every page-level choice.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cslib import deltas, labels
from cslib.charts import common as charts, revenue as charts_revenue
from cslib.views import compare
from cslib.filters import FILTER_COLUMNS

from ui import data, sidebar

_COLOURS = {"good": "color: #1a7f37; font-weight: 600", "bad": "color: #cf222e; font-weight: 600", "": ""}


def _verdict(diff_text: str | None, up_is_good) -> str:
    change = deltas.styled(diff_text, up_is_good)
    if change.text is None or change.color == "off":
        return ""
    down = change.text.startswith("-")
    good = (not down) if change.color == "normal" else down
    return "good" if good else "bad"


def section(selection, kind: str) -> None:
    """``kind``: 'overview' (the KPI tiles) or 'revenue' (the Negative churn tiles)."""
    with st.expander("Compare two slices (A vs B)", icon=":material/compare_arrows:"):
        names = {name: sidebar.FILTER_LABELS[name] for name in FILTER_COLUMNS}
        c1, c2, c3, c4 = st.columns(4)
        by = c1.selectbox("Compare by", list(names), format_func=names.get, key=f"{kind}_compare_by",
                          bind="query-params")
        options = data.faceted_options(selection.version, selection.filters).get(by, [])
        if not options:
            st.caption("No values of this dimension in the slice.")
            return
        a = c2.selectbox("A", options, format_func=labels.label, key=f"{kind}_compare_a", bind="query-params")
        b_options = [compare.OTHERS, *[o for o in options if o != a]]
        b = c3.selectbox("B", b_options, key=f"{kind}_compare_b", bind="query-params",
                         format_func=lambda v: "Everything else" if v == compare.OTHERS else labels.label(v))
        offset = c4.selectbox("B's month", list(compare.MONTH_OFFSETS), format_func=compare.MONTH_OFFSETS.get,
                              key=f"{kind}_compare_month", bind="query-params")
        fn = compare.overview if kind == "overview" else compare.revenue
        table = data.cached(fn, selection.version, selection.filters, by, a, b, selection.month, int(offset))
        fmt_value = charts.format_value if kind == "overview" else charts_revenue.format_tile
        fmt_delta = charts.format_delta if kind == "overview" else charts_revenue.format_tile_delta
        label_a = labels.label(a)
        label_b = "Everything else" if b == compare.OTHERS else labels.label(b)
        if offset:
            label_b += f" · {compare.MONTH_OFFSETS[int(offset)].lower()}"
        diffs = [fmt_delta(d, f) if d is not None and not pd.isna(d) else None
                 for d, f in zip(table["difference"], table["format"])]
        shown = pd.DataFrame({
            "Measure": table["label"],
            f"A: {label_a}": [fmt_value(v, f) for v, f in zip(table["a"], table["format"])],
            f"B: {label_b}": [fmt_value(v, f) if v is not None and not pd.isna(v) else "n/a"
                              for v, f in zip(table["b"], table["format"])],
            "A − B": [d.lstrip("+-") if d and deltas.rounds_to_zero(d) else (d or "n/a") for d in diffs],
        })
        verdicts = [_verdict(d, u) for d, u in zip(diffs, table["up_is_good"])]
        styler = shown.style.apply(lambda col: [_COLOURS[v] for v in verdicts], subset=["A − B"])
        st.dataframe(styler, hide_index=True, width="stretch", key=f"{kind}_compare_table")
        st.caption("Both columns are the page's own tiles for that slice (the sidebar's filters, then the "
                   "comparison's dimension). The difference is green where A does better on that measure, "
                   "red where it does worse.")
