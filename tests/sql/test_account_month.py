"""account_month on tiny hand-built raw tables, plus the value-tier config loader."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from cslib.store.db import sql_file
from cslib.views.metrics import MOVEMENT_COLUMNS as MOVEMENTS
from tests_support.sql import HEALTH_WEEKLY_DDL
from cslib.errors import UserError
from cslib.store.pipeline import create_raw_tables
from cslib.settings import CONFIG_DIR
from cslib.rules.value_tiers import ValueTiers, load_value_tiers, write_value_tier_table


def _months(first: str, n: int) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    for i in range(n):
        k = y * 12 + m - 1 + i
        out.append(f"{k // 12}-{k % 12 + 1:02d}")
    return out


def _build(
    revenue: list[tuple],
    accounts: list[tuple] | None = None,
    health: list[tuple] = (),
    renewals: list[tuple] = (),
    tiers: ValueTiers = ValueTiers(),
) -> duckdb.DuckDBPyConnection:
    """revenue: (account, month, product, sub_mrr, usage_mrr); accounts: (id, segment, is_target);
    health: (account, week_start, score, tier); renewals: raw_renewals rows."""
    conn = duckdb.connect()
    create_raw_tables(conn)
    conn.execute(HEALTH_WEEKLY_DDL)
    ids = sorted({r[0] for r in revenue})
    accounts = accounts or [(a, "smb", True) for a in ids]
    conn.executemany(
        "insert into raw_accounts values (?, ?, 'retail', 'north', ?, 'web', 'csm1', 'team1', "
        "date '2023-01-01', 'crm stage', ?)",
        [[a, f"Name {a}", seg, tgt] for a, seg, tgt in accounts],
    )
    conn.executemany(
        "insert into raw_revenue_monthly values (?, ?, ?, 'plan', ?, ?)", [list(r) for r in revenue]
    )
    if health:
        conn.executemany(
            "insert into health_weekly (account_id, week_start, weeks_in_window, score, tier) "
            "values (?, ?, 8, ?, ?)",
            [list(h) for h in health],
        )
    if renewals:
        conn.executemany("insert into raw_renewals values (?, ?, ?, ?, ?, ?)", [list(r) for r in renewals])
    write_value_tier_table(conn, tiers)
    for model in ("stg_revenue", "mrr_movements", "account_month"):
        conn.execute(sql_file(model))
    return conn


def _mart(conn) -> pd.DataFrame:
    return conn.execute("select * from account_month order by account_id, month").df()


def test_columns_are_the_agreed_interface():
    conn = _build([("a", "2024-01", "core_suite", 100, 0)])
    cols = [r[0] for r in conn.execute("describe account_month").fetchall()]
    assert cols == [
        "account_id", "month", "month_start", "name", "industry", "region", "segment",
        "source_channel", "csm", "csm_team", "is_target", "tenure_months", "lifecycle_stage",
        "subscription_mrr", "usage_mrr", "mrr", "arr", "prev_mrr", "is_active", "health_score",
        "health_tier", "is_overdue", "value_tier", *MOVEMENTS, "renewals_due", "renewals_decided",
        "renewals_renewed", "renewal_due_arr", "renewal_decided_arr", "renewal_kept_arr",
    ]
    types = dict(conn.execute("select column_name, column_type from (describe account_month)").fetchall())
    assert types["tenure_months"] == "INTEGER" and types["renewals_due"] == "INTEGER"
    assert types["month_start"] == "DATE" and types["is_active"] == "BOOLEAN"


def test_dense_months_from_first_revenue_to_end_of_data():
    conn = _build([
        ("a", "2024-01", "core_suite", 100, 0),
        ("a", "2024-02", "core_suite", 80, 20),
        ("a", "2024-02", "analytics", 50, 0),
        ("a", "2024-04", "core_suite", 100, 0),  # a gap in 2024-03
        ("b", "2024-03", "core_suite", 10, 0),
        ("z", "2024-06", "core_suite", 1, 0),  # data ends 2024-06
    ])
    df = _mart(conn)
    a = df[df["account_id"] == "a"]
    assert a["month"].tolist() == _months("2024-01", 6)
    assert a["subscription_mrr"].tolist() == [100, 130, 0, 100, 0, 0]
    assert a["usage_mrr"].tolist() == [0, 20, 0, 0, 0, 0]
    assert a["mrr"].tolist() == [100, 150, 0, 100, 0, 0]
    assert a["arr"].tolist() == [1200, 1800, 0, 1200, 0, 0]
    assert a["prev_mrr"].tolist() == [0, 100, 150, 0, 100, 0]
    assert a["is_active"].tolist() == [True, True, False, True, False, False]
    assert a["tenure_months"].tolist() == [1, 2, 3, 4, 5, 6]
    assert a["new_mrr"].tolist() == [100, 0, 0, 0, 0, 0]
    assert a["churn_mrr"].tolist() == [0, 0, -150, 0, -100, 0]
    assert a["reactivation_mrr"].tolist() == [0, 0, 0, 100, 0, 0]
    assert a["cross_sell_mrr"].tolist() == [0, 50, 0, 0, 0, 0]
    assert df[df["account_id"] == "b"]["month"].tolist() == _months("2024-03", 4)
    assert df[df["account_id"] == "z"]["month"].tolist() == ["2024-06"]
    assert str(a["month_start"].iloc[1].date()) == "2024-02-01"
    # the movements reconcile with the MRR change on every row
    np.testing.assert_allclose(df[list(MOVEMENTS)].sum(axis=1), df["mrr"] - df["prev_mrr"])


def test_attributes_come_from_accounts():
    conn = _build(
        [("a", "2024-01", "core_suite", 100, 0), ("b", "2024-01", "core_suite", 100, 0)],
        accounts=[("a", "enterprise", True), ("b", "smb", False)],
    )
    df = _mart(conn).set_index("account_id")
    assert df.loc["a", ["name", "segment", "industry", "region", "source_channel", "csm", "csm_team"]].tolist() == [
        "Name a", "enterprise", "retail", "north", "web", "csm1", "team1"
    ]
    assert bool(df.loc["a", "is_target"]) is True and bool(df.loc["b", "is_target"]) is False


def test_tenure_and_lifecycle_stage_boundaries():
    months = _months("2023-01", 14)
    conn = _build([("a", m, "core_suite", 100, 0) for m in months])
    df = _mart(conn)
    stage = dict(zip(df["tenure_months"], df["lifecycle_stage"]))
    assert df["tenure_months"].tolist() == list(range(1, 15))
    assert (stage[1], stage[3], stage[4]) == ("onboarding", "onboarding", "adoption")
    assert (stage[12], stage[13], stage[14]) == ("adoption", "established", "established")


def test_month_end_health_is_the_last_week_starting_in_the_month():
    conn = _build(
        [("a", m, "core_suite", 100, 0) for m in _months("2024-01", 4)]
        + [("z", "2024-05", "core_suite", 1, 0)],
        health=[
            ("a", "2024-01-29", 90.0, "healthy"),  # ends in February, starts in January
            ("a", "2024-02-05", 85.0, "healthy"),
            ("a", "2024-02-26", 20.0, "unhealthy"),  # the last Monday of February
            ("a", "2024-03-04", 50.0, "at_risk"),
            ("a", "2024-03-25", None, "unscored"),  # too few weeks: unscored wins
            ("a", "2024-05-06", 75.0, "healthy"),  # May: the account is no longer active
        ],
    )
    df = _mart(conn).set_index(["account_id", "month"]).loc["a"]
    assert df.loc["2024-01", "health_score"] == 90.0 and df.loc["2024-01", "health_tier"] == "healthy"
    assert df.loc["2024-02", "health_score"] == 20.0 and df.loc["2024-02", "health_tier"] == "unhealthy"
    assert pd.isna(df.loc["2024-03", "health_score"]) and df.loc["2024-03", "health_tier"] == "unscored"
    # no weekly row in April: unscored
    assert pd.isna(df.loc["2024-04", "health_score"]) and df.loc["2024-04", "health_tier"] == "unscored"
    # not active: no tier
    assert not df.loc["2024-05", "is_active"] and pd.isna(df.loc["2024-05", "health_tier"])


def test_fixed_value_tiers_boundaries_are_inclusive():
    mrrs = {"h1": 5000.0, "h2": 9000.0, "m1": 4999.0, "m2": 1250.0, "l1": 1249.0, "l2": 1.0}
    revenue = [(a, "2024-01", "core_suite", v, 0) for a, v in mrrs.items()]
    revenue.append(("gone", "2023-12", "core_suite", 9000.0, 0))  # inactive in 2024-01
    conn = _build(revenue, tiers=ValueTiers(method="fixed", high_min_arr=60000, mid_min_arr=15000))
    df = _mart(conn)
    jan = df[df["month"] == "2024-01"].set_index("account_id")
    assert jan["arr"].to_dict()["h1"] == 60000 and jan["arr"].to_dict()["m2"] == 15000
    assert jan["value_tier"].fillna("none").to_dict() == {
        "h1": "high", "h2": "high", "m1": "mid", "m2": "mid", "l1": "low", "l2": "low", "gone": "none"
    }


def test_quantile_value_tiers_rank_active_target_accounts_per_month():
    # ten target accounts t0..t9 with ARR 1000 * (10 - i) * 12; top 20% high, next 30% mid
    revenue = [(f"t{i}", "2024-01", "core_suite", 1000.0 * (10 - i), 0) for i in range(10)]
    revenue += [
        ("n_top", "2024-01", "core_suite", 20000.0, 0),  # non-target above everybody
        ("n_mid", "2024-01", "core_suite", 8500.0, 0),  # non-target between t1 and t2
        ("n_low", "2024-01", "core_suite", 10.0, 0),
        ("gone", "2023-12", "core_suite", 50000.0, 0),  # churned: not ranked in January
    ]
    # February: only t0 and t1 active, t1 now larger
    revenue += [("t0", "2024-02", "core_suite", 100.0, 0), ("t1", "2024-02", "core_suite", 200.0, 0)]
    accounts = [(f"t{i}", "smb", True) for i in range(10)] + [
        ("n_top", "smb", False), ("n_mid", "smb", False), ("n_low", "smb", False), ("gone", "smb", True)
    ]
    conn = _build(revenue, accounts, tiers=ValueTiers(method="quantile", high_share=0.2, mid_share=0.3))
    df = _mart(conn)
    jan = df[df["month"] == "2024-01"].set_index("account_id")["value_tier"].to_dict()
    assert [jan[f"t{i}"] for i in range(10)] == ["high"] * 2 + ["mid"] * 3 + ["low"] * 5
    # non-target accounts are placed against the target ranking without moving it
    assert (jan["n_top"], jan["n_mid"], jan["n_low"]) == ("high", "mid", "low")
    assert pd.isna(jan["gone"])
    feb = df[df["month"] == "2024-02"].set_index("account_id")["value_tier"].to_dict()
    # two active target accounts: 0/2 < 0.2 is high; 1/2 is not < 0.5 so low
    assert (feb["t1"], feb["t0"]) == ("high", "low")
    assert pd.isna(feb["t5"])  # inactive


def test_quantile_ties_share_the_better_tier():
    revenue = [(f"t{i}", "2024-01", "core_suite", v, 0) for i, v in enumerate([900, 500, 500, 100, 50])]
    conn = _build(revenue, tiers=ValueTiers(method="quantile", high_share=0.4, mid_share=0.2))
    tiers = _mart(conn).set_index("account_id")["value_tier"].to_dict()
    # t1 and t2 tie at position 1/5 = 0.2 < 0.4: both high (3 of 5)
    assert tiers == {"t0": "high", "t1": "high", "t2": "high", "t3": "low", "t4": "low"}


def test_renewal_columns_by_due_month():
    revenue = [("a", m, "core_suite", 1000, 0) for m in _months("2024-01", 4)]
    renewals = [
        ("a", "2024-02-03", 12000.0, "2024-02-01", 14400.0, "renewed"),  # kept capped at 12000
        ("a", "2024-02-10", 5000.0, "2024-02-20", 4000.0, "renewed"),  # late, partial: 4000
        ("a", "2024-02-17", 3000.0, None, None, "churned"),
        ("a", "2024-02-24", 2000.0, None, None, "deferred"),
        ("a", "2024-02-28", 7000.0, None, None, "pending"),
        ("a", "2024-04-30", 6000.0, None, None, "pending"),
        ("a", "2023-06-30", 6000.0, "2023-06-30", 6000.0, "renewed"),  # before first revenue
    ]
    conn = _build(revenue, renewals=renewals)
    df = _mart(conn).set_index("month")
    cols = ["renewals_due", "renewals_decided", "renewals_renewed",
            "renewal_due_arr", "renewal_decided_arr", "renewal_kept_arr"]
    assert df.loc["2024-02", cols].tolist() == [5, 4, 2, 29000.0, 22000.0, 16000.0]
    assert df.loc["2024-04", cols].tolist() == [1, 0, 0, 6000.0, 0.0, 0.0]
    assert df.loc["2024-01", cols].tolist() == [0, 0, 0, 0.0, 0.0, 0.0]
    assert int(df["renewals_due"].sum()) == 6  # the 2023 renewal has no account-month row


def _overdue(df: pd.DataFrame) -> dict[str, list[str]]:
    return df[df["is_overdue"]].groupby("account_id")["month"].apply(list).to_dict()


def test_overdue_months_follow_the_renewal_order():
    """Overdue: active, the latest renewal due by the month's end has no order by then.

    a: due 2024-02-20, renewed late on 2024-04-02 -> overdue in Feb and Mar, not in Apr.
    b: due 2024-02-10, still no order at the end of the data (outcome deferred) -> overdue
       from Feb on while active. c: renewed before its due date -> never overdue. d: due
       2024-01-31, no order, paid January, churned after: overdue at the January month end
       (point in time), then not active. e: due 2024-03-31 and renewed that day -> not
       overdue (ordered on or before the month end).
    """
    months = _months("2024-01", 5)
    revenue = [(acc, m, "core_suite", 1000, 0) for acc in "abce" for m in months]
    revenue += [("d", "2024-01", "core_suite", 1000, 0)]
    renewals = [
        ("a", "2024-02-20", 12000.0, "2024-04-02", 12000.0, "renewed"),
        ("b", "2024-02-10", 12000.0, None, None, "deferred"),
        ("c", "2024-02-10", 12000.0, "2024-02-01", 12000.0, "renewed"),
        ("d", "2024-01-31", 12000.0, None, None, "churned"),
        ("e", "2024-03-31", 12000.0, "2024-03-31", 12000.0, "renewed"),
    ]
    df = _mart(_build(revenue, renewals=renewals))
    assert _overdue(df) == {
        "a": ["2024-02", "2024-03"],
        "b": ["2024-02", "2024-03", "2024-04", "2024-05"],
        "d": ["2024-01"],
    }


def test_overdue_is_point_in_time_whatever_the_outcome():
    """The later outcome plays no part.

    p: due 2024-03-03, no order, pays through March, churns in April (outcome churned) ->
       overdue in March (it was open at the March month end), not in April (not active).
    q: same, but still pending-like: outcome 'pending' with a due date in the data ->
       overdue from March on.
    r: an old renewal (due 2024-02-05) left without order, then a newer one due 2024-04-05
       renewed on time: the latest due one decides -> overdue Feb, Mar; not Apr, May.
    s: due 2024-02-15 without order (churned), no revenue in March, won back in April: the
       churn closed the renewal -> overdue in February only.
    """
    months = _months("2024-01", 5)
    revenue = [("p", m, "core_suite", 1000, 0) for m in months[:3]]
    revenue += [(acc, m, "core_suite", 1000, 0) for acc in "qr" for m in months]
    revenue += [("s", m, "core_suite", 1000, 0) for m in ("2024-01", "2024-02", "2024-04", "2024-05")]
    renewals = [
        ("p", "2024-03-03", 12000.0, None, None, "churned"),
        ("q", "2024-03-03", 12000.0, None, None, "pending"),
        ("r", "2024-02-05", 12000.0, None, None, "churned"),
        ("r", "2024-04-05", 12000.0, "2024-04-05", 12000.0, "renewed"),
        ("s", "2024-02-15", 12000.0, None, None, "churned"),
    ]
    df = _mart(_build(revenue, renewals=renewals))
    assert _overdue(df) == {
        "p": ["2024-03"],
        "q": ["2024-03", "2024-04", "2024-05"],
        "r": ["2024-02", "2024-03"],
        "s": ["2024-02"],
    }
    assert not df.loc[~df["is_active"], "is_overdue"].any()


# ---------------------------------------------------------------- value-tier config


def test_default_value_tier_file_loads():
    tiers = load_value_tiers(CONFIG_DIR / "value_tiers.toml")
    assert tiers == ValueTiers("fixed", 60000.0, 15000.0, 0.2, 0.3)


def test_value_tier_path_defaults_to_the_setting(tmp_path, monkeypatch):
    path = tmp_path / "vt.toml"
    path.write_text('method = "quantile"\nhigh_min_arr = 1\nmid_min_arr = 0\n'
                    "high_share = 0.1\nmid_share = 0.4\n")
    monkeypatch.setenv("HEALTHGRID_VALUE_TIERS", str(path))
    assert load_value_tiers() == ValueTiers("quantile", 1.0, 0.0, 0.1, 0.4)


GOOD = {"method": '"fixed"', "high_min_arr": "60000", "mid_min_arr": "15000",
        "high_share": "0.2", "mid_share": "0.3"}


@pytest.mark.parametrize(
    "key,value",
    [
        ("method", '"median"'),
        ("high_min_arr", '"lots"'),
        ("high_min_arr", "10000"),  # below mid_min_arr
        ("mid_min_arr", "-1"),
        ("high_share", "1.5"),
        ("mid_share", "0.9"),  # 0.2 + 0.9 > 1
        ("mid_share", "true"),
        ("typo_key", "1"),
        ("high_share", None),  # missing
    ],
)
def test_bad_value_tier_config_names_file_and_key(tmp_path, key, value):
    doc = dict(GOOD)
    if value is None:
        del doc[key]
    else:
        doc[key] = value
    path = tmp_path / "tiers.toml"
    path.write_text("".join(f"{k} = {v}\n" for k, v in doc.items()))
    with pytest.raises(UserError) as err:
        load_value_tiers(path)
    assert str(path) in str(err.value) and key in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_or_broken_value_tier_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_value_tiers(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("method = \n")
    with pytest.raises(UserError, match="invalid TOML"):
        load_value_tiers(broken)


def test_write_value_tier_table_round_trips():
    conn = duckdb.connect()
    write_value_tier_table(conn, ValueTiers("quantile", 1.0, 0.5, 0.25, 0.5))
    write_value_tier_table(conn, ValueTiers("quantile", 2.0, 0.5, 0.25, 0.5))  # replaces
    assert conn.execute("select * from cfg_value_tiers").fetchall() == [("quantile", 2.0, 0.5, 0.25, 0.5)]
