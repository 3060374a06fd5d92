"""Page-level choices live in the URL (Streamlit's query-parameter binding): an author
changes a choice on each page, the URL gains it, and a colleague who opens that URL in a
new browser session sees the same choice (a new context: no shared session state)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests_support.browser import wait_for_idle

pytestmark = pytest.mark.e2e

MONTH = "2026-10"


def _radio(page, label: str, option: str) -> None:
    page.locator('[data-testid="stRadio"]').filter(has_text=label).get_by_text(option, exact=True).click()


def _checked_radio(page, label: str) -> str:
    group = page.locator('[data-testid="stRadio"]').filter(has_text=label)
    return group.locator("label", has=page.locator("input:checked")).inner_text().strip()


def _slider_to_end(page, label: str) -> None:
    """Move a slider to its maximum with the keyboard, as a user can."""
    page.locator('[data-testid="stSlider"]').filter(has_text=label).get_by_role("slider").press("End")


def _select(page, label: str, option: str) -> None:
    """Open the select box and pick ``option``; again if a rerun redrew the page while the
    list was open (the option is then detached from the page before the click lands)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(3):
        wait_for_idle(page)
        page.get_by_role("combobox", name=label, exact=True).click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=15_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"could not pick {option!r} in {label!r}")


def _selected(page, label: str) -> str:
    """The option a select box shows (its text below the label)."""
    return page.get_by_role("combobox", name=label, exact=True).input_value().strip()


# page path -> (parameter, change it, read it back, the value shown)
CASES = {
    "ninebox": ("ninebox_cell", lambda p: _select(p, "Cell", "High value · Unhealthy"),
                lambda p: _selected(p, "Cell"), "High value · Unhealthy"),
    "flows": ("flows_matrix_value", lambda p: _radio(p, "Measure", "Accounts"),
              lambda p: _checked_radio(p, "Measure"), "Accounts"),
    "churn_reasons": ("churn_reasons_by", lambda p: _select(p, "Break down by", "Industry"),
                      lambda p: _selected(p, "Break down by"), "Industry"),
    "negative_churn": ("negative_churn_scope", lambda p: _radio(p, "Bridge", "Period"),
                       lambda p: _checked_radio(p, "Bridge"), "Period"),
    "renewal_model": ("model_tab", lambda p: p.get_by_role("tab", name="Incentives").click(),
                      lambda p: p.locator('[role="tab"][aria-selected="true"]').inner_text().strip(), "Incentives"),
    "outlook": ("outlook_target", lambda p: _slider_to_end(p, "Target NRR for the health-rate goal"),
                lambda p: p.locator('[data-testid="stSlider"]').filter(has_text="Target NRR").locator(
                    '[data-testid="stSliderThumbValue"]').inner_text().strip(), "130.0%"),
    "worklist": ("worklist_age", lambda p: _select(p, "Raised", "Last 30 days"),
                 lambda p: _selected(p, "Raised"), "Last 30 days"),
}


@pytest.mark.parametrize("path", list(CASES))
def test_a_shared_url_keeps_the_pages_choice(browser, app_url, path):
    param, change, read, shown = CASES[path]
    author = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    author.set_default_timeout(120_000)
    author.goto(app_url)
    wait_for_idle(author)
    author.goto(f"{app_url}/{path}?month={MONTH}")
    wait_for_idle(author)
    author.wait_for_timeout(500)  # charts and tables finish drawing before the first click
    change(author)
    author.wait_for_function(f"() => new URL(location.href).searchParams.has('{param}')")
    wait_for_idle(author)
    url = author.url
    assert parse_qs(urlsplit(url).query)[param], url
    assert read(author) == shown
    author.context.close()

    colleague = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    colleague.set_default_timeout(120_000)
    colleague.goto(url)
    wait_for_idle(colleague)
    colleague.wait_for_timeout(500)
    assert read(colleague) == shown
    assert re.search(rf"[?&]{param}=", colleague.url)
    assert colleague.locator('[data-testid="stException"]').count() == 0
    colleague.context.close()
