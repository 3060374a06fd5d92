"""Colours that carry meaning: how a tile's change is coloured, in one place.

Every measure declares whether up is good (``Metric.up_is_good`` in cslib.views.metrics and
cslib.views.revenue; ``TILE_UP_IS_GOOD`` in cslib.views.flows; the nine-box cells by their health
tier, :func:`cell_up_is_good`):

- ``True``: a rise is green, a fall red (Streamlit's ``delta_color="normal"``);
- ``False``: a rise is red, a fall green (``"inverse"``), e.g. churn rates, unhealthy ARR,
  the Brier score, accounts entering the High value · Unhealthy cell;
- ``None``: neither (``"off"``: grey), e.g. a share of expansion or a what-if's health rate.

A change that rounds to zero on screen ("0.0 pp", "-0.0 pp", "$0", "+0.000") is neutral
whatever the measure: shown without a sign, grey, without an arrow. Pure functions (no
Streamlit): the pages pass :class:`TileDelta`'s fields to ``st.metric``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class TileDelta(NamedTuple):
    """What a page passes to st.metric: ``delta``, ``delta_color`` and ``delta_arrow``."""

    text: str | None
    color: str  # 'normal' | 'inverse' | 'off'
    arrow: str  # 'auto' | 'off'


NO_DELTA = TileDelta(None, "normal", "auto")


def color_for(up_is_good: bool | None) -> str:
    """st.metric's delta_color for a measure: 'normal', 'inverse' or 'off'."""
    if up_is_good is None:
        return "off"
    return "normal" if up_is_good else "inverse"


def rounds_to_zero(text: str) -> bool:
    """True when a formatted change shows no non-zero digit ('-0.0 pp', '+$0', '0')."""
    return not any(ch in "123456789" for ch in text)


def styled(text: str | None, up_is_good: bool | None) -> TileDelta:
    """The tile delta for an already formatted, signed change (a leading '-' = down)."""
    if text is None or "nan" in text.lower() or "inf" in text.lower():
        return NO_DELTA
    if rounds_to_zero(text):
        return TileDelta(text.lstrip("+-"), "off", "off")
    return TileDelta(text, color_for(up_is_good), "auto")


def tile_delta(delta: float | None, fmt: str, up_is_good: bool | None,
               formatter: Callable[[float | None, str], str | None] | None = None) -> TileDelta:
    """Format ``delta`` (``formatter``, default cslib.charts.common.format_delta) and colour it by
    the measure's direction; None/NaN -> no delta; a change that rounds to zero is neutral."""
    if formatter is None:
        from cslib.charts.common import format_delta as formatter
    return styled(formatter(delta, fmt), up_is_good)


def cell_up_is_good(cell: str) -> bool | None:
    """Whether more accounts/ARR in a nine-box cell ('<value>|<health>') is good: healthy
    cells True, unhealthy cells False, at-risk cells None (neutral, amber)."""
    health = cell.split("|")[-1]
    return {"healthy": True, "unhealthy": False}.get(health)


def _money(value: float) -> str:
    from cslib.charts.common import format_money

    return format_money(value)


def entered_delta(arr: float, accounts: int, up_is_good: bool | None) -> TileDelta:
    """The 'Accounts entered' tile of a nine-box cell: '+$ARR' (their ARR now), green when
    entering is good (a healthy cell), red when bad (an unhealthy cell); none without entries."""
    if not accounts:
        return NO_DELTA
    return styled("+" + _money(arr), up_is_good)


def left_delta(arr: float, accounts: int, up_is_good: bool | None) -> TileDelta:
    """The 'Accounts left' tile: '-$ARR' (their ARR last month), a down arrow that is green
    when leaving is good (an unhealthy cell), red when bad (a healthy cell)."""
    if not accounts:
        return NO_DELTA
    return styled("-" + _money(arr), up_is_good)
