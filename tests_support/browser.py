"""Helpers shared by the real-browser tests (Playwright pages of the running app)."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def tile_value(page, label: str) -> str:
    """The displayed value of the st.metric tile whose label is exactly ``label``."""
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(rf"^{re.escape(label)}$"))
    )
    return metric.locator('[data-testid="stMetricValue"]').first.inner_text().strip()


def assert_count(locator, n: int, timeout: float = 30_000) -> None:
    """Assert that ``locator`` comes to match exactly ``n`` elements. Playwright retries until
    ``timeout``: a page shows its parts one after another while a script run draws, so a
    plain ``count()`` right after the heading appears can still see the page half drawn."""
    expect(locator).to_have_count(n, timeout=timeout)


def assert_shown(locator, timeout: float = 30_000) -> None:
    """Assert that ``locator`` comes to match at least one element (waiting, as above)."""
    locator.first.wait_for(state="attached", timeout=timeout)


def full_page_screenshot(page, path) -> None:
    """The whole page: Streamlit scrolls inside its own container, so grow the viewport."""
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]'); return m ? m.scrollHeight : 3000; }"
    )
    page.set_viewport_size({"width": 1440, "height": min(int(height) + 40, 6000)})
    page.wait_for_timeout(1000)  # relayout and repaint of the charts
    page.screenshot(path=str(path))


def wait_for_idle(page, timeout: float = 60_000) -> None:
    """Wait until the app's script run is over (Streamlit marks ``stApp`` with its state)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def sidebar_widget(page, label: str):
    """The sidebar select box or multiselect whose label is ``label`` (its whole element)."""
    return page.locator(
        '[data-testid="stSidebar"] [data-testid="stMultiSelect"],'
        ' [data-testid="stSidebar"] [data-testid="stSelectbox"]'
    ).filter(has=page.get_by_role("combobox", name=label, exact=True))


def sidebar_pick(page, label: str, option: str) -> None:
    """Pick ``option`` (its displayed text) in the sidebar select box or multiselect
    ``label`` as a user would: open the drop-down, click the option, close the drop-down."""
    sidebar_widget(page, label).get_by_role("button", name="Open").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def watch_script_runs(page) -> None:
    """Start noting script runs: after this, ``window.hgSawRun`` turns true once the app shows
    a run in progress. Call it with the app idle, right before a widget action; then wait
    for ``window.hgSawRun`` and the idle state together. (The URL and the widgets change
    before React shows the new run, so "idle" alone can still be the previous run's.)"""
    page.evaluate(
        """() => {
          const app = document.querySelector('[data-testid="stApp"]');
          if (window.hgRunObserver) window.hgRunObserver.disconnect();
          window.hgSawRun = false;
          window.hgRunObserver = new MutationObserver(() => {
            if (app.getAttribute('data-test-script-state') !== 'notRunning') window.hgSawRun = true;
          });
          window.hgRunObserver.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
        }"""
    )
