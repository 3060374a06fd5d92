"""Nine-box page through AppTest on the hand-made book (tests_support/ninebox_book.py).

Cells are chosen with the fallback select box and, like a click in the browser would,
by sending the grid chart's selection state (the JSON the frontend sends for an Altair
point selection) with the next run.
"""

from __future__ import annotations

import json

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from tests_support.links import link_name
from tests_support.ninebox_book import SCRIPT_NAME, build_ninebox_book
from tests_support.apptest import assert_clean as _assert_clean

PAGE = "pages/ninebox.py"
HOSTILE = "<script>alert('pb')</script> **not bold** [link](https://example.com) :red[red]"


@pytest.fixture(scope="module")
def book_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("ninebox_app") / "book.duckdb"
    build_ninebox_book(path)
    return path


@pytest.fixture
def open_page(app_on, monkeypatch, tmp_path):
    """open_page(db, **query_params) -> AppTest on the Nine-box page, with its own app store."""

    def make(db_path, **query_params):
        monkeypatch.setenv("HEALTHGRID_APP_DB", str(tmp_path / "app.sqlite"))
        at = app_on(db_path, **query_params)
        at.switch_page(PAGE).run()
        _assert_clean(at)
        return at

    return make


def _choose(at, cell: str):
    at.selectbox(key="ninebox_cell").set_value(cell).run()
    _assert_clean(at)
    return at


def _accounts(at) -> list[str]:
    return at.dataframe[0].value["account_id"].tolist()  # the drill-down is the first table


def _click_chart(at, selection: dict | str) -> None:
    """Rerun as if the browser sent this selection state for the grid chart."""
    chart = next(c for c in at.get("vega_lite_chart") if c.proto.id.endswith("ninebox_grid"))
    states = at._tree.get_widget_states()
    payload = selection if isinstance(selection, str) else json.dumps({"selection": selection})
    states.widgets.append(WidgetState(id=chart.proto.id, json_value=json.dumps(payload)))
    at._run(states)


def _captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def test_page_renders_the_grid_for_months_and_filters(book_db, open_page):
    at = open_page(book_db)
    steps = [
        ({}, "Total 9 accounts, $376K ARR = the nine cells + 1 unscored ($36.0K, 9.6% of ARR)"),
        ({"month": "2026-02"}, "Total 8 accounts, $328K ARR = the nine cells + 1 unscored ($36.0K, 11.0% of ARR)"),
        ({"month": "2025-12"}, "Total 1 account, $120K ARR = the nine cells + 0 unscored"),
        ({"month": "2026-03", "csm_team": ["Growth"]},
         "Total 4 accounts, $132K ARR = the nine cells + 1 unscored ($36.0K, 27.3% of ARR)"),
        ({"csm_team": [], "segment": ["smb", "enterprise"], "non_target": True},
         "Total 5 accounts, $310K ARR = the nine cells + 0 unscored"),  # n1 n2 n5 n10 n11
    ]
    for changes, total in steps:
        for name, value in changes.items():
            if name == "month":
                at.selectbox(key="hg_month").set_value(value)
            elif name == "non_target":
                at.checkbox(key="hg_include_non_target").set_value(value)
            else:
                at.multiselect(key=f"hg_filter_{name}").set_value(value)
        if changes:
            at.run()
        _assert_clean(at)
        assert at.title[0].value.startswith("Nine-box · ")
        assert total in _captions(at), changes
        assert len(at.get("vega_lite_chart")) == 1  # the grid (the books' small multiples are opt-in)
        assert any("Click a cell" in i.value for i in at.info)


def test_empty_slice_says_so(book_db, open_page):
    at = open_page(book_db, segment="enterprise", csm_team="Growth")  # only non-target n10
    assert any("No active accounts" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")


def test_choosing_a_cell_shows_its_accounts_movement_and_playbook(book_db, open_page):
    at = _choose(open_page(book_db), "high|healthy")
    assert _accounts(at) == ["n1", "n4"]
    metrics = {m.label: (m.value, m.delta) for m in at.metric}
    assert metrics["Accounts"] == ("2", "0")
    assert metrics["ARR"] == ("$180K", "-$12.0K")
    assert metrics["Share of ARR"][0] == "47.9%"
    assert metrics["Accounts entered"] == ("1", "+$60.0K")  # n4 from mid|healthy
    assert metrics["Accounts left"] == ("1", "-$72.0K")  # n2 to high|at_risk
    assert metrics["Accounts stayed"] == ("1", "$0")  # n1, ARR unchanged: no sign, neutral
    assert any("Grow and advocate" in m.value for m in at.markdown)
    assert any("quarterly business review" in t.value for t in at.text)
    at.text_input(key="ninebox_search").set_value("okafor").run()
    _assert_clean(at)
    assert _accounts(at) == ["n4"]


def test_a_click_in_the_grid_selects_the_cell(book_db, open_page):
    at = open_page(book_db)
    _click_chart(at, {"cell": [{"health_tier": "at_risk", "value_tier": "high"}]})
    _assert_clean(at)
    assert at.selectbox(key="ninebox_cell").value == "high|at_risk"
    assert _accounts(at) == ["n2"]
    # the select box still works while the chart keeps its (older) selection
    at.selectbox(key="ninebox_cell").set_value("mid|at_risk")
    _click_chart(at, {"cell": [{"health_tier": "at_risk", "value_tier": "high"}]})
    _assert_clean(at)
    assert _accounts(at) == ["n9"]
    # a filter change with the same chart state: the page keeps the chosen cell
    at.multiselect(key="hg_filter_csm_team").set_value(["Growth"])
    _click_chart(at, {"cell": [{"health_tier": "at_risk", "value_tier": "high"}]})
    _assert_clean(at)
    assert at.selectbox(key="ninebox_cell").value == "mid|at_risk"
    assert at.dataframe[0].value.empty  # nobody of Growth in mid|at_risk


def test_a_stale_or_malformed_chart_selection_does_not_break_the_page(book_db, open_page):
    at = _choose(open_page(book_db), "low|at_risk")
    for stale in (
        {"cell": [{"health_tier": "gone", "value_tier": "high"}]},
        {"cell": [{"value_tier": "high"}]},  # fields of an older chart
        {"other_param": [1]},
        {"cell": "high|healthy"},
        {"cell": {}},  # cleared (double click)
    ):
        _click_chart(at, stale)
        _assert_clean(at)
        assert at.selectbox(key="ninebox_cell").value == "low|at_risk"
        assert _accounts(at) == ["n5"]


def test_account_names_with_html_are_shown_as_text(book_db, open_page):
    at = _choose(open_page(book_db), "low|unhealthy")
    # the name is a link to the Account page; the link column shows the name decoded from it
    (link,) = at.dataframe[0].value["name"].tolist()
    assert link.startswith("account?id=n11&month=2026-03&name=")
    assert link_name(link) == SCRIPT_NAME
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("<script>" in v for v in rendered)


def _give_name(at, name: str):
    """Without login the editor first asks for a name, once per session."""
    at.text_input(key="ninebox_playbook_name").input(name)
    at.button[[b.label for b in at.button].index("Continue")].click().run()
    _assert_clean(at)
    return at


def test_edit_playbook_plain_text_and_survives_reimport(book_db, open_page, app_on):
    at = _choose(open_page(book_db), "high|unhealthy")
    assert any("sponsor call" in m.value for m in at.markdown)  # shipped title
    _give_name(at, "<b>dana</b>")
    at.text_area(key="ninebox_playbook_body_high_unhealthy").set_value(HOSTILE)
    at.button[[b.label for b in at.button].index("Save playbook")].click().run()
    _assert_clean(at)
    assert any(s.value == "Playbook saved." for s in at.success)
    texts = [t.value for t in at.text]
    assert HOSTILE in texts  # literally, as typed
    # no login configured: the name given for the session, marked unverified
    assert any(t.startswith("Edited by <b>dana</b> (unverified) · 20") for t in texts)
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("<script>" in v or "<b>dana" in v for v in rendered)

    build_ninebox_book(book_db)  # a re-import: a new database file replaces the old one
    again = _choose(open_page(book_db), "high|unhealthy")  # a new session
    assert HOSTILE in [t.value for t in again.text]
    other = _choose(again, "high|healthy")
    assert HOSTILE not in [t.value for t in other.text]


def test_an_empty_playbook_is_refused(book_db, open_page):
    at = _give_name(_choose(open_page(book_db), "mid|healthy"), "dana")
    at.text_area(key="ninebox_playbook_body_mid_healthy").set_value("   ")
    at.button[[b.label for b in at.button].index("Save playbook")].click().run()
    assert any("Not saved" in e.value for e in at.error)
    assert not at.exception


def test_count_toggle_and_compare_books_by_csm(book_db, open_page):
    at = open_page(book_db)
    at.button_group(key="ninebox_measure").set_value("accounts").run()
    _assert_clean(at)
    at.button_group(key="ninebox_books_by").set_value("csm")
    at.toggle(key="ninebox_books_chart").set_value(True).run()
    _assert_clean(at)
    assert len(at.get("vega_lite_chart")) == 2  # the grid and the small multiples
    books = at.dataframe[-1].value
    assert books["owner"].tolist() == ["Ana Lima", "Ben Okafor", "Chen Wei"]  # by ARR: 243.6K, 120K, 12K
    assert books["accounts"].tolist() == [5, 3, 1]


def test_small_demo_renders_and_drills_down(small_demo_db, open_page):
    at = open_page(small_demo_db)
    for cell in ("high|healthy", "low|unhealthy"):
        _choose(at, cell)
        count = next(m.value for m in at.metric if m.label == "Accounts")
        assert len(at.dataframe[0].value) == int(count.replace(",", ""))


# --------------------------------------------------------------------------- n/a, never a false zero
@pytest.fixture(scope="module")
def no_usage_db(tmp_path_factory):
    from tests_support.na_book import build_no_usage_book

    return build_no_usage_book(tmp_path_factory.mktemp("ninebox_no_usage") / "no_usage.duckdb")


def test_without_usage_the_grid_says_no_health_data(no_usage_db, open_page):
    """tests_support/na_book.py: three active accounts (74,400 ARR), none scored."""
    from tests_support.na_book import FALSE_ZERO, apptest_text

    at = open_page(no_usage_db)
    assert at.title[0].value == "Nine-box · Mar 2026"
    infos = [i.value for i in at.info]
    assert infos == [
        "**No health data** for Mar 2026: no usage data was imported. The nine-box places accounts by "
        "their month-end health tier; all 3 accounts ($74.4K ARR) are unscored, so there is no grid "
        "and no book to compare."
    ]
    assert not at.get("vega_lite_chart")  # no empty grid, no empty books
    assert "ninebox_cell" not in [s.key for s in at.selectbox]  # no cell to drill into
    assert not FALSE_ZERO.search(apptest_text(at))


@pytest.mark.parametrize("month", ["2026-03", "2026-02"])
def test_the_grid_is_what_report_ninebox_prints(open_page, book_db, month):
    """For every cell picked, the page's Accounts / ARR / Share tiles are that cell's row of
    `report ninebox`, and the caption's total and unscored figures are the report's grid sums
    and its unscored row (one function, cslib.views.ninebox.grid_summary, serves both)."""
    import json

    from cslib.charts import common as charts
    from cslib.views import ninebox
    from cslib.filters import Filters
    from cslib.cli.reports import ReportArgs, render_report

    payload = json.loads(render_report("ninebox", book_db, ReportArgs(month=month, filters=Filters()), "json"))
    grid = {row["cell_id"]: row for row in payload["grid"]}
    unscored = payload["unscored"][0]
    at = open_page(book_db, month=month)
    caption = next(c.value for c in at.caption if c.value.startswith("Total "))
    total_arr = sum(r["arr"] for r in grid.values()) + unscored["arr"]
    assert f"{charts.format_money(total_arr)} ARR = the nine cells + " \
           f"{charts.format_count(unscored['accounts'])} unscored" in caption
    for cell in ninebox.CELL_IDS:
        at.selectbox(key="ninebox_cell").set_value(cell).run()
        tiles = {m.label: m.value for m in at.metric}
        row = grid[cell]
        assert tiles["Accounts"] == charts.format_count(row["accounts"]), cell
        assert tiles["ARR"] == charts.format_money(row["arr"]), cell
        assert tiles["Share of ARR"] == charts.format_percent(row["arr_share"]), cell
