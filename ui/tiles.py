"""Rows of st.metric tiles and side-by-side panels that fit any width (issue 16, point 2).

``grid(n, key)`` lays ``n`` tiles out in groups (pairs by default): a wrapping horizontal
container of groups, each group a horizontal container of its tiles, at least
``group x min_tile`` wide. On a wide page the groups sit side by side (four tiles in a
row); when the page is too narrow, a group moves onto its own line (two by two), so a
tile is never squeezed until "$49.4M" or "Health rate MoM" is cut to "$49.…" /
"Health rat…". ``panels(key, *min_widths)`` does the same for panels (the Nine-box grid
and its cell panel): side by side when they fit, stacked when they do not.
tests/e2e/test_browser_widths.py checks 1024, 1280, 1440 and 1920 px.
"""

from __future__ import annotations

import streamlit as st

#: the narrowest a tile may be: a label such as "Renewal rate (count)" and a value such
#: as "100.0%" or "$12.3M" fit at the default font
MIN_TILE = "12rem"
_KEY = "hg_flex"


def _min_width(key: str, width: str) -> None:
    """Keep the wrapper of the container keyed ``key`` at least ``width`` wide (or the
    whole line when that is narrower), so the row wraps instead of squeezing it."""
    st.html(
        f'<style>div:has(> .st-key-{key}) {{ flex: 1 1 {width} !important; '
        f'min-width: min({width}, 100%); }}</style>'
    )


def grid(n: int, key: str, group: int = 2, min_tile: str = MIN_TILE) -> list:
    """``n`` slots for tiles (call ``.metric(...)`` on each) in wrapping groups of
    ``group``; ``key`` names the row (unique on the page)."""
    outer = st.container(horizontal=True, gap="small")
    slots = []
    for i in range(0, n, group):
        name = f"{_KEY}_{key}_{i}"
        size = min(group, n - i)
        _min_width(name, f"calc({size} * {min_tile})")
        box = outer.container(horizontal=True, wrap=False, gap="small", key=name)
        slots.extend([box] * size)
    return slots


def panels(key: str, *min_widths: str) -> list:
    """Side-by-side panels (containers) that stack when the page is narrower than the sum
    of ``min_widths`` (CSS widths, e.g. '620px', '20rem')."""
    outer = st.container(horizontal=True, gap="large")
    out = []
    for i, width in enumerate(min_widths):
        name = f"{_KEY}_{key}_panel_{i}"
        _min_width(name, width)
        out.append(outer.container(key=name))
    return out
