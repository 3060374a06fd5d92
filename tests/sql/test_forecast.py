"""Renewal forecast (cslib.views.forecast): quarters, expected ARR and its calibration range,
scenarios from stored calls, the gap rule and the report, on a hand-made book.

The book is tests_support/model_book.py (three accounts: c1 Cara / enterprise, c2 and c3
Dev / smb, team East; data to 2026-03) built through the real pipeline; its model cannot be
fitted (two renewals), so this test writes the renewals, their probabilities and the
calibration bins into a copy directly (a unit test of the arithmetic).

Month 2026-03: the forecast covers 2026-Q2 (from 2026-04-01), 2026-Q3, 2026-Q4, 2027-Q1.

====  ======  ==========  =======  ====  =========  ===================================
id    acct    due         ARR      p     call       calibration bin (renewed / n)
====  ======  ==========  =======  ====  =========  ===================================
r1    c1      2026-04-15  100,000  0.90  commit     0.9-1.0: 5 / 5   Wilson 0.565518..1
r2    c2      2026-06-30   20,000  0.30  commit     0.3-0.4: 1 / 4   Wilson 0.045587..0.699358
r3    c3      2026-07-01   10,000  0.85  lost       0.8-0.9: 8 / 10  Wilson 0.490162..0.943318
r4    c1      2027-03-31   50,000  0.55  probable   none: 0..1
r5    c2      2027-04-01    7,000  0.50  commit     (after 2027-Q1: not in the forecast)
r6    c3      2026-03-31    3,000  0.50  -          (due in the month: not in the forecast)
====  ======  ==========  =======  ====  =========  ===================================

Wilson 95% (z = 1.959964) of 5 / 5: low = 1 / (1 + z^2 / 5) = 0.5655175; of 8 / 10: centre
(0.8 + z^2/20) / (1 + z^2/10) = 0.716745, half-width 0.226576.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest

from cslib.store import appstore
from cslib.views import forecast
from cslib.filters import Filters
from cslib.cli.reports import ReportArgs, render_report
from tests_support.model_book import build_model_book

MONTH = "2026-03"
RENEWALS = [  # id, account, due_on, due_arr, p, call
    ("r1", "c1", "2026-04-15", 100_000.0, 0.90, "commit"),
    ("r2", "c2", "2026-06-30", 20_000.0, 0.30, "commit"),
    ("r3", "c3", "2026-07-01", 10_000.0, 0.85, "lost"),
    ("r4", "c1", "2027-03-31", 50_000.0, 0.55, "probable"),
    ("r5", "c2", "2027-04-01", 7_000.0, 0.50, "commit"),
    ("r6", "c3", "2026-03-31", 3_000.0, 0.50, None),
]
BINS = [(0.3, 0.4, 0.25, 4), (0.8, 0.9, 0.8, 10), (0.9, 1.0, 1.0, 5)]  # bin_low, bin_high, observed_rate, n
W55_LOW = 0.5655175313406071
W14 = (0.04558726029536886, 0.6993581599030918)
W810 = (0.4901624691221323, 0.9433178490622331)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("forecast") / "book.duckdb"
    build_model_book(path)
    with duckdb.connect(str(path)) as conn:
        conn.execute("delete from model_renewal_features")
        conn.execute("delete from model_renewal_predictions")
        conn.execute("delete from model_renewal_calibration")
        accounts = {r[0]: r for r in conn.execute(
            "select account_id, name, segment, csm, csm_team from raw_accounts").fetchall()}
        for _, account, due, arr, p, _ in RENEWALS:
            _, name, segment, csm, team = accounts[account]
            conn.execute(
                "insert into model_renewal_features (account_id, due_on, due_arr, outcome, is_decided, is_renewed, "
                "name, segment, csm, csm_team, is_target) values (?, ?, ?, 'pending', false, false, ?, ?, ?, ?, true)",
                [account, due, arr, name, segment, csm, team])
            conn.execute("insert into model_renewal_predictions (account_id, due_on, outcome, p_boosted, p_logistic) "
                         "values (?, ?, 'pending', ?, 0.5)", [account, due, p])
        for low, high, rate, n in BINS:
            conn.execute("insert into model_renewal_calibration values ('boosted', 'Gradient boosting', ?, ?, ?, ?, ?)",
                         [low, high, (low + high) / 2, rate, n])
            # the baseline's bins are not the forecast's
            conn.execute("insert into model_renewal_calibration values ('logistic', 'Logistic', ?, ?, ?, 0.0, 99)",
                         [low, high, (low + high) / 2])
    return path


@pytest.fixture
def calls(book, monkeypatch):
    monkeypatch.delenv("HEALTHGRID_APP_DB", raising=False)
    store = appstore.AppStore(appstore.default_path(book))
    if store.path.exists():
        store.path.unlink()
    for _, account, due, _, _, call in RENEWALS:
        if call:
            store.set_renewal_call(account, due, call, f"note on {account}", "Kim")
    yield store
    store.path.unlink()


def _frame(book, calls=None, filters=Filters()):
    with duckdb.connect(str(book), read_only=True) as conn:
        frame = forecast.renewals(conn, filters, MONTH)
    return forecast.with_calls(frame, calls.renewal_calls() if calls is not None else None)


def test_quarters_of_the_forecast_and_of_the_backtest():
    assert forecast.quarter_of(dt.date(2026, 11, 15)) == "2026-Q4"
    assert forecast.quarter_of("2027-03-31") == "2027-Q1"
    q = forecast.forecast_quarters("2026-10")
    assert list(q["quarter"]) == ["2026-Q4", "2027-Q1", "2027-Q2", "2027-Q3"]
    assert q["from_on"].iloc[0] == dt.date(2026, 11, 1) and q["end_on"].iloc[-1] == dt.date(2027, 9, 30)
    assert q["from_on"].iloc[1] == dt.date(2027, 1, 1)
    # a quarter's last month: the next quarter is the first
    assert list(forecast.forecast_quarters("2026-12")["quarter"]) == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    assert forecast.past_quarters("2026-10", 3) == ["2026-Q1", "2026-Q2", "2026-Q3"]
    assert forecast.past_quarters("2026-09", 2) == ["2026-Q2", "2026-Q3"]  # 2026-Q3 ended on 09-30


def test_renewals_are_assigned_to_the_quarter_of_their_due_date(book):
    frame = _frame(book)
    assert list(zip(frame["account_id"], frame["due_on"].astype(str), frame["quarter"])) == [
        ("c1", "2026-04-15", "2026-Q2"), ("c2", "2026-06-30", "2026-Q2"), ("c3", "2026-07-01", "2026-Q3"),
        ("c1", "2027-03-31", "2027-Q1"),
    ]  # r5 (after 2027-Q1) and r6 (due in the month itself) are left out


def test_expected_arr_and_its_range_per_quarter(book):
    table = forecast.quarter_table(_frame(book), MONTH).set_index("quarter")
    assert list(table.index) == ["2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"]
    assert list(table["renewals"]) == [2, 1, 0, 1]
    assert list(table["due_arr"]) == [120_000.0, 10_000.0, 0.0, 50_000.0]
    # 0.9 x 100,000 + 0.3 x 20,000; 0.85 x 10,000; 0.55 x 50,000
    assert table["expected_arr"].tolist() == pytest.approx([96_000.0, 8_500.0, 0.0, 27_500.0])
    assert table.loc["2026-Q2", "expected_low_arr"] == pytest.approx(W55_LOW * 100_000 + W14[0] * 20_000)  # 57,463.50
    assert table.loc["2026-Q2", "expected_high_arr"] == pytest.approx(100_000 + W14[1] * 20_000)  # 113,987.16
    assert table.loc["2026-Q3", ["expected_low_arr", "expected_high_arr"]].tolist() == pytest.approx(
        [4_901.624691, 9_433.178491])
    # r4's probability has no calibration bin: nothing observed, 0 .. 1
    assert table.loc["2027-Q1", ["expected_low_arr", "expected_high_arr"]].tolist() == [0.0, 50_000.0]
    assert table[["commit_arr", "commit_probable_arr"]].sum().tolist() == [0.0, 0.0]  # no calls yet
    assert table["no_call_arr"].tolist() == [120_000.0, 10_000.0, 0.0, 50_000.0]


def test_scenarios_come_from_the_stored_calls(book, calls):
    table = forecast.quarter_table(_frame(book, calls), MONTH).set_index("quarter")
    assert table["commit_arr"].tolist() == [120_000.0, 0.0, 0.0, 0.0]
    assert table["commit_probable_arr"].tolist() == [120_000.0, 0.0, 0.0, 50_000.0]
    assert table["lost_arr"].tolist() == [0.0, 10_000.0, 0.0, 0.0]
    assert table["no_call_arr"].sum() == 0.0
    by_csm = forecast.quarter_table(_frame(book, calls), MONTH, "csm")
    assert by_csm[["quarter", "group", "due_arr", "expected_arr", "commit_arr"]].values.tolist() == [
        ["2026-Q2", "Cara", 100_000.0, pytest.approx(90_000.0), 100_000.0],
        ["2026-Q2", "Dev", 20_000.0, pytest.approx(6_000.0), 20_000.0],
        ["2026-Q3", "Dev", 10_000.0, pytest.approx(8_500.0), 0.0],
        ["2027-Q1", "Cara", 50_000.0, pytest.approx(27_500.0), 0.0],
    ]
    by_segment = forecast.quarter_table(_frame(book, calls), MONTH, "segment")
    assert by_segment["group"].tolist() == ["Enterprise", "SMB", "SMB", "Enterprise"]
    sliced = forecast.quarter_table(_frame(book, calls, Filters(csm=("Dev",))), MONTH)
    assert sliced["due_arr"].tolist() == [20_000.0, 10_000.0, 0.0, 0.0]


def test_the_gap_lists_calls_the_model_contradicts_largest_arr_first(book, calls):
    gaps = forecast.gap(_frame(book, calls))
    # r2: commit at p 0.30 (< 0.5); r3: lost at p 0.85 (> 0.8); r1 (commit, 0.9) and r4 agree
    assert list(zip(gaps["account_id"], gaps["due_arr"], gaps["call"])) == [
        ("c2", 20_000.0, "commit"), ("c3", 10_000.0, "lost")]
    assert gaps["why"].tolist() == ["Called commit; the model gives under 50%",
                                    "Called lost; the model gives over 80%"]
    edge = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "due_on": [dt.date(2026, 5, 1)] * 4,
                         "due_arr": [1.0, 2.0, 3.0, 4.0], "p_renewal": [0.5, 0.8, 0.81, 0.49],
                         "call": ["commit", "at_risk", "at_risk", "probable"]})
    assert forecast.gap(edge)["account_id"].tolist() == ["c"]  # the thresholds are strict


def test_report_prints_the_quarters_with_calls_and_the_backtest(book, calls):
    out = json.loads(render_report("forecast", book, ReportArgs(month=MONTH, filters=Filters(), by="team"), "json"))
    assert out["month"] == MONTH
    q = {r["quarter"]: r for r in out["quarters"]}
    assert q["2026-Q2"]["expected_arr"] == 96_000.0 and q["2026-Q2"]["commit_arr"] == 120_000.0
    assert q["2026-Q2"]["expected_low_arr"] == pytest.approx(57_463.49834, abs=1e-5)
    assert q["2027-Q1"]["commit_probable_arr"] == 50_000.0
    assert [r["group"] for r in out["breakdown"]] == ["East", "East", "East"]
    assert out["next_quarter"][0]["quarter"] == "2026-Q2" and out["next_quarter"][0]["due_arr"] == 120_000.0
    # two renewals in the book's whole history: no past quarter has enough to fit on
    assert {r["quarter"] for r in out["backtest"]} == {"2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"}
    assert all(r["status"].startswith("fewer than 30") for r in out["backtest"])
    assert out["backtest_mae"] == [{"quarters": 0, "mae_arr": None, "team_mae_arr": None}]


def test_calls_are_kept_with_history_and_checked(tmp_path):
    store = appstore.AppStore(tmp_path / "s.sqlite")
    store.set_renewal_call("c1", dt.date(2026, 4, 15), "commit", "signed PO", appstore.Author.unverified("Kim"))
    store.set_renewal_call("c1", "2026-04-15", "at_risk", "", appstore.Author.from_login("dana@example.com", "Dana"))
    now = store.renewal_calls()
    assert now[["account_id", "due_on", "call", "note", "updated_by"]].values.tolist() == [
        ["c1", "2026-04-15", "at_risk", None, "Dana <dana@example.com>"]]
    history = store.renewal_call_history("c1")
    assert history["call"].tolist() == ["at_risk", "commit"]
    assert history["updated_by"].tolist() == ["Dana <dana@example.com>", "Kim (unverified)"]
    with pytest.raises(Exception, match="not one of"):
        store.set_renewal_call("c1", "2026-04-15", "maybe", None, "Kim")
    with pytest.raises(Exception, match="not a date"):
        store.set_renewal_call("c1", "April", "commit", None, "Kim")
