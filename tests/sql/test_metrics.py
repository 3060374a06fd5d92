"""KPIs on a hand-built book, every value computed by hand.

The book (monthly MRR; months 2023-11..2024-03; health = month-end tier):

  account  segment     target  2023-11 2023-12 2024-01      2024-02                    2024-03
  A        smb         yes     1000    1000    1000 H       1000 H                     1200 H (upsell)
  B        mid_market  yes     -       -       2000 H (new) 2000+500 analytics R        1500+500 H (contraction)
  C        smb         yes     -       -       500 U (new)  500 U                      0 (churn)
  D        enterprise  yes     -       -       -            3000+100 usage (new) unsc.  3000+300 usage H
  E        smb         no      -       800 H   800 H        800 H                      800 H
  F        smb         yes     -       -       400 R (new)  0 (churn)                  400 R (reactivation)

H healthy, R at risk, U unhealthy. Renewals: C 2024-02 deferred 6000; in 2024-03 A renewed
(due 12000, renewed 14400), B renewed (due 24000, renewed 18000), C churned (6000),
D pending (36000), E churned (9600, non-target).
Overdue at the March month end (point in time, whatever the outcome): D (due 2024-03-28, no
order by 03-31) and E (due 2024-03-05, no order, still paying in March), so neither is in
healthy ARR in March although both score healthy; C is overdue in February (unhealthy anyway).
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest

from cslib.store.db import sql_file
from tests_support.sql import HEALTH_WEEKLY_DDL
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.views.metrics import COMPONENTS, METRICS, TILES, kpi_series, kpi_tiles, latest_month
from cslib.store.pipeline import create_raw_tables
from cslib.rules.value_tiers import ValueTiers, write_value_tier_table


ACCOUNTS = [("A", "smb", True), ("B", "mid_market", True), ("C", "smb", True),
            ("D", "enterprise", True), ("E", "smb", False), ("F", "smb", True)]
REVENUE = [
    ("A", "2023-11", "core_suite", 1000, 0), ("A", "2023-12", "core_suite", 1000, 0),
    ("A", "2024-01", "core_suite", 1000, 0), ("A", "2024-02", "core_suite", 1000, 0),
    ("A", "2024-03", "core_suite", 1200, 0),
    ("B", "2024-01", "core_suite", 2000, 0), ("B", "2024-02", "core_suite", 2000, 0),
    ("B", "2024-02", "analytics", 500, 0), ("B", "2024-03", "core_suite", 1500, 0),
    ("B", "2024-03", "analytics", 500, 0),
    ("C", "2024-01", "core_suite", 500, 0), ("C", "2024-02", "core_suite", 500, 0),
    ("D", "2024-02", "core_suite", 3000, 0), ("D", "2024-02", "e_invoicing", 0, 100),
    ("D", "2024-03", "core_suite", 3000, 0), ("D", "2024-03", "e_invoicing", 0, 300),
    *[("E", m, "core_suite", 800, 0) for m in ("2023-12", "2024-01", "2024-02", "2024-03")],
    ("F", "2024-01", "core_suite", 400, 0), ("F", "2024-03", "core_suite", 400, 0),
]
SCORE = {"healthy": 80.0, "at_risk": 50.0, "unhealthy": 20.0}
# first Monday of each month
MONDAY = {"2023-11": "2023-11-06", "2023-12": "2023-12-04", "2024-01": "2024-01-01",
          "2024-02": "2024-02-05", "2024-03": "2024-03-04"}
HEALTH = {
    "A": {"2023-12": "healthy", "2024-01": "healthy", "2024-02": "healthy", "2024-03": "healthy"},
    "B": {"2024-01": "healthy", "2024-02": "at_risk", "2024-03": "healthy"},
    "C": {"2024-01": "unhealthy", "2024-02": "unhealthy"},
    "D": {"2024-03": "healthy"},
    "E": {m: "healthy" for m in ("2023-12", "2024-01", "2024-02", "2024-03")},
    "F": {"2024-01": "at_risk", "2024-03": "at_risk"},
}
RENEWALS = [
    ("C", "2024-02-10", 6000.0, None, None, "deferred"),
    ("A", "2024-03-15", 12000.0, "2024-03-14", 14400.0, "renewed"),
    ("B", "2024-03-20", 24000.0, "2024-03-25", 18000.0, "renewed"),
    ("C", "2024-03-01", 6000.0, None, None, "churned"),
    ("D", "2024-03-28", 36000.0, None, None, "pending"),
    ("E", "2024-03-05", 9600.0, None, None, "churned"),
]


@pytest.fixture(scope="module")
def conn():
    con = duckdb.connect()
    create_raw_tables(con)
    con.execute(HEALTH_WEEKLY_DDL)
    con.executemany(
        "insert into raw_accounts values (?, ?, 'retail', 'north', ?, 'web', 'csm1', 'team1', "
        "date '2023-01-01', null, ?)",
        [[a, a, seg, tgt] for a, seg, tgt in ACCOUNTS],
    )
    con.executemany("insert into raw_revenue_monthly values (?, ?, ?, 'plan', ?, ?)", [list(r) for r in REVENUE])
    con.executemany(
        "insert into health_weekly (account_id, week_start, weeks_in_window, score, tier) values (?, ?, 8, ?, ?)",
        [[a, MONDAY[m], SCORE[t], t] for a, months in HEALTH.items() for m, t in months.items()],
    )
    con.executemany("insert into raw_renewals values (?, ?, ?, ?, ?, ?)", [list(r) for r in RENEWALS])
    write_value_tier_table(con, ValueTiers())
    for model in ("stg_revenue", "mrr_movements", "account_month"):
        con.execute(sql_file(model))
    yield con
    con.close()


def _by_month(df):
    return df.set_index("month")


# Hand-computed, target accounts only (the default).
EXPECTED = {
    "2024-01": dict(
        active_accounts=4, arr=3900 * 12, healthy_arr=3000 * 12, start_mrr=1000, new_mrr=2900,
        reactivation_mrr=0, expansion_mrr=0, contraction_mrr=0, churn_mrr=0,
        health_rate=3000 / 3900, health_rate_mom=36000 / 12000, nrr=1.0, grr=1.0,
        net_mrr_churn_rate=0.0, renewal_rate_arr=math.nan, renewal_rate_count=math.nan,
    ),
    "2024-02": dict(
        active_accounts=4, arr=7100 * 12, healthy_arr=1000 * 12, start_mrr=3900, new_mrr=3100,
        reactivation_mrr=0, expansion_mrr=500, cross_sell_mrr=500, contraction_mrr=0,
        churn_mrr=-400, health_rate=1000 / 7100, health_rate_mom=12000 / 36000,
        nrr=4000 / 3900, grr=3500 / 3900, net_mrr_churn_rate=-100 / 3900,
        renewal_rate_arr=0.0, renewal_rate_count=0.0, renewals_due=1, renewals_decided=1,
    ),
    "2024-03": dict(
        active_accounts=4, arr=6900 * 12, healthy_arr=3200 * 12, start_mrr=7100, new_mrr=0,
        reactivation_mrr=400, upsell_mrr=200, cross_sell_mrr=0, usage_expansion_mrr=200,
        expansion_mrr=400, contraction_mrr=-500, churn_mrr=-500,
        health_rate=3200 / 6900, health_rate_mom=38400 / 12000,  # A + B; D is overdue
        nrr=6500 / 7100, grr=6100 / 7100, net_mrr_churn_rate=200 / 7100,
        renewals_due=4, renewals_decided=3, renewals_renewed=2, renewal_due_arr=78000.0,
        renewal_decided_arr=42000.0, renewal_kept_arr=30000.0,
        renewal_rate_arr=30000 / 42000, renewal_rate_count=2 / 3,
    ),
}


def test_kpi_series_matches_hand_computed_book(conn):
    df = kpi_series(conn, Filters(), end_month="2024-03", n_months=3)
    assert df["month"].tolist() == ["2024-01", "2024-02", "2024-03"]
    by_month = _by_month(df)
    for month, expected in EXPECTED.items():
        for column, want in expected.items():
            got = by_month.loc[month, column]
            assert got == pytest.approx(want, nan_ok=True), (month, column, got, want)


def test_kpi_series_columns_and_reconciliation(conn):
    df = kpi_series(conn, Filters(include_non_target=True))
    assert list(df.columns[: 1 + len(COMPONENTS)]) == ["month", *COMPONENTS]
    assert set(METRICS) <= set(df.columns)
    # default end is the latest month; 13 months asked, only 5 in the data
    assert df["month"].tolist() == ["2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]
    # the first month of the data has no previous month: MoM and NRR undefined
    assert math.isnan(df.loc[0, "health_rate_mom"]) and math.isnan(df.loc[0, "nrr"])
    # movements reconcile: MRR - start MRR = sum of the signed movements
    moves = df[["new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr", "churn_mrr"]].sum(axis=1)
    np.testing.assert_allclose(df["mrr"] - df["start_mrr"], moves)
    np.testing.assert_allclose(
        df["expansion_mrr"], df["upsell_mrr"] + df["cross_sell_mrr"] + df["usage_expansion_mrr"]
    )
    np.testing.assert_allclose(df["arr"], df["mrr"] * 12)


def test_kpi_tiles_values_previous_and_deltas(conn):
    tiles = kpi_tiles(conn, Filters(), "2024-03")
    assert [t["name"] for t in tiles] == list(TILES)
    by_name = {t["name"]: t for t in tiles}
    want = {
        "arr": (82800, 85200, "money"),
        "health_rate": (3200 / 6900, 1000 / 7100, "percent"),
        "renewal_rate_arr": (30000 / 42000, 0.0, "percent"),
        "renewal_rate_count": (2 / 3, 0.0, "percent"),
        "nrr": (6500 / 7100, 4000 / 3900, "percent"),
        "grr": (6100 / 7100, 3500 / 3900, "percent"),
        "health_rate_mom": (3.2, 1 / 3, "percent"),
    }
    for name, (value, previous, fmt) in want.items():
        tile = by_name[name]
        assert tile["value"] == pytest.approx(value), name
        assert tile["previous"] == pytest.approx(previous), name
        assert tile["delta"] == pytest.approx(value - previous), name
        assert tile["format"] == fmt
        assert tile["label"] == METRICS[name].label
    assert by_name["arr"]["delta"] == -2400


def test_kpi_tiles_default_month_is_latest(conn):
    assert latest_month(conn) == "2024-03"
    assert kpi_tiles(conn, Filters()) == kpi_tiles(conn, Filters(), "2024-03")


def test_kpi_tiles_undefined_values_are_none(conn):
    by_name = {t["name"]: t for t in kpi_tiles(conn, Filters(), "2024-01")}
    # no renewals due in January or December
    assert by_name["renewal_rate_arr"]["value"] is None
    assert by_name["renewal_rate_arr"]["previous"] is None
    assert by_name["renewal_rate_arr"]["delta"] is None
    # first month of the data: no previous month at all
    first = {t["name"]: t for t in kpi_tiles(conn, Filters(), "2023-11")}
    assert first["arr"]["value"] == 12000 and first["arr"]["previous"] is None
    assert first["arr"]["delta"] is None and first["health_rate_mom"]["value"] is None


def test_segment_filter(conn):
    smb = _by_month(kpi_series(conn, Filters(segment=("smb",)), "2024-03", 1)).loc["2024-03"]
    # A 1200 (healthy), C churned, F 400 reactivated; E is non-target
    assert smb["arr"] == 1600 * 12 and smb["start_mrr"] == 1500
    assert smb["health_rate"] == pytest.approx(1200 / 1600)
    assert smb["nrr"] == pytest.approx(1200 / 1500) and smb["grr"] == pytest.approx(1000 / 1500)
    assert smb["net_mrr_churn_rate"] == pytest.approx(-(-500 + 200 + 400) / 1500)
    assert smb["renewal_rate_count"] == pytest.approx(1 / 2)  # A renewed, C churned


def test_non_target_excluded_by_default_and_included_on_request(conn):
    f = Filters(segment=("smb",), include_non_target=True)
    smb = _by_month(kpi_series(conn, f, "2024-03", 1)).loc["2024-03"]
    assert smb["arr"] == 2400 * 12 and smb["start_mrr"] == 2300
    assert smb["health_rate"] == pytest.approx(1200 / 2400)  # E (healthy score) is overdue
    assert smb["nrr"] == pytest.approx(2000 / 2300)
    assert smb["renewal_rate_count"] == pytest.approx(1 / 3)
    assert smb["renewal_rate_arr"] == pytest.approx(12000 / (12000 + 6000 + 9600))
    everyone = _by_month(kpi_series(conn, Filters(include_non_target=True), "2024-03", 1)).loc["2024-03"]
    assert everyone["arr"] == (6900 + 800) * 12 and everyone["active_accounts"] == 5


def test_lifecycle_stage_filter_uses_the_month_stage(conn):
    adoption = _by_month(kpi_series(conn, Filters(lifecycle_stage=("adoption",)), "2024-03", 2))
    # A reaches tenure 4 (adoption) in 2024-02; B, C, D, F are onboarding throughout
    assert adoption.loc["2024-02", "arr"] == 12000 and adoption.loc["2024-02", "start_mrr"] == 1000
    assert adoption.loc["2024-03", "arr"] == 14400
    assert adoption.loc["2024-03", "nrr"] == pytest.approx(1.2)
    assert adoption.loc["2024-03", "health_rate_mom"] == pytest.approx(14400 / 12000)
    # in 2024-01 A was onboarding: nothing in the slice, so MoM for February is undefined
    assert math.isnan(adoption.loc["2024-02", "health_rate_mom"])


def test_zero_denominators_give_nan_not_errors(conn):
    df = kpi_series(conn, Filters(segment=("no_such_segment",)), "2024-03", 3)
    assert df["month"].tolist() == ["2024-01", "2024-02", "2024-03"]
    assert (df["arr"] == 0).all() and (df["active_accounts"] == 0).all()
    for name in ("health_rate", "health_rate_mom", "renewal_rate_arr", "renewal_rate_count",
                 "nrr", "grr", "net_mrr_churn_rate"):
        assert df[name].isna().all(), name
    # enterprise (D) starts in February: no start MRR, so no retention ratios
    ent = _by_month(kpi_series(conn, Filters(segment=("enterprise",)), "2024-02", 1)).loc["2024-02"]
    assert ent["arr"] == 3100 * 12 and math.isnan(ent["nrr"]) and math.isnan(ent["grr"])


@pytest.mark.parametrize("month", ["2024-3", "2024-13", "March", "2023-10", "2024-04", "", 202403])
def test_bad_month_raises_user_error(conn, month):
    with pytest.raises(UserError) as err:
        kpi_series(conn, Filters(), month)
    assert "\n" not in str(err.value)
    with pytest.raises(UserError):
        kpi_tiles(conn, Filters(), month)


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_bad_n_months_raises_user_error(conn, n):
    with pytest.raises(UserError):
        kpi_series(conn, Filters(), "2024-03", n)


def test_empty_database_raises_user_error():
    con = duckdb.connect()
    con.execute("create table account_month (month varchar)")
    with pytest.raises(UserError):
        latest_month(con)


def test_every_metric_is_documented():
    assert set(TILES) <= set(METRICS)
    for name, metric in METRICS.items():
        assert metric.name == name
        assert metric.label.strip() and metric.formula.strip()
        assert len(metric.description.strip()) > 20, name
        assert metric.format in ("money", "percent", "count")


# --------------------------------------------------------------------------- n/a, never a false zero
# The MIXED book (tests_support/na_book.py): each CSM's book lacks health data for a
# different reason; numbers computed by hand there.
from cslib.views import metrics as _m
from tests_support.na_book import MIXED_MIN_WEEKS, mixed_health_conn  # noqa: E402


@pytest.fixture(scope="module")
def mixed():
    con = mixed_health_conn()
    yield con
    con.close()


@pytest.fixture(scope="module")
def no_usage():
    con = mixed_health_conn(with_health=False, with_renewals=False)
    yield con
    con.close()


def _tiles_by_name(con, filters, month="2024-03"):
    return {t["name"]: t for t in kpi_tiles(con, filters, month)}


def test_no_usage_rows_make_health_rate_none_with_the_reason(no_usage):
    assert _m.health_data_status(no_usage, Filters(), "2024-03") == (False, "no usage data was imported")
    tiles = _tiles_by_name(no_usage, Filters())
    for name in ("health_rate", "health_rate_mom"):
        assert tiles[name]["value"] is None and tiles[name]["delta"] is None, name
        assert tiles[name]["previous"] is None, name  # February had no health data either
        assert tiles[name]["reason"] == _m.NO_USAGE_IMPORTED, name
    assert tiles["arr"]["value"] == 90_000 and tiles["arr"]["reason"] is None
    series = _by_month(kpi_series(no_usage, Filters(), "2024-03", 3))
    assert series["healthy_arr"].isna().all() and series["health_rate"].isna().all()
    assert series["health_rate_mom"].isna().all() and (series["scored_accounts"] == 0).all()
    assert (series["active_accounts"] == 4).all()  # the accounts are there; only health is not


def test_no_renewals_anywhere_says_so(no_usage):
    assert _m.renewal_data_status(no_usage, Filters(), "2024-03") == (False, "no renewals in the data")
    tiles = _tiles_by_name(no_usage, Filters())
    assert tiles["renewal_rate_arr"]["value"] is None
    assert tiles["renewal_rate_arr"]["reason"] == tiles["renewal_rate_count"]["reason"] == _m.NO_RENEWALS_IN_DATA


def test_usage_too_short_gives_the_min_weeks_reason(mixed):
    ben = Filters(csm=("Ben",))
    reason = "no account in this slice has enough weeks of usage to be scored (needs 3 weeks)"
    assert MIXED_MIN_WEEKS == 3 and _m.min_weeks(mixed) == 3
    assert _m.too_few_weeks(3) == reason and _m.too_few_weeks(None).endswith("to be scored")
    assert _m.health_data_status(mixed, ben, "2024-03") == (False, reason)
    tiles = _tiles_by_name(mixed, ben)
    assert tiles["health_rate"]["value"] is None and tiles["health_rate"]["reason"] == reason
    assert tiles["health_rate_mom"]["value"] is None and tiles["health_rate_mom"]["reason"] == reason
    month = _by_month(kpi_series(mixed, ben, "2024-03", 1)).loc["2024-03"]
    assert math.isnan(month["healthy_arr"]) and month["arr"] == 36_000


def test_no_usage_in_the_month_and_no_active_accounts(mixed):
    assert _m.health_data_status(mixed, Filters(csm=("Cy",)), "2024-03") == (False, _m.NO_USAGE_THIS_MONTH)
    assert _m.health_data_status(mixed, Filters(segment=("enterprise",)), "2024-03") == (
        False, _m.NO_ACTIVE_ACCOUNTS)
    # no active accounts: ARR is 0 and health rate undefined, as before (no healthy ARR to hide)
    empty = _by_month(kpi_series(mixed, Filters(segment=("enterprise",)), "2024-03", 1)).loc["2024-03"]
    assert empty["healthy_arr"] == 0 and math.isnan(empty["health_rate"])


def test_one_scored_account_gives_the_exact_rate(mixed):
    """s (12,000 healthy) is the only scored account; the unscored 78,000 stay in the
    denominator exactly as before the n/a rule."""
    assert _m.health_data_status(mixed, Filters(), "2024-03") == (True, None)
    tiles = _tiles_by_name(mixed, Filters())
    assert tiles["health_rate"]["value"] == pytest.approx(12_000 / 90_000)
    assert tiles["health_rate"]["previous"] == pytest.approx(12_000 / 90_000)
    assert tiles["health_rate_mom"]["value"] == pytest.approx(1.0)
    assert tiles["health_rate"]["reason"] is None and tiles["health_rate_mom"]["reason"] is None
    ada = _tiles_by_name(mixed, Filters(csm=("Ada",)))
    assert ada["health_rate"]["value"] == pytest.approx(1.0)


def test_mom_after_a_month_without_health_data_says_so(mixed):
    # Dee's v: unscored in February, at risk in March -> health rate 0 (a real zero: scored,
    # not healthy); MoM n/a because February had no health data
    tiles = _tiles_by_name(mixed, Filters(csm=("Dee",)))
    assert tiles["health_rate"]["value"] == 0.0 and tiles["health_rate"]["reason"] is None
    assert tiles["health_rate"]["previous"] is None
    assert tiles["health_rate_mom"]["value"] is None
    assert tiles["health_rate_mom"]["reason"] == _m.NO_HEALTH_PREVIOUS_MONTH
    month = _by_month(kpi_series(mixed, Filters(csm=("Dee",)), "2024-03", 1)).loc["2024-03"]
    assert math.isnan(month["prev_healthy_arr"])


def test_renewal_reasons(mixed):
    assert _m.renewal_data_status(mixed, Filters(), "2024-03") == (True, None)
    assert _m.renewal_data_status(mixed, Filters(csm=("Ben",)), "2024-03") == (False, _m.RENEWALS_ALL_PENDING)
    assert _m.renewal_data_status(mixed, Filters(csm=("Cy",)), "2024-03") == (False, _m.NO_RENEWALS_DUE)
    assert _m.renewal_data_status(mixed, Filters(), "2024-02") == (False, _m.NO_RENEWALS_DUE)
    tiles = _tiles_by_name(mixed, Filters())
    assert tiles["renewal_rate_arr"]["value"] == 1.0 and tiles["renewal_rate_arr"]["reason"] is None
    pending = _tiles_by_name(mixed, Filters(csm=("Ben",)))
    assert pending["renewal_rate_count"]["value"] is None
    assert pending["renewal_rate_count"]["reason"] == _m.RENEWALS_ALL_PENDING


def test_first_month_and_empty_start_reasons(mixed):
    first = _tiles_by_name(mixed, Filters(), "2024-01")
    assert first["health_rate_mom"]["reason"] == _m.NO_PREVIOUS_MONTH
    assert first["nrr"]["value"] is None and first["nrr"]["reason"] == _m.NO_START_MRR


@pytest.mark.parametrize("month", ["2024-13", "2023-12", None])
def test_status_functions_check_the_month(mixed, month):
    if month is None:  # None = the latest month
        assert _m.health_data_status(mixed, Filters(), None) == _m.health_data_status(mixed, Filters(), "2024-03")
        return
    for check in (_m.health_data_status, _m.renewal_data_status):
        with pytest.raises(UserError):
            check(mixed, Filters(), month)


def test_the_demo_shaped_book_is_unchanged_by_the_rule(conn):
    """The hand-made book above has unscored accounts in some months (D in February) next
    to scored ones: its numbers are the ones EXPECTED asserts; here, the status agrees."""
    for month in ("2024-01", "2024-02", "2024-03"):
        assert _m.health_data_status(conn, Filters(), month).ok
    assert _by_month(kpi_series(conn, Filters(), "2024-03", 3))["scored_accounts"].tolist() == [4, 3, 4]


# --------------------------------------------------------------------------- the command line
def _cli(*args):
    """The CLI in this process (tests_support.cli: same status, stdout and stderr)."""
    import os

    from tests_support.cli import run_cli

    env = {k: v for k, v in os.environ.items() if k != "HEALTHGRID_INCLUDE_NON_TARGET"}
    return run_cli(*args, env=env)


def test_report_kpis_of_a_company_imported_without_usage_has_a_null_health_rate(tmp_path):
    """tests_support/na_book.py through the real command line: import, then report."""
    import csv
    import io
    import json

    from tests_support.na_book import EXPECTED_ARR, EXPECTED_GRR, EXPECTED_NRR, write_no_usage_csvs

    db = tmp_path / "no_usage.duckdb"
    imported = _cli("import", str(write_no_usage_csvs(tmp_path / "csv")), "--db", str(db))
    assert imported.returncode == 0, imported.stderr
    proc = _cli("report", "kpis", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert '"value": null' in proc.stdout  # JSON null, not 0 and not NaN
    rows = {r["name"]: r for r in json.loads(proc.stdout)["rows"]}
    for name in ("health_rate", "health_rate_mom"):
        assert rows[name]["value"] is None and rows[name]["previous"] is None and rows[name]["delta"] is None
        assert rows[name]["reason"] == "no usage data was imported"
    assert rows["arr"]["value"] == EXPECTED_ARR and rows["arr"]["reason"] is None
    assert rows["nrr"]["value"] == pytest.approx(EXPECTED_NRR, abs=1e-6)
    assert rows["grr"]["value"] == pytest.approx(EXPECTED_GRR, abs=1e-6)

    as_csv = {r["name"]: r for r in csv.DictReader(io.StringIO(_cli("report", "kpis", "--db", str(db),
                                                                      "--format", "csv").stdout))}
    assert as_csv["health_rate"]["value"] == "" and as_csv["health_rate"]["reason"] == "no usage data was imported"

    # the other reports: null with a note, never 0
    grid = json.loads(_cli("report", "ninebox", "--db", str(db)).stdout)
    assert {(r["accounts"], r["arr"], r["arr_share"]) for r in grid["grid"]} == {(None, None, None)}
    assert {r["note"] for r in grid["grid"]} == {"No health data: no usage data was imported"}
    assert [(r["accounts"], r["arr"]) for r in grid["unscored"]] == [(3, EXPECTED_ARR)]
    flows = json.loads(_cli("report", "flows", "--db", str(db)).stdout)
    for bridge in ("healthy_bridge", "unhealthy_bridge"):
        assert {(r["arr"], r["accounts"]) for r in flows[bridge]} == {(None, None)}
        assert {r["note"] for r in flows[bridge]} == {"No health data: no usage data was imported"}
    unscored_row = next(r for r in flows["matrix_accounts"] if r["from"] == "Unscored")
    assert unscored_row["Unscored"] == 3  # the matrix counts accounts: all of them stayed unscored

    # the "needs N weeks" reason reads the setting the scorer wrote into the database
    from cslib.store import db as _db
    from cslib.rules.scorecard import load_scorecard

    conn = _db.connect(db, read_only=True)
    try:
        assert _m.min_weeks(conn) == load_scorecard().min_weeks
    finally:
        conn.close()
