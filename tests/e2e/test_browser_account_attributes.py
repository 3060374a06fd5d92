"""Account attributes end to end, in a real browser: a CRM export imported with the real
command line through a mapping that keeps two extra columns (plan tier, country); the
sidebar shows a "Plan tier" filter, a URL with ``attr.plan_tier`` opens the filtered view,
and picking another value updates the numbers and the URL (issue 12, item 4).

Book (revenue_monthly, Jan..Mar 2026, MRR per month): c-1 Acme Gold / Germany 1,000;
c-2 Birch Silver / France 500; c-3 Cedar Gold / (no country) 200, 200, 300. March ARR:
all 21,600; Gold (c-1 + c-3) 15,600; Silver 6,000.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests_support.server import streamlit_server
from tests_support.browser import assert_count, sidebar_pick, sidebar_widget, tile_value, wait_for_idle, watch_script_runs

pytestmark = pytest.mark.e2e

REPO_DIR = Path(__file__).resolve().parents[2]
SLOW = 120_000

CRM = """Company ID,Company,Plan Tier,Country
c-1,Acme,Gold,Germany
c-2,Birch,Silver,France
c-3,Cedar,Gold,
"""
REVENUE = """account_id,month,product,plan,mrr_subscription,mrr_usage
c-1,2026-01,core,pro,1000,0
c-1,2026-02,core,pro,1000,0
c-1,2026-03,core,pro,1000,0
c-2,2026-01,core,pro,500,0
c-2,2026-02,core,pro,500,0
c-2,2026-03,core,pro,500,0
c-3,2026-01,core,pro,200,0
c-3,2026-02,core,pro,200,0
c-3,2026-03,core,pro,300,0
"""
MAPPING = """[tables.accounts]
file = "crm.csv"
columns = { account_id = "Company ID", name = "Company" }
attributes = { plan_tier = "Plan Tier", country = "Country" }
"""


@pytest.fixture(scope="module")
def attr_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("attr_csv")
    (folder / "crm.csv").write_text(CRM)
    (folder / "revenue_monthly.csv").write_text(REVENUE)
    mapping = folder.parent / "attr_mapping.toml"
    mapping.write_text(MAPPING)
    db = tmp_path_factory.mktemp("attr_db") / "attr.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "HEALTHGRID_INCLUDE_NON_TARGET"}
    proc = subprocess.run(
        [sys.executable, "-m", "cslib", "import", str(folder), "--db", str(db), "--mapping", str(mapping)],
        cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ignored extra column" not in proc.stderr  # both extra columns are kept
    return db


@pytest.fixture(scope="module")
def attr_url(attr_db, browser, tmp_path_factory):
    """A Streamlit server of its own over the imported database (``browser`` first: without
    Chromium the test is skipped before a server starts)."""
    with streamlit_server(attr_db, tmp_path_factory.mktemp("attr_log"), attr_db.parent / "app.sqlite") as url:
        yield url


def _tags(page, label: str) -> list[str]:
    tags = sidebar_widget(page, label).locator('[data-testid="stMultiSelectTagsContainer"]').inner_text()
    return tags.split()


def test_a_shared_url_with_an_attribute_filter_and_the_sidebar_filter(page, attr_url, artifacts_dir):
    page.goto(f"{attr_url}/?attr.plan_tier=Gold&attr.tier=x")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=SLOW)
    wait_for_idle(page, timeout=SLOW)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Overview · Mar 2026" in page.locator("h1").first.inner_text()
    assert tile_value(page, "ARR") == "$15.6K"  # (1,000 + 300) x 12
    assert _tags(page, "Plan tier") == ["Gold"]
    assert_count(sidebar_widget(page, "Country"), 1)
    assert "attr.tier" not in page.url  # an attribute the data does not have is dropped

    # the filter sits low in the sidebar: scroll it into view first (a click while the sidebar
    # scrolls does not open the drop-down)
    sidebar_widget(page, "Plan tier").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    watch_script_runs(page)
    sidebar_pick(page, "Plan tier", "Silver")
    page.wait_for_function(
        """() => new URLSearchParams(location.search).get('attr.plan_tier') === 'Gold,Silver'
             && !!document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')""",
        timeout=SLOW,
    )
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')].some(m =>
             m.innerText.includes('ARR') && m.innerText.includes('$21.6K'))""",
        timeout=SLOW,
    )
    assert tile_value(page, "ARR") == "$21.6K"
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts_dir / "account_attributes.png"))
