"""The Negative churn page in a real browser (headless Chromium) against a running server."""

from __future__ import annotations

import re

import pytest

from tests_support.browser import assert_count, assert_shown, full_page_screenshot, tile_value

pytestmark = pytest.mark.e2e

N_CHARTS = 9
TILE_LABELS = ("Net MRR churn rate", "Gross MRR churn rate", "Quick ratio", "Expansion MRR",
               "NRR", "GRR", "NRR (12 months)", "GRR (12 months)")


def _open(page, url: str) -> None:
    """Load the page and wait until the tiles and every chart are drawn."""
    page.goto(url)
    page.wait_for_selector("h1")
    if "Negative churn" not in page.locator("h1").first.inner_text():
        # the very first request after a server start that deep-links to a page lands on
        # the default page (Streamlit's legacy pages/ mode; see ui.sidebar.current): again
        page.goto(url)
    page.wait_for_selector("h1:has-text('Negative churn')")
    page.wait_for_selector('[data-testid="stMetricValue"]')
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas,"
        " [data-testid=\"stVegaLiteChart\"] svg.marks').length >= n",
        arg=N_CHARTS,
    )


def test_negative_churn_page_renders_and_follows_the_url(page, app_url, artifacts_dir):
    _open(page, f"{app_url}/negative_churn")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Oct 2026" in page.locator("h1").first.inner_text()
    for label in TILE_LABELS:
        assert re.search(r"\d", tile_value(page, label)), label
    assert re.fullmatch(r"-?\d+\.\d%", tile_value(page, "Net MRR churn rate"))
    assert re.fullmatch(r"\d+\.\dx", tile_value(page, "Quick ratio"))
    assert re.fullmatch(r"\d+\.\d%", tile_value(page, "NRR (12 months)"))  # 15 months of demo data
    verdict = page.get_by_text(re.compile(r"(No negative|Negative) churn in Oct 2026"))
    assert_shown(verdict)
    assert_count(page.locator('[data-testid="stVegaLiteChart"]'), N_CHARTS)
    assert_count(page.get_by_role("tab", name="Top expanding"), 1)
    full_page_screenshot(page, artifacts_dir / "negative_churn.png")

    all_expansion = tile_value(page, "Expansion MRR")
    _open(page, f"{app_url}/negative_churn?segment=smb")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "segment=smb" in page.url
    assert tile_value(page, "Expansion MRR") != all_expansion
