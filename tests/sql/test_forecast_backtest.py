"""The forecast's backtest on the small demo (150 accounts x 15 months to 2026-10): each past
quarter with enough data is forecast by a model fitted only on what was known at its start,
against the ARR kept, and the mean absolute error is the documented mean."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from cslib.views import forecast
from cslib.model import renewal_fit
from cslib.filters import Filters

MONTH = "2026-10"


@pytest.fixture(scope="module")
def tested(small_demo_db):
    fits = []
    original = renewal_fit.RenewalModel.fit

    def recording_fit(self, X, y):
        fits.append((X.copy(), np.asarray(y)))
        return original(self, X, y)

    renewal_fit.RenewalModel.fit = recording_fit
    try:
        with duckdb.connect(str(small_demo_db), read_only=True) as conn:
            result = forecast.backtest(conn, Filters(), MONTH)
    finally:
        renewal_fit.RenewalModel.fit = original
    return result, fits


def test_each_forecast_is_fitted_only_on_renewals_decided_before_its_quarter(tested):
    (result, fits) = tested
    quarters = result["quarters"]
    assert list(quarters["quarter"]) == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    ok = quarters[quarters["status"] == "ok"]
    # the small demo has 19 decided renewals before 2026 and 33 before 2026-Q2
    assert list(ok["quarter"]) == ["2026-Q2", "2026-Q3"]
    assert list(quarters.loc[quarters["status"] != "ok", "n_train"]) == [0, 0, 4, 19]
    assert len(fits) == len(ok)  # one model per quarter forecast, none for the skipped ones
    for (X, y), (_, row) in zip(fits, ok.iterrows()):
        start = pd.Timestamp(row["start_on"])
        assert len(X) == row["n_train"] >= forecast.BACKTEST_MIN_TRAIN and row["renewals"] >= forecast.BACKTEST_MIN_DUE
        assert X["due_on"].max() < start and X["is_decided"].all() and X["is_target"].all()
        # an order placed on or after the start was not known then: labelled not renewed
        assert not y[(X["renewed_on"] >= start).to_numpy()].any()
        assert set(y[(X["renewed_on"] < start).to_numpy() & (X["outcome"] == "renewed").to_numpy()]) <= {1}
        assert row["train_last_due_on"] < row["start_on"] and row["train_last_renewed_on"] < row["start_on"]
        assert X["cutoff_on"].max() < start  # every feature window ended before the quarter


def test_actual_is_the_arr_kept_and_the_mae_is_the_mean_absolute_error(tested, small_demo_db):
    result, _ = tested
    ok = result["quarters"][result["quarters"]["status"] == "ok"]
    with duckdb.connect(str(small_demo_db), read_only=True) as conn:
        for _, row in ok.iterrows():
            start, end = forecast._quarter_bounds(row["quarter"])
            kept, due = conn.execute(
                "select coalesce(sum(case when outcome = 'renewed' and renewed_on <= date '2026-10-31' "
                "then least(coalesce(renewed_arr, 0), due_arr) else 0 end), 0), sum(due_arr) "
                "from model_renewal_features where is_target and due_on between ? and ?", [start, end]).fetchone()
            assert row["actual_kept_arr"] == pytest.approx(kept) and row["due_arr"] == pytest.approx(due)
    assert list(ok["actual_kept_arr"]) == pytest.approx([4_794.12, 419_048.28])
    assert list(ok["abs_error_arr"]) == pytest.approx(list((ok["forecast_arr"] - ok["actual_kept_arr"]).abs()))
    teams = result["teams"]
    per_quarter = teams.groupby("quarter")[["forecast_arr", "actual_kept_arr", "renewals"]].sum()
    assert list(per_quarter["forecast_arr"]) == pytest.approx(list(ok["forecast_arr"]))
    assert list(per_quarter["renewals"]) == list(ok["renewals"])
    assert list(teams["abs_error_arr"]) == pytest.approx(list((teams["forecast_arr"] - teams["actual_kept_arr"]).abs()))
    mae = result["mae"].iloc[0]
    assert mae["quarters"] == 2
    assert mae["mae_arr"] == pytest.approx(ok["abs_error_arr"].mean())
    assert mae["team_mae_arr"] == pytest.approx(teams["abs_error_arr"].mean())
    assert list(ok["team_mae_arr"]) == pytest.approx(list(teams.groupby("quarter")["abs_error_arr"].mean()))
