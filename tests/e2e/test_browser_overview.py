"""The Overview in a real browser (headless Chromium) against a running server."""

from __future__ import annotations

import re

import pytest

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


def _tile(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(rf"^{re.escape(label)}$"))
    )
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _screenshot(page, path) -> None:
    """The whole page: Streamlit scrolls inside its own container, so grow the viewport."""
    page.set_viewport_size({"width": 1440, "height": 1900})
    page.wait_for_timeout(800)  # relayout and repaint of the charts
    page.screenshot(path=str(path))


def test_deep_link_to_the_page_keeps_the_url_filter(page, app_url):
    # First in the module on purpose: the first request after a server start that
    # deep-links to /overview runs Streamlit's legacy pages/ mode (see ui.sidebar.current).
    _open(page, f"{app_url}/overview?segment=enterprise")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "segment=enterprise" in page.url
    assert page.locator('[data-testid="stSidebar"]').get_by_text("Enterprise", exact=True).count() >= 1


def test_overview_opens_with_tiles_and_no_exception(page, app_url, artifacts_dir):
    _open(page, app_url)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Overview" in page.locator("h1").first.inner_text()
    for label in TILE_LABELS:
        value = _tile(page, label)
        assert re.search(r"\d", value), f"{label}: {value!r}"
    assert re.fullmatch(r"\$\d+(\.\d)?[KMB]?", _tile(page, "ARR"))
    assert re.fullmatch(r"\d+\.\d%", _tile(page, "Health rate"))
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 4
    _screenshot(page, artifacts_dir / "overview.png")


def test_segment_in_the_url_changes_the_arr_tile(page, app_url, artifacts_dir):
    _open(page, app_url)
    all_arr = _tile(page, "ARR")
    _open(page, f"{app_url}/?segment=enterprise")
    assert page.locator('[data-testid="stException"]').count() == 0
    enterprise_arr = _tile(page, "ARR")
    assert enterprise_arr != all_arr
    assert "segment=enterprise" in page.url
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("Enterprise", exact=True).count() >= 1
    _screenshot(page, artifacts_dir / "overview_enterprise.png")


def test_garbage_url_renders_the_default_view(page, app_url):
    _open(page, app_url)
    default_arr = _tile(page, "ARR")
    _open(page, f"{app_url}/?segment=%3Cscript%3E&month=2099-13&include_non_target=perhaps")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert _tile(page, "ARR") == default_arr
