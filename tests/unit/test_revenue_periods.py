"""Pure parts of cslib.views.revenue and cslib.charts.revenue: periods, the waterfall, metric
definitions, tiles, formatting, and that every chart builds on hand-made frames."""

from __future__ import annotations

import math

import altair as alt
import duckdb
import numpy as np
import pandas as pd
import pytest

from cslib.charts import revenue as charts_revenue
from cslib.views import revenue
from cslib.errors import UserError
from cslib.views.metrics import METRICS, MOVEMENT_COLUMNS


@pytest.fixture(scope="module")
def months_conn():
    """An account_month with months 2024-11 .. 2026-02 (only what the period helpers read)."""
    conn = duckdb.connect()
    conn.execute("create table account_month (month varchar)")
    months = pd.period_range("2024-11", "2026-02", freq="M").strftime("%Y-%m").tolist()
    conn.executemany("insert into account_month values (?)", [[m] for m in months])
    yield conn
    conn.close()


def _table(rows):
    """movements-like frame from (month, opening, new, react, upsell, cross, usage, contr, churn, closing)."""
    return pd.DataFrame(rows, columns=["month", "opening_mrr", *MOVEMENT_COLUMNS, "closing_mrr"])


# --------------------------------------------------------------------------- periods
@pytest.mark.parametrize(
    ("month", "n", "expected"),
    [
        ("2026-02", 12, ("2025-03", "2026-02")),
        # clipped to the data's second month: in its first month every account would be "new"
        ("2026-02", 36, ("2024-12", "2026-02")),
        ("2024-11", 3, ("2024-11", "2024-11")),  # only a period ending in the first month starts there
        ("2025-01", 1, ("2025-01", "2025-01")),
        ("2025-01", 2, ("2024-12", "2025-01")),  # across a year end
    ],
)
def test_period_bounds(months_conn, month, n, expected):
    assert revenue.period_bounds(months_conn, month, n) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("2026-03", 12), "month 2026-03 is not in the data (2024-11 to 2026-02)"),
        (("2026-02", 0), "the period must be a whole number of months >= 1, got 0"),
        (("2026-02", True), "the period must be a whole number of months >= 1, got True"),
        (("Feb 2026", 12), "month must be YYYY-MM, got 'Feb 2026'"),
    ],
)
def test_period_bounds_errors(months_conn, args, message):
    with pytest.raises(UserError) as err:
        revenue.period_bounds(months_conn, *args)
    assert str(err.value) == message


def test_check_period_defaults_to_the_whole_data(months_conn):
    assert revenue.check_period(months_conn, None, None) == ("2024-11", "2026-02")
    assert revenue.check_period(months_conn, "2025-06", None) == ("2025-06", "2026-02")


def test_empty_database_is_a_user_error():
    conn = duckdb.connect()
    conn.execute("create table account_month (month varchar)")
    with pytest.raises(UserError, match="no revenue months"):
        revenue.check_period(conn, None, None)


# --------------------------------------------------------------------------- waterfall
def test_single_month_waterfall_steps():
    steps = revenue.waterfall(_table([("2026-01", 1000, 50, 20, 30, 10, 5, -40, -25, 1050)]))
    assert steps["step"].tolist() == ["opening", *MOVEMENT_COLUMNS, "closing"]
    assert steps["kind"].tolist() == ["total"] + ["increase"] * 5 + ["decrease"] * 2 + ["total"]
    # running level: 1000 -> 1050 -> 1070 -> 1100 -> 1110 -> 1115 -> 1075 -> 1050
    assert steps["end_mrr"].tolist() == [1000, 1050, 1070, 1100, 1110, 1115, 1075, 1050, 1050]
    assert steps["start_mrr"].tolist()[1:-1] == [1000, 1050, 1070, 1100, 1110, 1115, 1075]


def test_multi_month_waterfall_with_slice_transfer():
    # February opens at 900 although January closed at 1050: 150 left the slice
    table = _table([
        ("2026-01", 1000, 50, 0, 0, 0, 0, 0, 0, 1050),
        ("2026-02", 900, 0, 0, 100, 0, 0, 0, -20, 980),
    ])
    steps = revenue.waterfall(table).set_index("step")
    assert steps.loc["opening", "amount_mrr"] == 1000 and steps.loc["closing", "amount_mrr"] == 980
    assert steps.loc["slice_transfer", "amount_mrr"] == -150
    assert steps.loc["slice_transfer", "end_mrr"] == 980  # 1000 + 50 + 100 - 20 - 150


def test_waterfall_sorts_months_and_needs_one():
    table = _table([
        ("2026-02", 1050, 0, 0, 0, 0, 0, -50, 0, 1000),
        ("2026-01", 1000, 50, 0, 0, 0, 0, 0, 0, 1050),
    ])
    steps = revenue.waterfall(table)
    assert steps["amount_mrr"].iloc[0] == 1000 and steps["amount_mrr"].iloc[-1] == 1000
    assert "slice_transfer" not in set(steps["step"])
    with pytest.raises(ValueError):
        revenue.waterfall(table.iloc[0:0])


# --------------------------------------------------------------------------- metrics
def test_shared_rates_are_reused_not_redefined():
    for name in ("nrr", "grr", "net_mrr_churn_rate"):
        assert revenue.RATE_METRICS[name] is METRICS[name]
    assert not set(revenue.REVENUE_METRICS) & set(METRICS)
    for metric in revenue.REVENUE_METRICS.values():
        assert metric.label and metric.description.endswith((".", ")"))
        assert metric.formula and metric.format in ("percent", "ratio")


def test_new_metrics_on_a_hand_frame():
    frame = pd.DataFrame({
        "start_mrr": [1000.0, 1000.0, 0.0],
        "new_mrr": [100.0, 0.0, 50.0],
        "reactivation_mrr": [20.0, 0.0, 0.0],
        "upsell_mrr": [30.0, 0.0, 0.0],
        "cross_sell_mrr": [10.0, 0.0, 0.0],
        "usage_expansion_mrr": [40.0, 0.0, 0.0],
        "contraction_mrr": [-50.0, 0.0, 0.0],
        "churn_mrr": [-50.0, 0.0, 0.0],
        "t12m_start_mrr": [800.0, 0.0, 0.0],
        "t12m_retained_mrr": [880.0, 0.0, 0.0],
        "t12m_gross_retained_mrr": [700.0, 0.0, 0.0],
    })
    m = revenue.REVENUE_METRICS
    assert m["gross_mrr_churn_rate"].compute(frame).iloc[0] == pytest.approx(0.1)
    assert m["quick_ratio"].compute(frame).iloc[0] == pytest.approx((100 + 20 + 80) / 100)
    assert m["nrr_t12m"].compute(frame).iloc[0] == pytest.approx(1.1)
    assert m["grr_t12m"].compute(frame).iloc[0] == pytest.approx(0.875)
    assert m["upsell_share"].compute(frame).iloc[0] == pytest.approx(30 / 80)
    assert m["usage_expansion_share"].compute(frame).iloc[0] == pytest.approx(0.5)
    # no losses / no start / no expansion: undefined, never 0
    assert math.isnan(m["quick_ratio"].compute(frame).iloc[1])
    assert math.isnan(m["gross_mrr_churn_rate"].compute(frame).iloc[2])
    assert math.isnan(m["cross_sell_share"].compute(frame).iloc[1])


def test_period_metrics_on_a_hand_frame():
    """Three accounts of a base: 100 -> 150 (expansion), 200 -> 120 (contraction), 300 -> 0
    (churned): NRR = 270 / 600; GRR = (100 + 120 + 0) / 600."""
    frame = pd.DataFrame({"start_mrr": [600.0, 0.0], "end_mrr": [270.0, 0.0], "gross_retained_mrr": [220.0, 0.0]})
    m = revenue.REVENUE_METRICS
    assert m["period_nrr"].compute(frame).iloc[0] == pytest.approx(270 / 600)
    assert m["period_grr"].compute(frame).iloc[0] == pytest.approx(220 / 600)
    assert math.isnan(m["period_nrr"].compute(frame).iloc[1])  # no base: undefined, never 0
    assert set(revenue.PERIOD_METRICS) <= set(m) and not set(revenue.PERIOD_METRICS) & set(revenue.RATE_METRICS)


def test_the_docs_name_every_revenue_metric_with_its_sources():
    """The docs' definitions of the page (docs/pages.md) name each metric of the page and set
    ChartMogul's and SaaS Capital's definitions beside the period rates."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "docs" / "pages.md").read_text(encoding="utf-8")
    for name in revenue.REVENUE_METRICS:
        assert f"`{name}`" in readme, name
    section = readme.split("### Period NRR and GRR", 1)[1].split("\n#", 1)[0]
    assert "ChartMogul" in section and "SaaS Capital" in section


def test_tiles_and_summary_reject_months_outside_the_frame():
    table = pd.DataFrame({"month": ["2026-01"]})
    with pytest.raises(UserError, match="not in the period"):
        revenue.tiles(table, "2026-02")
    with pytest.raises(UserError, match="not in the period"):
        revenue.month_summary(table, "2026-02")


# --------------------------------------------------------------------------- formatting and charts
@pytest.mark.parametrize(
    ("value", "fmt", "text"),
    [(2.345, "ratio", "2.3x"), (None, "ratio", "–"), (math.nan, "ratio", "–"),
     (-0.0159, "percent", "-1.6%"), (-0.00004, "percent", "0.0%"), (1200.0, "money", "$1.2K")],
)
def test_format_tile(value, fmt, text):
    assert charts_revenue.format_tile(value, fmt) == text


def test_format_tile_delta():
    assert charts_revenue.format_tile_delta(-0.0248, "percent") == "-2.5 pp"
    assert charts_revenue.format_tile_delta(0.5, "ratio") == "+0.5x"
    assert charts_revenue.format_tile_delta(150.0, "money") == "+$150"
    assert charts_revenue.format_tile_delta(None, "money") is None


def _rates_frame() -> pd.DataFrame:
    months = ["2026-01", "2026-02", "2026-03"]
    frame = _table([
        ("2026-01", 0, 100, 0, 0, 0, 0, 0, 0, 100),
        ("2026-02", 100, 0, 0, 10, 5, 5, -2, 0, 118),
        ("2026-03", 118, 0, 3, 0, 0, 0, -10, -20, 91),
    ])
    frame["month"] = months
    frame["net_new_mrr"] = frame["closing_mrr"] - frame["opening_mrr"]
    for name, values in {
        "nrr": [np.nan, 1.18, 0.75], "grr": [np.nan, 0.98, 0.75], "nrr_t12m": [np.nan] * 3,
        "grr_t12m": [np.nan] * 3, "net_mrr_churn_rate": [np.nan, -0.18, 0.22],
        "gross_mrr_churn_rate": [np.nan, 0.02, 0.25], "quick_ratio": [np.nan, 10.0, 0.1],
    }.items():
        frame[name] = values
    return frame


def test_every_chart_builds_a_vega_spec():
    rates = _rates_frame()
    cohorts = pd.DataFrame({"cohort": ["2026-01", "2026-01"], "age": [0, 1], "accounts": [3, 3],
                            "base_mrr": [100.0, 100.0], "cohort_mrr": [100.0, 90.0], "retention": [1.0, 0.9]})
    groups = pd.DataFrame({"group_value": ["SMB", "Enterprise"], "avg_monthly_net_mrr_churn_rate": [0.02, -0.01],
                           "start_mrr": [100.0, 900.0], "nrr": [0.97, 1.02], "grr": [0.9, 0.95],
                           "upsell_mrr": [1.0, 5.0],
                           "cross_sell_mrr": [0.0, 2.0], "usage_expansion_mrr": [3.0, 1.0]})
    charts = [
        charts_revenue.waterfall_chart(revenue.waterfall(rates)),
        charts_revenue.movements_chart(rates),
        charts_revenue.retention_chart(rates),
        charts_revenue.net_churn_chart(rates),
        charts_revenue.quick_ratio_chart(rates),
        charts_revenue.lever_share_chart(rates),
        charts_revenue.cohort_heatmap(cohorts),
        charts_revenue.breakdown_rate_chart(groups, "Segment"),
        charts_revenue.breakdown_levers_chart(groups, "Segment"),
    ]
    for chart in charts:
        assert isinstance(chart, alt.TopLevelMixin)
        spec = chart.to_dict()
        assert spec["title"]["text"] if isinstance(spec.get("title"), dict) else spec.get("title")


def test_retention_chart_marks_the_ideal_nrr():
    spec = charts_revenue.retention_chart(_rates_frame()).to_dict()
    datasets = [row for rows in spec["datasets"].values() for row in rows]
    assert {"y": revenue.IDEAL_NRR, "label": "Ideal NRR > 110%"} in datasets


def test_net_churn_chart_colours_negative_churn_green():
    spec = charts_revenue.net_churn_chart(_rates_frame()).to_dict()
    rows = [row for rows in spec["datasets"].values() for row in rows if "kind" in row]
    kinds = {row["month"]: row["kind"] for row in rows}
    assert kinds == {"2026-01": "net churn", "2026-02": "negative churn", "2026-03": "net churn"}
