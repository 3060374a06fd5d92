"""Rows of st.metric tiles that fit any width (issue 16, point 2).

``grid(n, key)`` lays ``n`` tiles out in pairs: a wrapping horizontal container of pairs,
each pair a horizontal container of two tiles at least ``PAIR_MIN`` wide. On a wide page
the pairs sit side by side (four tiles in a row); when the page is too narrow for that,
a pair moves onto its own line (two by two), so a tile is never squeezed until "$49.4M"
or "Health rate MoM" is cut to "$49.…" / "Health rat…". tests/e2e/test_browser_widths.py
checks 1024, 1280, 1440 and 1920 px.
"""

from __future__ import annotations

import streamlit as st

#: the narrowest a pair of tiles may be: two tiles whose label is "Renewal rate (count)"
PAIR_MIN = "24rem"
_PAIR_KEY = "hg_tile_pair"
_STYLE = (
    "<style>"
    f'div:has(> [class*="st-key-{_PAIR_KEY}"]) {{ flex: 1 1 {PAIR_MIN} !important; min-width: min({PAIR_MIN}, 100%); }}'
    "</style>"
)


def grid(n: int, key: str) -> list:
    """``n`` slots for tiles (call ``.metric(...)`` on each), in wrapping pairs; ``key``
    names the row (unique on the page)."""
    st.html(_STYLE)
    outer = st.container(horizontal=True, gap="small")
    slots = []
    for i in range(0, n, 2):
        pair = outer.container(horizontal=True, wrap=False, gap="small", key=f"{_PAIR_KEY}_{key}_{i}")
        slots.extend([pair, pair])
    return slots[:n]
