"""The Renewal model & what-if page in a real browser (headless Chromium)."""

from __future__ import annotations

import re

import pytest

from tests_support.browser import tile_value

pytestmark = pytest.mark.e2e


def _open(page, app_url: str) -> None:
    page.goto(app_url)  # the server's first request goes through app.py (see ui.sidebar.current)
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=120_000)
    page.goto(f"{app_url}/renewal_model")
    page.get_by_role("heading", name=re.compile("Renewal model")).wait_for(timeout=120_000)
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=120_000)


def test_renewal_model_page_renders_metrics_and_charts(page, app_url, artifacts_dir):
    _open(page, app_url)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas,"
        " [data-testid=\"stVegaLiteChart\"] svg.marks').length >= 2",
        timeout=60_000,
    )
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Renewal model" in page.locator("h1").first.inner_text()
    auc = tile_value(page, "Held-out ROC AUC")
    assert re.fullmatch(r"0\.\d{3}|1\.000", auc), auc
    assert re.fullmatch(r"0\.\d{3}", tile_value(page, "Brier score"))
    assert re.fullmatch(r"\d+\.\d%", tile_value(page, "Accuracy at 0.5"))
    page.set_viewport_size({"width": 1440, "height": 2000})
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts_dir / "renewal_model.png"))


def test_incentive_tab_shows_payouts(page, app_url, artifacts_dir):
    _open(page, app_url)
    page.get_by_role("tab", name="Incentives").click()
    page.get_by_text("Payouts for").wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    page.set_viewport_size({"width": 1440, "height": 1400})
    page.wait_for_timeout(800)
    page.screenshot(path=str(artifacts_dir / "renewal_model_incentives.png"))
