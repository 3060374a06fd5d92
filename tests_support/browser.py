"""Helpers shared by the real-browser tests (Playwright pages of the running app)."""

from __future__ import annotations

import re


def tile_value(page, label: str) -> str:
    """The displayed value of the st.metric tile whose label is exactly ``label``."""
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(rf"^{re.escape(label)}$"))
    )
    return metric.locator('[data-testid="stMetricValue"]').first.inner_text().strip()


def full_page_screenshot(page, path) -> None:
    """The whole page: Streamlit scrolls inside its own container, so grow the viewport."""
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]'); return m ? m.scrollHeight : 3000; }"
    )
    page.set_viewport_size({"width": 1440, "height": min(int(height) + 40, 6000)})
    page.wait_for_timeout(1000)  # relayout and repaint of the charts
    page.screenshot(path=str(path))
