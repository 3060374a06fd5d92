"""The scoring models (stg_usage_weekly.sql, and health_weekly / health_indicator_weekly from cslib.rules.scoring_sql)
on tiny seeded raw tables: hand-computed rows, edge cases, the missing-week rule, the
pandas reference (bench.pandas_reference.score_usage_pandas) on random data, and the old fixed
engine (tests/fixtures/scorecard_v1) reproduced exactly on the small demo."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cslib import settings
from cslib.store import db, pipeline
from bench.pandas_reference import score_usage_pandas
from cslib.rules.scorecard import (
    HEALTH_WEEKLY_COLUMNS,
    INDICATOR_COLUMNS,
    Scorecard,
    load_scorecard,
    score_weeks,
    tier_of,
    unlisted_features,
    write_config_tables,
)

#: the demo indicators' window-points columns of health_weekly (transition columns)
POINTS_COLUMNS = ("modules_points", "instance_points", "activation_points", "login_points", "bi_points")
RATIOS = ("instance_ratio", "activation_rate", "login_rate", "bi_rate")
OLD_ENGINE = Path(__file__).resolve().parents[1] / "fixtures" / "scorecard_v1" / "health_weekly.sql"

MON = dt.date(2024, 3, 4)  # a Monday


def week(n: int) -> dt.date:
    """The Monday n weeks after MON."""
    return MON + dt.timedelta(weeks=n)


@pytest.fixture
def shipped() -> Scorecard:
    return load_scorecard(settings.CONFIG_DIR / "scorecard.toml")


@pytest.fixture
def conn():
    con = duckdb.connect()
    pipeline.create_raw_tables(con)
    yield con
    con.close()


def seed(conn, usage, modules=(), revenue=(), metrics=()):
    """usage: (account_id, week_start, purchased, activated, logged_in, bi, records);
    modules: (account_id, week_start, module, records); revenue: (account_id, month, mrr);
    metrics: (account_id, date, metric, value) for raw_usage_metrics."""
    for table, rows in (("raw_usage_weekly", usage), ("raw_module_usage_weekly", modules),
                        ("raw_usage_metrics", metrics)):
        if rows:
            conn.register("seed_rows", pd.DataFrame(list(rows)))
            conn.execute(f"insert into {table} select * from seed_rows")
            conn.unregister("seed_rows")
    for account_id, month, mrr in revenue:
        conn.execute(
            "insert into raw_revenue_monthly (account_id, month, product, mrr_subscription) values (?, ?, 'p', ?)",
            [account_id, month, mrr],
        )


def run(conn, scorecard) -> pd.DataFrame:
    """Score; health_weekly with the demo indicators' window points and values pivoted out
    of health_indicator_weekly as columns (instance_points, ..., instance_ratio, ...)."""
    write_config_tables(conn, scorecard)
    conn.execute(db.sql_file("stg_revenue"))
    score_weeks(conn)
    return wide(conn, "health_weekly", "health_indicator_weekly")


def wide(conn, weekly: str, indicators: str) -> pd.DataFrame:
    points = ", ".join(
        f"max(i.window_points) filter (where i.indicator = '{ind}') as {col}"
        for ind, col in zip(RATIOS, POINTS_COLUMNS[1:]))
    values = ", ".join(f"max(i.value) filter (where i.indicator = '{ind}') as {ind}" for ind in RATIOS)
    return conn.execute(
        f"select h.account_id, h.week_start, any_value(h.weeks_in_window) as weeks_in_window, "
        f"any_value(h.score) as score, any_value(h.tier) as tier, any_value(h.modules_points) as modules_points, "
        f"{points}, any_value(h.modules_used) as modules_used, "
        f"any_value(h.core_modules_used) as core_modules_used, {values} "
        f"from {weekly} as h join {indicators} as i using (account_id, week_start) "
        "group by h.account_id, h.week_start order by h.account_id, h.week_start"
    ).df()


def explained(conn, account_id, week_start) -> dict[str, tuple]:
    """{indicator: (value, window_points, week_points)} from health_indicator_weekly."""
    rows = conn.execute(
        "select h.indicator, h.value, h.window_points, h.week_points from health_indicator_weekly as h "
        "join cfg_indicators as i using (indicator) where account_id = ? and week_start = ? order by i.ordinal",
        [account_id, week_start],
    ).fetchall()
    return {ind: (value, wp, kp) for ind, value, wp, kp in rows}


def row_of(out: pd.DataFrame, account_id: str, week_start: dt.date) -> pd.Series:
    hit = out[(out.account_id == account_id) & (out.week_start == pd.Timestamp(week_start))]
    assert len(hit) == 1
    return hit.iloc[0]


# Same hand-computed weeks as tests/unit/test_scorecard.py:
# week 0: activation 15/20=0.75 -> 15, login 9/15=0.6 -> 15, bi 3/15=0.2 -> 10,
#         instance 60/15=4 -> 10, modules contracts+orders+customers = 11
#         (reports has 0 records: unused; legacy_crm is unknown: used, 0 points) -> 61
# week 1: activation 0.9 -> 20, login 1.0 -> 20, bi 0.333 -> 15, instance 10 -> 15,
#         modules 4 core + reports = 22 -> 92
ACME_USAGE = [("acme", week(0), 20, 15, 9, 3, 60), ("acme", week(1), 20, 18, 18, 6, 180)]
ACME_MODULES = [
    ("acme", week(0), "contracts", 12),
    ("acme", week(0), "orders", 3),
    ("acme", week(0), "customers", 40),
    ("acme", week(0), "reports", 0),
    ("acme", week(0), "legacy_crm", 5),
    *[("acme", week(1), m, 1) for m in ("contracts", "orders", "payments", "invoices", "reports")],
]


def test_output_columns_and_types(conn, shipped):
    seed(conn, ACME_USAGE, ACME_MODULES)
    run(conn, shipped)
    described = conn.execute("describe health_weekly").fetchall()
    types = {name: typ for name, typ, *_ in described}
    assert list(types)[: len(HEALTH_WEEKLY_COLUMNS)] == list(HEALTH_WEEKLY_COLUMNS)
    described = conn.execute("describe health_indicator_weekly").fetchall()
    assert [name for name, *_ in described][: len(INDICATOR_COLUMNS)] == list(INDICATOR_COLUMNS)
    assert types["account_id"] == "VARCHAR" and types["week_start"] == "DATE"
    for col in ("weeks_in_window", "modules_used", "core_modules_used"):
        assert types[col] == "INTEGER"
    assert types["score"] == types["modules_points"] == "DOUBLE"
    assert types["tier"] == "VARCHAR"
    long_types = {name: typ for name, typ, *_ in described}
    assert long_types["indicator"] == "VARCHAR"
    assert long_types["value"] == long_types["window_points"] == long_types["week_points"] == "DOUBLE"
    assert not {"instance_points", "activation_rate", "bi_rate"} & set(types)  # no fixed indicator columns


def test_hand_computed_weeks(conn, shipped):
    seed(conn, ACME_USAGE, ACME_MODULES)
    out = run(conn, shipped)
    assert len(out) == 2

    first = row_of(out, "acme", week(0))
    assert first.weeks_in_window == 1
    assert math.isnan(first.score) and first.tier == "unscored"  # min_weeks = 2
    assert (first.modules_points, first.instance_points, first.activation_points,
            first.login_points, first.bi_points) == (11, 10, 15, 15, 10)
    assert (first.modules_used, first.core_modules_used) == (4, 2)
    assert (first.instance_ratio, first.activation_rate, first.login_rate, first.bi_rate) == (4.0, 0.75, 0.6, 0.2)

    # linear weights 4 (this week) and 3 (last week), divided by 7
    second = row_of(out, "acme", week(1))
    assert second.weeks_in_window == 2
    assert second.modules_points == pytest.approx(121 / 7, abs=1e-12)
    assert second.instance_points == pytest.approx(90 / 7, abs=1e-12)
    assert second.activation_points == pytest.approx(125 / 7, abs=1e-12)
    assert second.login_points == pytest.approx(125 / 7, abs=1e-12)
    assert second.bi_points == pytest.approx(90 / 7, abs=1e-12)
    assert second.score == 78.7  # 551/7 = 78.714...
    assert second.tier == "healthy"
    assert (second.modules_used, second.core_modules_used) == (5, 4)


def test_single_week_scored_when_min_weeks_is_one(conn, shipped):
    seed(conn, ACME_USAGE[:1], ACME_MODULES)
    out = run(conn, dataclasses.replace(shipped, min_weeks=1))
    assert out.iloc[0].score == 61.0
    assert out.iloc[0].tier == "at_risk"


def test_a_missing_calendar_week_is_missing_not_the_previous_row(conn, shipped):
    # weeks 0, 1 and 3 (week 2 missing). Only activation varies:
    # week 0: 1/20 -> 0, week 1: 10/20 -> 10, week 3: 20/20 -> 20 points (others 0).
    seed(conn, [
        ("gap", week(0), 20, 1, 0, 0, 0),
        ("gap", week(1), 20, 10, 0, 0, 0),
        ("gap", week(3), 20, 20, 0, 0, 0),
    ])
    out = run(conn, shipped)
    last = row_of(out, "gap", week(3))
    # lags 0 (w3, weight 4), 2 (w1, weight 2), 3 (w0, weight 1); lag 1 (w2) is missing:
    # (4*20 + 2*10 + 1*0) / 7 = 100/7 = 14.2857 -> 14.3
    # (had the previous row counted as lag 1: (4*20 + 3*10 + 2*0) / 9 = 12.2)
    assert last.weeks_in_window == 3
    assert last.activation_points == pytest.approx(100 / 7, abs=1e-12)
    assert last.score == 14.3
    assert last.tier == "unhealthy"


def test_weeks_older_than_the_window_drop_out(conn, shipped):
    seed(conn, [("old", week(0), 10, 10, 0, 0, 0), ("old", week(4), 10, 0, 0, 0, 0)])
    out = run(conn, shipped)
    last = row_of(out, "old", week(4))  # week 0 is lag 4: outside a 4-week window
    assert last.weeks_in_window == 1
    assert last.activation_points == 0
    assert last.tier == "unscored"


def test_zero_denominators_score_zero_and_ratios_are_null(conn, shipped):
    seed(
        conn,
        [("z", week(0), 0, 0, 0, 0, 9), ("z", week(1), 10, 0, 0, 0, 9)],
        [("z", week(1), "contracts", 2)],
    )
    out = run(conn, shipped)
    w0, w1 = row_of(out, "z", week(0)), row_of(out, "z", week(1))
    for ratio in ("instance_ratio", "activation_rate", "login_rate", "bi_rate"):
        assert math.isnan(w0[ratio])
    # week 1: seats_purchased 10 -> activation 0/10 = 0.0 (not NULL); the others are NULL
    assert w1.activation_rate == 0.0
    assert math.isnan(w1.instance_ratio) and math.isnan(w1.login_rate) and math.isnan(w1.bi_rate)
    assert (w1.instance_points, w1.activation_points, w1.login_points, w1.bi_points) == (0, 0, 0, 0)
    assert w1.modules_points == pytest.approx(4 * 5 / 7, abs=1e-12)  # contracts in week 1 only
    assert w1.score == 2.9


def test_module_points_are_capped_per_week(conn, shipped):
    all_modules = [m for m, _ in shipped.module_points]
    seed(conn, [("cap", week(0), 10, 0, 0, 0, 0)], [("cap", week(0), m, 3) for m in all_modules])
    out = run(conn, dataclasses.replace(shipped, min_weeks=1, modules_cap_points=12.0))
    row = out.iloc[0]
    assert row.modules_used == 10 and row.core_modules_used == 4
    assert row.modules_points == 12  # 30 points of modules, capped at 12
    assert row.score == 12.0


def test_unknown_module_scores_zero_and_min_records_applies(conn, shipped):
    seed(
        conn,
        [("u", week(0), 10, 0, 0, 0, 0)],
        [("u", week(0), "legacy_crm", 50), ("u", week(0), "contracts", 1), ("u", week(0), "orders", 1)],
    )
    out = run(conn, dataclasses.replace(shipped, min_weeks=1, module_min_records=2))
    row = out.iloc[0]
    # contracts/orders have 1 record < min_records 2: unused; legacy_crm is used but unknown
    assert (row.modules_used, row.core_modules_used, row.modules_points) == (1, 0, 0)


def test_a_feature_row_makes_a_usage_week_whose_metrics_are_filled(conn, shipped):
    # "m" week 0 has only a contracts row: the count metrics are zero-filled, the seats
    # (carry) have no earlier value and stay missing, so the ratios are NULL: a scored
    # week with 5 module points. "x" likewise in week 1 (orders, 5 points).
    seed(conn, [("m", week(1), 10, 0, 0, 0, 0)], [("m", week(0), "contracts", 5), ("x", week(1), "orders", 5)])
    out = run(conn, shipped)
    assert list(zip(out.account_id, out.week_start)) == [
        ("m", pd.Timestamp(week(0))), ("m", pd.Timestamp(week(1))), ("x", pd.Timestamp(week(1)))]
    m1 = row_of(out, "m", week(1))
    assert m1.weeks_in_window == 2
    assert m1.modules_points == pytest.approx(3 * 5 / 7, abs=1e-12)  # week 0 (weight 3) only
    assert math.isnan(row_of(out, "x", week(1)).activation_rate)
    filled = conn.execute(
        "select metric, value from stg_usage_weekly where account_id = 'm' and week_start = ? and is_filled "
        "order by metric", [week(0)]).fetchall()
    assert filled == [("records_created", 0.0), ("users_bi", 0.0), ("users_logged_in", 0.0)]


def test_boundary_scores_get_the_right_tiers(conn, shipped):
    # two identical weeks, so each window average equals the weekly points exactly.
    # "h70": 4 core modules 20, activation 20/20 = 1.0 -> 20, login 12/20 = 0.6 -> 15,
    #        bi 3/20 = 0.15 -> 10, instance 20/20 = 1 -> 5: total exactly 70 -> healthy
    # "r30": no modules, activation 10/20 = 0.5 -> 10, login 4/10 = 0.4 -> 10,
    #        bi 1/10 = 0.1 -> 5, instance 10/10 = 1 -> 5: total exactly 30 -> at_risk
    # "u25": as r30 but bi 0/10 -> 0: total 25 -> unhealthy
    usage, modules = [], []
    for n in (0, 1):
        usage += [
            ("h70", week(n), 20, 20, 12, 3, 20),
            ("r30", week(n), 20, 10, 4, 1, 10),
            ("u25", week(n), 20, 10, 4, 0, 10),
        ]
        modules += [("h70", week(n), m, 1) for m in ("contracts", "orders", "payments", "invoices")]
    seed(conn, usage, modules)
    out = run(conn, shipped).set_index(["account_id", "week_start"])
    latest = out.xs(pd.Timestamp(week(1)), level="week_start")
    assert latest.loc["h70", "score"] == 70.0 and latest.loc["h70", "tier"] == "healthy"
    assert latest.loc["r30", "score"] == 30.0 and latest.loc["r30", "tier"] == "at_risk"
    assert latest.loc["u25", "score"] == 25.0 and latest.loc["u25", "tier"] == "unhealthy"


def test_score_rounds_half_away_from_zero(conn, shipped):
    sc = dataclasses.replace(shipped, min_weeks=1, module_points=(("contracts", 0.25),), core_modules=())
    seed(conn, [("r", week(0), 10, 10, 0, 0, 0)], [("r", week(0), "contracts", 1)])
    assert run(conn, sc).iloc[0].score == 20.3  # 20 + 0.25 = 20.25


def test_write_config_tables_replaces_and_binds_values(conn, shipped):
    write_config_tables(conn, shipped)
    odd = dataclasses.replace(
        shipped,
        weighting="equal",
        window_weeks=2,
        min_weeks=1,
        module_points=(("o'brien; drop table x", 3.0),),
        core_modules=("o'brien; drop table x",),
    )
    write_config_tables(conn, odd)
    assert conn.execute("select * from cfg_module_points").fetchall() == [("o'brien; drop table x", 3.0, True)]
    assert conn.execute("select * from cfg_window_weights order by lag").fetchall() == [(0, 1.0), (1, 1.0)]
    assert conn.execute("select * from cfg_score_params").fetchall() == [(2, 1, 70.0, 30.0, 30.0, 1, 0.0)]
    assert conn.execute("select count(*) from cfg_ratio_bands").fetchall() == [(19,)]
    assert conn.execute("select * from cfg_metrics order by ordinal").fetchall() == [
        ("seats_purchased", "last", "carry", 1), ("seats_activated", "last", "carry", 2),
        ("users_logged_in", "max", "zero", 3), ("users_bi", "max", "zero", 4), ("records_created", "sum", "zero", 5)]
    assert conn.execute("select * from cfg_indicators order by ordinal").fetchall() == [
        ("modules", "Modules", 0, 30.0, None, None, 1.0),
        ("instance_ratio", "Instance ratio", 1, 15.0, "records_created", "seats_activated", 1.0),
        ("activation_rate", "Activation rate", 2, 20.0, "seats_activated", "seats_purchased", 1.0),
        ("login_rate", "Login rate", 3, 20.0, "users_logged_in", "seats_activated", 1.0),
        ("bi_rate", "BI usage rate", 4, 15.0, "users_bi", "seats_activated", 1.0)]
    types = {
        (t, c): typ
        for t, c, typ in conn.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_name like 'cfg_%'"
        ).fetchall()
    }
    assert types[("cfg_score_params", "window_weeks")] == "INTEGER"
    assert types[("cfg_score_params", "healthy_min")] == "DOUBLE"
    assert types[("cfg_module_points", "is_core")] == "BOOLEAN"
    assert types[("cfg_ratio_bands", "min_value")] == "DOUBLE"
    assert types[("cfg_window_weights", "lag")] == "INTEGER"


# --- invariants on random data, and SQL == pandas reference -------------------------------


def _random_raw(rng: np.random.Generator, n_accounts: int = 50, n_weeks: int = 20):
    usage, modules = [], []
    names = ["contracts", "orders", "payments", "invoices", "customers", "contacts",
             "reports", "approvals", "inventory", "projects", "legacy_crm"]
    for a in range(n_accounts):
        for w in range(n_weeks):
            if rng.random() < 0.15:  # gaps
                continue
            purchased = int(rng.integers(0, 30))
            activated = int(rng.integers(0, purchased + 1))
            logged = int(rng.integers(0, activated + 1))
            bi = int(rng.integers(0, logged + 1))
            records = int(rng.integers(0, 40)) * int(rng.choice([1, 1, 1, 30]))  # some bulk imports
            usage.append((f"A{a:03d}", week(w), purchased, activated, logged, bi, records))
            for m in names:
                if rng.random() < 0.4:
                    modules.append((f"A{a:03d}", week(w), m, int(rng.integers(0, 4))))
    return usage, modules


@pytest.mark.parametrize(
    "edit",
    [
        {},
        {"weighting": "equal", "window_weeks": 3, "min_weeks": 1},
        {"window_weeks": 6, "min_weeks": 4, "modules_cap_points": 9.5, "module_min_records": 2},
        {"window_weeks": 1, "min_weeks": 1},  # no window: the generated SQL has no LAG at all
    ],
    ids=["shipped", "equal-3w", "linear-6w-cap", "one-week"],
)
def test_random_data_invariants_and_pandas_reference(conn, shipped, edit):
    sc = dataclasses.replace(shipped, **edit)
    usage, modules = _random_raw(np.random.default_rng(20240304))
    seed(conn, usage, modules)
    out = run(conn, sc)
    assert len(out) == len(usage)

    scored = out[out.score.notna()]
    assert len(scored) > 0 and (out.score.isna() == (out.weeks_in_window < sc.min_weeks)).all()
    assert scored.score.between(0, 100).all()
    total = np.minimum(100.0, scored[list(POINTS_COLUMNS)].sum(axis=1))
    assert (scored.score - total).abs().max() <= 0.05 + 1e-9  # score = rounded capped sum
    assert (out.weeks_in_window.between(1, sc.window_weeks)).all()
    assert [tier_of(s, sc) for s in out.score] == list(out.tier)
    assert set(out.tier) <= {"healthy", "at_risk", "unhealthy", "unscored"}

    assert_matches_pandas(conn, sc)


def assert_matches_pandas(conn, sc):
    """health_weekly and health_indicator_weekly equal score_usage_pandas of stg_usage_weekly."""
    out = conn.execute(f"select {', '.join(HEALTH_WEEKLY_COLUMNS)} from health_weekly "
                       "order by account_id, week_start").df()
    ind = conn.execute(
        f"select {', '.join('h.' + c for c in INDICATOR_COLUMNS)} from health_indicator_weekly as h "
        "join cfg_indicators as i using (indicator) order by h.account_id, h.week_start, i.ordinal").df()
    ref = score_usage_pandas(conn.execute("select * from stg_usage_weekly").df(), sc)
    for got, want, text_cols, int_cols in (
        (out, ref.weekly, ("account_id", "tier"), ("weeks_in_window", "modules_used", "core_modules_used")),
        (ind, ref.indicators, ("account_id", "indicator"), ()),
    ):
        assert list(want.columns) == list(got.columns) and len(want) == len(got)
        assert (got.week_start.to_numpy() == want.week_start.to_numpy()).all()
        for col in text_cols:
            assert (got[col].astype(str).to_numpy() == want[col].astype(str).to_numpy()).all(), col
        for col in int_cols:
            assert (got[col].to_numpy() == want[col].to_numpy()).all(), col
        for col in set(got.columns) - {"account_id", "week_start", *text_cols, *int_cols}:
            a, b = got[col].to_numpy(dtype=float), want[col].to_numpy(dtype=float)
            assert (np.isnan(a) == np.isnan(b)).all(), col
            both = ~np.isnan(a)
            assert np.abs(a[both] - b[both]).max(initial=0.0) <= 1e-9, col

    # the benchmark's form: what health_weekly stores, every indicator's columns by ordinal
    wide_ref = score_usage_pandas(conn.execute("select * from stg_usage_weekly").df(), sc, long_form=False)
    assert wide_ref.indicators is None
    stored = conn.execute("select * from health_weekly order by account_id, week_start").df()
    assert list(wide_ref.weekly.columns) == list(stored.columns)
    for col in stored.columns[len(HEALTH_WEEKLY_COLUMNS):]:
        a, b = stored[col].to_numpy(dtype=float), wide_ref.weekly[col].to_numpy(dtype=float)
        assert (np.isnan(a) == np.isnan(b)).all(), col
        both = ~np.isnan(a)
        assert np.abs(a[both] - b[both]).max(initial=0.0) <= 1e-9, col


def test_an_exact_tie_rounds_half_away_from_zero_despite_binary_noise(conn, shipped):
    # 6-week linear window, weeks 0..4 present: weights 6 (w4), 5 (w3), 4, 3, 2 (w0) = 20.
    # Only modules score: contacts (1) in week 0, customers (1) in week 3:
    # modules_points = (2*1 + 5*1) / 20 = 0.35, whose nearest double is 0.34999999999999998;
    # the score takes the exact value: 0.35 -> 0.4 (a plain round(x, 1) would give 0.3).
    sc = dataclasses.replace(shipped, window_weeks=6, min_weeks=1)
    seed(
        conn,
        [("t", week(n), 10, 0, 0, 0, 0) for n in range(5)],
        [("t", week(0), "contacts", 1), ("t", week(3), "customers", 1)],
    )
    out = run(conn, sc)
    last = row_of(out, "t", week(4))
    assert last.weeks_in_window == 5
    assert last.modules_points == pytest.approx(0.35, abs=1e-15)
    assert last.score == 0.4
    weekly = conn.execute("select * from stg_usage_weekly").df()
    assert score_usage_pandas(weekly, sc).weekly.score.iloc[-1] == 0.4


# --- missing weeks: a silent paying customer turns unhealthy -------------------------------

# "s" pays in March and April 2024 (weeks 0..3 are the Mondays of March, week 4 = Apr 1).
# Usage in weeks 0 and 1 only:
#   week 0: purchased 30, activated 20, logged 16, bi 6, records 200
#           activation 20/30 = 0.667 -> 10, login 0.8 -> 20, bi 0.3 -> 15, instance 10 -> 15,
#           modules 4 core + reports = 22 -> weekly 82
#   week 1: purchased 20 (the latest level), same otherwise: activation 1.0 -> 20 -> weekly 92
# "o" has usage in weeks 0..4: the data's last usage week is week 4 (Apr 1).
# Silent weeks 2, 3, 4 of "s" are filled: seats carried (20 / 20 -> activation 1.0 -> 20 points;
# carrying week 0's 30 would give 10), logins, BI users and records zero (0 points), no
# modules: weekly 20. Linear 4-week window:
#   week 1: (4*92 + 3*82) / 7        = 614/7 = 87.71 -> 87.7 healthy
#   week 2: (4*20 + 3*92 + 2*82) / 9 = 520/9 = 57.78 -> 57.8 at_risk
#   week 3: (4*20 + 3*20 + 2*92 + 82) / 10 = 40.6 at_risk
#   week 4: (4*20 + 3*20 + 2*20 + 92) / 10 = 27.2 unhealthy
# Week 5 (Apr 8) is after the data's last usage week: not filled although "s" pays in April.
# "n" uses the product in weeks 0 and 1 but has no revenue in March: its silence is not filled.
SILENT_USAGE = [
    ("s", week(0), 30, 20, 16, 6, 200),
    ("s", week(1), 20, 20, 16, 6, 200),
    *[("o", week(n), 10, 10, 10, 0, 0) for n in range(5)],
    ("n", week(0), 10, 10, 10, 0, 0),
    ("n", week(1), 10, 10, 10, 0, 0),
]
SILENT_MODULES = [("s", week(n), m, 3) for n in (0, 1) for m in ("contracts", "orders", "payments", "invoices", "reports")]
SILENT_REVENUE = [("s", "2024-03", 100.0), ("s", "2024-04", 100.0), ("n", "2024-02", 50.0)]


def test_a_silent_paying_customer_turns_unhealthy(conn, shipped):
    seed(conn, SILENT_USAGE, SILENT_MODULES, SILENT_REVENUE)
    out = run(conn, shipped)
    s = out[out.account_id == "s"].set_index("week_start")
    assert list(s.index) == [pd.Timestamp(week(n)) for n in range(5)]  # week 5 not filled
    assert list(s.score.iloc[1:]) == [87.7, 57.8, 40.6, 27.2]
    assert list(s.tier) == ["unscored", "healthy", "at_risk", "at_risk", "unhealthy"]
    assert list(s.weeks_in_window) == [1, 2, 3, 4, 4]
    silent = explained(conn, "s", week(3))
    assert silent["activation_rate"][0] == 1.0 and silent["activation_rate"][2] == 20  # carried 20 / 20
    assert silent["login_rate"][:1] == (0.0,) and silent["modules"][0] == 0
    assert silent["modules"][1] == pytest.approx((2 * 22 + 22) / 10, abs=1e-12)
    n = out[out.account_id == "n"]
    assert len(n) == 2  # no revenue in March: the silent weeks stay missing
    assert_matches_pandas(conn, shipped)


def test_the_carry_and_zero_rows_are_marked_filled(conn, shipped):
    seed(conn, SILENT_USAGE, SILENT_MODULES, SILENT_REVENUE)
    run(conn, shipped)
    rows = conn.execute(
        "select metric, value, is_filled from stg_usage_weekly where account_id = 's' and week_start = ? "
        "order by metric", [week(2)]).fetchall()
    assert rows == [("records_created", 0.0, True), ("seats_activated", 20.0, True),
                    ("seats_purchased", 20.0, True), ("users_bi", 0.0, True), ("users_logged_in", 0.0, True)]
    assert conn.execute("select count(*) from stg_usage_weekly where is_filled and week_start > ?",
                        [week(4)]).fetchone() == (0,)


def test_missing_none_leaves_the_week_unscored(conn, shipped):
    # every metric 'none': the silent weeks get no rows and are not scored
    sc = dataclasses.replace(shipped, metrics=tuple(m._replace(missing="none") for m in shipped.metrics))
    seed(conn, SILENT_USAGE, SILENT_MODULES, SILENT_REVENUE)
    out = run(conn, sc)
    assert len(out[out.account_id == "s"]) == 2


def test_no_usage_at_all_fills_nothing(conn, shipped):
    seed(conn, [], [], SILENT_REVENUE)
    out = run(conn, shipped)
    assert out.empty
    assert conn.execute("select count(*) from stg_usage_weekly").fetchone() == (0,)


# --- long usage: any day of the week, aggregations, features ------------------------------

def test_long_usage_rolls_up_to_monday_weeks_per_aggregation(conn, shipped):
    # week 0 = Mon 2024-03-04 .. Sun 2024-03-10
    day = lambda n: MON + dt.timedelta(days=n)  # noqa: E731
    rows = [
        ("l", day(0), "seats_purchased", 10), ("l", day(6), "seats_purchased", 12),  # last -> 12
        ("l", day(6), "seats_purchased", 11),  # same last day: the largest, 12
        ("l", day(1), "seats_activated", 9), ("l", day(3), "seats_activated", 8),  # last -> 8
        ("l", day(2), "users_logged_in", 4), ("l", day(4), "users_logged_in", 6),  # max -> 6
        ("l", day(2), "records_created", 5), ("l", day(2), "records_created", 7),  # sum -> 12
        ("l", day(5), "report_exported", 2), ("l", day(6), "report_exported", 1),  # feature: sum 3
        ("l", day(7), "records_created", 1),  # Monday of week 1
    ]
    seed(conn, [], [], [], rows)
    sc = dataclasses.replace(shipped, min_weeks=1, module_points=(*shipped.module_points, ("report_exported", 4.0)))
    run(conn, sc)
    got = dict(conn.execute(
        "select metric, value from stg_usage_weekly where account_id = 'l' and week_start = ? and not is_filled",
        [week(0)]).fetchall())
    assert got == {"seats_purchased": 12.0, "seats_activated": 8.0, "users_logged_in": 6.0,
                   "records_created": 12.0, "report_exported": 3.0}
    week0 = explained(conn, "l", week(0))
    # activation 8/12 = 0.667 -> 10; login 6/8 = 0.75 -> 15; bi 0 (zero-filled) -> 0;
    # instance 12/8 = 1.5 -> 5; modules: report_exported 4
    assert {k: v[2] for k, v in week0.items()} == {
        "modules": 4, "instance_ratio": 5, "activation_rate": 10, "login_rate": 15, "bi_rate": 0}
    # week 1: records 1 (Monday), seats carried (12, 8), logins/bi zero
    week1 = dict(conn.execute(
        "select metric, value from stg_usage_weekly where account_id = 'l' and week_start = ?", [week(1)]).fetchall())
    assert week1 == {"records_created": 1.0, "seats_purchased": 12.0, "seats_activated": 8.0,
                     "users_logged_in": 0.0, "users_bi": 0.0}
    assert_matches_pandas(conn, sc)


def test_days_active_min_avg_and_the_long_file_wins_a_name(conn, shipped):
    from cslib.rules.scorecard import Indicator, Metric

    day = lambda n: MON + dt.timedelta(days=n)  # noqa: E731
    sc = dataclasses.replace(
        shipped,
        min_weeks=1,
        metrics=(Metric("logins", "days_active"), Metric("low", "min"), Metric("mean", "avg"),
                 Metric("records_created", "sum")),
        indicators=(Indicator("active_days", "Active days", "logins"),),
        ratio_bands=(("active_days", ((0.0, 0.0), (3.0, 30.0))),),
    )
    rows = [("d", day(0), "logins", 2), ("d", day(0), "logins", 1), ("d", day(2), "logins", 0),
            ("d", day(3), "logins", 5), ("d", day(6), "logins", 1),  # active Mon, Thu, Sun: 3
            ("d", day(1), "low", 4), ("d", day(2), "low", 2), ("d", day(1), "mean", 1), ("d", day(2), "mean", 4),
            ("d", day(1), "records_created", 9)]
    # a usage_weekly row for the same account-week: its records_created (50) is ignored
    # because usage_metrics gives that name; its other columns are features (undeclared)
    seed(conn, [("d", week(0), 5, 5, 5, 5, 50)], [], [], rows)
    out = run(conn, sc)
    got = dict(conn.execute("select metric, value from stg_usage_weekly where not is_filled").fetchall())
    assert got["logins"] == 3.0 and got["low"] == 2.0 and got["mean"] == 2.5 and got["records_created"] == 9.0
    assert out.iloc[0].score == 30.0  # 3 active days -> 30; features seats_* etc. score default 0
    assert unlisted_features(conn) == ["seats_activated", "seats_purchased", "users_bi", "users_logged_in"]


def test_already_weekly_long_rows_give_what_the_grouping_gives(conn, shipped):
    # one row per account, Monday and name: stg_usage_weekly passes the rows through
    # without grouping; a repeated row anywhere makes it group. Both give the same rows,
    # -0.0 included (sum and avg turn it into 0.0, max keeps it).
    from cslib.rules.scorecard import Indicator, Metric

    sc = dataclasses.replace(
        shipped, min_weeks=1,
        metrics=(Metric("total", "sum"), Metric("high", "max"), Metric("low", "min"), Metric("mean", "avg"),
                 Metric("latest", "last"), Metric("active", "days_active"), Metric("kept", "sum", "carry")),
        indicators=(Indicator("active_days", "Active days", "active"),),
        ratio_bands=(("active_days", ((0.0, 0.0), (3.0, 30.0))),),
    )
    rows = [(a, week(w), name, value) for a in ("w", "x") for w in (0, 1, 3)
            for name, value in (("total", -0.0), ("high", -0.0), ("low", 2.5), ("mean", -0.0),
                                ("latest", 7.0), ("active", 0.0 if w else 3.0), ("feature", w + 0.5))]
    rows.append(("w", week(2), "kept", 4.0))
    seed(conn, [], [], [("w", "2024-04", 100.0)], rows)
    columns = "account_id, week_start, metric, is_feature, value::varchar as v, is_filled"

    def rolled_up() -> list[tuple]:
        run(conn, sc)
        return conn.execute(f"select {columns} from stg_usage_weekly where account_id = 'w' order by all").fetchall()

    passed_through = rolled_up()
    conn.execute("insert into raw_usage_metrics values ('y', ?, 'total', 1.0), ('y', ?, 'total', 2.0)",
                 [week(0), week(0)])
    assert rolled_up() == passed_through
    assert conn.execute("select value from stg_usage_weekly where account_id = 'y' and not is_filled").fetchall() == [(3.0,)]
    values = {(m, w): v for _, w, m, _, v, filled in passed_through if not filled}
    assert values[("total", week(0))] == "0.0" and values[("mean", week(0))] == "0.0"
    assert values[("high", week(0))] == "-0.0" and values[("active", week(0))] == "1.0"
    assert values[("active", week(1))] == "0.0" and values[("feature", week(3))] == "3.5"
    assert ("w", week(2), "total", False, "0.0", True) in passed_through  # zero-filled, paying week


# --- the shipped scorecard reproduces the old fixed engine on the demo --------------------

def test_the_shipped_scorecard_reproduces_the_old_engine_on_every_account_week(small_demo_db):
    """The old engine (tests/fixtures/scorecard_v1/health_weekly.sql, the fixed five
    indicators read from raw_usage_weekly) run on the same demo file and config tables:
    identical rows, scores, tiers, window points and ratios."""
    con = duckdb.connect()
    try:
        con.execute("attach ? as src (read_only)", [str(small_demo_db)])
        con.execute("use src")
        new = wide(con, "health_weekly", "health_indicator_weekly")
        old_sql = OLD_ENGINE.read_text(encoding="utf-8").replace(
            "create or replace table health_weekly as", "create or replace table memory.main.old_health_weekly as")
        con.execute(old_sql)
        old = con.execute("select * from memory.main.old_health_weekly order by account_id, week_start").df()
    finally:
        con.close()
    assert len(new) == len(old) > 5_000
    assert new.score.notna().sum() > 4_000 and new.tier.nunique() == 4
    assert (new.account_id.to_numpy() == old.account_id.to_numpy()).all()
    assert (new.week_start.to_numpy() == old.week_start.to_numpy()).all()
    for col in old.columns[2:]:
        a, b = new[col], old[col]
        if pd.api.types.is_numeric_dtype(b):
            a, b = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            assert ((a == b) | (np.isnan(a) & np.isnan(b))).all(), col
        else:
            assert (a.astype(str).to_numpy() == b.astype(str).to_numpy()).all(), col


def test_no_fill_before_an_accounts_first_usage_or_without_any(conn, shipped):
    # "late" pays in March but its usage starts in week 2; "never" pays and has no usage at
    # all (a gap in the usage export more likely than a customer): both are unscored
    # before / without usage, never zero-filled into "unhealthy".
    seed(conn, SILENT_USAGE + [("late", week(2), 10, 10, 10, 0, 0), ("late", week(3), 10, 10, 10, 0, 0)],
         SILENT_MODULES, SILENT_REVENUE + [("late", "2024-03", 10.0), ("never", "2024-03", 10.0)])
    out = run(conn, shipped)
    assert list(out[out.account_id == "late"].week_start) == [pd.Timestamp(week(2)), pd.Timestamp(week(3))]
    assert "never" not in set(out.account_id)


def test_a_scorecard_of_module_points_only(conn, shipped):
    # no indicators: the score is the module points; a week is scored by its one metric
    from cslib.rules.scorecard import Metric

    sc = dataclasses.replace(shipped, min_weeks=1, metrics=(Metric("records_created"),), indicators=(),
                             ratio_bands=())
    seed(conn, ACME_USAGE, ACME_MODULES)
    out = run(conn, sc)
    assert list(out.score) == [11.0, pytest.approx(round((4 * 22 + 3 * 11) / 7, 1))]
    assert conn.execute("select distinct indicator from health_indicator_weekly").fetchall() == [("modules",)]
    assert_matches_pandas(conn, sc)
