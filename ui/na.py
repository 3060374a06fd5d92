"""n/a messages on the pages: what is missing and why, instead of a false 0%.

The reason always comes from cslib.views.metrics.health_data_status / renewal_data_status (the
one place that decides it); this module only words it for the screen.
"""

from __future__ import annotations

import streamlit as st

from cslib.views import metrics

#: what a tile shows when its value is undefined (the tile's help says why)
NA = "n/a"


def health_message(status: metrics.DataStatus, month_label: str, consequence: str) -> str:
    """Markdown: "**No health data** for <month>: <reason>. <consequence>"."""
    return f"**{metrics.NO_HEALTH_DATA}** for {month_label}: {status.reason}. {consequence}"


def show_health(status: metrics.DataStatus, month_label: str, consequence: str) -> bool:
    """Show the "No health data" box when ``status`` is not ok; True when it was shown."""
    if status.ok:
        return False
    st.info(health_message(status, month_label, consequence), icon=":material/info:")
    return True


def renewal_message(status: metrics.DataStatus, month_label: str) -> str:
    """Markdown: "**No renewal rate** for <month>: <reason>."."""
    return f"**{metrics.NO_RENEWAL_DATA}** for {month_label}: {status.reason}."


def _cell(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return NA if kind != "text" else ""
    if kind in ("money", "dollars"):
        digits = 2 if kind == "money" else 0
        return f"-${abs(float(value)):,.{digits}f}" if float(value) < 0 else f"${float(value):,.{digits}f}"
    if kind == "percent":
        return f"{float(value) * 100:.1f}%"
    if kind == "decimal":
        return f"{float(value):.2f}"
    return str(value)


def text_table(frame, money=(), percent=(), decimal=(), text=(), dollars=()):
    """A copy of ``frame`` for st.dataframe with the listed columns as display text: money
    '$12,345.67' (payouts), dollars '$12,346' (ARR), percent '12.3%', decimal '1.10', and
    'n/a' for a missing number ('' for missing text). st.dataframe would print a missing
    value as "None"."""
    out = frame.copy()
    kinds = (("money", money), ("dollars", dollars), ("percent", percent), ("decimal", decimal), ("text", text))
    for kind, columns in kinds:
        for column in columns:
            if column in out.columns:
                out[column] = [_cell(v, kind) for v in out[column].astype(object)]
    return out
