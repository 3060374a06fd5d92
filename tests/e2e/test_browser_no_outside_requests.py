"""No outside requests (issue 14, item 8): a visit of every page in a real browser asks
only the app's own server for anything (page icon, fonts, scripts, data).

The server here is started like a user starts it (``streamlit run app.py`` with the
repository's .streamlit/config.toml and no ``--browser.gatherUsageStats`` flag, unlike
tests_support.server), on the small demo, so the "Demo data" badge is drawn too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests_support.browser import assert_count, assert_shown, wait_for_idle

from tests_support.server import streamlit_server

pytestmark = pytest.mark.e2e

PAGE_PATHS = ["", "ninebox", "flows", "churn_reasons", "negative_churn", "renewal_model"]
LOCAL_SCHEMES = ("data", "blob", "about", "chrome-extension")


@pytest.fixture(scope="module")
def plain_app_url(e2e_db, tmp_path_factory):
    with streamlit_server(e2e_db, tmp_path_factory.mktemp("outside_log"), plain=True) as url:
        yield url


def _recording_page(browser, seen: list[str]):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.on("request", lambda request: seen.append(request.url))
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("websocket", lambda ws: seen.append(ws.url.replace("ws://", "http://", 1)))
    return context, page


def _outside(urls: list[str], own: str) -> list[str]:
    return sorted({u for u in urls if urlsplit(u).scheme not in LOCAL_SCHEMES and urlsplit(u).netloc != own})


def test_a_visit_of_every_page_requests_nothing_from_another_host(browser, plain_app_url, artifacts_dir):
    own = urlsplit(plain_app_url).netloc
    seen: list[str] = []
    context, page = _recording_page(browser, seen)
    try:
        for path in PAGE_PATHS:  # every page, each loaded afresh (favicon, fonts, scripts)
            page.goto(f"{plain_app_url}/{path}")
            page.wait_for_selector("h1")
            wait_for_idle(page)
            assert page.locator('[data-testid="stException"]').count() == 0, path
            # the demo says so, in the page (the badge) and in the sidebar
            assert_shown(page.locator('[data-testid="stMain"]').get_by_text("Demo data"))
            assert_count(page.locator('[data-testid="stSidebar"]').get_by_text("Demo data:"), 1)
        # and through the sidebar navigation, as a user clicks
        for link in page.locator('[data-testid="stSidebarNav"] a').all():
            link.click()
            wait_for_idle(page)
        page.wait_for_timeout(1500)  # late requests (icons, fonts) still land in ``seen``
        icon = page.evaluate(
            "() => Array.from(document.querySelectorAll('link[rel~=\"icon\"]')).map(l => l.href)")
        page.screenshot(path=str(artifacts_dir / "no_outside_requests.png"))
    finally:
        context.close()
    assert icon and all(urlsplit(h).netloc == own for h in icon), icon  # the page icon is the app's
    assert len(seen) > 20  # the visit did load things
    assert _outside(seen, own) == []


def test_the_login_page_requests_nothing_from_another_host(browser, e2e_db, tmp_path):
    """With login configured, the page before the login (a "Log in" button) is the app's
    own too; only the click goes to the identity provider."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[auth]\nredirect_uri = "http://127.0.0.1:1/oauth2callback"\ncookie_secret = "' + "x" * 32 + '"\n'
        'client_id = "id"\nclient_secret = "secret"\n'
        'server_metadata_url = "https://id.example.com/.well-known/openid-configuration"\n',
        encoding="utf-8")
    with streamlit_server(e2e_db, tmp_path, None, "--secrets.files", str(secrets), plain=True) as url:
        own = urlsplit(url).netloc
        seen: list[str] = []
        context, page = _recording_page(browser, seen)
        try:
            for path in ("", "flows"):
                page.goto(f"{url}/{path}")
                page.get_by_role("button", name="Log in").wait_for()
                wait_for_idle(page)
            page.wait_for_timeout(1500)
            assert page.get_by_text("Demo data").count() == 0  # nothing of the book before the login
        finally:
            context.close()
    assert len(seen) > 10
    assert _outside(seen, own) == []
