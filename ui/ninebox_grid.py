"""Reading the nine-box grid chart's click: Streamlit's selection event is a UI concern,
so it is parsed here, not in the chart builder (cslib.charts.ninebox draws the grid)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cslib.charts.ninebox import SELECTION
from cslib.views.ninebox import HEALTH_TIERS, VALUE_TIERS


def selected_cell(selection: Mapping[str, Any] | None) -> str | None:
    """The cell id chosen in the grid chart, from ``event.selection`` of st.altair_chart.

    Anything else (no selection, several points, a stale or malformed state, values
    that are not tiers) gives None, so a page can fall back to its own selection.
    """
    try:
        points = (selection or {}).get(SELECTION)
    except AttributeError:
        return None
    if not isinstance(points, (list, tuple)) or len(points) != 1 or not isinstance(points[0], Mapping):
        return None
    health_tier, value_tier = points[0].get("health_tier"), points[0].get("value_tier")
    if health_tier not in HEALTH_TIERS or value_tier not in VALUE_TIERS:
        return None
    return f"{value_tier}|{health_tier}"
