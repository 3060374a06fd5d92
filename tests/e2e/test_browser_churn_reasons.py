"""The Churn reasons page in a real browser (headless Chromium) against a running server."""

from __future__ import annotations

import re

import pytest

from tests_support.browser import assert_count, assert_shown, tile_value

pytestmark = pytest.mark.e2e

TILES = ("Churned accounts", "Churned ARR", "Avoidable share of ARR", "Churned in onboarding",
         "No reason logged", "Unclassified reason")


def _open(page, url: str) -> None:
    """Load the page and wait until the tiles and the charts are drawn.

    The page is long and Streamlit scrolls inside its own container: a tall viewport
    lets every chart draw (and the screenshot show the whole page).
    """
    page.set_viewport_size({"width": 1440, "height": 5200})
    # The first request after a server start runs Streamlit's legacy pages/ mode, which
    # sends a deep link to the default page (see ui.sidebar.current): open the app first.
    page.goto(url.rsplit("/", 1)[0])
    page.wait_for_selector('[data-testid="stMetricValue"]')
    page.goto(url)
    page.wait_for_selector("h1:has-text('Churn reasons')")
    page.wait_for_selector('[data-testid="stMetricValue"]')
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas,"
        " [data-testid=\"stVegaLiteChart\"] svg.marks').length >= 4"
    )


def test_churn_reasons_page_renders(page, app_url, artifacts_dir):
    _open(page, f"{app_url}/churn_reasons")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Churn reasons" in page.locator("h1").first.inner_text()
    for label in TILES:
        assert re.search(r"\d", tile_value(page, label)), label
    assert re.fullmatch(r"\$\d+(\.\d)?[KMB]?", tile_value(page, "Churned ARR"))
    assert int(tile_value(page, "Churned accounts")) > 0
    assert_count(page.get_by_text("What the health score said before the churn"), 1)
    assert_shown(page.get_by_text("Red-light flags"))
    page.wait_for_timeout(1200)  # relayout and repaint of the charts
    page.screenshot(path=str(artifacts_dir / "churn_reasons.png"))


def test_note_search_with_markup_creates_no_element(page, app_url):
    _open(page, f"{app_url}/churn_reasons")
    box = page.get_by_label("Search notes")
    box.fill("<Sales>")
    box.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stCaptionContainer\"]')]"
        ".some(e => /notes? of the filtered accounts/.test(e.innerText))"
    )
    page.wait_for_timeout(500)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator("sales").count() == 0  # the demo note's '<Sales>' stays text
