"""Churn reasons page through AppTest on the hand-made churn book (tests_support/churn_book.py)."""

from __future__ import annotations

import pytest

from tests_support.churn_book import SCRIPT_NOTE, build_churn_book
from tests_support.links import link_names
from tests_support.apptest import assert_clean as _clean

PAGE = "pages/churn_reasons.py"


@pytest.fixture(scope="module")
def churn_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("churn_app") / "churn.duckdb"
    build_churn_book(path)
    return path


@pytest.fixture
def churn_app(app_on, churn_db, tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHGRID_APP_DB", str(tmp_path / "store.sqlite"))

    def make(db=None, **params):
        at = app_on(db or churn_db, **params)
        at.switch_page(PAGE)
        return at.run()

    return make


def _tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _frame_with(at, column: str):
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_page_shows_hand_computed_numbers(churn_app):
    at = churn_app()
    _clean(at)
    assert at.title[0].value == "Churn reasons · Jul 2025 – Jun 2026"  # trailing 12 months to Jun 2026
    tiles = _tiles(at)
    assert tiles["Churned accounts"] == "6"
    assert tiles["Churned ARR"] == "$258K"
    assert tiles["Avoidable share of ARR"] == "60.5%"  # 156,000 / 258,000
    assert tiles["Churned in onboarding"] == "2"
    assert tiles["No reason logged"] == "1"
    assert tiles["Unclassified reason"] == "1"
    assert tiles["Reason match rate"] == "83.3%"  # 5 of 6 churns: c5 has no log within 60 days
    assert tiles["Reason match rate (ARR)"] == "86.0%"  # 222,000 / 258,000
    assert any("within 60 days of it (a company setting)" in c.value for c in at.caption)  # no setting name on screen
    reasons = at.dataframe[0].value
    assert list(reasons["label"])[:2] == ["Switched to a competitor", "Went out of business or was acquired"]
    assert list(reasons["churned_arr"])[:2] == [120_000.0, 60_000.0]
    assert reasons["arr_share"].sum() == pytest.approx(1.0)
    assert len(at.get("vega_lite_chart")) == 4  # reasons, trend, health before churn, flags by owner
    assert at.expander[0].label == "Churn reasons that matched no churn · 2"  # L03 (61 days), L05 (beaten)
    unmatched = _frame_with(at, "days_from_nearest_churn")
    assert list(zip(link_names(unmatched["name"]), unmatched["nearest_churn_month"], unmatched["days_from_nearest_churn"])) == [
        ("Echo Legal", "2026-05", 61), ("Delta Freight", "2026-04", 7)]
    assert any("1 more than 60 days from the account's nearest churn" in c.value
               and "1 within the window but beaten by a nearer entry, 0 for accounts that never churned" in c.value
               for c in at.caption)
    assert "Reason taxonomy · 1 unclassified logs" in [e.label for e in at.expander]  # the sidebar has its own


def test_period_and_filters_change_the_numbers(churn_app):
    at = churn_app(month="2026-04")
    at.radio(key="churn_reasons_period").set_value("month").run()
    _clean(at)
    assert at.title[0].value == "Churn reasons · Apr 2026"
    assert _tiles(at)["Churned ARR"] == "$186K"  # c1 120,000 + c4 60,000 + c6 6,000
    at.multiselect(key="hg_filter_segment").set_value(["smb"]).run()
    _clean(at)
    assert _tiles(at)["Churned ARR"] == "$6.0K"
    assert _tiles(at)["Reason match rate"] == "100.0%"  # c6: 'Mystery Code' counts as a matched reason
    at.selectbox(key="churn_reasons_by").set_value("contract_stage").run()
    _clean(at)
    by_stage = at.dataframe[3].value  # reason, category, avoidable, then the chosen dimension
    assert list(by_stage["label"]) == ["At or before first renewal"]  # c6
    assert list(by_stage["churned_arr"]) == [6_000.0]
    at.radio(key="churn_reasons_trend_measure").set_value("churned_accounts").run()
    _clean(at)
    assert len(at.get("vega_lite_chart")) == 3  # no flag for SMB in April: no owner chart
    assert any("No red-light flag" in i.value for i in at.info)


def test_month_without_churn_still_shows_flags_and_notes(churn_app):
    at = churn_app()
    at.radio(key="churn_reasons_period").set_value("month").run()
    _clean(at)
    assert any("No churn in this period" in i.value for i in at.info)
    tiles = _tiles(at)
    assert tiles["Open flags"] == "1" and tiles["Resolved flags"] == "1"  # nps detractor; complaint
    flags = _frame_with(at, "owner_department")
    assert list(flags["flag_label"]) == ["NPS detractor among key users", "Complaint ticket"]
    assert list(flags["age_days"]) == [20, 29]


def test_notes_with_html_render_as_plain_text(churn_app):
    at = churn_app()
    at.text_input(key="churn_reasons_search").set_value("<SCRIPT>").run()
    _clean(at)
    notes = _frame_with(at, "kind")
    assert list(notes["note"]) == [SCRIPT_NOTE]  # the literal text, in a dataframe cell
    # the only st.html elements are the layout's own style rules (ui.tiles), never data text
    bodies = [h.proto.body for h in at.get("html")]
    assert all(b.startswith("<style>") and b.endswith("</style>") and "script" not in b.lower() for b in bodies)
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("<script>" in text or "<b>" in text for text in rendered)


def test_search_wildcards_are_literal(churn_app):
    at = churn_app()
    at.text_input(key="churn_reasons_search").set_value("100%").run()
    notes = _frame_with(at, "kind")
    assert list(notes["note"]) == ["Quarterly review 100% done"]
    at.text_input(key="churn_reasons_search").set_value("_").run()
    assert _frame_with(at, "kind").empty


def test_page_renders_on_the_small_demo(churn_app, small_demo_db):
    at = churn_app(db=small_demo_db)
    _clean(at)
    assert int(_tiles(at)["Churned accounts"]) > 0
    for key, value in (("churn_reasons_period", "quarter"), ("churn_reasons_period", "month")):
        at.radio(key=key).set_value(value).run()
        _clean(at)


def test_no_churn_shows_na_match_rate(churn_app):
    at = churn_app(month="2026-02")
    at.radio(key="churn_reasons_period").set_value("month").run()
    _clean(at)
    tiles = _tiles(at)
    assert tiles["Churned accounts"] == "0"
    assert tiles["Reason match rate"] == tiles["Reason match rate (ARR)"] == "–"  # n/a, not 0%


def test_derived_renewals_are_named_on_the_page(churn_app, churn_db, tmp_path):
    import duckdb

    from cslib.store.renewals import write_renewals_source

    db = tmp_path / "derived.duckdb"
    db.write_bytes(churn_db.read_bytes())
    with duckdb.connect(str(db)) as conn:
        write_renewals_source(conn, "derived", 12)
    at = churn_app(db)
    _clean(at)
    assert any("Renewals are derived from revenue (12-month terms" in c.value for c in at.caption)
    plain = churn_app()
    assert not any("Renewals are derived" in c.value for c in plain.caption)


@pytest.mark.parametrize("month", ["2026-05", "2026-04"])
def test_the_tiles_are_what_report_churn_reasons_prints(churn_app, churn_db, month):
    """Every tile of the page (default period: the 12 months ending with the month) is a
    number of `report churn-reasons` for the same period: its summary and match-rate rows,
    formatted as the page formats them."""
    import json

    from cslib.charts import common as charts
    from cslib.views import churn
    from cslib.filters import Filters
    from cslib.cli.reports import ReportArgs, render_report

    at = churn_app(month=month)
    _clean(at)
    from cslib.store import db

    conn = db.connect(churn_db)
    try:
        months = tuple(db.query(conn, "select distinct month from account_month order by 1")["month"])
    finally:
        conn.close()
    month_from, month_to = churn.period_bounds("t12m", month, months)
    payload = json.loads(render_report("churn-reasons", churn_db, ReportArgs(
        month=None, filters=Filters(), month_from=month_from, month_to=month_to), "json"))
    summary, match = payload["summary"][0], payload["match_rate"][0]
    printed = {
        "Churned accounts": charts.format_count(summary["churned_accounts"]),
        "Churned ARR": charts.format_money(summary["churned_arr"]),
        "Reason match rate": charts.format_percent(match["match_rate"]),
        "Reason match rate (ARR)": charts.format_percent(match["arr_match_rate"]),
        "Avoidable share of ARR": charts.format_percent(summary["avoidable_arr_share"]),
        "Churned in onboarding": charts.format_count(summary["onboarding_accounts"]),
        "No reason logged": charts.format_count(summary["no_reason_accounts"]),
        "Unclassified reason": charts.format_count(summary["unclassified_accounts"]),
    }
    shown = _tiles(at)
    assert {label: shown.get(label) for label in printed} == printed  # (the flag tiles are the flags table's)
