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


def test_the_edited_scorecard_download_is_a_valid_scorecard(page, app_url, tmp_path):
    """What-if with "Healthy from" 75: the downloaded TOML loads with the real loader and
    carries the edit; everything else is the database's scorecard."""
    from cslib.rules.scorecard import load_scorecard

    _open(page, app_url)
    page.get_by_role("tab", name="Scorecard what-if").click()
    field = page.get_by_label("Healthy from")
    field.fill("75")
    field.press("Tab")
    page.get_by_role("button", name="Re-score the book").click()
    button = page.get_by_role("button", name="Download the edited scorecard (TOML)")
    button.wait_for(timeout=120_000)
    with page.expect_download(timeout=60_000) as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "scorecard.toml"
    path = tmp_path / "scorecard.toml"
    download.save_as(path)
    edited, default = load_scorecard(path), load_scorecard()
    assert edited.healthy_min == 75
    assert (edited.unhealthy_below, edited.window_weeks, edited.min_weeks) == (
        default.unhealthy_below, default.window_weeks, default.min_weeks
    )
    assert page.locator('[data-testid="stException"]').count() == 0
