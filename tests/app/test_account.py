"""Account page through AppTest on the tiny hand-made book (tests_support/book.py).

March 2026: a3 Cedar Foods, 1,000 MRR -> $12.0K ARR, score 1 (unhealthy), low value,
renewal due 31 Mar 2026 with no order (overdue); a1 Acme Works, $120K, score 96, high
value, healthy; a2 Birch Retail renewed on 25 Mar (upcoming in February).
"""

from __future__ import annotations

import pytest

from tests_support.book import build_tiny_book
from tests_support.apptest import assert_clean as _assert_clean

PAGE = "pages/account.py"
HOSTILE = "<script>alert('x')</script> **not bold** ![img](https://example.com/i.png)"


@pytest.fixture
def open_account(tiny_db, app_on, monkeypatch, tmp_path):
    """open_account(**query_params) -> AppTest on the Account page, with its own app store."""

    def make(db=None, **params):
        monkeypatch.setenv("HEALTHGRID_APP_DB", str(tmp_path / "app.sqlite"))
        at = app_on(db or tiny_db, **params)
        at.switch_page(PAGE).run()
        _assert_clean(at)
        return at

    return make


def _tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_header_tiles_of_an_overdue_account(open_account):
    at = open_account(id="a3", month="2026-03")
    assert at.title[0].value == "Cedar Foods"
    assert _tiles(at) == {"ARR · Mar 2026": "$12.0K", "Health · Unhealthy": "1", "Value tier": "Low",
                          "Overdue since 31 Mar 2026": "n/a"}
    assert at.text[0].value.startswith("a3 · SMB · Retail")
    assert "Playbook · Low value · Unhealthy" in [s.value for s in at.subheader]


def test_a_healthy_account_and_the_month_in_the_url(open_account):
    at = open_account(id="a1", month="2026-03")
    tiles = _tiles(at)
    assert (tiles["ARR · Mar 2026"], tiles["Health · Healthy"], tiles["Value tier"]) == ("$120K", "96", "High")
    assert tiles["Next renewal"] == "None due"  # renewed on 10 Mar
    feb = open_account(id="a2", month="2026-02")
    assert _tiles(feb)["Renewal 20 Mar 2026"] == "n/a"  # too small a book for a model
    assert (feb.query_params["id"], feb.query_params["month"]) == ("a2", "2026-02")


def test_unknown_id_says_so_and_offers_the_search(open_account):
    at = open_account(id="nobody", month="2026-03")
    assert "No account with this id in your book" in at.warning[0].value
    assert at.text_input(key="account_search") is not None


def test_search_opens_the_account(open_account):
    at = open_account(month="2026-03")
    assert at.title[0].value == "Account"
    at.text_input(key="account_search").input("ben").run()
    pick = at.selectbox(key="account_pick")
    assert pick.options == ["Birch Retail · Mid-market · $48.0K ARR", "Cedar Foods · SMB · $12.0K ARR"]
    pick.set_value("a2").run()
    _assert_clean(at)
    assert at.query_params["id"] == "a2"
    assert at.title[0].value == "Birch Retail"


def test_a_note_is_kept_as_plain_text_and_survives_a_reimport(open_account, tiny_db, tmp_path):
    db = tmp_path / "book.duckdb"
    build_tiny_book(db)
    at = open_account(db=db, id="a3", month="2026-03")
    at.text_input(key="account_note_name").input("Kim")
    at.button[[b.label for b in at.button].index("Continue")].click().run()
    _assert_clean(at)
    at.selectbox(key="account_note_kind").set_value("call")
    at.text_area(key="account_note_body").set_value(HOSTILE)
    at.button[[b.label for b in at.button].index("Save note")].click().run()
    _assert_clean(at)
    assert [s.value for s in at.success] == ["Note saved."]
    timeline = at.dataframe[-1].value
    first = timeline.iloc[0]
    assert (first["what"], first["who"], first["note"]) == ("Call · added here", "Kim (unverified)", HOSTILE)
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("<script>" in v or "example.com" in v for v in rendered)

    build_tiny_book(db)  # a re-import replaces the database file; the app store stays
    again = open_account(db=db, id="a3", month="2026-03")
    assert HOSTILE in again.dataframe[-1].value["note"].tolist()
    other = open_account(db=db, id="a2", month="2026-03")
    assert "No CSM logs, customer events or notes up to this month." in [c.value for c in other.caption]


def test_page_tiles_match_the_account_report(open_account, tiny_db):
    import json

    from cslib.charts import common as charts
    from cslib.filters import Filters
    from cslib.cli.reports import ReportArgs, render_report

    report = json.loads(render_report("account", tiny_db, ReportArgs(month="2026-03", filters=Filters(),
                                                                     account_id="a2"), "json"))
    head = report["header"][0]
    at = open_account(id="a2", month="2026-03")
    tiles = _tiles(at)
    assert tiles["ARR · Mar 2026"] == charts.format_money(head["arr"]) == "$48.0K"
    assert tiles["Health · At risk"] == f"{head['health_score']:.0f}" == "35"
    assert tiles["Value tier"] == "Mid" and head["value_tier"] == "mid"
