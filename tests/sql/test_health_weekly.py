"""health_weekly.sql on tiny seeded raw tables: hand-computed rows, edge cases, and the
pandas reference (cslib.scorecard.score_usage_pandas) on random data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from cslib import db, pipeline, settings
from cslib.scorecard import (
    HEALTH_WEEKLY_COLUMNS,
    POINTS_COLUMNS,
    Scorecard,
    load_scorecard,
    score_usage_pandas,
    tier_of,
    write_config_tables,
)

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


def seed(conn, usage, modules=()):
    """usage: (account_id, week_start, purchased, activated, logged_in, bi, records);
    modules: (account_id, week_start, module, records)."""
    for table, rows in (("raw_usage_weekly", usage), ("raw_module_usage_weekly", modules)):
        if rows:
            conn.register("seed_rows", pd.DataFrame(list(rows)))
            conn.execute(f"insert into {table} select * from seed_rows")
            conn.unregister("seed_rows")


def run(conn, scorecard) -> pd.DataFrame:
    write_config_tables(conn, scorecard)
    conn.execute(db.sql_file("health_weekly"))
    return conn.execute("select * from health_weekly order by account_id, week_start").df()


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
    assert list(types) == list(HEALTH_WEEKLY_COLUMNS)
    assert types["account_id"] == "VARCHAR" and types["week_start"] == "DATE"
    for col in ("weeks_in_window", "modules_used", "core_modules_used"):
        assert types[col] == "INTEGER"
    for col in ("score", *POINTS_COLUMNS, "instance_ratio", "activation_rate", "login_rate", "bi_rate"):
        assert types[col] == "DOUBLE"
    assert types["tier"] == "VARCHAR"


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


def test_module_rows_without_a_usage_row_are_ignored(conn, shipped):
    seed(conn, [("m", week(1), 10, 0, 0, 0, 0)], [("m", week(0), "contracts", 5), ("x", week(1), "orders", 5)])
    out = run(conn, shipped)
    assert list(out.account_id) == ["m"]
    assert out.iloc[0].modules_points == 0 and out.iloc[0].weeks_in_window == 1


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
    assert conn.execute("select * from cfg_score_params").fetchall() == [(2, 1, 70.0, 30.0, 30.0, 1)]
    assert conn.execute("select count(*) from cfg_ratio_bands").fetchall() == [(19,)]
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
    ],
    ids=["shipped", "equal-3w", "linear-6w-cap"],
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

    raw_usage = conn.execute("select * from raw_usage_weekly").df()
    raw_modules = conn.execute("select * from raw_module_usage_weekly").df()
    ref = score_usage_pandas(raw_usage, raw_modules, sc)
    assert list(ref.columns) == list(out.columns)
    pd.testing.assert_series_equal(out.account_id, ref.account_id, check_dtype=False)
    assert (out.week_start.to_numpy() == ref.week_start.to_numpy()).all()
    assert (out.tier.to_numpy() == ref.tier.to_numpy()).all()
    for col in ("weeks_in_window", "modules_used", "core_modules_used"):
        assert (out[col].to_numpy() == ref[col].to_numpy()).all(), col
    for col in ("score", *POINTS_COLUMNS, "instance_ratio", "activation_rate", "login_rate", "bi_rate"):
        a, b = out[col].to_numpy(dtype=float), ref[col].to_numpy(dtype=float)
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
    raw_usage = conn.execute("select * from raw_usage_weekly").df()
    raw_modules = conn.execute("select * from raw_module_usage_weekly").df()
    assert score_usage_pandas(raw_usage, raw_modules, sc).score.iloc[-1] == 0.4
