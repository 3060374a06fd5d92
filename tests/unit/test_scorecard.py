"""The scorecard: loading, validation, TOML round-trip, tiers and the pandas reference scoring."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd
import pytest

from cslib import settings
from cslib.errors import UserError
from bench.pandas_reference import score_usage_pandas
from cslib.rules.scorecard import (
    HEALTH_WEEKLY_COLUMNS,
    Indicator,
    Scorecard,
    load_scorecard,
    tier_of,
)

SHIPPED = settings.CONFIG_DIR / "scorecard.toml"

VALID = """
[tiers]
healthy_min = 70
unhealthy_below = 30

[window]
weeks = 4
min_weeks = 2
weighting = "linear"

[metrics.seats_purchased]
aggregation = "last"
missing = "carry"

[metrics.seats_activated]
aggregation = "last"
missing = "carry"

[metrics.users_logged_in]
aggregation = "max"

[metrics.users_bi]
aggregation = "max"
missing = "zero"

[metrics.records_created]

[indicators.instance_ratio]
numerator = "records_created"
denominator = "seats_activated"
bands = [[0, 0], [1, 5], [3, 10], [8, 15], [60, 8]]

[indicators.activation_rate]
label = "Activation rate"
numerator = "seats_activated"
denominator = "seats_purchased"
bands = [[0, 0], [0.3, 5], [0.5, 10], [0.7, 15], [0.85, 20]]

[indicators.login_rate]
numerator = "users_logged_in"
denominator = "seats_activated"
weight = 1
bands = [[0, 0], [0.2, 5], [0.4, 10], [0.6, 15], [0.8, 20]]

[indicators.bi_rate]
numerator = "users_bi"
denominator = "seats_activated"
bands = [[0, 0], [0.05, 5], [0.15, 10], [0.3, 15]]

[modules]
cap_points = 30
min_records = 1
core = ["contracts", "orders"]

[modules.points]
contracts = 5
orders = 5
customers = 1
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scorecard.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def shipped() -> Scorecard:
    return load_scorecard(SHIPPED)


# --- loading ---------------------------------------------------------------------------


def test_shipped_scorecard_has_the_documented_defaults(shipped):
    sc = shipped
    assert (sc.healthy_min, sc.unhealthy_below) == (70.0, 30.0)
    assert (sc.window_weeks, sc.min_weeks, sc.weighting) == (4, 2, "linear")
    assert (sc.modules_cap_points, sc.module_min_records) == (30.0, 1)
    assert dict(sc.module_points) == {
        "contracts": 5, "orders": 5, "payments": 5, "invoices": 5,
        "customers": 1, "contacts": 1,
        "reports": 2, "approvals": 2, "inventory": 2, "projects": 2,
    }
    assert sc.core_modules == ("contracts", "orders", "payments", "invoices")
    assert sc.bands_for("activation_rate") == ((0, 0), (0.3, 5), (0.5, 10), (0.7, 15), (0.85, 20))
    assert sc.bands_for("login_rate") == ((0, 0), (0.2, 5), (0.4, 10), (0.6, 15), (0.8, 20))
    assert sc.bands_for("bi_rate") == ((0, 0), (0.05, 5), (0.15, 10), (0.3, 15))
    assert sc.bands_for("instance_ratio") == ((0, 0), (1, 5), (3, 10), (8, 15), (60, 8))
    assert sc.max_points() == 100.0  # 30 + 15 + 20 + 20 + 15
    assert [tuple(m) for m in sc.metrics] == [
        ("seats_purchased", "last", "carry"), ("seats_activated", "last", "carry"),
        ("users_logged_in", "max", "zero"), ("users_bi", "max", "zero"), ("records_created", "sum", "zero")]
    assert [(i.name, i.numerator, i.denominator, i.weight) for i in sc.indicators] == [
        ("instance_ratio", "records_created", "seats_activated", 1.0),
        ("activation_rate", "seats_activated", "seats_purchased", 1.0),
        ("login_rate", "users_logged_in", "seats_activated", 1.0),
        ("bi_rate", "users_bi", "seats_activated", 1.0)]
    assert sc.module_default_points == 0.0
    assert sc.window_weights() == ((0, 4.0), (1, 3.0), (2, 2.0), (3, 1.0))


def test_default_path_comes_from_the_setting(tmp_path, monkeypatch):
    path = _write(tmp_path, VALID.replace("healthy_min = 70", "healthy_min = 75"))
    monkeypatch.setenv("HEALTHGRID_SCORECARD", str(path))
    sc = load_scorecard()
    assert sc.healthy_min == 75.0
    assert sc.source == str(path)


def test_equal_weighting_gives_weight_one_per_lag(shipped):
    sc = dataclasses.replace(shipped, weighting="equal", window_weeks=3, min_weeks=1)
    assert sc.window_weights() == ((0, 1.0), (1, 1.0), (2, 1.0))


# --- validation: every error names the file and the key ---------------------------------

CASES = [
    # (old text, new text, message after "<file>: ")
    ("healthy_min = 70\n", "", "missing key tiers.healthy_min"),
    ('weighting = "linear"\n', "", "missing key window.weighting"),
    ("cap_points = 30\n", "", "missing key modules.cap_points"),
    ('numerator = "users_bi"\n', "", "missing key indicators.bi_rate.numerator"),
    ("[0.3, 5], [0.5, 10]", "[0.5, 5], [0.3, 10]",
     "indicators.activation_rate.bands: bands must be strictly ascending by min_value (0.5 then 0.3)"),
    ("[1, 5], [3, 10]", "[1, 5], [1, 10]",
     "indicators.instance_ratio.bands: bands must be strictly ascending by min_value (1 then 1)"),
    ("[0.2, 5]", "[0.2, -5]", "indicators.login_rate.bands: negative points -5 (band min_value 0.2)"),
    ('numerator = "users_bi"', 'numerator = "users_bi_typo"',
     "indicators.bi_rate.numerator: unknown metric 'users_bi_typo' (declare it under [metrics.users_bi_typo])"),
    ('denominator = "seats_purchased"', 'denominator = "seats"',
     "indicators.activation_rate.denominator: unknown metric 'seats' (declare it under [metrics.seats])"),
    ('aggregation = "max"\nmissing = "zero"', 'aggregation = "median"\nmissing = "zero"',
     "metrics.users_bi.aggregation: unknown aggregation 'median' (expected sum, max, min, avg, last, days_active)"),
    ('aggregation = "max"\nmissing = "zero"', 'aggregation = "max"\nmissing = "skip"',
     "metrics.users_bi.missing: unknown rule 'skip' (expected zero, carry, none)"),
    ("[metrics.records_created]", "[metrics.Records]",
     "metrics.Records: name 'Records' must be lower case letters, digits and _, starting with a letter"),
    ("[indicators.bi_rate]", "[indicators.2bi]",
     "indicators.2bi: name '2bi' must be lower case letters, digits and _, starting with a letter"),
    ("[indicators.bi_rate]", "[indicators.modules]",
     "indicators.modules: 'modules' is reserved for the module points ([modules])"),
    ("weight = 1\n", "weight = 0\n", "indicators.login_rate.weight: must be > 0, got 0"),
    ("customers = 1", "customers = 1\nusers_bi = 2",
     "modules.points.users_bi: 'users_bi' is declared under [metrics]: features are the names that are not metrics"),
    ("[metrics.records_created]", "[metrics.records_created]\nwindow = 3",
     "metrics.records_created.window: unknown key"),
    ("weight = 1\n", "weight = 1\nbandz = []\n", "indicators.login_rate.bandz: unknown key"),
    ("min_records = 1", "min_records = 1\ndefault_points = -1",
     "modules.default_points: must be >= 0, got -1"),
    ("orders = 5", "orders = -1", "modules.points.orders: points must be >= 0, got -1"),
    ("cap_points = 30", "cap_points = -2", "modules.cap_points: must be >= 0, got -2"),
    ("unhealthy_below = 30", "unhealthy_below = 0",
     "tiers: thresholds must satisfy 0 < unhealthy_below < healthy_min <= 100, "
     "got unhealthy_below=0, healthy_min=70"),
    ("unhealthy_below = 30", "unhealthy_below = 70",
     "tiers: thresholds must satisfy 0 < unhealthy_below < healthy_min <= 100, "
     "got unhealthy_below=70, healthy_min=70"),
    ("healthy_min = 70", "healthy_min = 100.5",
     "tiers: thresholds must satisfy 0 < unhealthy_below < healthy_min <= 100, "
     "got unhealthy_below=30, healthy_min=100.5"),
    ("weeks = 4", "weeks = 0", "window.weeks: must be >= 1, got 0"),
    ("min_weeks = 2", "min_weeks = 0", "window.min_weeks: must be in 1..4 (window.weeks), got 0"),
    ("min_weeks = 2", "min_weeks = 5", "window.min_weeks: must be in 1..4 (window.weeks), got 5"),
    ('weighting = "linear"', 'weighting = "exponential"',
     "window.weighting: unknown weighting 'exponential' (expected linear, equal)"),
    ("[indicators.bi_rate]", "[ratios.nps_rate]\nbands = [[0, 1]]\n\n[indicators.bi_rate]",
     "ratios: unknown key"),
    ("healthy_min = 70", 'healthy_min = "70"', "tiers.healthy_min: must be a finite number, got '70'"),
    ("weeks = 4", "weeks = 4.5", "window.weeks: must be an integer, got 4.5"),
    ("min_records = 1", "min_records = 0", "modules.min_records: must be >= 1, got 0"),
    ("min_weeks = 2", "min_wekes = 2", "window.min_wekes: unknown key"),
    ('core = ["contracts", "orders"]', 'core = ["contracts", "ledger"]',
     "modules.core: 'ledger' is not in modules.points"),
    ("[1, 5], [3, 10]", "[1, 5], [3]",
     "indicators.instance_ratio.bands: band 3 must be [min_value, points], got [3]"),
]


@pytest.mark.parametrize("old,new,message", CASES, ids=[c[2][:40] for c in CASES])
def test_every_validation_error_names_file_and_key(tmp_path, old, new, message):
    assert old in VALID
    path = _write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(UserError) as err:
        load_scorecard(path)
    assert str(err.value) == f"{path}: {message}"


def test_the_unmodified_template_is_valid(tmp_path):
    assert load_scorecard(_write(tmp_path, VALID)).core_modules == ("contracts", "orders")


def test_missing_file_and_bad_toml_are_user_errors(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(UserError, match=r"nope\.toml: scorecard not found"):
        load_scorecard(missing)
    with pytest.raises(UserError, match=r"scorecard\.toml: invalid TOML"):
        load_scorecard(_write(tmp_path, "[tiers\nhealthy_min = 70"))


def test_a_what_if_edit_is_validated_too(shipped):
    with pytest.raises(UserError, match=r"window\.min_weeks: must be in 1\.\.4"):
        dataclasses.replace(shipped, min_weeks=9)
    with pytest.raises(UserError, match=r"tiers: thresholds"):
        dataclasses.replace(shipped, unhealthy_below=80.0)


def test_at_most_64_metrics_the_65th_is_refused_in_one_line(tmp_path, shipped):
    extra = [shipped.metrics[0]._replace(name=f"m{i}") for i in range(64 - len(shipped.metrics))]
    at_limit = dataclasses.replace(shipped, metrics=(*shipped.metrics, *extra))
    assert len(at_limit.metrics) == 64
    with pytest.raises(UserError, match=r"metrics: at most 64 metrics can be declared, got 65 \(") as err:
        dataclasses.replace(at_limit, metrics=(*at_limit.metrics, shipped.metrics[0]._replace(name="m99")))
    assert "\n" not in str(err.value)
    # the same from a file: the loader names the file
    path = _write(tmp_path, at_limit.to_toml() + "\n[metrics.m99]\naggregation = \"sum\"\n")
    with pytest.raises(UserError, match=r"scorecard\.toml: metrics: at most 64"):
        load_scorecard(path)


# --- TOML round-trip ---------------------------------------------------------------------


def test_to_toml_round_trips_the_shipped_scorecard(tmp_path, shipped):
    again = load_scorecard(_write(tmp_path, shipped.to_toml()))
    assert again == shipped
    assert again.module_points == shipped.module_points  # order kept too
    assert again.ratio_bands == shipped.ratio_bands


def test_to_toml_round_trips_an_edited_scorecard(tmp_path, shipped):
    edited = dataclasses.replace(
        shipped,
        healthy_min=72.5,
        unhealthy_below=0.125,
        window_weeks=13,
        min_weeks=7,
        weighting="equal",
        module_points=(*shipped.module_points, ('odd "module" name', 0.75)),
        ratio_bands=(*shipped.ratio_bands[:3], ("bi_rate", ((0.0, 0.5), (1e-3, 1.1), (0.3, 15.0)))),
    )
    again = load_scorecard(_write(tmp_path, edited.to_toml()))
    assert again == edited
    assert dict(again.module_points)['odd "module" name'] == 0.75
    assert again.bands_for("bi_rate") == ((0.0, 0.5), (0.001, 1.1), (0.3, 15.0))


# --- tiers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "score,tier",
    [
        (70, "healthy"),
        (70.0, "healthy"),
        (69.9, "at_risk"),
        (30, "at_risk"),
        (29.9, "unhealthy"),
        (0, "unhealthy"),
        (100, "healthy"),
        (None, "unscored"),
        (math.nan, "unscored"),
    ],
)
def test_tier_of_at_the_thresholds(shipped, score, tier):
    assert tier_of(score, shipped) == tier


# --- the pandas reference scoring, by hand --------------------------------------------------

MON1 = pd.Timestamp("2024-03-04")  # a Monday
MON2 = pd.Timestamp("2024-03-11")


USAGE_COLUMNS = ["seats_purchased", "seats_activated", "users_logged_in", "users_bi", "records_created"]


def _usage(rows):
    """Wide weekly rows (account, week, purchased, activated, logged_in, bi, records) as
    the long weekly frame of stg_usage_weekly (one row per metric)."""
    return [(a, w, m, float(v)) for a, w, *vals in rows for m, v in zip(USAGE_COLUMNS, vals)]


def _modules(rows):
    return [(a, w, m, float(r)) for a, w, m, r in rows]


def _score(usage_rows, module_rows, sc):
    frame = pd.DataFrame(_usage(usage_rows) + _modules(module_rows),
                         columns=["account_id", "week_start", "metric", "value"])
    return score_usage_pandas(frame, sc)


def _explained(out, account, week):
    """{indicator: (value, window_points, week_points)} of one week."""
    ind = out.indicators
    rows = ind[(ind.account_id == account) & (ind.week_start == week)]
    return {r.indicator: (r.value, r.window_points, r.week_points) for r in rows.itertuples()}


# Week 1 of account "acme":
#   seats_purchased 20, seats_activated 15, users_logged_in 9, users_bi 3, records_created 60
#   activation_rate = 15/20 = 0.75 -> band 0.7               -> 15 points
#   login_rate      =  9/15 = 0.6  -> band 0.6 (inclusive)    -> 15 points
#   bi_rate         =  3/15 = 0.2  -> band 0.15               -> 10 points
#   instance_ratio  = 60/15 = 4.0  -> band 3                  -> 10 points
#   modules: contracts 12 records (core, 5), orders 3 (core, 5), customers 40 (1),
#            reports 0 records (not used), legacy_crm 5 (not in the scorecard: used, 0 points)
#            -> 5 + 5 + 1 = 11 points (cap 30 not reached); modules_used 4, core 2
#   total = 11 + 10 + 15 + 15 + 10 = 61 -> at_risk
WEEK1_USAGE = ("acme", MON1, 20, 15, 9, 3, 60)
WEEK1_MODULES = [
    ("acme", MON1, "contracts", 12),
    ("acme", MON1, "orders", 3),
    ("acme", MON1, "customers", 40),
    ("acme", MON1, "reports", 0),
    ("acme", MON1, "legacy_crm", 5),
]
# Week 2 (the next Monday):
#   seats_purchased 20, seats_activated 18, users_logged_in 18, users_bi 6, records_created 180
#   activation 18/20 = 0.9 -> 20; login 18/18 = 1.0 -> 20; bi 6/18 = 0.333 -> 15;
#   instance 180/18 = 10 -> 15; modules contracts, orders, payments, invoices, reports
#   -> 4 x 5 + 2 = 22 points.  Week total 22 + 15 + 20 + 20 + 15 = 92.
WEEK2_USAGE = ("acme", MON2, 20, 18, 18, 6, 180)
WEEK2_MODULES = [("acme", MON2, m, 1) for m in ("contracts", "orders", "payments", "invoices", "reports")]


def test_one_week_written_out(shipped):
    sc = dataclasses.replace(shipped, min_weeks=1)  # a single week may be scored
    out = _score([WEEK1_USAGE], WEEK1_MODULES, sc)
    assert list(out.weekly.columns) == list(HEALTH_WEEKLY_COLUMNS)
    row = out.weekly.iloc[0]
    explained = _explained(out, "acme", MON1)
    assert list(explained) == ["modules", "instance_ratio", "activation_rate", "login_rate", "bi_rate"]
    assert explained["activation_rate"] == (0.75, 15, 15)
    assert explained["login_rate"] == (0.6, 15, 15)
    assert explained["bi_rate"] == (0.2, 10, 10)
    assert explained["instance_ratio"] == (4.0, 10, 10)
    assert explained["modules"] == (4, 11, 11)
    assert row.modules_points == 11
    assert (row.modules_used, row.core_modules_used) == (4, 2)
    assert row.weeks_in_window == 1
    assert row.score == 61.0
    assert row.tier == "at_risk"


def test_two_weeks_with_linear_weights(shipped):
    # 4-week linear window: the week itself weighs 4, the week before 3 (sum 7):
    #   modules    (4*22 + 3*11) / 7 = 121/7
    #   instance   (4*15 + 3*10) / 7 =  90/7
    #   activation (4*20 + 3*15) / 7 = 125/7
    #   login      (4*20 + 3*15) / 7 = 125/7
    #   bi         (4*15 + 3*10) / 7 =  90/7
    #   total 551/7 = 78.714... -> score 78.7 -> healthy
    out = _score([WEEK2_USAGE, WEEK1_USAGE], WEEK1_MODULES + WEEK2_MODULES, shipped)  # any input order
    assert list(out.weekly.week_start) == [MON1, MON2]
    week2 = out.weekly.iloc[1]
    assert week2.weeks_in_window == 2
    points = {k: v[1] for k, v in _explained(out, "acme", MON2).items()}
    assert points["modules"] == pytest.approx(121 / 7, abs=1e-12)
    assert points["instance_ratio"] == pytest.approx(90 / 7, abs=1e-12)
    assert points["activation_rate"] == pytest.approx(125 / 7, abs=1e-12)
    assert points["login_rate"] == pytest.approx(125 / 7, abs=1e-12)
    assert points["bi_rate"] == pytest.approx(90 / 7, abs=1e-12)
    assert week2.score == 78.7
    assert week2.tier == "healthy"
    assert (week2.modules_used, week2.core_modules_used) == (5, 4)


def test_min_weeks_leaves_the_first_week_unscored(shipped):
    out = _score([WEEK1_USAGE, WEEK2_USAGE], WEEK1_MODULES + WEEK2_MODULES, shipped)
    week1 = out.weekly.iloc[0]
    assert week1.weeks_in_window == 1
    assert math.isnan(week1.score)
    assert week1.tier == "unscored"
    # the points still explain the week (its own points, weight 4 / 4)
    points = {k: v[1] for k, v in _explained(out, "acme", MON1).items()}
    assert points == {"modules": 11, "instance_ratio": 10, "activation_rate": 15, "login_rate": 15, "bi_rate": 10}
    assert out.weekly.iloc[1].tier == "healthy"


def test_zero_denominators_score_zero_and_ratios_are_missing(shipped):
    sc = dataclasses.replace(shipped, min_weeks=1)
    out = _score([("z", MON1, 0, 0, 0, 0, 7)], [], sc)
    explained = _explained(out, "z", MON1)
    for ratio in ("instance_ratio", "activation_rate", "login_rate", "bi_rate"):
        assert math.isnan(explained[ratio][0]) and explained[ratio][1] == 0
    row = out.weekly.iloc[0]
    assert row.score == 0.0 and row.tier == "unhealthy"
    assert (row.modules_used, row.core_modules_used) == (0, 0)


def test_score_rounds_half_away_from_zero_like_duckdb(shipped):
    # contracts worth 0.25 and a full activation: 20 + 0.25 = 20.25 -> 20.3 (numpy would say 20.2)
    sc = dataclasses.replace(shipped, min_weeks=1, module_points=(("contracts", 0.25),), core_modules=())
    out = _score([("r", MON1, 10, 10, 0, 0, 0)], [("r", MON1, "contracts", 1)], sc)
    assert out.weekly.iloc[0].score == 20.3


def test_score_is_capped_at_100(shipped):
    generous = dataclasses.replace(
        shipped,
        min_weeks=1,
        ratio_bands=tuple((ind, ((0.0, 40.0),)) for ind, _ in shipped.ratio_bands),
    )
    out = _score([WEEK1_USAGE], WEEK1_MODULES, generous)
    assert out.weekly.iloc[0].score == 100.0  # 11 + 4 x 40 = 171 before the cap
    assert out.weekly.iloc[0].tier == "healthy"


def test_weight_default_points_and_a_single_metric_indicator(shipped):
    # login_rate weighs 0.5: 15 band points -> 7.5; a new indicator 'records' = records_created
    # itself (no denominator), bands [[50, 4]]: 60 -> 4; legacy_crm (unlisted, used) scores
    # the default 2 points: modules 11 + 2 = 13. Total 13 + 10 + 15 + 7.5 + 10 + 4 = 59.5.
    sc = dataclasses.replace(
        shipped,
        min_weeks=1,
        module_default_points=2.0,
        indicators=(*(i._replace(weight=0.5) if i.name == "login_rate" else i for i in shipped.indicators),
                    Indicator("records", "Records", "records_created")),
        ratio_bands=(*shipped.ratio_bands, ("records", ((50.0, 4.0),))),
    )
    assert sc.max_points() == 30 + 15 + 20 + 10 + 15 + 4
    out = _score([WEEK1_USAGE], WEEK1_MODULES, sc)
    explained = _explained(out, "acme", MON1)
    assert explained["login_rate"] == (0.6, 7.5, 7.5)
    assert explained["records"] == (60.0, 4, 4)
    assert explained["modules"] == (4, 13, 13)
    assert out.weekly.iloc[0].score == 59.5


def test_scaled_round_judges_ties_on_the_exact_binary_value():
    # DuckDB's round(double, n) rounds the double's exact value, ties away from zero:
    # 0.15 is stored as 0.1499999999999999944... -> 0.1, although 0.15 * 10 == 1.5 in floats.
    import numpy as np
    from decimal import ROUND_HALF_UP, Decimal

    from bench.pandas_reference import _scaled_round

    xs = np.array([0.15, 0.35, 0.45, 0.25, 1.05, 27.65, 41.55, 2.5 / 10, -0.25, 0.0])
    assert list(_scaled_round(xs, 10.0)) == [1, 3, 5, 3, 11, 276, 415, 3, -3, 0]
    rng = np.random.default_rng(7)
    xs = np.concatenate([rng.integers(0, 10**6, 2000) / rng.choice([3, 7, 20, 40, 1000], 2000),
                         np.arange(2000) / 20])
    for scale, digits in ((10.0, 1), (1e9, 9)):
        expected = [
            int((Decimal(float(x)) * 10**digits).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            for x in xs
        ]
        assert list(_scaled_round(xs, scale)) == expected
