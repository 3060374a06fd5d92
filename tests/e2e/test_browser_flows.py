"""The Health flows page in a real browser (headless Chromium) against a running server."""

from __future__ import annotations

import re

import pytest

from tests_support.browser import assert_shown, tile_value

pytestmark = pytest.mark.e2e


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector('[data-testid="stMetricValue"]')
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas,"
        " [data-testid=\"stVegaLiteChart\"] svg.marks').length >= 4"
    )


def test_flows_page_renders_with_numbers(page, app_url, artifacts_dir):
    _open(page, app_url)  # the server's first request goes through app.py (see ui.sidebar.current)
    _open(page, f"{app_url}/flows")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Health flows" in page.locator("h1").first.inner_text()
    assert re.fullmatch(r"\$\d+(\.\d)?[KMB]?", tile_value(page, "Healthy ARR"))
    assert re.fullmatch(r"\d+\.\d%", tile_value(page, "Health rate"))
    assert re.fullmatch(r"\d+\.\d%", tile_value(page, "Health-rate MoM"))
    assert re.fullmatch(r"[\d,]+", tile_value(page, "Alerts this month"))
    assert_shown(page.get_by_text("Transition matrix", exact=False))
    page.set_viewport_size({"width": 1440, "height": 3400})
    page.wait_for_timeout(1200)
    page.screenshot(path=str(artifacts_dir / "flows.png"), full_page=True)


def test_flows_page_segment_filter(page, app_url):
    _open(page, f"{app_url}/flows")
    all_healthy = tile_value(page, "Healthy ARR")
    _open(page, f"{app_url}/flows?segment=enterprise")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert tile_value(page, "Healthy ARR") != all_healthy
