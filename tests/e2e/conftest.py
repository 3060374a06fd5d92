"""Real-browser fixtures: a Streamlit server on a small demo, and headless Chromium.

The server runs ``python -m streamlit run app.py`` on a free local port with
HEALTHGRID_DB pointing at a temporary small demo. Without /usr/bin/chromium the tests
are skipped locally but fail under CI (the CI environment variable set): CI must run them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests_support.server import streamlit_server


REPO_DIR = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_DIR / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def e2e_db(small_demo_db) -> Path:
    return small_demo_db


@pytest.fixture(scope="session")
def app_url(e2e_db, tmp_path_factory):
    """URL of a running Streamlit server over the small demo (stopped after the session)."""
    with streamlit_server(e2e_db, tmp_path_factory.mktemp("e2e_log")) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR
