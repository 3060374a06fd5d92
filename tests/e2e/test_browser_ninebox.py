"""The Nine-box page in a real browser (headless Chromium): click a grid cell, see its accounts.

Vega draws the grid on a canvas (or an SVG) that Streamlit may scale to its column, so
there is no DOM node per cell and no fixed geometry. Every cell has its own fixed fill
colour (cslib.charts.ninebox.CELL_COLORS), so the test finds a cell by its colour in a
screenshot of the chart and clicks the middle of that patch.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from cslib.store import db
from cslib.views import ninebox
from cslib.charts.ninebox import CELL_COLORS
from cslib.filters import Filters
from cslib.months import data_months
from tests_support.browser import assert_count, assert_shown

pytestmark = pytest.mark.e2e


def _open(page, app_url: str) -> None:
    """Open the Nine-box page. The app's entry page is loaded first and allowed to run:
    a server's first request that deep-links to a page lands on the default page (see
    ui.sidebar.current)."""
    page.goto(app_url)
    page.wait_for_selector("h1")
    page.goto(f"{app_url}/ninebox")
    page.wait_for_selector("h1:has-text('Nine-box')")


def _grid_surface(page):
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    surface = chart.locator("canvas, svg.marks").first
    surface.wait_for(state="visible")
    page.wait_for_timeout(400)  # let Vega paint the marks
    return surface


def _cell_centre(page, cell: str) -> tuple[float, float]:
    """Page coordinates of the middle of ``cell``'s colour patch in the grid chart."""
    surface = _grid_surface(page)
    box = surface.bounding_box()
    image = Image.open(io.BytesIO(surface.screenshot())).convert("RGB")
    target = tuple(int(CELL_COLORS[cell][i:i + 2], 16) for i in (1, 3, 5))
    xs, ys = [], []
    pixels = image.load()
    for y in range(0, image.height, 2):
        for x in range(0, image.width, 2):
            if all(abs(a - b) <= 2 for a, b in zip(pixels[x, y], target)):
                xs.append(x)
                ys.append(y)
    assert len(xs) > 100, f"no patch of colour {CELL_COLORS[cell]} for {cell} in the chart"
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    return box["x"] + cx * box["width"] / image.width, box["y"] + cy * box["height"] / image.height


def _busiest_cell(db_path) -> tuple[str, int]:
    conn = db.connect(db_path)
    try:
        grid = ninebox.grid(conn, Filters(), data_months(conn)[1])
    finally:
        conn.close()
    best = grid.sort_values(["accounts", "cell_id"], ascending=[False, True]).iloc[0]
    return best["cell_id"], int(best["accounts"])


def test_clicking_a_cell_shows_its_accounts(page, app_url, e2e_db, artifacts_dir):
    cell, count = _busiest_cell(e2e_db)
    label = ninebox.cell_label(cell)
    _open(page, app_url)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert_count(page.get_by_text("Click a cell of the grid"), 1)

    page.mouse.click(*_cell_centre(page, cell))

    page.wait_for_selector(f"h3:has-text('Accounts · {label}')", timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_text(re.compile(rf"^{count} accounts? in {re.escape(label)}$")).wait_for()
    assert_shown(page.locator('[data-testid="stDataFrame"]').nth(1))  # accounts + books
    assert_count(page.locator("h4", has_text=label), 1)  # the cell's heading beside the grid
    # the movement section renders after the accounts table: wait for it, don't race the rerun
    page.get_by_text("Movement since", exact=False).first.wait_for(timeout=30_000)

    page.mouse.move(5, 5)  # no tooltip over the grid in the screenshot
    page.set_viewport_size({"width": 1440, "height": 2300})
    page.wait_for_timeout(500)
    page.wait_for_function(  # the relayout redraws every element: wait for the numbers
        "() => document.querySelectorAll('[data-testid=\"stMetricValue\"]').length >= 6"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
    )
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts_dir / "ninebox.png"))


def test_a_second_click_moves_to_another_cell(page, app_url):
    _open(page, app_url)
    for cell in ("low|healthy", "high|unhealthy"):
        page.mouse.click(*_cell_centre(page, cell))
        page.wait_for_selector(f"h3:has-text('Accounts · {ninebox.cell_label(cell)}')", timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_the_cell_csv_download_is_valid(page, app_url, e2e_db, tmp_path):
    """The downloaded CSV parses, has the documented columns and one row per account of the cell."""
    import csv

    cell, count = _busiest_cell(e2e_db)
    _open(page, app_url)
    page.mouse.click(*_cell_centre(page, cell))
    page.wait_for_selector(f"h3:has-text('Accounts · {ninebox.cell_label(cell)}')", timeout=30_000)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=re.compile("Download CSV")).click()
    download = info.value
    assert download.suggested_filename.startswith("ninebox_") and download.suggested_filename.endswith(".csv")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == count
    assert {"account_id", "name", "csm", "arr", "health_score"} <= set(rows[0])
    assert all(float(r["arr"]) > 0 for r in rows)
    assert len({r["account_id"] for r in rows}) == count


HOSTILE = '=HYPERLINK("http://example.invalid","x")'


@pytest.fixture(scope="module")
def hostile_url(small_demo_db, browser, tmp_path_factory):
    """The small demo with every account named like a spreadsheet formula and every CSM's
    name starting with '+', served by a server of its own."""
    import shutil

    import duckdb

    from tests_support.server import streamlit_server

    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "hostile.duckdb"
    shutil.copy(small_demo_db, path)
    con = duckdb.connect(str(path))
    for table in ("raw_accounts", "account_month", "ninebox_account_month"):
        con.execute(f"update {table} set name = ? || account_id, csm = '+' || csm", [HOSTILE])
    con.close()
    with streamlit_server(path, folder, folder / "app.sqlite") as url:
        yield url, path


def test_the_cell_csv_download_neutralises_formulas(page, hostile_url, tmp_path):
    """Names that a spreadsheet would evaluate reach the downloaded file as text (a leading
    quote), numbers stay numbers and money is at cents (issue 14)."""
    import csv

    url, path = hostile_url
    cell, count = _busiest_cell(path)
    _open(page, url)
    page.mouse.click(*_cell_centre(page, cell))
    page.wait_for_selector(f"h3:has-text('Accounts · {ninebox.cell_label(cell)}')", timeout=30_000)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=re.compile("Download CSV")).click()
    saved = tmp_path / "cell.csv"
    info.value.save_as(saved)
    with open(saved, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == count
    for row in rows:
        assert row["name"] == "'" + HOSTILE + row["account_id"]
        assert row["csm"].startswith("'+")
        for value in row.values():
            try:
                float(value)  # numbers stay numbers, negative ones included
            except ValueError:
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row
        assert float(row["arr"]) > 0 and len(row["arr"].split(".")[-1]) <= 2
