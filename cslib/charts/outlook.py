"""Chart builder for the ARR outlook page (pure: frames in, an Altair chart out)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from cslib.charts.common import MONEY_AXIS_EXPR, finish, unvalidated

CASES = ("Base case", "With your levers")


@unvalidated
def arr_paths(base: pd.DataFrame, scenario: pd.DataFrame, title: str = "ARR, next 12 months") -> alt.Chart:
    """The base case's and the levers' ARR by month (cslib.views.outlook.path frames: month, arr)."""
    long = pd.concat([base[["month", "arr"]].assign(case=CASES[0]), scenario[["month", "arr"]].assign(case=CASES[1])])
    long["month_start"] = pd.to_datetime(long["month"] + "-01")
    chart = (
        alt.Chart(long).mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=alt.X("month_start:T", axis=alt.Axis(title=None, format="%b %y", grid=False, tickCount="month")),
            y=alt.Y("arr:Q", axis=alt.Axis(title=None, labelExpr=MONEY_AXIS_EXPR), scale=alt.Scale(zero=False)),
            color=alt.Color("case:N", scale=alt.Scale(domain=list(CASES), range=["#9aa0a6", "#4c78a8"]),
                            legend=alt.Legend(title=None, orient="top")),
            tooltip=[alt.Tooltip("month:N", title="Month"), alt.Tooltip("case:N", title="Case"),
                     alt.Tooltip("arr:Q", title="ARR", format="$,.0f")],
        )
    )
    return finish(chart, title, height=300)
