"""Renewal model: sklearn estimator rules, the time split (no leakage), labels as of the
split date, statistics against hand-computed values, score bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from cslib.model import renewal_fit as fit
from bench import pandas_reference
from cslib.views import renewal_model as rm
from cslib.errors import UserError


#: the demo scorecard's indicators and segments
DEMO = rm.FeatureSet(
    (("modules", "Modules"), ("instance_ratio", "Instance ratio"), ("activation_rate", "Activation rate"),
     ("login_rate", "Login rate"), ("bi_rate", "BI usage rate")),
    rm.KNOWN_SEGMENTS,
)


def synthetic_book(n: int = 480, seed: int = 3, features: rm.FeatureSet = DEMO) -> pd.DataFrame:
    """Renewals due over 24 months whose odds rise with the health score."""
    rng = np.random.default_rng(seed)
    due = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    score = rng.uniform(0, 100, n)
    frame = pd.DataFrame({c: rng.normal(10, 3, n) for c in features.numeric})
    frame["score_mean"] = score
    frame["score_last"] = score + rng.normal(0, 5, n)
    frame["segment"] = rng.choice(features.segments, n)
    renewed = rng.random(n) < 1 / (1 + np.exp(-(score - 40) / 10))
    frame["account_id"] = [f"x{i:04d}" for i in range(n)]
    frame["due_on"] = due
    frame["outcome"] = np.where(renewed, "renewed", "churned")
    frame["renewed_on"] = pd.Series(due).where(renewed)
    frame["is_decided"] = True
    frame["is_target"] = True
    return frame.sort_values("due_on").reset_index(drop=True)


@pytest.fixture(scope="module")
def bundle():
    return fit.fit_models(synthetic_book(), test_share=0.25, random_state=0)


def test_estimator_follows_sklearn_rules():
    model = fit.RenewalModel(kind="logistic", C=0.5, random_state=4)
    assert model.get_params()["C"] == 0.5 and model.get_params()["random_state"] == 4
    assert clone(model).get_params() == model.get_params()
    book = synthetic_book(200)
    fitted = model.fit(book, fit.labels(book))
    assert fitted is model
    assert hasattr(model, "estimator_") and hasattr(model, "reference_")
    assert not hasattr(fit.RenewalModel(), "estimator_")  # learned state only after fit


def test_boosted_model_is_deterministic_with_its_random_state():
    book = synthetic_book(300)
    y = fit.labels(book)
    p1 = fit.RenewalModel(random_state=1).fit(book, y).predict_proba(book)[:, 1]
    p2 = fit.RenewalModel(random_state=1).fit(book, y).predict_proba(book)[:, 1]
    assert np.array_equal(p1, p2)


def test_time_split_has_no_leakage(bundle):
    assert bundle.train_last_due_on < bundle.split_on <= bundle.test_first_due_on
    preds = bundle.predictions
    assert preds.loc[preds["is_train"], "due_on"].max() < preds.loc[preds["is_test"], "due_on"].min()
    assert bundle.split_on.day == 1
    assert bundle.n_test == pytest.approx(0.25 * (bundle.n_train + bundle.n_test), abs=40)


def test_training_labels_are_known_as_of_the_split_date():
    rows = pd.DataFrame(
        {
            "due_on": pd.to_datetime(["2025-01-20", "2025-01-20", "2025-01-25", "2025-01-10"]),
            "renewed_on": pd.to_datetime(["2025-01-18", "2025-02-15", None, "2025-01-12"]),
            "outcome": ["renewed", "renewed", "churned", "renewed"],
        }
    )
    assert list(fit.labels(rows)) == [1, 1, 0, 1]
    # a renewal ordered after the split date was still deferred then
    assert list(fit.labels(rows, as_of=pd.Timestamp("2025-02-01"))) == [1, 0, 0, 1]
    assert list(fit.labels(rows, target="renewed_on_time")) == [1, 0, 0, 0]


def test_model_learns_the_signal(bundle):
    metrics = bundle.metrics.set_index("model")
    assert metrics.loc["boosted", "auc"] > 0.75
    assert metrics.loc["logistic", "auc"] > 0.75
    assert (metrics["brier"] < metrics["brier_constant"]).all()
    top = bundle.importance.query("segment == 'all'").nlargest(2, "importance")["feature"]
    assert set(top) & {"score_mean", "score_last"}


def test_calibration_bins_cover_the_test_set(bundle):
    for _, bins in bundle.calibration.groupby("model"):
        assert bins["n"].sum() == bundle.n_test
        assert bins["mean_predicted"].between(bins["bin_low"], bins["bin_high"]).all()


def test_drivers_are_probability_differences_against_the_median():
    book = synthetic_book(300)
    model = fit.RenewalModel(kind="logistic").fit(book, fit.labels(book))
    row = book.iloc[[7]]
    contrib = model.contributions(row)
    swapped = row.copy()
    swapped["score_mean"] = model.reference_["score_mean"]
    expected = model.predict_proba(row)[0, 1] - model.predict_proba(swapped)[0, 1]
    assert contrib["score_mean"].iloc[0] == pytest.approx(expected, abs=1e-12)
    assert model.reference_["score_mean"] == pytest.approx(book["score_mean"].median())


def test_boosted_drivers_by_tree_equal_the_full_predictions_bit_for_bit():
    """The boosted model re-evaluates only the trees that split on a feature: the same
    doubles as predicting every row with the feature at its reference, missing values,
    an unseen segment and a feature that is its reference included."""
    book = synthetic_book(600, seed=5)
    model = fit.RenewalModel(kind="boosted").fit(book, fit.labels(book))
    rows = synthetic_book(300, seed=9)
    first = DEMO.numeric[0]
    rows.loc[rows.index[::7], first] = np.nan  # missing values take the trees' missing branch
    rows.loc[rows.index[::11], "segment"] = "unheard_of"  # a segment the fit never saw
    rows.loc[rows.index[::5], "score_mean"] = model.reference_["score_mean"]  # a zero contribution
    X = fit.prepare_features(rows, model.features_)
    by_tree = model._contributions_by_tree(X)
    stacked = model._contributions_stacked(X)
    assert list(by_tree.columns) == list(stacked.columns) == list(model.features_.features)
    assert np.array_equal(by_tree.to_numpy(), stacked.to_numpy())
    assert (by_tree.loc[rows.index[::5], "score_mean"] == 0.0).all()
    assert by_tree.abs().to_numpy().max() > 0.01  # the drivers say something
    assert model.contributions(rows).equals(by_tree)  # contributions() takes this path


def test_too_few_renewals_is_a_user_error():
    with pytest.raises(UserError, match="decided renewals"):
        fit.fit_models(synthetic_book(25))


def test_fast_auc_equals_sklearn_with_ties():
    y = np.array([1, 0, 1, 1, 0, 0, 1])
    p = np.array([0.9, 0.9, 0.5, 0.2, 0.2, 0.1, 0.6])
    assert fit._auc(y, p)[0] == pytest.approx(roc_auc_score(y, p))


def test_wilson_interval_hand_computed():
    low, high = rm.wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert all(np.isnan(rm.wilson_interval(0, 0)))


def test_rate_difference_hand_computed():
    # 30/50 vs 10/50: d = 0.4, se = sqrt(.6*.4/50 + .2*.8/50) = 0.0894427
    d, low, high = rm.rate_difference(30, 50, 10, 50)
    assert d == pytest.approx(0.4)
    assert (round(low, 4), round(high, 4)) == (0.2247, 0.5753)


def _decided(scores, renewed):
    return pd.DataFrame(
        {
            "month_end_score": scores,
            "is_renewed": renewed,
            "is_decided": True,
            "due_arr": 100.0,
            "renewed_arr": [120.0 if r else np.nan for r in renewed],
        }
    )


def test_score_bands_lower_bound_inclusive_and_100_in_the_top_band():
    rows = _decided([0.0, 9.9, 10.0, 100.0, 90.0, None, 69.9, 70.0], [0, 0, 1, 1, 1, 0, 0, 1])
    fine = pandas_reference.score_band_rates(rows).set_index("band")
    assert fine.loc["0-10", "renewals"] == 2 and fine.loc["10-20", "renewals"] == 1
    assert fine.loc["90-100", "renewals"] == 2 and fine.loc["unscored", "renewals"] == 1
    coarse = pandas_reference.score_band_rates(rows, coarse=True).set_index("band")
    assert dict(coarse["renewals"]) == {"<30": 3, "30-70": 1, ">=70": 3, "unscored": 1}
    assert coarse.loc[">=70", "renewal_rate"] == 1.0
    assert coarse.loc[">=70", "renewal_rate_arr"] == 1.0  # kept capped at due ARR


def test_indicator_effects_top_minus_bottom_band():
    bands = {ind: rm.IndicatorBands(label, ((0.0, 0.0), (0.5, 10.0)), False) for ind, label in DEMO.indicators}
    n = 40
    frame = pd.DataFrame({rm.value_column(c): np.r_[np.full(n, 0.1), np.full(n, 0.9)] for c, _ in DEMO.indicators})
    frame["segment"] = "smb"
    frame["is_decided"] = True
    frame["is_renewed"] = np.r_[np.arange(n) < 10, np.arange(n) < 30]  # 25% vs 75%
    rates = pandas_reference.indicator_bands(frame, bands)
    effects = rm.indicator_effects(rates).set_index(["indicator", "segment"])
    row = effects.loc[("login_rate", "all")]
    assert (row["top_rate"], row["bottom_rate"]) == (0.75, 0.25)
    assert row["difference"] == pytest.approx(0.5) and row["is_significant"]


# --------------------------------------------------------------------------- any indicators, any segments
def test_the_demo_feature_set_keeps_the_historical_order_and_labels():
    """Same features in the same order as the fixed list the model had (the fit on the
    demo is unchanged); labels from the scorecard's indicator labels."""
    old = [f"{series}_{stat}" for series in ("score", "modules_points", "instance_points", "activation_points",
                                             "login_points", "bi_points") for stat in ("mean", "last", "slope")]
    old += ["weeks_unscored", "tenure_months", "segment"]  # the fixed FEATURES before indicators were free
    renamed = {"instance_points": "instance_ratio_points", "activation_points": "activation_rate_points",
               "login_points": "login_rate_points", "bi_points": "bi_rate_points"}
    expected = []
    for name in old:
        for before, after in renamed.items():
            if name.startswith(before + "_"):
                name = after + name[len(before):]
        expected.append(name)
    assert DEMO.features == tuple(expected) and len(expected) == 21
    assert DEMO.label("login_rate_points_slope") == "Login rate (slope)"
    assert DEMO.label("modules_points_mean") == "Modules (mean)"
    assert DEMO.label("score_last") == "Health score (last)"
    assert DEMO.label("tenure_months") == "Tenure (months)"


def test_feature_names_of_different_indicators_never_collide():
    assert rm.indicator_of_feature("a_points_points_mean") == "a_points"
    assert rm.indicator_of_feature("a_points_mean") == "a"
    assert rm.indicator_of_feature("score_mean") is None
    assert rm.indicator_of_feature("weekly_active_share_value_mean") is None
    fs = rm.FeatureSet((("a", "A"), ("a_points", "A points")), ())
    assert len(set(fs.numeric)) == len(fs.numeric) == 3 + 6 + 2
    with pytest.raises(UserError, match="lower-case identifier"):
        rm.FeatureSet((("Bad Name", "x"),), ())


def test_segments_are_ordered_known_first_then_alphabetically():
    assert rm.order_segments(["startup", "scale_up", "corporate", "startup", None]) == (
        "corporate", "scale_up", "startup")
    assert rm.order_segments(["zeta", "enterprise", "smb", "mid_market", "alpha"]) == (
        "smb", "mid_market", "enterprise", "alpha", "zeta")
    assert [rm.segment_label(s) for s in ("mid_market", "smb", "scale_up", "all")] == [
        "Mid-market", "SMB", "Scale up", "All"]


def test_a_book_with_its_own_indicators_and_segments_fits():
    """Segments 'startup', 'scale_up', 'corporate' and one indicator: the model's
    categories, importance groups and driver labels follow the book."""
    fs = rm.FeatureSet((("weekly_active_share", "Weekly active share"),), rm.order_segments(
        ["startup", "scale_up", "corporate"]))
    book = synthetic_book(600, seed=5, features=fs)
    bundle = fit.fit_models(book, test_share=0.25, random_state=0, features_set=fs)
    boosted = bundle.models["boosted"]
    assert boosted.features_ == fs
    assert boosted.feature_names_in_.tolist() == list(fs.features)
    assert fit.prepare_features(book, fs)["segment"].cat.categories.tolist() == ["corporate", "scale_up", "startup"]
    groups = bundle.importance["segment"].drop_duplicates().tolist()
    assert groups[0] == "all" and set(groups[1:]) <= set(fs.segments) and len(groups) > 1
    assert groups[1:] == [s for s in fs.segments if s in groups]  # in segment order
    labels = set(bundle.importance["label"])
    assert {"Weekly active share (mean)", "Weekly active share (slope)", "Segment"} <= labels
    drivers = bundle.predictions["driver_1"][bundle.predictions["driver_1"] != ""]
    assert len(drivers) > 0
    known = {fs.label(f) for f in fs.features}
    assert all(d.rsplit(" ", 2)[0] in known for d in drivers)  # "<label> +12 pp"
    # without a feature set, the frame's columns say the same indicators (labels prettified)
    inferred = rm.FeatureSet.from_frame(book)
    assert inferred.numeric == fs.numeric and inferred.segments == fs.segments


def test_an_unseen_segment_is_missing_not_an_error():
    fs = rm.FeatureSet((), ("smb",))
    frame = pd.DataFrame({c: [1.0, 2.0] for c in fs.numeric})
    frame["segment"] = ["smb", "startup"]
    X = fit.prepare_features(frame, fs)
    assert X["segment"].tolist()[0] == "smb" and pd.isna(X["segment"].tolist()[1])


def test_the_effect_chart_colours_any_segments_in_order():
    from cslib.charts import model as charts_model

    fs = rm.FeatureSet((("weekly_active_share", "Weekly active share"),), ("corporate", "scale_up", "startup"))
    n = 20
    frame = pd.DataFrame({rm.value_column("weekly_active_share"): np.tile(np.r_[np.full(n, 0.1), np.full(n, 0.9)], 3)})
    frame["segment"] = np.repeat(["startup", "scale_up", "corporate"], 2 * n)
    frame["is_decided"] = True
    frame["is_renewed"] = np.tile(np.r_[np.arange(n) < 5, np.arange(n) < 15], 3)
    bands = {"weekly_active_share": rm.IndicatorBands("Weekly active share", ((0.0, 0.0), (0.5, 35.0)), False)}
    effects = rm.indicator_effects(pandas_reference.indicator_bands(frame, bands))
    assert effects["segment"].tolist() == ["all", *fs.segments]  # 'all', then the segments in order
    assert effects["segment_label"].tolist() == ["All", "Corporate", "Scale up", "Startup"]
    assert effects["difference"].tolist() == [pytest.approx(0.5)] * 4  # 15/20 - 5/20 in every segment
    spec = charts_model.effect_chart(effects).to_dict()  # validates against the Vega-Lite schema
    colour = next(layer["encoding"]["color"] for layer in spec["layer"] if "color" in layer.get("encoding", {}))
    assert colour["scale"]["domain"] == ["All", "Corporate", "Scale up", "Startup"]
    assert len(set(colour["scale"]["range"])) == 4


# --------------------------------------------------------------------------- comparison
def _resample_metrics(y, p, counts):
    """AUC and Brier of one resample rebuilt as rows (sklearn, not the weighted formula)."""
    rows = np.repeat(np.arange(len(y)), counts.astype(int))
    return roc_auc_score(y[rows], p[rows]), float(np.mean((p[rows] - y[rows]) ** 2))


def test_weighted_bootstrap_equals_sklearn_on_the_drawn_rows():
    rng = np.random.default_rng(5)
    y = (rng.random(60) < 0.6).astype(int)
    p = np.round(rng.random(60), 1)  # ties inside and across classes
    counts = rm.bootstrap_counts(60, n_resamples=5, seed=9)
    assert (counts.sum(axis=1) == 60).all()
    order = np.argsort(p, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(p[order]) != 0])
    auc = rm._weighted_auc(order, starts, y, counts)
    for k in range(5):
        expected_auc, _ = _resample_metrics(y, p, counts[k])
        assert auc[k] == pytest.approx(expected_auc, rel=1e-12)


def test_identical_predictions_are_a_tie_with_a_zero_interval():
    rng = np.random.default_rng(1)
    y = (rng.random(200) < 0.7).astype(int)
    p = rng.random(200)
    out = rm.compare_models(y, p, p).set_index("metric")
    assert (out["difference"] == 0).all() and (out["ci_low"] == 0).all() and (out["ci_high"] == 0).all()
    assert (out["better"] == "neither").all()
    assert (out["verdict"] == "tie").all()
    assert out.loc["auc", "boosted"] == pytest.approx(roc_auc_score(y, p))
    assert out.loc["brier", "n_resamples"] == rm.BOOTSTRAP_RESAMPLES


def test_a_model_better_on_both_beats_and_the_swap_is_worse():
    rng = np.random.default_rng(2)
    y = (rng.random(300) < 0.6).astype(int)
    good = np.clip(0.5 + (y - 0.5) * 0.6 + rng.normal(0, 0.1, 300), 0.01, 0.99)  # ranks and calibrates well
    noise = rng.random(300)  # neither
    beats = rm.compare_models(y, good, noise)
    assert beats["verdict"].iloc[0] == "beats" and (beats["better"] == "boosted").all()
    auc_row = beats.set_index("metric").loc["auc"]
    assert auc_row["ci_low"] > 0 and auc_row["ci_low"] <= auc_row["difference"] <= auc_row["ci_high"]
    worse = rm.compare_models(y, noise, good)
    assert worse["verdict"].iloc[0] == "worse" and (worse["better"] == "baseline").all()
    # the same seed draws the same resamples: the verdict is reproducible
    pd.testing.assert_frame_equal(beats, rm.compare_models(y, good, noise))


def test_better_auc_but_worse_brier_is_a_tie():
    rng = np.random.default_rng(4)
    y = (rng.random(400) < 0.7).astype(int)
    ranks_well = 0.05 + 0.1 * (y + rng.normal(0, 0.3, 400))  # good order, far too low: poor Brier
    calibrated = np.full(400, y.mean()) + rng.normal(0, 0.01, 400)  # no order, right level
    out = rm.compare_models(y, ranks_well, calibrated).set_index("metric")
    assert out.loc["auc", "better"] == "boosted" and out.loc["brier", "better"] == "baseline"
    assert out["verdict"].iloc[0] == "tie"
    assert rm.verdict_of(["boosted", "neither"]) == "tie"


def test_the_fit_stores_the_comparison_of_its_test_predictions(bundle):
    test = bundle.predictions[bundle.predictions["is_test"]]
    book = synthetic_book().set_index("account_id").loc[test["account_id"]]
    recomputed = rm.compare_models(fit.labels(book), test["p_boosted"], test["p_logistic"])
    pd.testing.assert_frame_equal(bundle.comparison, recomputed)
    metrics = bundle.metrics.set_index("model")
    assert bundle.comparison.set_index("metric").loc["auc", "boosted"] == pytest.approx(metrics.loc["boosted", "auc"])
    assert bundle.verdict in rm.VERDICTS
    assert bundle.verdict in rm.comparison_text(bundle.comparison) or rm.VERDICTS[bundle.verdict] in rm.comparison_text(bundle.comparison)
