"""Every width works (issue 16, point 2): at 1024, 1280, 1440 and 1920 px every page of the
small demo (the Account page on its largest account) is opened in Chromium against a real server, every tab shown in turn, and

- no tile value or label is cut (``scrollWidth > clientWidth`` on stMetricValue /
  stMetricLabel or anything inside them: an ellipsis),
- no table is wider than its container, and from 1440 px on no table scrolls sideways (the
  data grid's scroller is no wider than its box: every column, headers included, fits);
  below that a wide table scrolls inside its box with its key column pinned,
- no column of a row of panels overflows into its neighbour (the Nine-box grid beside its
  cell panel),

and a screenshot of each page at each width is saved under test-artifacts/widths/.
"""

from __future__ import annotations

import pytest

from tests_support.browser import wait_for_idle

pytestmark = pytest.mark.e2e

WIDTHS = (1024, 1280, 1440, 1920)
#: (url path, heading it shows, what to do on it before checking)
PAGES = (
    ("", "Overview", None),
    ("ninebox", "Nine-box", "cell"),
    ("flows", "Health flows", None),
    ("churn_reasons", "Churn reasons", None),
    ("negative_churn", "Negative churn", None),
    ("renewal_model", "Renewal", None),
    ("forecast", "Renewal forecast", None),
    ("outlook", "ARR outlook", None),
    ("worklist", "Worklist", None),
    ("account", "", "account"),  # the largest account of the demo (its name is the heading)
)
NINEBOX_CELL = "High value · Unhealthy"

_OVERFLOWS = """
(strictTables) => {
  const out = [];
  const shown = el => el.offsetParent !== null && el.getBoundingClientRect().width > 0;
  const cut = el => [el, ...el.querySelectorAll('*')].some(
      n => n.clientWidth > 0 && n.scrollWidth > n.clientWidth + 1);
  for (const [sel, what] of [['[data-testid="stMetricValue"]', 'tile value'],
                             ['[data-testid="stMetricLabel"]', 'tile label']]) {
    document.querySelectorAll(sel).forEach(el => {
      if (shown(el) && cut(el)) out.push(`${what} cut: ${el.innerText.trim()}`);
    });
  }
  document.querySelectorAll('[data-testid="stDataFrame"]').forEach((df, i) => {
    if (!shown(df)) return;
    const scroller = df.querySelector('.dvn-scroller');
    if (strictTables && scroller && scroller.scrollWidth > scroller.clientWidth + 1) {
      const headers = [...df.querySelectorAll('[role=columnheader], th')].map(t => t.textContent).join(' | ');
      out.push(`table ${i} scrolls sideways (${scroller.scrollWidth} > ${scroller.clientWidth} px): ${headers}`);
    }
    const box = df.getBoundingClientRect();
    const parent = df.parentElement.getBoundingClientRect();
    if (box.right > parent.right + 1) out.push(`table ${i} wider than its container`);
  });
  const SLACK = 12;  // a table's toolbar reaches 9 px past its column; a cut panel is far wider
  document.querySelectorAll('[data-testid="stColumn"]').forEach(col => {
    if (!shown(col)) return;
    if (col.scrollWidth > col.clientWidth + SLACK) {
      out.push(`panel overflows its column (${col.scrollWidth} > ${col.clientWidth} px): `
               + (col.innerText || '').trim().slice(0, 50));
    }
  });
  return out;
}
"""


def _settle(page) -> None:
    wait_for_idle(page)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')")
    page.wait_for_timeout(700)  # charts and grids lay themselves out after the run


def _open(page, app_url: str, path: str, heading: str) -> None:
    page.goto(f"{app_url}/{path}")
    page.wait_for_selector(f"h1:has-text('{heading}')", timeout=60_000)
    _settle(page)


def _choose_cell(page) -> None:
    page.get_by_role("combobox", name="Cell").click()
    page.get_by_role("option", name=NINEBOX_CELL, exact=True).click()
    page.wait_for_selector(f"h3:has-text('Accounts · {NINEBOX_CELL}')", timeout=30_000)
    _settle(page)


#: from this width on every column of every table fits without sideways scrolling
ALL_COLUMNS_FROM = 1440


def _problems(page, width: int) -> list[str]:
    strict = width >= ALL_COLUMNS_FROM
    found = list(page.evaluate(_OVERFLOWS, strict))
    tabs = page.locator('[data-testid="stMain"] [role="tab"]')
    for i in range(tabs.count()):
        tab = tabs.nth(i)
        name = tab.inner_text().strip()
        tab.click()
        page.wait_for_timeout(500)
        found += [f"[tab {name}] {p}" for p in page.evaluate(_OVERFLOWS, strict)]
    return found


def _screenshot(page, path, width: int) -> None:
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]'); return m ? m.scrollHeight : 3000; }"
    )
    page.set_viewport_size({"width": width, "height": min(int(height) + 40, 7000)})
    page.wait_for_timeout(1000)  # relayout and repaint of the charts
    page.screenshot(path=str(path))


@pytest.fixture(scope="module")
def largest_account(e2e_db) -> str:
    from cslib.store import db

    conn = db.connect(e2e_db)
    try:
        return str(db.query(conn, "select account_id from account_month order by month desc, arr desc limit 1")
                   ["account_id"].iloc[0])
    finally:
        conn.close()


@pytest.fixture(scope="module")
def warm(app_url, browser):
    """One visit of the entry page first: a server's first request that deep-links to a page
    lands on the default page (ui.sidebar.current)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("h1", timeout=90_000)
    context.close()
    return app_url


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path, heading, action", PAGES, ids=[p[1] or "Account" for p in PAGES])
def test_nothing_is_cut_at_this_width(browser, warm, largest_account, artifacts_dir, width, path, heading, action):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        _open(page, warm, f"account?id={largest_account}" if action == "account" else path, heading)
        if action == "cell":
            _choose_cell(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stMetricValue"]').count() + page.locator(
            '[data-testid="stDataFrame"]').count() > 0  # the checks below look at something
        problems = _problems(page, width)
        out = artifacts_dir / "widths"
        out.mkdir(exist_ok=True)
        page.mouse.move(2, 2)
        _screenshot(page, out / f"{width}-{path or 'overview'}.png", width)
        assert not problems, f"at {width} px on {heading}:\n" + "\n".join(problems)
    finally:
        context.close()
