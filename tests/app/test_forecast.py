"""Renewal forecast page through AppTest on the small demo (month 2026-10): the tiles equal
``report forecast``, the breakdown by CSM, a CSM's call is saved with its author,
moves the scenarios and survives a re-import, and the backtest's error is on the page."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from cslib.store import appstore
from cslib.charts import common as charts
from cslib.views import forecast
from cslib.filters import Filters
from cslib.cli.reports import ReportArgs, render_report
from tests_support.book import build_small_demo

PAGE = "pages/forecast.py"
MONTH = "2026-10"


@pytest.fixture
def demo_copy(small_demo_db, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(small_demo_db, path)
    return path


@pytest.fixture
def open_forecast(demo_copy, app_on, monkeypatch, tmp_path):
    store = tmp_path / "app.sqlite"

    def make(**params):
        monkeypatch.setenv("HEALTHGRID_APP_DB", str(store))
        at = app_on(demo_copy, month=MONTH, **params)
        at.switch_page(PAGE).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    make.store = store
    make.db = demo_copy
    return make


def _tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _report(db) -> dict:
    return json.loads(render_report("forecast", db, ReportArgs(month=MONTH, filters=Filters()), "json"))


def test_tiles_equal_the_report_and_the_breakdown_by_csm(open_forecast):
    at = open_forecast()
    assert at.title[0].value == "Renewal forecast · Oct 2026"
    now = _report(open_forecast.db)["next_quarter"][0]
    assert now["quarter"] == "2026-Q4"
    assert _tiles(at) == {
        "ARR due · 2026-Q4": charts.format_money(now["due_arr"]),
        "Expected renewed ARR": charts.format_money(now["expected_arr"]),
        "Expected range": f"{charts.format_money(now['expected_low_arr'])}–{charts.format_money(now['expected_high_arr'])}",
        "Commit": "$0",
        "Commit + probable": "$0",
    }
    assert not any("group" in df.value.columns for df in at.dataframe)  # quarters only at first
    at.selectbox(key="forecast_by").set_value("csm").run()  # bound to the URL (bind="query-params")
    table = next(df.value for df in at.dataframe if "group" in df.value.columns)
    with duckdb.connect(str(open_forecast.db), read_only=True) as conn:
        csms = {r[0] for r in conn.execute(
            "select distinct csm from model_renewal_features where is_target and due_on > '2026-10-31' "
            "and due_on <= '2026-12-31'").fetchall()}
    assert set(table[table["quarter"] == "2026-Q4"]["group"]) == csms


def test_a_call_is_saved_with_its_author_moves_the_scenarios_and_survives_a_reimport(open_forecast):
    at = open_forecast()
    at.text_input(key="forecast_name").input("Kim")
    at.button[[b.label for b in at.button].index("Continue")].click().run()
    renewal = at.selectbox(key="forecast_renewal")
    with duckdb.connect(str(open_forecast.db), read_only=True) as conn:
        first = conn.execute(
            "select account_id, due_on::varchar, due_arr from model_renewal_features where is_target "
            "and due_on > '2026-10-31' and due_on <= '2026-12-31' order by due_on, account_id limit 1").fetchone()
    key = f"{first[0]}|{first[1]}"
    renewal.set_value(key)
    at.selectbox(key="forecast_call").set_value("commit")
    at.text_area(key="forecast_note").set_value("PO signed")
    at.button[[b.label for b in at.button].index("Save the call")].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == ["Call saved."]
    assert _tiles(at)["Commit"] == charts.format_money(first[2])
    assert _tiles(at)["Commit + probable"] == charts.format_money(first[2])
    calls = appstore.AppStore(open_forecast.store).renewal_calls()
    assert calls[["account_id", "due_on", "call", "note", "updated_by"]].values.tolist() == [
        [first[0], first[1], "commit", "PO signed", "Kim (unverified)"]]

    build_small_demo(open_forecast.db)  # a re-import replaces the analytics file
    again = open_forecast()
    assert _tiles(again)["Commit"] == charts.format_money(first[2])
    listed = next(df.value for df in again.dataframe if "call_label" in df.value.columns)
    row = listed[listed["call_label"] == "Commit"]
    assert len(row) == 1 and row["note"].iloc[0] == "PO signed"
    assert _report(open_forecast.db)["next_quarter"][0]["commit_arr"] == pytest.approx(first[2])


def test_the_backtest_runs_behind_a_button_and_shows_its_error(open_forecast):
    at = open_forecast()
    assert "Mean absolute error" not in _tiles(at)
    at.button(key="forecast_backtest_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with duckdb.connect(str(open_forecast.db), read_only=True) as conn:
        mae = forecast.backtest(conn, Filters(), MONTH)["mae"].iloc[0]
    assert _tiles(at)["Mean absolute error"] == charts.format_money(mae["mae_arr"])
    quarters = next(df.value for df in at.dataframe if "abs_error_arr" in df.value.columns)
    assert list(quarters["quarter"]) == forecast.past_quarters(MONTH)
