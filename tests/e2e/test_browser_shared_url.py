"""Every page in a real browser: sidebar filters change its numbers, a shared URL reproduces the view.

For each page an author opens it with the default filters and reads a headline number
that depends on the slice; picks segment Enterprise in the sidebar multiselect (the
number changes, the URL gains ``segment=enterprise``) and then the month before the
latest in the Month select box. A colleague opens the author's URL in a fresh browser
context (a new session): same number, same filter in the sidebar, no exception; then
the same URL with ``month=`` set to that earlier month: the month is shown and the
number equals the author's for that month.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from cslib.store import db
from cslib.months import data_months
from tests_support.browser import sidebar_pick, sidebar_widget, wait_for_idle, watch_script_runs

pytestmark = pytest.mark.e2e

SLOW = 120_000  # ms: the first run of a page (model fit, cold caches) on a shared 2-core machine

# page (its URL path; the default page, Overview, lives at "/") -> (title in its h1, how to read
# its headline number)
PAGES = {
    "overview": ("Overview", ("tile", "ARR")),
    "ninebox": ("Nine-box", ("caption", r"^Total [\d,]+ accounts?, \$[\d.,]+[KMB]? ARR")),
    "flows": ("Health flows", ("tile", "Healthy ARR")),
    "churn_reasons": ("Churn reasons", ("tile", "Churned ARR")),
    "negative_churn": ("Negative churn", ("tile", "Expansion MRR")),
    "renewal_model": ("Renewal model", ("tile", "ARR due")),
}

# the headline number as displayed, or null while it is not on the page
_READ_JS = """
([kind, key]) => {
  if (kind === 'tile') {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const label = m.querySelector('[data-testid="stMetricLabel"]');
      if (label && label.innerText.trim() === key) {
        const value = m.querySelector('[data-testid="stMetricValue"]');
        return value ? value.innerText.trim() : null;
      }
    }
    return null;
  }
  const pattern = new RegExp(key);
  for (const c of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
    const found = c.innerText.trim().match(pattern);
    if (found) return found[0];
  }
  return null;
}
"""

# the script run started by a widget change (see watch_script_runs) is over and wrote
# ``param=value`` to the URL. A run that React drew in one go is never seen in progress;
# then the headline number differing from ``before`` shows that the new run is drawn.
_RERUN_DONE_JS = f"""
([param, value, how, before]) => new URLSearchParams(location.search).get(param) === value
  && !!document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
  && (window.hgSawRun === true || ({_READ_JS.strip()})(how) !== before)
"""


def _month_label(month: str) -> str:
    return dt.datetime.strptime(month, "%Y-%m").strftime("%b %Y")


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return urlunsplit(parts._replace(query=urlencode([*query, (name, value)], safe=",")))


@pytest.fixture(scope="module")
def months(e2e_db) -> tuple[str, str]:
    """(latest month, the month before) of the demo database."""
    conn = db.connect(e2e_db)
    try:
        _, last = data_months(conn)
    finally:
        conn.close()
    year, month = int(last[:4]), int(last[5:7])
    previous = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
    return last, previous


@pytest.fixture(scope="module")
def navigated_app(browser, app_url) -> str:
    """The app's URL, once a session has run its entry page: until then a server sends a
    deep link to the default page (Streamlit's legacy pages/ mode, see ui.sidebar.current)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(app_url)
        page.wait_for_selector('[data-testid="stMetricValue"]', timeout=SLOW)
    finally:
        context.close()
    return app_url


def _read(page, how) -> str | None:
    return page.evaluate(_READ_JS, list(how))


def _open(page, url: str, title: str, how) -> str:
    """Load ``url``; wait for the page's title, the end of the run and the headline number."""
    page.goto(url)
    page.wait_for_selector(f"h1:has-text('{title}')", timeout=SLOW)
    wait_for_idle(page, timeout=SLOW)
    page.wait_for_function(f"how => ({_READ_JS.strip()})(how) !== null", arg=list(how), timeout=SLOW)
    return _read(page, how)


def _assert_view(page, title: str, segment: str, month_label: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert title in page.locator("h1").first.inner_text()
    assert month_label in page.locator("h1").first.inner_text()
    tags = sidebar_widget(page, "Segment").locator('[data-testid="stMultiSelectTagsContainer"]').inner_text()
    assert tags.split() == [segment], tags
    assert sidebar_widget(page, "Month").get_by_role("combobox").input_value() == month_label


@pytest.mark.parametrize("name", list(PAGES))
def test_filters_change_the_numbers_and_a_shared_url_reproduces_them(
    name, browser, page, navigated_app, months, artifacts_dir
):
    title, how = PAGES[name]
    latest, previous = months
    path = "" if name == "overview" else name

    # the author: default filters, then segment Enterprise, then the previous month
    default = _open(page, f"{navigated_app}/{path}", title, how)
    assert "segment" not in urlsplit(page.url).query
    watch_script_runs(page)
    sidebar_pick(page, "Segment", "Enterprise")
    page.wait_for_function(_RERUN_DONE_JS, arg=["segment", "enterprise", list(how), default], timeout=SLOW)
    enterprise = _read(page, how)
    assert enterprise is not None and enterprise != default, f"{name}: {default!r} -> {enterprise!r}"
    assert page.locator('[data-testid="stException"]').count() == 0
    shared = page.url
    assert f"month={latest}" in shared

    watch_script_runs(page)
    sidebar_pick(page, "Month", _month_label(previous))
    page.wait_for_function(_RERUN_DONE_JS, arg=["month", previous, list(how), enterprise], timeout=SLOW)
    enterprise_previous = _read(page, how)
    assert enterprise_previous is not None
    assert "segment=enterprise" in page.url

    # a colleague: a new browser context, so a new session that only has the URL
    context = browser.new_context(viewport={"width": 1440, "height": 1200})
    try:
        colleague = context.new_page()
        colleague.set_default_timeout(60_000)
        assert _open(colleague, shared, title, how) == enterprise
        _assert_view(colleague, title, "Enterprise", _month_label(latest))
        assert "segment=enterprise" in colleague.url

        assert _open(colleague, _with_param(shared, "month", previous), title, how) == enterprise_previous
        _assert_view(colleague, title, "Enterprise", _month_label(previous))
        assert f"month={previous}" in colleague.url and "segment=enterprise" in colleague.url
        colleague.screenshot(path=str(artifacts_dir / f"shared_url_{name}.png"))
    finally:
        context.close()
