"""A company imported without usage data, in a real browser: the Overview says "No health
data" and why, and shows no 0.0% health rate (issue 12: n/a, never a false zero).

The database is built here from small CSVs (tests_support/na_book.py) with the real
command line, ``python -m cslib import``; a Streamlit server of its own serves it (the
shared ``app_url`` server reads the small demo).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests_support.server import streamlit_server
from tests_support.browser import assert_count, full_page_screenshot, tile_value, wait_for_idle
from tests_support.na_book import FALSE_ZERO, write_no_usage_csvs

pytestmark = pytest.mark.e2e

REPO_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def no_usage_db(tmp_path_factory):
    folder = write_no_usage_csvs(tmp_path_factory.mktemp("no_usage_csv"))
    db = tmp_path_factory.mktemp("no_usage_db") / "no_usage.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "HEALTHGRID_INCLUDE_NON_TARGET"}
    proc = subprocess.run(
        [sys.executable, "-m", "cslib", "import", str(folder), "--db", str(db)],
        cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "no usage" in proc.stderr  # the importer warns that health will be unscored
    return db


@pytest.fixture(scope="module")
def no_usage_url(no_usage_db, browser, tmp_path_factory):
    """A Streamlit server over the no-usage database (``browser`` first: without Chromium
    the test is skipped before a server starts)."""
    with streamlit_server(no_usage_db, tmp_path_factory.mktemp("no_usage_log"), no_usage_db.parent / "app.sqlite") as url:
        yield url


def test_overview_without_usage_says_no_health_data(page, no_usage_url, artifacts_dir):
    page.goto(no_usage_url)
    page.wait_for_selector('[data-testid="stMetricValue"]')
    wait_for_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Overview · Mar 2026" in page.locator("h1").first.inner_text()
    assert tile_value(page, "Health rate") == "n/a"
    assert tile_value(page, "Health rate MoM") == "n/a"
    assert tile_value(page, "ARR") == "$74.4K"  # the revenue side is all there
    assert tile_value(page, "NRR") == "103.3%"
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="No health data")
    assert_count(alert, 1)
    assert "No health data for Mar 2026: no usage data was imported." in " ".join(alert.inner_text().split())
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert FALSE_ZERO.search("Health rate\n0.0%")  # the check below can fail
    assert not FALSE_ZERO.search(main), main
    full_page_screenshot(page, artifacts_dir / "overview_no_usage.png")
