"""cslib.views.revenue on hand-built books: movements, rates, T12M, cohorts, breakdowns, accounts,
imports of subscription periods, and the invariants on the small demo.

Expected numbers come from the tables in tests_support/revenue_book.py (worked by hand).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from cslib.store import db
from cslib.views import revenue
from cslib.cli.main import main as cli_main
from cslib.filters import Filters
from cslib.store.importer import import_dir
from cslib.views.metrics import MOVEMENT_COLUMNS
from tests_support.revenue_book import MOVEMENT_EXPECTED, build_movement_book, build_t12m_book

REPO = Path(__file__).resolve().parents[2]
PERIODS_SMALL = REPO / "tests" / "fixtures" / "periods_small"
#: A subscription-periods export in the shape of the public dbt "MRR playbook" example
#: (customer_id, start_date, end_date exclusive, monthly_amount; one product), written by
#: the test itself: customer 1 churns, comes back and upgrades; customer 5 moves up and
#: down with a gap; 2 spans the whole range; 3 upgrades once; 4 is short-lived.
PLAYBOOK_PERIODS = (
    ("1", "2018-11-01", "2019-02-01", 50), ("1", "2019-04-01", "2019-06-01", 50),
    ("1", "2019-06-01", "2019-08-01", 75),
    ("2", "2017-09-01", "2020-02-01", 100),
    ("3", "2018-01-01", "2018-06-01", 30), ("3", "2018-06-01", "2019-01-01", 45),
    ("4", "2019-03-01", "2019-09-01", 20),
    ("5", "2018-11-01", "2018-12-01", 50), ("5", "2018-12-01", "2019-03-01", 25),
    ("5", "2019-07-01", "2019-08-01", 50), ("5", "2019-08-01", "2019-09-01", 25),
    ("5", "2019-09-01", "2019-10-01", 50), ("5", "2019-10-01", "2019-12-01", 25),
    ("5", "2019-12-01", "2020-01-01", 40),
)
ALL = Filters()
TABLE_COLUMNS = ["opening_mrr", *MOVEMENT_COLUMNS, "closing_mrr"]


@pytest.fixture(scope="module")
def book():
    conn = build_movement_book()
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def t12m_book():
    conn = build_t12m_book()
    yield conn
    conn.close()


def _rows(frame: pd.DataFrame) -> dict[str, tuple]:
    return {r["month"]: tuple(float(r[c]) for c in TABLE_COLUMNS) for _, r in frame.iterrows()}


def _approx(value, expected):
    if expected is None:
        return value is None or math.isnan(value)
    return value == pytest.approx(expected, abs=1e-9)


# --------------------------------------------------------------------------- movements
def test_movements_table_is_the_hand_computed_one(book):
    table = revenue.movements(book, ALL, "2026-01", "2026-06")
    assert _rows(table) == {m: tuple(float(v) for v in row) for m, row in MOVEMENT_EXPECTED.items()}
    assert table["active_accounts"].tolist() == [5, 6, 5, 6, 6, 6]
    assert table["expansion_mrr"].tolist() == [0, 0, 260, 100, 0, 0]


def test_every_row_reconciles_and_months_chain(book):
    table = revenue.movements(book, ALL, "2026-01", "2026-06")
    assert (table["opening_mrr"] + table[list(MOVEMENT_COLUMNS)].sum(axis=1) - table["closing_mrr"]).abs().max() < 1e-9
    assert table["opening_mrr"].iloc[1:].tolist() == table["closing_mrr"].iloc[:-1].tolist()


def test_non_target_account_counts_only_when_included(book):
    table = revenue.movements(book, Filters(include_non_target=True), "2026-01", "2026-03")
    # m8 (non-target) adds 100 new in January and a 100 churn in March
    assert _rows(table)["2026-01"] == (0, 2550, 0, 0, 0, 0, 0, 0, 2550)
    assert _rows(table)["2026-03"] == (4550, 0, 0, 200, 0, 60, 0, -400, 4410)


def test_segment_filter_slices_the_movements(book):
    table = revenue.movements(book, Filters(segment=("smb",)), "2026-03", "2026-06")
    # smb = m3, m5, m6: Mar usage +60 and m5 churn; Apr m6 new, m3 -30; May m5 back, m6 gone
    assert _rows(table) == {
        "2026-03": (450, 0, 0, 0, 0, 60, 0, -300, 210),
        "2026-04": (210, 200, 0, 0, 0, 0, -30, 0, 380),
        "2026-05": (380, 0, 250, 0, 0, 0, 0, -200, 430),
        "2026-06": (430, 0, 0, 0, 0, 0, 0, 0, 430),
    }


def test_empty_slice_gives_zero_months(book):
    table = revenue.movements(book, Filters(segment=("nobody",)), "2026-01", "2026-02")
    assert table["month"].tolist() == ["2026-01", "2026-02"]
    assert (table[TABLE_COLUMNS].to_numpy() == 0).all()


@pytest.mark.parametrize(
    ("month_from", "month_to", "message"),
    [
        ("2026-13", "2026-06", "from month must be YYYY-MM, got '2026-13'"),
        ("2025-12", "2026-06", "from month 2025-12 is not in the data (2026-01 to 2026-06)"),
        ("2026-05", "2026-02", "the period starts (2026-05) after it ends (2026-02)"),
        ("2026-01", "2026-07", "month 2026-07 is not in the data (2026-01 to 2026-06)"),
    ],
)
def test_bad_periods_are_user_errors(book, month_from, month_to, message):
    from cslib.errors import UserError

    with pytest.raises(UserError) as err:
        revenue.movements(book, ALL, month_from, month_to)
    assert str(err.value) == message


# --------------------------------------------------------------------------- waterfall
def test_period_waterfall_reconciles_by_hand(book):
    steps = revenue.waterfall(revenue.movements(book, ALL, "2026-01", "2026-06")).set_index("step")
    # 0 + 4650 new + 250 react + 200 upsell + 100 cross + 60 usage - 230 contr - 500 churn = 4530
    assert steps["amount_mrr"].to_dict() == {
        "opening": 0, "new_mrr": 4650, "reactivation_mrr": 250, "upsell_mrr": 200,
        "cross_sell_mrr": 100, "usage_expansion_mrr": 60, "contraction_mrr": -230,
        "churn_mrr": -500, "closing": 4530,
    }
    assert steps.loc["churn_mrr", "end_mrr"] == steps.loc["closing", "end_mrr"] == 4530


def test_waterfall_reconciles_for_every_single_month(book):
    table = revenue.movements(book, ALL, "2026-01", "2026-06")
    for i in range(len(table)):
        steps = revenue.waterfall(table.iloc[[i]])
        assert "slice_transfer" not in set(steps["step"])
        assert steps["end_mrr"].iloc[-2] == pytest.approx(steps["end_mrr"].iloc[-1], abs=1e-9)
        assert steps["amount_mrr"].iloc[0] == MOVEMENT_EXPECTED[table["month"].iloc[i]][0]


def test_lifecycle_filter_adds_a_slice_transfer_step(book):
    # onboarding = tenure 1-3. m1..m5 leave after March (closing 4410 -> April opening of
    # m7 2000 + m6 0: -2410); m7 leaves after April (2200 -> 200: -2000); May -> Jun 0.
    table = revenue.movements(book, Filters(lifecycle_stage=("onboarding",)), "2026-01", "2026-06")
    steps = revenue.waterfall(table).set_index("step")
    assert steps.loc["slice_transfer", "amount_mrr"] == -4410
    assert steps.loc["new_mrr", "amount_mrr"] == 4650
    assert steps.loc["churn_mrr", "amount_mrr"] == -500
    assert steps.loc["slice_transfer", "end_mrr"] == steps.loc["closing", "amount_mrr"] == 0


# --------------------------------------------------------------------------- rates
EXPECTED_RATES = {
    # month: (nrr, grr, net_mrr_churn_rate, gross_mrr_churn_rate, quick_ratio)
    "2026-01": (None, None, None, None, None),  # no start MRR: n/a, never 0
    "2026-02": (1.0, 1.0, 0.0, 0.0, None),  # no losses: quick ratio n/a
    "2026-03": (4410 / 4450, 4150 / 4450, 40 / 4450, 300 / 4450, 260 / 300),
    "2026-04": (4480 / 4410, 4380 / 4410, -70 / 4410, 30 / 4410, 300 / 30),
    # May: NRR excludes the 250 reactivation, net MRR churn counts it
    "2026-05": (4380 / 4680, 4380 / 4680, 50 / 4680, 300 / 4680, 250 / 300),
    "2026-06": (4530 / 4630, 4530 / 4630, 100 / 4630, 100 / 4630, 0.0),
}


def test_monthly_rates_are_hand_computed(book):
    table = revenue.rates(book, ALL, "2026-01", "2026-06").set_index("month")
    for month, expected in EXPECTED_RATES.items():
        names = ("nrr", "grr", "net_mrr_churn_rate", "gross_mrr_churn_rate", "quick_ratio")
        for name, value in zip(names, expected):
            assert _approx(table.loc[month, name], value), (month, name, table.loc[month, name])
    assert table["is_negative_churn"].tolist() == [False, False, False, True, False, False]
    assert table.loc["2026-03", "upsell_share"] == pytest.approx(200 / 260)
    assert table.loc["2026-03", "usage_expansion_share"] == pytest.approx(60 / 260)
    assert table.loc["2026-04", "cross_sell_share"] == 1.0
    assert math.isnan(table.loc["2026-05", "upsell_share"])  # no expansion in May


def test_nrr_leaves_reactivation_out_and_net_churn_counts_it(book):
    may = revenue.rates(book, ALL, "2026-05", "2026-05").iloc[0]
    assert may["reactivation_mrr"] == 250
    assert may["nrr"] == pytest.approx((4680 - 100 - 200) / 4680)
    assert may["net_mrr_churn_rate"] == pytest.approx((100 + 200 - 250) / 4680)
    assert may["nrr"] != pytest.approx(1 - may["net_mrr_churn_rate"])


def test_period_summary_is_true_retention_with_labelled_averages(book):
    """Mar-Jun: the base is the six accounts paying in Feb (m1 1000, m2 500, m3 150, m4 500,
    m5 300, m7 2000 = 4450); in June they pay 1200, 600, 180, 400, 250, 1900 = 4530; capped
    at their start: 1000, 500, 150, 400, 250, 1900 = 4200. m6 (new in April) is not in it."""
    table = revenue.rates(book, ALL, "2026-03", "2026-06")
    period = revenue.period_summary(book, ALL, table)
    assert (period["month_from"], period["month_to"], period["months"], period["base_month"]) == (
        "2026-03", "2026-06", 4, "2026-02")
    assert (period["base_accounts"], period["retained_accounts"]) == (6, 6)
    assert (period["start_mrr"], period["end_mrr"], period["gross_retained_mrr"]) == (4450, 4530, 4200)
    assert period["nrr"] == pytest.approx(4530 / 4450)
    assert period["grr"] == pytest.approx(4200 / 4450)
    # what is still summed over the months is named an average of the months
    start = 4450 + 4410 + 4680 + 4630
    assert period["avg_monthly_net_mrr_churn_rate"] == pytest.approx((230 + 500 - 360 - 250) / start)
    assert period["avg_monthly_gross_mrr_churn_rate"] == pytest.approx(730 / start)
    assert period["quick_ratio"] == pytest.approx((200 + 250 + 360) / 730)
    assert period["upsell_share"] == pytest.approx(200 / 360)
    # the old number, the MRR-weighted average monthly NRR, is not the period's NRR
    assert period["nrr"] != pytest.approx((start + 360 - 230 - 500) / start, abs=0.01)
    assert "nrr" not in {k for k in period if k.startswith("avg_monthly")}


@pytest.mark.parametrize(
    "month_from,month_to,filters,expected",
    [
        # Mar-May (upsell m1 +200 and usage m3 +60 in Mar, m5 churns in Mar and comes back at 250
        # in May, cross-sell m2 +100 and contraction m3 -30 in Apr, m4 drops a product in May):
        # base Feb 4450; May: m1 1200, m2 600, m3 180, m4 400, m5 250, m7 2000 = 4630;
        # capped 1000 + 500 + 150 + 400 + 250 + 2000 = 4300
        ("2026-03", "2026-05", Filters(), (6, 6, 4450, 4630, 4300)),
        # with the non-target m8 (100 in Feb, churned in Mar and gone): base 4550
        ("2026-03", "2026-05", Filters(include_non_target=True), (7, 6, 4550, 4630, 4300)),
        # Apr-Jun: base Mar = m1 1200, m2 500, m3 210, m4 500, m7 2000 = 4410; m5 (back in May)
        # and m6 (new in Apr, churned in May) are not in it; Jun: 1200 + 600 + 180 + 400 + 1900
        # = 4280, capped 1200 + 500 + 180 + 400 + 1900 = 4180
        ("2026-04", "2026-06", Filters(), (5, 5, 4410, 4280, 4180)),
        # one month is the month's NRR (June: 4530 / 4630)
        ("2026-06", "2026-06", Filters(), (6, 6, 4630, 4530, 4530)),
        # a period that starts with the data has no base
        ("2026-01", "2026-03", Filters(), (0, 0, 0, 0, 0)),
    ],
)
def test_quarter_retention_is_hand_computed(book, month_from, month_to, filters, expected):
    row = revenue.period_retention(book, filters, month_from, month_to).iloc[0]
    got = (row["base_accounts"], row["retained_accounts"], row["start_mrr"], row["end_mrr"], row["gross_retained_mrr"])
    assert got == expected
    base, _, start, end, gross = expected
    if base:
        assert row["period_nrr"] == pytest.approx(end / start)
        assert row["period_grr"] == pytest.approx(gross / start)
    else:
        assert math.isnan(row["period_nrr"]) and math.isnan(row["period_grr"])


def test_period_retention_by_group_reads_the_base_month(book):
    rows = revenue.period_retention(book, ALL, "2026-03", "2026-06", by="segment").set_index("group_value")
    # base Feb: enterprise m1 1000 + m7 2000; mid m2 500 + m4 500; smb m3 150 + m5 300
    assert rows["start_mrr"].to_dict() == {"enterprise": 3000, "mid_market": 1000, "smb": 450}
    assert rows["end_mrr"].to_dict() == {"enterprise": 3100, "mid_market": 1000, "smb": 430}
    assert rows["gross_retained_mrr"].to_dict() == {"enterprise": 2900, "mid_market": 900, "smb": 400}
    whole = revenue.period_retention(book, ALL, "2026-03", "2026-06").iloc[0]
    assert rows["start_mrr"].sum() == whole["start_mrr"] and rows["end_mrr"].sum() == whole["end_mrr"]


def test_month_summary_and_tiles(book):
    table = revenue.rates(book, ALL, "2026-03", "2026-06")
    april = revenue.month_summary(table, "2026-04")
    assert april["is_negative_churn"] and april["gains_mrr"] == 100 and april["losses_mrr"] == 30
    tiles = {t["name"]: t for t in revenue.tiles(table, "2026-04")}
    assert list(tiles) == list(revenue.TILES)
    assert tiles["net_mrr_churn_rate"]["value"] == pytest.approx(-70 / 4410)
    assert tiles["net_mrr_churn_rate"]["delta"] == pytest.approx(-70 / 4410 - 40 / 4450)
    assert tiles["quick_ratio"]["value"] == 10.0 and tiles["quick_ratio"]["format"] == "ratio"
    assert tiles["nrr_t12m"]["value"] is None  # only six months of data
    assert revenue.tiles(table, "2026-03")[0]["previous"] is None


# --------------------------------------------------------------------------- T12M
def test_trailing_twelve_month_rates_are_hand_computed(t12m_book):
    table = revenue.rates(t12m_book, ALL, "2025-12", "2026-02").set_index("month")
    # 2025-12: the window would start in 2024-12, before the data -> n/a
    assert math.isnan(table.loc["2025-12", "nrr_t12m"])
    # 2026-01, cohort = accounts paying in 2025-01: t1 100, t2 200, t3 300 (t4 is not in it)
    # in 2026-01 they pay t1 150, t2 180 (churned in Apr 2025, back in Jun: a member of the
    # cohort, so its MRR now counts), t3 300 (its March dip recovered). NRR = 630 / 600.
    # GRR caps t1 at 100 (t2 180 < 200, t3 300): 580 / 600.
    assert table.loc["2026-01", "t12m_start_mrr"] == 600
    assert table.loc["2026-01", "t12m_retained_mrr"] == 630
    assert table.loc["2026-01", "t12m_reactivation_mrr"] == 180  # of it, t2's comeback
    assert table.loc["2026-01", "nrr_t12m"] == pytest.approx(1.05)
    assert table.loc["2026-01", "grr_t12m"] == pytest.approx(580 / 600)
    # 2026-02, cohort of 2025-02 (same accounts, same MRR): t1 contracted to 120
    assert table.loc["2026-02", "nrr_t12m"] == pytest.approx(600 / 600)
    assert table.loc["2026-02", "grr_t12m"] == pytest.approx(580 / 600)
    assert table.loc["2026-02", "t12m_accounts"] == 3


def test_t12m_is_the_twelve_month_period_retention(t12m_book):
    """One definition: the trailing-12-month rates at M are NRR/GRR over the 12 months
    ending with M (revenue_t12m and revenue_period_retention.sql agree)."""
    table = revenue.rates(t12m_book, ALL, "2026-01", "2026-02").set_index("month")
    for month in ("2026-01", "2026-02"):
        frm = revenue.period_bounds(t12m_book, month, 12)[0]
        row = revenue.period_retention(t12m_book, ALL, frm, month).iloc[0]
        assert row["period_nrr"] == pytest.approx(table.loc[month, "nrr_t12m"], rel=1e-12)
        assert row["period_grr"] == pytest.approx(table.loc[month, "grr_t12m"], rel=1e-12)
        assert row["start_mrr"] == table.loc[month, "t12m_start_mrr"]


def test_t12m_differs_from_compounding_the_monthly_nrr(t12m_book):
    table = revenue.rates(t12m_book, ALL, "2025-02", "2026-01")
    compounded = table["nrr"].prod()
    # monthly NRRs also count t4 (new in May) and the base changes each month
    assert compounded != pytest.approx(1.05, abs=0.01)
    assert table["nrr_t12m"].iloc[-1] == pytest.approx(1.05)


# --------------------------------------------------------------------------- cohorts
def test_month_cohorts_are_hand_computed(book):
    cells = revenue.cohorts(book, ALL, "2026-01", "2026-06", "month")
    got = {(r.cohort, r.age): (r.accounts, r.base_mrr, r.cohort_mrr) for r in cells.itertuples()}
    assert got == {
        ("2026-01", 0): (5, 2450, 2450), ("2026-01", 1): (5, 2450, 2450),
        ("2026-01", 2): (5, 2450, 2410), ("2026-01", 3): (5, 2450, 2480),
        ("2026-01", 4): (5, 2450, 2630), ("2026-01", 5): (5, 2450, 2630),
        ("2026-02", 0): (1, 2000, 2000), ("2026-02", 1): (1, 2000, 2000),
        ("2026-02", 2): (1, 2000, 2000), ("2026-02", 3): (1, 2000, 2000),
        ("2026-02", 4): (1, 2000, 1900),
        ("2026-04", 0): (1, 200, 200), ("2026-04", 1): (1, 200, 0), ("2026-04", 2): (1, 200, 0),
    }
    # the January cohort counts m5's reactivation (cohort retention includes it)
    jan = cells[cells["cohort"] == "2026-01"].set_index("age")["retention"]
    assert jan[4] == pytest.approx(2630 / 2450)


def test_quarter_cohorts_are_hand_computed(book):
    cells = revenue.cohorts(book, ALL, "2026-03", "2026-06", "quarter")
    got = {(r.cohort, r.age): (r.accounts, r.base_mrr, r.cohort_mrr) for r in cells.itertuples()}
    # Q1 base = first-month MRR of m1..m5 (2450) + m7 (2000); measured at Mar and Jun ends
    # Q2 = m6: base 200, gone by June
    assert got == {("2026-Q1", 0): (6, 4450, 4410), ("2026-Q1", 1): (6, 4450, 4530), ("2026-Q2", 0): (1, 200, 0)}


def test_cohorts_cut_at_the_period_end_and_ignore_lifecycle(book):
    cells = revenue.cohorts(book, Filters(lifecycle_stage=("established",)), "2026-01", "2026-03", "month")
    assert cells["age"].max() == 2 and set(cells["cohort"]) == {"2026-01", "2026-02"}
    cells = revenue.cohorts(book, ALL, "2026-01", "2026-04", "quarter")
    assert set(zip(cells["cohort"], cells["age"])) == {("2026-Q1", 0)}  # Q2 is not complete


# --------------------------------------------------------------------------- by group
def test_breakdown_by_segment_is_hand_computed(book):
    groups = revenue.breakdown(book, ALL, "2026-03", "2026-06", "segment").set_index("group_value")
    # start MRR summed over Mar..Jun: enterprise 3000+3200+3200+3200, mid 1000+1000+1100+1000,
    # smb 450+210+380+430
    assert groups["start_mrr"].to_dict() == {"enterprise": 12600, "mid_market": 4100, "smb": 1470}
    assert groups.loc["enterprise", "avg_monthly_net_mrr_churn_rate"] == pytest.approx((100 - 200) / 12600)
    assert groups.loc["mid_market", "avg_monthly_net_mrr_churn_rate"] == 0.0  # zero is not negative churn
    assert groups.loc["smb", "avg_monthly_net_mrr_churn_rate"] == pytest.approx((500 + 30 - 60 - 250) / 1470)
    assert "net_mrr_churn_rate" not in groups.columns  # an average of the months says so
    # NRR and GRR are the period's, of each segment's accounts paying in Feb (the base)
    assert groups["base_accounts"].to_dict() == {"enterprise": 2, "mid_market": 2, "smb": 2}
    assert groups["nrr"].to_dict() == pytest.approx({"enterprise": 3100 / 3000, "mid_market": 1.0, "smb": 430 / 450})
    assert groups["grr"].to_dict() == pytest.approx({"enterprise": 2900 / 3000, "mid_market": 0.9, "smb": 400 / 450})
    assert groups["is_negative_churn"].to_dict() == {"enterprise": True, "mid_market": False, "smb": False}
    assert list(groups.index) == ["enterprise", "mid_market", "smb"]  # lowest net churn first
    assert groups.loc["smb", "usage_expansion_mrr"] == 60 and groups.loc["mid_market", "cross_sell_mrr"] == 100


def test_breakdown_rejects_unknown_dimensions(book):
    from cslib.errors import UserError

    with pytest.raises(UserError, match="cannot break down by 'name; drop table x'"):
        revenue.breakdown(book, ALL, "2026-03", "2026-06", "name; drop table x")


# --------------------------------------------------------------------------- accounts
def test_top_accounts_with_lever_and_tier(book):
    top = revenue.top_accounts(book, ALL, "2026-03", "2026-06", n=10)
    rows = [(r.direction, r.account_id, r.main_lever, r.retained_change_mrr, r.health_tier) for r in top.itertuples()]
    assert rows == [
        ("expanding", "m1", "upsell", 200, "healthy"),
        ("expanding", "m2", "cross_sell", 100, "unscored"),
        ("expanding", "m3", "usage_expansion", 30, "unscored"),  # +60 usage - 30 contraction
        ("contracting", "m5", "churn", -300, "unscored"),  # its 250 reactivation is left out
        ("contracting", "m6", "churn", -200, None),  # new and churned: not active in June
        ("contracting", "m4", "contraction", -100, "unscored"),  # product dropped
        ("contracting", "m7", "contraction", -100, "unscored"),  # tie -> by name
    ]
    assert len(revenue.top_accounts(book, ALL, "2026-03", "2026-06", n=1)) == 2


# --------------------------------------------------------------------------- report / CLI
def test_revenue_report_json_and_csv(tmp_path, capsys):
    path = tmp_path / "book.duckdb"
    build_movement_book(path)
    code = cli_main(["report", "revenue", "--db", str(path), "--from", "2026-03", "--to", "2026-06", "--by", "segment"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["month"] == "2026-06"
    assert [r["closing_mrr"] for r in payload["movements"]] == [4410, 4680, 4630, 4530]
    assert payload["rates"][1]["net_mrr_churn_rate"] == round(-70 / 4410, 6)
    assert [r["amount_mrr"] for r in payload["waterfall"]][-1] == 4530
    assert {r["group_value"] for r in payload["by_segment"]} == {"enterprise", "mid_market", "smb"}
    # the period's true NRR/GRR (base: Feb) as the page's period line shows them
    (period,) = payload["period"]
    assert (period["base_month"], period["start_mrr"], period["end_mrr"]) == ("2026-02", 4450, 4530)
    assert period["nrr"] == round(4530 / 4450, 6) and period["grr"] == round(4200 / 4450, 6)
    assert "avg_monthly_net_mrr_churn_rate" in period and "net_mrr_churn_rate" not in period

    assert cli_main(["report", "revenue", "--db", str(path), "--month", "2026-04", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("table,month,opening_mrr,new_mrr")
    assert lines[1].startswith("movements,2026-04,4410.0,200.0,0.0,0.0,100.0,0.0,-30.0,0.0,4680.0")

    assert cli_main(["report", "revenue", "--db", str(path), "--month", "2026-13"]) == 2
    assert capsys.readouterr().err.strip() == "error: month must be YYYY-MM, got '2026-13'"


# --------------------------------------------------------------------------- imports
def test_crafted_subscription_periods_give_the_hand_computed_movements(tmp_path):
    """periods_small, expanded by hand (a period covers its start month up to, not
    including, its end month; P4's 2024-06-05..2024-06-20 covers June):

    P1 core 100 Jan-Jun, addon 30 Mar-Apr; P2 core 200 Feb-Mar, 260 Apr-Jul, + 40 Jun-Jul
    (two periods on one product add up: 300); P3 core 50 Jan-Feb, 70 May-Jul; P4 40 Jun.

    month  opening  new  react  upsell  cross  contraction  churn  closing
    Jan    0        150  0      0       0      0            0      150    (P1 100, P3 50)
    Feb    150      200  0      0       0      0            0      350    (P2)
    Mar    350      0    0      0       30     0            -50    330    (P1 addon; P3 stops)
    Apr    330      0    0      60      0      0            0      390    (P2 200 -> 260)
    May    390      0    70     0       0      -30          0      430    (addon dropped; P3 back)
    Jun    430      40   0      40      0      0            0      510    (P2 + 40; P4 new)
    Jul    510      0    0      0       0      0            -140   370    (P1 -100, P4 -40)
    """
    path = tmp_path / "periods.duckdb"
    import_dir(PERIODS_SMALL, path)
    conn = db.connect(path)
    try:
        table = revenue.movements(conn, ALL, "2024-01", "2024-07")
    finally:
        conn.close()
    expected = {
        "2024-01": (0, 150, 0, 0, 0, 0, 0, 0, 150),
        "2024-02": (150, 200, 0, 0, 0, 0, 0, 0, 350),
        "2024-03": (350, 0, 0, 0, 30, 0, 0, -50, 330),
        "2024-04": (330, 0, 0, 60, 0, 0, 0, 0, 390),
        "2024-05": (390, 0, 70, 0, 0, 0, -30, 0, 430),
        "2024-06": (430, 40, 0, 40, 0, 0, 0, 0, 510),
        "2024-07": (510, 0, 0, 0, 0, 0, 0, -140, 370),
    }
    assert _rows(table) == {m: tuple(float(v) for v in row) for m, row in expected.items()}


def _mrr_from_periods(periods: pd.DataFrame) -> pd.DataFrame:
    """Independent expansion of subscription periods to customer x month MRR (pandas)."""
    rows = []
    for rec in periods.itertuples():
        start = pd.Period(rec.start_date, "M")
        end = max(pd.Period(rec.end_date, "M") - 1, start)
        for month in pd.period_range(start, end, freq="M"):
            rows.append((str(rec.customer_id), str(month), float(rec.monthly_amount)))
    frame = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    return frame.groupby(["account_id", "month"], as_index=False)["mrr"].sum()


def test_playbook_shaped_periods_import_and_reconcile(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    periods_csv = src / "subscription_periods.csv"
    periods_csv.write_text(
        "customer_id,start_date,end_date,monthly_amount\n"
        + "".join(f"{c},{s},{e},{a}\n" for c, s, e, a in PLAYBOOK_PERIODS),
        encoding="utf-8",
    )
    path = tmp_path / "dbt.duckdb"
    import_dir(src, path)
    conn = db.connect(path)
    try:
        table = revenue.movements(conn, ALL, None, None)
        per_account = db.query(
            conn,
            "select account_id, month, " + ", ".join(MOVEMENT_COLUMNS) + " from account_month "
            "where account_id in ('1', '5') and ("
            + " or ".join(f"{c} <> 0" for c in MOVEMENT_COLUMNS) + ") order by account_id, month",
        )
    finally:
        conn.close()
    # invariants: every month reconciles and chains; closing MRR = the periods' own sum
    assert table["month"].iloc[0] == "2017-09" and table["month"].iloc[-1] == "2020-01"
    assert (table["opening_mrr"] + table[list(MOVEMENT_COLUMNS)].sum(axis=1) - table["closing_mrr"]).abs().max() < 1e-9
    assert table["opening_mrr"].iloc[1:].tolist() == table["closing_mrr"].iloc[:-1].tolist()
    reference = _mrr_from_periods(pd.read_csv(periods_csv, dtype={"customer_id": str}))
    by_month = reference.groupby("month")["mrr"].sum()
    assert table.set_index("month")["closing_mrr"].to_dict() == by_month.reindex(table["month"], fill_value=0.0).to_dict()
    first_mrr = reference.sort_values("month").groupby("account_id").first()["mrr"]
    assert table["new_mrr"].sum() == first_mrr.sum()  # every customer is new exactly once
    assert table["cross_sell_mrr"].sum() == 0  # one product only

    def moves(account):
        out = []
        for rec in per_account[per_account["account_id"] == account].itertuples():
            out.extend((rec.month, c, getattr(rec, c)) for c in MOVEMENT_COLUMNS if getattr(rec, c) != 0)
        return out

    # customer 1: 50 Nov 2018-Jan 2019; 50 Apr-May 2019; 75 Jun-Jul 2019
    assert moves("1") == [
        ("2018-11", "new_mrr", 50), ("2019-02", "churn_mrr", -50), ("2019-04", "reactivation_mrr", 50),
        ("2019-06", "upsell_mrr", 25), ("2019-08", "churn_mrr", -75),
    ]
    # customer 5: 50 Nov 2018, 25 Dec-Feb, gap, 50 Jul 2019, 25 Aug, 50 Sep, 25 Oct-Nov, 40 Dec
    assert moves("5") == [
        ("2018-11", "new_mrr", 50), ("2018-12", "contraction_mrr", -25), ("2019-03", "churn_mrr", -25),
        ("2019-07", "reactivation_mrr", 50), ("2019-08", "contraction_mrr", -25), ("2019-09", "upsell_mrr", 25),
        ("2019-10", "contraction_mrr", -25), ("2019-12", "upsell_mrr", 15), ("2020-01", "churn_mrr", -40),
    ]


# --------------------------------------------------------------------------- small demo
@pytest.mark.slow
def test_small_demo_reconciles_every_month_and_slice(small_demo_db):
    conn = db.connect(small_demo_db)
    try:
        first, last = revenue.data_months(conn)
        for filters in (ALL, Filters(segment=("smb",)), Filters(include_non_target=True, csm_team=("Enterprise",))):
            table = revenue.movements(conn, filters, first, last)
            assert len(table) == 15
            gap = table["opening_mrr"] + table[list(MOVEMENT_COLUMNS)].sum(axis=1) - table["closing_mrr"]
            assert gap.abs().max() < 1e-6
            assert (table["opening_mrr"].iloc[1:].to_numpy() - table["closing_mrr"].iloc[:-1].to_numpy()).max() < 1e-6
            for i in range(len(table)):
                steps = revenue.waterfall(table.iloc[[i]])
                assert steps["end_mrr"].iloc[-2] == pytest.approx(steps["end_mrr"].iloc[-1], abs=1e-6)
            whole = revenue.waterfall(table)
            assert "slice_transfer" not in set(whole["step"])
            assert whole["end_mrr"].iloc[-2] == pytest.approx(table["closing_mrr"].iloc[-1], abs=1e-6)
        # revenue_t12m's retained MRR = start + the window's movements, reactivation included
        # (a cohort account that churned and came back counts with its MRR at the end)
        check = db.query(conn, """
            select max(abs(t.retained_mrr - (t.start_mrr + w.moves))) as worst, count(*) as n,
                max(t.gross_retained_mrr - least(t.start_mrr, t.end_mrr)) as gross_gap,
                min(t.gross_retained_mrr) as gross_min
            from revenue_t12m as t
            join lateral (
                select sum(reactivation_mrr + upsell_mrr + cross_sell_mrr + usage_expansion_mrr
                           + contraction_mrr + churn_mrr) as moves
                from account_month as a
                where a.account_id = t.account_id
                    and a.month_start > t.month_start - interval 12 month and a.month_start <= t.month_start
            ) as w on true
        """)
        assert check["n"].iloc[0] > 0 and check["worst"].iloc[0] < 1e-6
        assert abs(check["gross_gap"].iloc[0]) < 1e-9 and check["gross_min"].iloc[0] >= 0
        rates = revenue.rates(conn, ALL, first, last)
        assert rates["nrr_t12m"].iloc[:12].isna().all() and rates["nrr_t12m"].iloc[12:].notna().all()
        assert (rates["grr_t12m"].iloc[12:] <= rates["nrr_t12m"].iloc[12:] + 1e-12).all()
    finally:
        conn.close()


def _period_reference(frame: pd.DataFrame, base_month: str, month_to: str) -> tuple[float, float, float]:
    """Independent pandas recomputation of period retention from account_month rows
    (account_id, month, mrr): (start MRR, end MRR, capped-and-floored end MRR)."""
    start = frame[(frame["month"] == base_month) & (frame["mrr"] > 0)].set_index("account_id")["mrr"]
    end = frame[frame["month"] == month_to].set_index("account_id")["mrr"].reindex(start.index).fillna(0.0)
    gross = end.clip(lower=0).where(end.clip(lower=0) < start, start)
    return float(start.sum()), float(end.sum()), float(gross.sum())


@pytest.mark.slow
def test_small_demo_period_rates_invariants_and_pandas_reference(small_demo_db):
    """For periods of 1, 3, 6 and 12 months ending in every month, on three slices:
    0 <= GRR <= 1, GRR <= NRR, the SQL equals a pandas recomputation, the 12-month period
    equals the trailing-12-month rates, and the segment groups add up to the whole."""
    conn = db.connect(small_demo_db)
    try:
        first, last = revenue.data_months(conn)
        slices = {
            "all": (ALL, "is_target"),
            "smb": (Filters(segment=("smb",)), "is_target and segment = 'smb'"),
            "enterprise team": (Filters(include_non_target=True, csm_team=("Enterprise",)), "csm_team = 'Enterprise'"),
        }
        checked = 0
        for filters, where in slices.values():
            rows = db.query(conn, f"select account_id, month, mrr from account_month where {where}")
            rates = revenue.rates(conn, filters, first, last).set_index("month")
            for month_to in rates.index:
                for n in (1, 3, 6, 12):
                    month_from, _ = revenue.period_bounds(conn, month_to, n)
                    if month_from == first:
                        continue  # no base month in the data
                    got = revenue.period_retention(conn, filters, month_from, month_to).iloc[0]
                    base_month = got["base_month"]
                    start, end, gross = _period_reference(rows, base_month, month_to)
                    assert (got["start_mrr"], got["end_mrr"], got["gross_retained_mrr"]) == pytest.approx(
                        (start, end, gross), abs=1e-6)
                    nrr, grr = got["period_nrr"], got["period_grr"]
                    if got["base_accounts"] == 0:  # nobody of the slice paid in the base month
                        assert start == 0 and math.isnan(nrr) and math.isnan(grr)
                        continue
                    assert 0 <= grr <= 1 + 1e-12 and grr <= nrr + 1e-12
                    if n == 1:  # a one-month period has the month's NRR (the same base)
                        assert nrr == pytest.approx(rates.loc[month_to, "nrr"], rel=1e-9)
                    clipped = month_from != revenue.shift_month(month_to, -(n - 1))  # starts at the 2nd month
                    if n == 12 and not clipped:
                        assert nrr == pytest.approx(rates.loc[month_to, "nrr_t12m"], rel=1e-9)
                        assert grr == pytest.approx(rates.loc[month_to, "grr_t12m"], rel=1e-9)
                    checked += 1
            groups = revenue.period_retention(conn, filters, revenue.period_bounds(conn, last, 3)[0], last, by="segment")
            whole = revenue.period_retention(conn, filters, revenue.period_bounds(conn, last, 3)[0], last).iloc[0]
            assert groups["start_mrr"].sum() == pytest.approx(whole["start_mrr"])
            assert groups["gross_retained_mrr"].sum() == pytest.approx(whole["gross_retained_mrr"])
        assert checked > 60  # 15 months x 4 lengths x 3 slices, less the periods without a base
    finally:
        conn.close()


def test_chart_builders_produce_valid_vega_lite(book):
    """The page builds charts without Altair's schema validation (speed): validate each
    builder's output here, and check the June bridge's hand-computed ends (4630 -> 4530)."""
    import altair as alt

    from cslib.charts import revenue as charts_revenue

    table = revenue.rates(book, Filters(), "2026-01", "2026-06")
    built = [
        charts_revenue.waterfall_chart(revenue.waterfall(table.iloc[[-1]]), "June"),
        charts_revenue.waterfall_chart(revenue.waterfall(table), "Period"),
        charts_revenue.movements_chart(table),
        charts_revenue.retention_chart(table),
        charts_revenue.net_churn_chart(table),
        charts_revenue.quick_ratio_chart(table),
        charts_revenue.lever_share_chart(table),
        charts_revenue.cohort_heatmap(revenue.cohorts(book, Filters(), "2026-01", "2026-06", "quarter")),
        charts_revenue.breakdown_rate_chart(revenue.breakdown(book, Filters(), "2026-01", "2026-06", "segment"), "Segment"),
        charts_revenue.breakdown_levers_chart(revenue.breakdown(book, Filters(), "2026-01", "2026-06", "segment"), "Segment"),
    ]
    for chart in built:
        assert isinstance(chart, alt.TopLevelMixin)
        assert chart.to_dict()["title"]  # validates against the Vega-Lite schema
    june = built[0].to_dict()
    assert june["title"] == "June (axis from $4.4K)"
    steps = {row["step"]: row for row in june["datasets"][june["data"]["name"]]}
    assert steps["opening"]["end_mrr"] == 4630 and steps["closing"]["end_mrr"] == 4530
    assert steps["contraction_mrr"]["amount_mrr"] == -100
