"""mrr_movements on hand-built revenue: each case's rows are computed by hand."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from cslib.store.db import sql_file
from cslib.views.metrics import MOVEMENT_COLUMNS as AMOUNTS
from cslib.store.pipeline import create_raw_tables

# Expected row: (account, month, product, prev_mrr, mrr, movement, *AMOUNTS)
COLUMNS = ("account_id", "month", "product", "prev_mrr", "mrr", "movement", *AMOUNTS)


def _movements(rows: list[tuple]) -> pd.DataFrame:
    """Build stg_revenue and mrr_movements from (account, month, product, sub_mrr, usage_mrr)."""
    conn = duckdb.connect()
    create_raw_tables(conn)
    conn.executemany(
        "insert into raw_revenue_monthly values (?, ?, ?, 'plan', ?, ?)",
        [list(r) for r in rows],
    )
    conn.execute(sql_file("stg_revenue"))
    conn.execute(sql_file("mrr_movements"))
    df = conn.execute("select * from mrr_movements order by account_id, month, product").df()
    conn.close()
    return df


def _as_tuples(df: pd.DataFrame, account: str | None = None) -> list[tuple]:
    if account is not None:
        df = df[df["account_id"] == account]
    out = []
    for rec in df[list(COLUMNS)].itertuples(index=False):
        out.append(tuple(v if isinstance(v, str) else float(v) for v in rec))
    return out


def _row(account, month, product, prev, cur, movement, **amounts):
    return (account, month, product, float(prev), float(cur), movement,
            *(float(amounts.get(a, 0)) for a in AMOUNTS))


# A filler account keeps the data range at 2024-01..2024-06 in the cases below.
FILLER = [("zz", f"2024-0{m}", "core_suite", 1.0, 0.0) for m in range(1, 7)]


def test_new_account_is_new_then_flat():
    df = _movements([
        ("a", "2024-02", "core_suite", 100, 0),
        ("a", "2024-03", "core_suite", 100, 0),
        *FILLER,
    ])
    assert _as_tuples(df, "a") == [
        _row("a", "2024-02", "core_suite", 0, 100, "new", new_mrr=100),
        _row("a", "2024-03", "core_suite", 100, 100, "flat"),
        _row("a", "2024-04", "core_suite", 100, 0, "churn", churn_mrr=-100),
    ]


def test_upsell_cross_sell_and_usage_expansion_in_one_month():
    df = _movements([
        ("a", "2024-01", "core_suite", 100, 10),
        ("a", "2024-02", "core_suite", 150, 30),  # upsell +50, usage +20
        ("a", "2024-02", "analytics", 40, 0),  # cross-sell +40
        ("a", "2024-03", "core_suite", 150, 30),
        ("a", "2024-03", "analytics", 40, 0),
        ("a", "2024-03", "e_invoicing", 0, 25),  # cross-sell of a usage product
        *FILLER,
    ])
    feb = df[(df["account_id"] == "a") & (df["month"] == "2024-02")]
    assert _as_tuples(feb) == [
        _row("a", "2024-02", "analytics", 0, 40, "cross_sell", cross_sell_mrr=40),
        _row("a", "2024-02", "core_suite", 110, 180, "mixed", upsell_mrr=50, usage_expansion_mrr=20),
    ]
    mar = df[(df["account_id"] == "a") & (df["month"] == "2024-03")]
    assert _as_tuples(mar) == [
        _row("a", "2024-03", "analytics", 40, 40, "flat"),
        _row("a", "2024-03", "core_suite", 180, 180, "flat"),
        _row("a", "2024-03", "e_invoicing", 0, 25, "cross_sell", cross_sell_mrr=25),
    ]
    core = feb[feb["product"] == "core_suite"].iloc[0]
    assert (core["prev_subscription_mrr"], core["prev_usage_mrr"]) == (100, 10)
    assert (core["subscription_mrr"], core["usage_mrr"]) == (150, 30)


@pytest.mark.parametrize(
    "before,after,expected",
    [
        # subscription down only
        ((200, 0), (150, 0), dict(movement="contraction", contraction_mrr=-50)),
        # usage down only
        ((100, 40), (100, 15), dict(movement="contraction", contraction_mrr=-25)),
        # both down: one contraction of the summed fall
        ((200, 50), (150, 20), dict(movement="contraction", contraction_mrr=-80)),
        # usage up only
        ((100, 40), (100, 70), dict(movement="usage_expansion", usage_expansion_mrr=30)),
        # subscription up only
        ((100, 40), (130, 40), dict(movement="upsell", upsell_mrr=30)),
        # subscription down, usage up: both shown, not netted
        ((200, 10), (150, 40), dict(movement="mixed", contraction_mrr=-50, usage_expansion_mrr=30)),
    ],
)
def test_continuing_product(before, after, expected):
    df = _movements([
        ("a", "2024-01", "core_suite", *before),
        ("a", "2024-02", "core_suite", *after),
        ("a", "2024-02", "analytics", 10, 0),  # a second product, flat below
        ("a", "2024-03", "analytics", 10, 0),
        ("a", "2024-03", "core_suite", *after),
        *FILLER,
    ])
    expected = dict(expected)
    movement = expected.pop("movement")
    row = df[(df["account_id"] == "a") & (df["month"] == "2024-02") & (df["product"] == "core_suite")]
    assert _as_tuples(row) == [
        _row("a", "2024-02", "core_suite", sum(before), sum(after), movement, **expected)
    ]


def test_dropped_product_while_another_stays_is_contraction_not_churn():
    df = _movements([
        ("a", "2024-01", "core_suite", 100, 0),
        ("a", "2024-01", "analytics", 30, 0),
        ("a", "2024-02", "core_suite", 100, 0),
        *FILLER,
    ])
    assert _as_tuples(df, "a") == [
        _row("a", "2024-01", "analytics", 0, 30, "new", new_mrr=30),
        _row("a", "2024-01", "core_suite", 0, 100, "new", new_mrr=100),
        _row("a", "2024-02", "analytics", 30, 0, "contraction", contraction_mrr=-30),
        _row("a", "2024-02", "core_suite", 100, 100, "flat"),
        _row("a", "2024-03", "core_suite", 100, 0, "churn", churn_mrr=-100),
    ]


def test_full_churn_on_every_product_and_no_rows_after():
    df = _movements([
        ("a", "2024-01", "core_suite", 100, 0),
        ("a", "2024-01", "e_invoicing", 5, 45),
        ("a", "2024-02", "core_suite", 100, 0),
        ("a", "2024-02", "e_invoicing", 5, 60),
        *FILLER,
    ])
    assert _as_tuples(df[df["month"] >= "2024-03"], "a") == [
        _row("a", "2024-03", "core_suite", 100, 0, "churn", churn_mrr=-100),
        _row("a", "2024-03", "e_invoicing", 65, 0, "churn", churn_mrr=-65),
    ]


def test_reactivation_after_one_month_gap():
    df = _movements([
        ("a", "2024-01", "core_suite", 100, 0),
        ("a", "2024-03", "core_suite", 120, 0),
        ("a", "2024-03", "analytics", 20, 0),
        *FILLER,
    ])
    assert _as_tuples(df, "a") == [
        _row("a", "2024-01", "core_suite", 0, 100, "new", new_mrr=100),
        _row("a", "2024-02", "core_suite", 100, 0, "churn", churn_mrr=-100),
        # back after a gap: all products are reactivation (not new, not cross-sell)
        _row("a", "2024-03", "analytics", 0, 20, "reactivation", reactivation_mrr=20),
        _row("a", "2024-03", "core_suite", 0, 120, "reactivation", reactivation_mrr=120),
        _row("a", "2024-04", "analytics", 20, 0, "churn", churn_mrr=-20),
        _row("a", "2024-04", "core_suite", 120, 0, "churn", churn_mrr=-120),
    ]


def test_reactivation_after_several_months_gap():
    df = _movements([
        ("a", "2024-01", "core_suite", 100, 0),
        ("a", "2024-05", "analytics", 80, 0),  # a different product than before
        ("a", "2024-06", "analytics", 80, 0),
        *FILLER,
    ])
    assert _as_tuples(df, "a") == [
        _row("a", "2024-01", "core_suite", 0, 100, "new", new_mrr=100),
        _row("a", "2024-02", "core_suite", 100, 0, "churn", churn_mrr=-100),
        _row("a", "2024-05", "analytics", 0, 80, "reactivation", reactivation_mrr=80),
        _row("a", "2024-06", "analytics", 80, 80, "flat"),
    ]


def test_revenue_in_one_month_only_is_new_then_churn_next_month():
    df = _movements([("a", "2024-03", "core_suite", 70, 0), *FILLER])
    assert _as_tuples(df, "a") == [
        _row("a", "2024-03", "core_suite", 0, 70, "new", new_mrr=70),
        _row("a", "2024-04", "core_suite", 70, 0, "churn", churn_mrr=-70),
    ]


def test_no_rows_outside_the_data_range():
    # revenue in the last month of the data: new, and no churn row after the range
    df = _movements([("a", "2024-06", "core_suite", 70, 0), *FILLER])
    assert _as_tuples(df, "a") == [_row("a", "2024-06", "core_suite", 0, 70, "new", new_mrr=70)]
    assert df["month"].min() == "2024-01" and df["month"].max() == "2024-06"


def test_zero_revenue_rows_count_as_no_revenue():
    df = _movements([
        ("a", "2024-01", "core_suite", 0, 0),
        ("a", "2024-02", "core_suite", 50, 0),
        *FILLER,
    ])
    assert _as_tuples(df, "a")[0] == _row("a", "2024-02", "core_suite", 0, 50, "new", new_mrr=50)


def test_account_on_several_products_over_months():
    df = _movements([
        ("a", "2024-01", "core_suite", 300, 0),
        ("a", "2024-01", "e_invoicing", 10, 50),
        ("a", "2024-02", "core_suite", 300, 0),
        ("a", "2024-02", "e_invoicing", 10, 35),
        ("a", "2024-02", "integrations", 25, 0),
        ("a", "2024-03", "core_suite", 360, 0),
        ("a", "2024-03", "integrations", 25, 0),
        ("a", "2024-04", "core_suite", 360, 0),
        ("a", "2024-04", "integrations", 25, 0),
        ("a", "2024-04", "e_invoicing", 0, 40),  # back on the account while it stayed active
        *FILLER,
    ])
    assert _as_tuples(df[df["month"] <= "2024-04"], "a") == [
        _row("a", "2024-01", "core_suite", 0, 300, "new", new_mrr=300),
        _row("a", "2024-01", "e_invoicing", 0, 60, "new", new_mrr=60),
        _row("a", "2024-02", "core_suite", 300, 300, "flat"),
        _row("a", "2024-02", "e_invoicing", 60, 45, "contraction", contraction_mrr=-15),
        _row("a", "2024-02", "integrations", 0, 25, "cross_sell", cross_sell_mrr=25),
        _row("a", "2024-03", "core_suite", 300, 360, "upsell", upsell_mrr=60),
        _row("a", "2024-03", "e_invoicing", 45, 0, "contraction", contraction_mrr=-45),
        _row("a", "2024-03", "integrations", 25, 25, "flat"),
        _row("a", "2024-04", "core_suite", 360, 360, "flat"),
        _row("a", "2024-04", "e_invoicing", 0, 40, "cross_sell", cross_sell_mrr=40),
        _row("a", "2024-04", "integrations", 25, 25, "flat"),
    ]


def test_first_month_of_data_counts_as_new():
    df = _movements(FILLER)
    assert _as_tuples(df)[0] == _row("zz", "2024-01", "core_suite", 0, 1, "new", new_mrr=1)


# ---------------------------------------------------------------- invariants on random data


def _random_revenue(seed: int, n_accounts: int = 25, n_months: int = 10) -> list[tuple]:
    rng = np.random.default_rng(seed)
    products = ("core_suite", "analytics", "e_invoicing", "integrations")
    rows = []
    for a in range(n_accounts):
        for m in range(n_months):
            month = f"2023-{m + 1:02d}"
            for p in products:
                if rng.random() < 0.45:
                    sub = float(rng.choice([0, 0, 50, 100, 150])) if p == "e_invoicing" else float(
                        rng.integers(1, 6) * 100
                    )
                    usage = float(np.round(rng.uniform(0, 80), 2)) if p in ("e_invoicing", "core_suite") else 0.0
                    if sub + usage > 0:
                        rows.append((f"acc{a:02d}", month, p, sub, usage))
    return rows


def _reference(rows: list[tuple]) -> dict[tuple, dict]:
    """An independent, loop-based implementation of the movement rules."""
    rev: dict[tuple, tuple[float, float]] = {(a, m, p): (s, u) for a, m, p, s, u in rows}
    months = sorted({m for _, m, _, _, _ in rows})
    accounts = sorted({a for a, _, _, _, _ in rows})
    products = sorted({p for _, _, p, _, _ in rows})
    out = {}
    for a in accounts:
        seen_revenue = False
        for i, m in enumerate(months):
            prev_m = months[i - 1] if i else None
            cur = {p: rev.get((a, m, p), (0.0, 0.0)) for p in products}
            prev = {p: rev.get((a, prev_m, p), (0.0, 0.0)) for p in products}
            cur_total = sum(map(sum, cur.values()))
            prev_total = sum(map(sum, prev.values()))
            for p in products:
                c, q = sum(cur[p]), sum(prev[p])
                if c == 0 and q == 0:
                    continue
                amt = dict.fromkeys(AMOUNTS, 0.0)
                if prev_total == 0:
                    amt["reactivation_mrr" if seen_revenue else "new_mrr"] = c
                elif cur_total == 0:
                    amt["churn_mrr"] = -q
                elif q == 0:
                    amt["cross_sell_mrr"] = c
                elif c == 0:
                    amt["contraction_mrr"] = -q
                else:
                    ds, du = cur[p][0] - prev[p][0], cur[p][1] - prev[p][1]
                    amt["upsell_mrr"] = max(ds, 0.0)
                    amt["usage_expansion_mrr"] = max(du, 0.0)
                    amt["contraction_mrr"] = min(ds, 0.0) + min(du, 0.0)
                out[(a, m, p)] = amt
            seen_revenue = seen_revenue or cur_total > 0
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_random_book_matches_reference_and_sums_to_the_mrr_change(seed):
    rows = _random_revenue(seed)
    df = _movements(rows)
    expected = _reference(rows)

    got_keys = set(zip(df["account_id"], df["month"], df["product"]))
    assert got_keys == set(expected)
    for rec in df.to_dict(orient="records"):
        want = expected[(rec["account_id"], rec["month"], rec["product"])]
        assert {a: rec[a] for a in AMOUNTS} == pytest.approx(want, abs=1e-9)

    # per row: the seven movements sum to mrr - prev_mrr; signs as documented
    total = df[list(AMOUNTS)].sum(axis=1)
    np.testing.assert_allclose(total, df["mrr"] - df["prev_mrr"], atol=1e-9)
    assert (df[list(AMOUNTS[:5])] >= 0).all().all()
    assert (df[["contraction_mrr", "churn_mrr"]] <= 0).all().all()
    # the label names the only non-zero amount, else mixed / flat
    nonzero = (df[list(AMOUNTS)] != 0).sum(axis=1)
    assert (df.loc[nonzero == 0, "movement"] == "flat").all()
    assert (df.loc[nonzero > 1, "movement"] == "mixed").all()
    single = df[nonzero == 1]
    label_of = {a: a.removesuffix("_mrr") for a in AMOUNTS}
    for rec in single.to_dict(orient="records"):
        (amount,) = [a for a in AMOUNTS if rec[a] != 0]
        assert rec["movement"] == label_of[amount]

    # per month: movements sum to the change of the book's total MRR (from the raw rows)
    raw = pd.DataFrame(rows, columns=["account_id", "month", "product", "sub", "usage"])
    book = (raw["sub"] + raw["usage"]).groupby(raw["month"]).sum()
    change = book.diff().fillna(book.iloc[0])
    by_month = df.groupby("month")[list(AMOUNTS)].sum().sum(axis=1)
    np.testing.assert_allclose(by_month.reindex(change.index), change, atol=1e-6)
