"""The Overview in a real browser (headless Chromium) against a running server."""

from __future__ import annotations

import re

import pytest

from tests_support.browser import assert_count, assert_shown, full_page_screenshot, tile_value, wait_for_idle

pytestmark = pytest.mark.e2e

TILE_LABELS = ("ARR", "Health rate", "Renewal rate (ARR)", "Renewal rate (count)", "NRR", "GRR", "Health rate MoM")


def _open(page, url: str) -> None:
    """Load the page and wait until the tiles and the four charts are drawn."""
    page.goto(url)
    page.wait_for_selector('[data-testid="stMetricValue"]')
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas,"
        " [data-testid=\"stVegaLiteChart\"] svg.marks').length >= 4"
    )


def test_deep_link_to_the_page_keeps_the_url_filter(page, app_url):
    # First in the module on purpose: the first request after a server start that
    # deep-links to /overview runs Streamlit's legacy pages/ mode (see ui.sidebar.current).
    _open(page, f"{app_url}/overview?segment=enterprise")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "segment=enterprise" in page.url
    assert_shown(page.locator('[data-testid="stSidebar"]').get_by_text("Enterprise", exact=True))


def test_overview_opens_with_tiles_and_no_exception(page, app_url, artifacts_dir):
    _open(page, app_url)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Overview" in page.locator("h1").first.inner_text()
    for label in TILE_LABELS:
        value = tile_value(page, label)
        assert re.search(r"\d", value), f"{label}: {value!r}"
    assert re.fullmatch(r"\$\d+(\.\d)?[KMB]?", tile_value(page, "ARR"))
    assert re.fullmatch(r"\d+\.\d%", tile_value(page, "Health rate"))
    assert_count(page.locator('[data-testid="stVegaLiteChart"]'), 4)
    full_page_screenshot(page, artifacts_dir / "overview.png")


def test_segment_in_the_url_changes_the_arr_tile(page, app_url, artifacts_dir):
    _open(page, app_url)
    all_arr = tile_value(page, "ARR")
    _open(page, f"{app_url}/?segment=enterprise")
    assert page.locator('[data-testid="stException"]').count() == 0
    enterprise_arr = tile_value(page, "ARR")
    assert enterprise_arr != all_arr
    assert "segment=enterprise" in page.url
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert_shown(sidebar.get_by_text("Enterprise", exact=True))
    full_page_screenshot(page, artifacts_dir / "overview_enterprise.png")


def test_garbage_url_renders_the_default_view(page, app_url):
    _open(page, app_url)
    default_arr = tile_value(page, "ARR")
    _open(page, f"{app_url}/?segment=%3Cscript%3E&month=2099-13&include_non_target=perhaps")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert tile_value(page, "ARR") == default_arr


def test_a_bookmarked_overview_link_lands_on_the_overview(browser, page, app_url):
    # Not the server's first request (that one runs through app.py's deep-link routing):
    # Streamlit serves the default page at "/" only, so /overview needs app.py's alias.
    _open(page, app_url)
    colleague = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        other = colleague.new_page()
        other.set_default_timeout(60_000)
        _open(other, f"{app_url}/overview?segment=enterprise")
        wait_for_idle(other)
        assert other.get_by_text("Page not found").count() == 0
        assert other.locator('[data-testid="stException"]').count() == 0
        assert other.url.startswith(f"{app_url}/?") and "segment=enterprise" in other.url
        assert "Overview" in other.locator("h1").first.inner_text()
        assert_shown(other.locator('[data-testid="stSidebar"]').get_by_text("Enterprise", exact=True))
    finally:
        colleague.close()
