"""The Account page in a real browser (headless Chromium, real server, small demo).

From four lists (the Nine-box drill-down, a Health flows alert row, the Renewal model's
upcoming renewals and the Churn reasons notes search) a click on an account's name opens
its page in a new tab, at the list's month, with the same ARR and tier the list showed.
A note added on the page survives a re-import of the data.

Tables are drawn on a canvas: the test clicks the first row's first cell, which every one
of these tables gives to the account's name (a link column).
"""

from __future__ import annotations

import re
import shutil
import urllib.parse

import pytest

from cslib.views import account
from cslib.charts import common as charts
from cslib.store import db
from cslib.views import ninebox, renewal_model
from cslib.filters import Filters
from tests_support.book import build_small_demo
from tests_support.browser import assert_count, tile_value, wait_for_idle
from tests_support.server import streamlit_server

pytestmark = pytest.mark.e2e

MONTH = "2026-10"
HEADER_PX = 35  # a Streamlit table's header row
ROW_PX = 35


def _open(page, url: str) -> None:
    page.goto(url)
    wait_for_idle(page)


def _table(page, header: str):
    """The table with a column headed ``header`` (the grid keeps an accessible copy of its
    visible cells in the DOM)."""
    table = page.locator("[data-testid='stDataFrame']").filter(
        has=page.locator("th", has_text=re.compile(rf"^{re.escape(header)}$"))).first
    table.wait_for(state="visible")
    table.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # the grid paints its cells
    return table


def _first_name(table) -> str:
    """The account name the first row shows (the accessible copy holds the link's address)."""
    link = table.locator("td[aria-colindex='1']").first.inner_text().strip()
    return urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["name"][0]


def _settled_box(locator, page) -> dict:
    """The bounding box once the page has stopped moving it (charts above finish drawing)."""
    box = locator.bounding_box()
    for _ in range(20):
        page.wait_for_timeout(300)
        again = locator.bounding_box()
        if again == box:
            return box
        box = again
    return box


def _click_first_name(page, header: str):
    """Click the account name in the first row of the table with column ``header``; the
    Account page's new tab."""
    box = _settled_box(_table(page, header), page)
    x, y = box["x"] + 16, box["y"] + HEADER_PX + ROW_PX / 2
    page.mouse.move(x - 6, y)  # the grid follows links under the pointer: hover first, as a hand does
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    with page.context.expect_page() as opened:
        page.mouse.click(x, y)
    tab = opened.value
    tab.set_default_timeout(60_000)
    tab.wait_for_load_state()
    wait_for_idle(tab)
    tab.locator("h1").first.wait_for()
    return tab


def _title(tab) -> str:
    return tab.locator("h1").first.inner_text().strip()


@pytest.fixture(scope="module")
def conn(e2e_db):
    c = db.connect(e2e_db, read_only=True)
    yield c
    c.close()


def test_nine_box_drill_down_opens_the_account_with_the_same_arr_and_tier(page, app_url, conn):
    grid = ninebox.grid(conn, Filters(), MONTH)
    cell = grid.sort_values(["accounts", "cell_id"], ascending=[False, True]).iloc[0]
    listed = ninebox.cell_accounts(conn, Filters(), MONTH, cell["health_tier"], cell["value_tier"], limit=1).iloc[0]
    _open(page, app_url)
    _open(page, f"{app_url}/ninebox?month={MONTH}")
    page.get_by_role("combobox", name="Cell").click()
    page.get_by_role("option", name=ninebox.cell_label(cell["cell_id"]), exact=True).click()
    wait_for_idle(page)
    tab = _click_first_name(page, "Hurts most")
    assert _title(tab) == listed["name"]
    assert f"id={listed['account_id']}" in tab.url and f"month={MONTH}" in tab.url
    assert tile_value(tab, "ARR · Oct 2026") == charts.format_money(listed["arr"])
    tier = ninebox.HEALTH_LABELS[cell["health_tier"]]
    assert tile_value(tab, f"Health · {tier}") == f"{listed['health_score']:.0f}"
    assert tile_value(tab, "Value tier") == ninebox.VALUE_LABELS[cell["value_tier"]].replace(" value", "")
    assert tab.locator('[data-testid="stException"]').count() == 0


def test_alert_row_opens_the_account(page, app_url):
    _open(page, app_url)
    _open(page, f"{app_url}/flows?month={MONTH}")
    shown = _first_name(_table(page, "Main driver"))
    tab = _click_first_name(page, "Main driver")
    assert "id=" in tab.url and f"month={MONTH}" in tab.url
    assert _title(tab) == shown
    # the alert the row showed is on the account's page, in its alerts table
    assert_count(tab.get_by_role("heading", name="Alerts"), 1)
    assert tab.locator('[data-testid="stException"]').count() == 0


def test_upcoming_renewal_opens_the_account_with_its_renewal(page, app_url, conn):
    upcoming = renewal_model.upcoming_renewals(conn, Filters(), MONTH)
    first = upcoming.iloc[0]
    _open(page, app_url)
    _open(page, f"{app_url}/renewal_model?month={MONTH}")
    tab = _click_first_name(page, "P(renew)")
    assert _title(tab) == first["name"]
    label = f"Renewal {first['due_on']:%d %b %Y}"
    assert tile_value(tab, label) == f"{first['p_renewal']:.0%}"


def test_notes_search_opens_the_account(page, app_url):
    _open(page, app_url)
    _open(page, f"{app_url}/churn_reasons?month={MONTH}")
    shown = _first_name(_table(page, "Author"))
    tab = _click_first_name(page, "Author")
    match = re.search(r"[?&]id=([^&]+)", tab.url)
    assert match and _title(tab) == shown
    assert _table(tab, "What").is_visible()  # the account's timeline, where its notes are


@pytest.fixture
def own_server(small_demo_db, tmp_path):
    """A server over a copy of the small demo, with its own app store (the test re-imports)."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(small_demo_db, path)
    with streamlit_server(path, tmp_path, tmp_path / "app.sqlite") as url:
        yield url, path, tmp_path / "app.sqlite"


def test_a_note_added_on_the_page_survives_a_reimport(page, own_server, conn):
    url, path, store_path = own_server
    listed = account.search(conn, "a", MONTH, Filters(include_non_target=True)).iloc[0]
    _open(page, url)
    _open(page, f"{url}/account?id={listed['account_id']}&month={MONTH}")
    assert _title(page) == listed["name"]
    page.get_by_text("Add a note or touchpoint").click()
    main = page.get_by_test_id("stMain")  # the sidebar's Saved views asks for the same name
    main.get_by_label("Your name (for this session)").fill("Kim")
    main.get_by_role("button", name="Continue").click()
    wait_for_idle(page)
    text = "Called the admin: training booked for Monday"
    page.get_by_label("Note (plain text)").fill(text)
    page.get_by_role("button", name="Save note").click()
    wait_for_idle(page)
    page.get_by_text("Note saved.").wait_for()
    from cslib.store.appstore import AppStore

    notes = AppStore(store_path).account_notes(listed["account_id"])
    assert notes[["kind", "body", "updated_by"]].values.tolist() == [["note", text, "Kim (unverified)"]]

    build_small_demo(path)  # a re-import: the database file is replaced
    _open(page, f"{url}/account?id={listed['account_id']}&month={MONTH}")
    assert _title(page) == listed["name"]
    assert AppStore(store_path).account_notes(listed["account_id"])["body"].tolist() == [text]
    timeline = _table(page, "What")
    assert_count(timeline.locator("td", has_text=text), 1)
    assert_count(timeline.locator("td", has_text="Note · added here"), 1)
    assert page.locator('[data-testid="stException"]').count() == 0
