"""Every reader of the per-indicator health explanation works for a scorecard's own
indicators (tests_support/indicator_book.py: 'modules' + 'weekly_active_share'): the
renewal model's features, the indicator bands, the nine-box's weakest indicator and
the alerts' driver, with exact values and the scorecard's label."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cslib.views import alerts
from cslib.store import db
from cslib.views import ninebox
from bench import pandas_reference
from cslib.views import renewal_model
from cslib.filters import Filters
from tests_support.indicator_book import apply_indicators, build_indicator_book

ALL = Filters(include_non_target=True)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("indicator_book") / "book.duckdb"
    build_indicator_book(path)
    return path


@pytest.fixture(scope="module")
def conn(book):
    c = db.connect(book)
    yield c
    c.close()


def test_renewal_features_are_those_of_the_scorecards_indicators(conn):
    features = renewal_model.renewal_features(conn, ALL).set_index("account_id")
    share = [renewal_model.indicator_feature("weekly_active_share", s) for s in renewal_model.STATS]
    modules = [renewal_model.indicator_feature("modules", s) for s in renewal_model.STATS]
    assert not [c for c in features.columns if c.startswith(("login_rate", "instance_ratio", "bi_rate"))]
    c3, c2 = features.loc["c3"], features.loc["c2"]
    # c3: weeks 2026-01-05 .. 01-19 (week_index 10, 11, 12), share points 10, 20, 30
    assert [c3[c] for c in share] == [pytest.approx(20.0), 30.0, pytest.approx(10.0)]
    assert c3["weekly_active_share_value_mean"] == pytest.approx(0.2)
    assert [c3[c] for c in modules] == [30.0, 30.0, 0.0]
    assert c3["modules_value_mean"] == 6.0
    assert c3["score_mean"] == pytest.approx(50.0) and c3["score_slope"] == pytest.approx(10.0)
    # c2: weeks 2026-01-05 .. 02-16, share 70 flat
    assert [c2[c] for c in share] == [70.0, 70.0, 0.0]
    assert c2["weekly_active_share_value_mean"] == pytest.approx(0.9)
    long = db.query(conn, "select indicator, ordinal from model_renewal_indicator_features "
                          "where account_id = 'c3' order by ordinal")
    assert long.values.tolist() == [["modules", 0], ["weekly_active_share", 1]]


def test_the_feature_set_and_its_labels_follow_the_scorecard(conn):
    features = renewal_model.renewal_features(conn, ALL)
    fs = renewal_model.feature_set(conn, features)
    assert fs.indicators == (("modules", "Modules"), ("weekly_active_share", "Weekly active share"))
    assert fs.numeric == (
        "score_mean", "score_last", "score_slope",
        "modules_points_mean", "modules_points_last", "modules_points_slope",
        "weekly_active_share_points_mean", "weekly_active_share_points_last", "weekly_active_share_points_slope",
        "weeks_unscored", "tenure_months",
    )
    assert fs.segments == ("smb",)  # the segments of the renewals (c1, enterprise, has none)
    assert fs.label("weekly_active_share_points_slope") == "Weekly active share (slope)"
    assert fs.label("modules_points_last") == "Modules (last)"


def test_indicator_bands_use_the_scorecards_bands_and_labels(conn):
    bands, effects = renewal_model.indicator_tables(conn, ALL)
    every = bands[bands["segment"] == "all"]
    got = {(r.indicator, r.band): (r.label, r.band_label, r.points, r.renewals, r.renewed) for r in every.itertuples()}
    assert got == {
        # c3 (renewed): share mean 0.2 -> band 0; c2 (deferred: not renewed): 0.9 -> band 2
        ("weekly_active_share", 0): ("Weekly active share", "0–0.5", 0.0, 1, 1),
        ("weekly_active_share", 2): ("Weekly active share", "≥ 0.8", 70.0, 1, 0),
        # modules have no value bands: their points mean, at 0 / 10 / 20 of 30
        ("modules", 2): ("Modules (points)", "≥ 20", 20.0, 2, 1),
    }
    assert bands["indicator"].drop_duplicates().tolist() == ["modules", "weekly_active_share"]  # scorecard order
    assert set(bands["segment_label"]) == {"All", "SMB"}
    share = effects.set_index(["indicator", "segment"]).loc[("weekly_active_share", "all")]
    assert (share["top_band"], share["top_rate"], share["bottom_band"], share["bottom_rate"]) == (
        "≥ 0.8", 0.0, "0–0.5", 1.0)
    assert share["difference"] == -1.0


def test_the_pandas_reference_bands_any_indicator_set_like_the_sql(conn):
    for filters in (ALL, Filters(include_non_target=True, segment=("smb",)), Filters(segment=("none",))):
        sql_bands, sql_effects = renewal_model.indicator_tables(conn, filters)
        frame = db.query(conn, f"select {', '.join(pandas_reference.renewal_columns())} from model_renewal_features")
        long = db.query(conn, f"select {', '.join(pandas_reference.RENEWAL_INDICATOR_COLUMNS)} "
                              "from model_renewal_indicator_features")
        ref_bands, ref_effects = pandas_reference.renewal_indicator_tables(
            frame, long, filters, renewal_model.scorecard_bands(conn))
        pd.testing.assert_frame_equal(ref_bands, sql_bands, check_dtype=False, check_index_type=False)
        pd.testing.assert_frame_equal(ref_effects, sql_effects, check_dtype=False, check_index_type=False)


def test_importance_sums_per_scorecard_indicator():
    importance = pd.DataFrame({
        "segment": ["all"] * 5,
        "feature": ["weekly_active_share_points_mean", "weekly_active_share_points_slope", "modules_points_last",
                    "score_mean", "tenure_months"],
        "importance": [0.01, 0.02, 0.005, 0.3, 0.1],
    })
    effects = pd.DataFrame({"indicator": ["weekly_active_share", "modules"], "segment": ["all", "all"]})
    out = renewal_model.with_importance(effects, importance)
    assert out["permutation_importance"].tolist() == [pytest.approx(0.03), 0.005]


def test_the_weakest_indicator_is_the_scorecards(book, conn):
    tiers = db.query(conn, "select health_tier, value_tier from ninebox_account_month "
                           "where account_id = 'c1' and month = '2026-03'").iloc[0]
    df = ninebox.cell_accounts(conn, ALL, "2026-03", tiers["health_tier"], tiers["value_tier"])
    c1 = df.set_index("account_id").loc["c1"]
    # month-end week 2026-03-30: modules 30 of 30, share 40 of 70
    assert (c1["weakest_indicator"], c1["weakest_indicator_label"], c1["weakest_gap_points"]) == (
        "weekly_active_share", "Weekly active share", 30.0)


def test_a_tie_goes_to_the_first_indicator_of_the_scorecard(tmp_path):
    path = tmp_path / "tie.duckdb"
    build_indicator_book(path)
    rw = db.connect(path, read_only=False)
    try:  # c1's month-end week: modules 0 of 30 and share 40 of 70, both 30 short
        # health_indicator_weekly is health_weekly unpivoted: 'modules' is ordinal 0
        rw.execute("update health_weekly set window_points_0 = 0 "
                   "where account_id = 'c1' and week_start = '2026-03-30'")
        tiers = rw.execute("select health_tier, value_tier from ninebox_account_month "
                           "where account_id = 'c1' and month = '2026-03'").fetchone()
        c1 = ninebox.cell_accounts(rw, ALL, "2026-03", *tiers).set_index("account_id").loc["c1"]
        assert (c1["weakest_indicator"], c1["weakest_indicator_label"], c1["weakest_gap_points"]) == (
            "modules", "Modules", 30.0)
        # relabel the indicator in the scorecard: the page shows the new label
        rw.execute("update cfg_indicators set label = 'Active users' where indicator = 'weekly_active_share'")
        rw.execute("update health_weekly set window_points_0 = 30 "
                   "where account_id = 'c1' and week_start = '2026-03-30'")
        c1 = ninebox.cell_accounts(rw, ALL, "2026-03", *tiers).set_index("account_id").loc["c1"]
        assert (c1["weakest_indicator_label"], c1["weakest_gap_points"]) == ("Active users", 30.0)
    finally:
        rw.close()


def test_the_alerts_name_the_scorecards_indicator(conn):
    drop = db.query(conn, "select * from health_alerts where account_id = 'c2' and rule = 'score_drop'")
    assert len(drop) == 1
    row = drop.iloc[0]
    assert str(pd.Timestamp(row["week_start"]).date()) == "2026-02-23"
    assert (row["prev_score"], row["score"], row["score_change"]) == (100.0, 50.0, -50.0)
    assert (row["driver_indicator"], row["driver_label"], row["driver_change"]) == (
        "weekly_active_share", "Weekly active share", -50.0)
    listed = alerts.month_alerts(conn, ALL, "2026-02")
    c2 = listed[(listed["account_id"] == "c2") & (listed["rule"] == "score_drop")].iloc[0]
    assert c2["indicator_changes"] == (("modules", "Modules", 0.0), ("weekly_active_share", "Weekly active share", -50.0))
    assert alerts.indicator_changes(c2)["label"].tolist() == ["Modules", "Weekly active share"]


def test_rebuilding_the_readers_is_idempotent(tmp_path):
    """apply_indicators rebuilds the readers from the tables it wrote: running it twice
    gives the same features (nothing in them depends on the demo's indicators)."""
    path = tmp_path / "twice.duckdb"
    build_indicator_book(path)
    rw = db.connect(path, read_only=False)
    try:
        before = rw.execute("select * from model_renewal_indicator_features order by all").df()
        apply_indicators(rw)
        after = rw.execute("select * from model_renewal_indicator_features order by all").df()
    finally:
        rw.close()
    pd.testing.assert_frame_equal(before, after)
    assert len(after) == 2 * 2 and np.isfinite(after["points_mean"]).all()  # c2, c3 x 2 indicators
