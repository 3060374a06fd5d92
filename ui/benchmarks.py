"""The "Against published benchmarks" section (Overview and Negative churn pages).

Our NRR and GRR over the 12 months ending with the sidebar month, per ACV band, beside the
published medians and ranges of the benchmark file with their source and year
(cslib.views.benchmarks; docs/benchmarks-published.md). Flags are coloured by meaning: below red,
above green, within grey.
"""

from __future__ import annotations

import streamlit as st

from cslib import settings
from cslib.views import benchmarks
from cslib.errors import UserError
from ui import data, na, problems, sidebar

_FLAG_STYLE = {"Below": "color: #cf222e; font-weight: 600", "Above": "color: #1a7f37; font-weight: 600",
               "Within": "color: #6e7781"}


def _flag_style(value) -> str:
    return _FLAG_STYLE.get(value, "")


def section(selection, key: str) -> None:
    """The section for the sidebar's month and filters; ``key`` keeps widget keys apart."""
    st.subheader("Against published benchmarks")
    path = settings.get("HEALTHGRID_BENCHMARKS")
    try:
        table = data.cached(benchmarks.month_comparison, selection.version, selection.filters, selection.month, path)
        sources = benchmarks.sources_line(path)
    except UserError as err:
        problems.show("The published benchmarks cannot be shown: their file has a problem. "
                      "Ask your administrator to correct it.", str(err), level="warning")
        return
    if table.empty or int(table["base_accounts"].sum()) == 0:
        st.caption("No account of this selection was paying at the start of the 12 months, so there is no "
                   "retention to compare with the published figures.")
        return
    shown = na.text_table(benchmarks.display_table(table), dollars=("ARR at start",),
                          percent=("Our NRR", "Our GRR"))  # 'n/a' for a band without a base, never "None"
    styler = shown.style.map(_flag_style, subset=["NRR vs published", "GRR vs published"])
    widths = {"Benchmark": 140, "ACV band": 100, "Accounts": 65, "ARR at start": 90}  # fits 1440 px (issue 16)
    st.dataframe(styler, hide_index=True, width="stretch", key=f"{key}_benchmarks",
                 column_config={c: st.column_config.Column(width=widths.get(c, 76)) for c in shown.columns})
    first, last = (sidebar.month_label(table[c].iloc[0]) for c in ("month_from", "month_to"))
    base = sidebar.month_label(table["base_month"].iloc[0])
    below = benchmarks.below(table)
    if len(below):
        names = ", ".join(f"{r.band_label} ({r.band_set_label})" for r in below.itertuples())
        st.caption(f"Below the published figure: {names}.")
    cites = "; ".join(f"[{publisher}, {year}]({url})" for publisher, year, url in sources)
    note = benchmarks.period_note(table)
    st.caption(
        f"Our NRR and GRR over {first} to {last} (the accounts paying in {base}, each in the "
        "band of its ARR then; a band holds its lower edge). Published figures are annual company medians or "
        f"ranges: {cites}. A band with few accounts says little." + (f" {note}" if note else "")
    )
