"""The plain-pandas page queries the benchmark compares against give the SQL's numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from cslib.views import churn
from cslib.store import db
from cslib.views import flows, metrics, ninebox
from bench import pandas_reference
from cslib.views import renewal_model, revenue
from cslib.filters import Filters

SLICES = [Filters(), Filters(segment=("smb",)), Filters(include_non_target=True, lifecycle_stage=("established",))]
#: a slice no account matches: every page query must give zeros / no rows on both paths
EMPTY = Filters(segment=("no_such_segment",))
ALL_SLICES = [*SLICES, EMPTY]
#: slices with accounts in every month of the small book (the lifecycle slice is sparse early on)
DENSE = SLICES[:2]
#: exact up to floating-point summation order (money in currency units)
EXACT = {"rtol": 1e-9, "atol": 1e-9, "check_dtype": False}


def _load(conn, table: str, columns) -> pd.DataFrame:
    return db.query(conn, f"select {', '.join(columns)} from {table}")


@pytest.fixture(scope="module")
def demo(small_demo_db):
    conn = db.connect(small_demo_db)
    frame = _load(conn, "account_month", pandas_reference.COLUMNS)
    yield conn, frame
    conn.close()


@pytest.fixture(scope="module")
def frames(demo):
    conn, account_month = demo
    return {
        "account_month": account_month,
        "flows_account_month": _load(conn, "flows_account_month", pandas_reference.FLOWS_COLUMNS),
        "churn_events": _load(conn, "churn_events", pandas_reference.CHURN_COLUMNS),
        "revenue_t12m": _load(conn, "revenue_t12m", pandas_reference.T12M_COLUMNS),
        "model_renewal_features": _load(conn, "model_renewal_features", pandas_reference.renewal_columns()),
        "model_renewal_indicator_features": _load(
            conn, "model_renewal_indicator_features", pandas_reference.RENEWAL_INDICATOR_COLUMNS
        ),
        "months": tuple(sorted(account_month["month"].unique())),
    }


@pytest.mark.parametrize("filters", SLICES, ids=str)
def test_kpi_components_equal_the_sql(demo, filters):
    conn, frame = demo
    months = sorted(frame["month"].unique())
    sql = metrics._components(conn, filters, months[0], months[-1]).reset_index(drop=True)
    ref = pandas_reference.kpi_components(frame, filters, months[0], months[-1])
    assert len(sql) >= 3
    pd.testing.assert_frame_equal(ref[sql.columns], sql, check_dtype=False, atol=1e-6)


@pytest.mark.parametrize("filters", SLICES, ids=str)
def test_ninebox_cells_equal_the_sql(demo, filters):
    conn, frame = demo
    month = frame["month"].max()
    summary = ninebox.grid_summary(conn, filters, month)
    sql = pd.concat([summary["grid"], summary["unscored"]])
    sql = sql[sql["accounts"] > 0].set_index(["health_tier"])[["accounts", "arr"]].groupby(level=0).sum()
    ref = pandas_reference.ninebox_cells(frame, filters, month).groupby("health_tier")[["accounts", "arr"]].sum()
    pd.testing.assert_frame_equal(ref.sort_index(), sql.sort_index(), check_dtype=False, atol=1e-6)


# --------------------------------------------------------------------------- health flows
@pytest.mark.parametrize("filters", ALL_SLICES, ids=str)
@pytest.mark.parametrize("which", ["last", "second"])
def test_flows_matrix_equals_the_sql(demo, frames, filters, which):
    conn, _ = demo
    month = frames["months"][-1 if which == "last" else 1]
    sql = flows.transition_matrix(conn, filters, month)
    ref = pandas_reference.flows_matrix(frames["flows_account_month"], filters, month)
    assert len(ref) == len(flows.FROM_STATES) * len(flows.TO_STATES)
    if filters == EMPTY:
        assert ref["accounts"].sum() == 0 and ref["arr"].sum() == 0
    elif filters in DENSE:
        assert ref["accounts"].sum() > 0 and ref["arr"].sum() > 0
    pd.testing.assert_frame_equal(ref, sql, **EXACT)


@pytest.mark.parametrize("filters", ALL_SLICES, ids=str)
@pytest.mark.parametrize("which", ["last", "second"])
def test_flows_bridges_equal_the_sql(demo, frames, filters, which):
    conn, _ = demo
    month = frames["months"][-1 if which == "last" else 1]
    sql = flows.bridges(conn, filters, month)[["bridge", "step", "arr", "accounts"]]
    ref = pandas_reference.flows_bridges(frames["flows_account_month"], filters, month)
    pd.testing.assert_frame_equal(ref, sql, **EXACT)
    matrix_sql, bridges_sql = flows.month_flows(conn, filters, month)
    matrix_ref, bridges_ref = pandas_reference.flows_month(frames["flows_account_month"], filters, month)
    pd.testing.assert_frame_equal(matrix_ref, matrix_sql, **EXACT)
    pd.testing.assert_frame_equal(bridges_ref, bridges_sql[["bridge", "step", "arr", "accounts"]], **EXACT)
    for bridge, part in ref.groupby("bridge"):
        arr = part.set_index("step")["arr"]
        steps = arr.drop(["start", "end"])
        assert arr["start"] + steps.sum() == pytest.approx(arr["end"], abs=1e-6), bridge
    if filters == EMPTY:
        assert ref["accounts"].sum() == 0
    elif filters in DENSE:
        assert ref["accounts"].sum() > 0


# --------------------------------------------------------------------------- churn reasons
def _churn_period(frames, period: str) -> tuple[str, str]:
    return churn.period_bounds(period, frames["months"][-1], frames["months"])


@pytest.mark.parametrize("filters", ALL_SLICES, ids=str)
@pytest.mark.parametrize("period", ["t12m", "quarter"])
def test_churn_reason_breakdown_equals_the_sql(demo, frames, filters, period):
    conn, _ = demo
    month_from, month_to = _churn_period(frames, period)
    sql = churn.churn_breakdown(conn, filters, month_from, month_to, "reason")
    ref = pandas_reference.churn_reason_breakdown(frames["churn_events"], filters, month_from, month_to)
    if filters == EMPTY:
        assert sql.empty and ref.empty
    elif period == "t12m":
        assert len(ref) >= 2 and ref["account_share"].sum() == pytest.approx(1.0)
    pd.testing.assert_frame_equal(ref, sql.reset_index(drop=True), check_index_type=False, **EXACT)


@pytest.mark.parametrize("filters", ALL_SLICES, ids=str)
@pytest.mark.parametrize("period", ["t12m", "quarter"])
def test_churn_reason_health_equals_the_sql(demo, frames, filters, period):
    conn, _ = demo
    month_from, month_to = _churn_period(frames, period)
    sql = churn.reason_vs_health(conn, filters, month_from, month_to)
    ref = pandas_reference.churn_reason_health(frames["churn_events"], filters, month_from, month_to)
    if filters == EMPTY:
        assert sql.empty and ref.empty
    elif period == "t12m":
        assert ref["scored_accounts"].sum() > 0
    pd.testing.assert_frame_equal(ref, sql.reset_index(drop=True), check_index_type=False, **EXACT)


# --------------------------------------------------------------------------- negative churn
@pytest.mark.parametrize("filters", ALL_SLICES, ids=str)
@pytest.mark.parametrize("n_months", [12, 3])
def test_revenue_rates_equal_the_sql(demo, frames, filters, n_months):
    conn, _ = demo
    months = frames["months"]
    month_from, month_to = months[-n_months], months[-1]
    sql = revenue.rates(conn, filters, month_from, month_to)
    ref = pandas_reference.revenue_rates(
        frames["account_month"], frames["revenue_t12m"], filters, month_from, month_to
    )
    assert list(ref.columns) == list(sql.columns)
    assert list(ref["month"]) == list(months[-n_months:])
    if filters == EMPTY:
        assert ref["closing_mrr"].sum() == 0 and ref["nrr"].isna().all()
    elif filters in DENSE:
        assert ref["closing_mrr"].gt(0).all() and ref["t12m_accounts"].sum() > 0
    pd.testing.assert_frame_equal(ref, sql, **EXACT)
    # the month's waterfall is built from these rows on both paths
    pd.testing.assert_frame_equal(revenue.waterfall(ref.iloc[[-1]]), revenue.waterfall(sql.iloc[[-1]]), **EXACT)


# --------------------------------------------------------------------------- renewal model
@pytest.mark.parametrize("filters", ALL_SLICES, ids=str)
@pytest.mark.parametrize("coarse", [False, True])
def test_renewal_score_bands_equal_the_sql(demo, frames, filters, coarse):
    conn, _ = demo
    sql = renewal_model.score_band_table(conn, filters, coarse=coarse)
    ref = pandas_reference.renewal_score_bands(frames["model_renewal_features"], filters, coarse=coarse)
    if filters == EMPTY:
        assert sql.empty and ref.empty
    else:
        assert ref["renewals"].sum() > 0
    pd.testing.assert_frame_equal(ref, sql, check_index_type=False, **EXACT)


@pytest.mark.parametrize("filters", ALL_SLICES, ids=str)
def test_renewal_indicator_tables_equal_the_sql(demo, frames, filters):
    conn, _ = demo
    bands_sql, effects_sql = renewal_model.indicator_tables(conn, filters)
    bands_ref, effects_ref = pandas_reference.renewal_indicator_tables(
        frames["model_renewal_features"], frames["model_renewal_indicator_features"], filters,
        renewal_model.scorecard_bands(conn),
    )
    if filters == EMPTY:
        assert bands_ref.empty and effects_ref.empty and bands_sql.empty
    else:
        assert len(bands_ref) > 0 and len(effects_ref) > 0
    pd.testing.assert_frame_equal(bands_ref, bands_sql, check_index_type=False, **EXACT)
    pd.testing.assert_frame_equal(effects_ref, effects_sql, check_index_type=False, **EXACT)


def test_the_slices_differ(frames):
    """The equality tests above compare different numbers per slice (the filters bite)."""
    month = frames["months"][-1]
    every, smb = (pandas_reference.flows_matrix(frames["flows_account_month"], f, month) for f in SLICES[:2])
    assert 0 < smb["accounts"].sum() < every["accounts"].sum()
    first, last = _churn_period(frames, "t12m")
    every, smb = (pandas_reference.churn_reason_breakdown(frames["churn_events"], f, first, last) for f in SLICES[:2])
    assert 0 < smb["churned_accounts"].sum() < every["churned_accounts"].sum()
    every, smb = (pandas_reference.renewal_score_bands(frames["model_renewal_features"], f) for f in SLICES[:2])
    assert 0 < smb["renewals"].sum() < every["renewals"].sum()
