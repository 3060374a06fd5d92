"""Renewal features, scorecard what-if and score calibration on real pipelines: the tiny
hand-made book (tests_support/book.py) and the small demo (tests/conftest.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pandas as pd
import pytest

from cslib.store import db
from cslib.model import renewal_fit
from cslib.views import renewal_model, whatif
from cslib.filters import Filters
from cslib.cli.reports import ReportArgs, render_report
from cslib.rules.scorecard import load_scorecard
from tests_support.book import build_tiny_book
from tests_support.model_book import build_model_demo


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny_model") / "tiny.duckdb"
    build_tiny_book(path)
    conn = db.connect(path)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def model_demo_path(tmp_path_factory):
    """400 accounts x 24 months: enough decided renewals for the model and stable bands."""
    path = tmp_path_factory.mktemp("model_demo") / "demo.duckdb"
    build_model_demo(path)
    return path


@pytest.fixture(scope="module")
def model_demo(model_demo_path):
    conn = db.connect(model_demo_path)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def demo(small_demo_db):
    conn = db.connect(small_demo_db)
    yield conn
    conn.close()


def _digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


# --------------------------------------------------------------------------- features
def test_features_of_the_tiny_book_by_hand(tiny):
    f = renewal_model.renewal_features(tiny, Filters(include_non_target=True)).set_index("account_id")
    a1 = f.loc["a1"]
    # due 2026-03-15: cut-off 2026-03-01; the last week ending before it starts 2026-02-16;
    # the 13-week window starts 2025-11-24; usage from 2025-12-29: 8 weeks, the first
    # unscored (1 week in its window < min 2): 13 - 7 = 6 weeks unscored
    assert a1["cutoff_on"] == pd.Timestamp("2026-03-01")
    assert (a1["first_week_on"], a1["last_week_on"]) == (pd.Timestamp("2025-11-24"), pd.Timestamp("2026-02-16"))
    assert a1["weeks_with_data"] == 8 and a1["weeks_unscored"] == 6
    assert (a1["score_mean"], a1["score_last"], a1["score_slope"]) == (96.0, 96.0, 0.0)
    assert (a1["login_rate_points_mean"], a1["modules_points_last"]) == (20.0, 26.0)
    assert a1["month_end_score"] == 96.0 and a1["month_end_tier"] == "healthy"
    assert a1["activation_rate_value_mean"] == pytest.approx(0.9)
    assert (a1["is_decided"], a1["is_renewed"], a1["is_renewed_on_time"]) == (True, True, True)
    a2, a3 = f.loc["a2"], f.loc["a3"]
    assert a2["score_mean"] == 35.0 and (a2["is_renewed"], a2["is_renewed_on_time"]) == (True, False)
    assert (a3["outcome"], a3["is_decided"], a3["is_renewed"]) == ("deferred", True, False)
    assert "a4" not in renewal_model.renewal_features(tiny).set_index("account_id").index  # non-target


def test_features_only_use_weeks_strictly_before_the_due_date(demo):
    f = renewal_model.renewal_features(demo, Filters(include_non_target=True))
    used = f.dropna(subset=["last_feature_week_on"])
    assert len(used) > 100
    last_day = pd.to_datetime(used["last_feature_week_on"]) + pd.Timedelta(days=6)
    assert (last_day < used["cutoff_on"]).all()
    assert (used["cutoff_on"] <= used["due_on"]).all()
    assert (pd.to_datetime(used["last_week_on"]) - pd.to_datetime(used["first_week_on"])).eq(pd.Timedelta(weeks=12)).all()


def test_model_on_the_demo_splits_by_time(model_demo):
    bundle = renewal_fit.model_bundle(model_demo)
    assert bundle.train_last_due_on < bundle.test_first_due_on
    p = bundle.predictions
    assert p.loc[p["is_train"], "due_on"].max() < p.loc[p["is_test"], "due_on"].min()
    assert p[["p_boosted", "p_logistic"]].stack().between(0, 1).all()
    assert bundle.metrics["auc"].gt(0.7).all()
    assert bundle.n_train > 200 and bundle.n_test > 60


def test_report_model_prints_metrics_and_calibration(model_demo_path):
    payload = json.loads(render_report("model", model_demo_path, ReportArgs(month=None, filters=Filters()), "json"))
    assert [m["model"] for m in payload["metrics"]] == ["boosted", "logistic"]
    assert all(0.5 < m["auc"] <= 1 and 0 <= m["brier"] < m["brier_constant"] for m in payload["metrics"])
    assert payload["metrics"][0]["boosted_beats_baseline"] in (True, False)
    assert sum(b["n"] for b in payload["calibration"] if b["model"] == "boosted") == payload["metrics"][0]["n_test"]


def test_score_band_renewal_rates_rise_with_the_band(model_demo):
    bands = renewal_model.score_band_table(model_demo, Filters(), coarse=True).set_index("band")
    rates = [bands.loc[b, "renewal_rate"] for b in ("<30", "30-70", ">=70")]
    assert rates == sorted(rates) and rates[0] < rates[-1]
    assert bands["renewals"].min() >= 100


# --------------------------------------------------------------------------- what-if
def test_database_scorecard_is_the_default_one(demo):
    assert whatif.current_scorecard(demo) == load_scorecard()


def test_unchanged_scorecard_reproduces_the_stored_scores_exactly(demo, small_demo_db):
    before = _digest(small_demo_db)
    sc = whatif.current_scorecard(demo)
    mem = whatif.rescore_book(demo, sc, Filters())
    try:
        new = mem.execute("select * from health_weekly order by account_id, week_start").df()
        old = mem.execute(
            "select h.* from src.health_weekly as h semi join whatif_accounts as a using (account_id) "
            "order by account_id, week_start"
        ).df()
    finally:
        mem.close()
    assert len(new) > 1000
    pd.testing.assert_frame_equal(new, old)
    result = whatif.run_whatif(demo, sc, Filters(), "2026-10")
    acc = result["accounts"]
    assert (acc["tier_before"] == acc["tier_after"]).all()
    assert acc["score_before"].equals(acc["score_after"])
    assert (result["tiers"]["accounts_change"] == 0).all()
    assert (result["ninebox"]["change"] == 0).all()
    bt = result["backtest"].set_index(["version", "tier"])
    assert bt.loc[("before", "all"), "auc"] == bt.loc[("after", "all"), "auc"]
    rates = result["rates"].iloc[0]
    assert rates["health_rate_before"] == rates["health_rate_after"]
    assert _digest(small_demo_db) == before  # the app's file is never written


def test_stricter_threshold_moves_accounts_out_of_healthy(demo):
    sc = dataclasses.replace(whatif.current_scorecard(demo), healthy_min=90.0)
    result = whatif.run_whatif(demo, sc, Filters(segment=("smb",)), "2026-10")
    tiers = result["tiers"].set_index("tier")
    assert tiers.loc["healthy", "accounts_after"] < tiers.loc["healthy", "accounts_before"]
    assert tiers["accounts_before"].sum() == tiers["accounts_after"].sum() == len(result["accounts"])
    assert tiers.loc["unhealthy", "accounts_change"] == 0  # only the healthy line moved
    assert result["ninebox"]["before"].sum() == len(result["accounts"])
    acc = result["accounts"]
    assert (acc["score_after"] == acc["score_before"]).all()  # same scores, new tiers


def test_edited_scorecard_exports_as_toml_the_cli_reads(demo, tmp_path):
    sc = whatif.scorecard_with(
        whatif.current_scorecard(demo),
        window_weeks=8,
        min_weeks=3,
        ratio_bands=whatif.bands_frame(load_scorecard()).assign(points=lambda d: d["points"] * 0.5),
    )
    path = tmp_path / "edited.toml"
    path.write_text(sc.to_toml())
    assert load_scorecard(path) == sc
    assert sc.max_points() == 30 + (15 + 20 + 20 + 15) * 0.5
