"""Negative churn page through AppTest: hand-computed tiles on the movement book, the
negative-churn verdict, filters, page widgets, and the small demo.

Expected values come from tests_support/revenue_book.py (its docstring shows the arithmetic).
"""

from __future__ import annotations

import json

import pytest

from tests_support.revenue_book import build_movement_book
from tests_support.links import link_names
from tests_support.apptest import assert_clean as _assert_clean

PAGE = "pages/negative_churn.py"
TIMEOUT = 30


@pytest.fixture(scope="session")
def movement_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("movement_book") / "book.duckdb"
    build_movement_book(path)
    return path


def _open(app_on, db_path, **params):
    at = app_on(db_path, **params).run()
    at.switch_page(PAGE).run()
    _assert_clean(at)
    return at


def _frames(at) -> list:
    """The page's tables, without the A vs B comparison's (tests/app/test_compare.py)."""
    return [d for d in at.dataframe if "Measure" not in d.value.columns]


def _tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _chart_titles(at) -> list[str]:
    titles = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec.get("title")
        titles.append(title["text"] if isinstance(title, dict) else title)
    return titles


def test_page_shows_the_hand_computed_june(movement_db, app_on):
    at = _open(app_on, movement_db)
    assert at.title[0].value == "Negative churn · Jun 2026"
    # June: start 4630, m7 contracts by 100 and nothing else moves
    assert _tiles(at) == {
        "Net MRR churn rate": "2.2%",  # 100 / 4630
        "Gross MRR churn rate": "2.2%",
        "Quick ratio": "0.0x",  # no gains
        "Expansion MRR": "$0",
        "NRR": "97.8%",  # 4530 / 4630
        "GRR": "97.8%",
        "NRR (12 months)": "–",  # six months of data: no window yet
        "GRR (12 months)": "–",
        # the last 12 months are clipped to Feb-Jun (a period starts at the data's second month:
        # in January everybody would be "new"); base = January's 5 target accounts, 2450 MRR
        # (m1 1000, m2 500, m3 150, m4 500, m5 300), in June 1200 + 600 + 180 + 400 + 250
        # (m5 back after its churn) = 2630; capped at their January MRR 1000 + 500 + 150 + 400 + 250 = 2300
        "NRR over the period": "107.3%",  # 2630 / 2450
        "GRR over the period": "93.9%",  # 2300 / 2450
        "Base accounts": "5",
        "Average monthly net MRR churn": "0.6%",  # (230 + 500 - 360 - 250) / 20620 summed start
    }
    assert "No negative churn in Jun 2026" in at.warning[0].value
    assert len(at.get("vega_lite_chart")) == 9
    titles = _chart_titles(at)
    # the June bridge moves 4630 -> 4530: its axis starts at 4530 - 0.6 * 100, rounded down
    assert "MRR bridge, Jun 2026 (axis from $4.4K)" in titles
    assert "Net MRR retention by signing cohort" in titles
    expanding, contracting = _frames(at)[1].value, _frames(at)[2].value
    assert link_names(expanding["name"]) == ["Acme Works", "Birch Retail", "Cedar Foods"]
    assert expanding["main_lever"].tolist() == ["Upsell", "Cross-sell", "Usage"]
    assert expanding["health_tier"].tolist() == ["Healthy", "Unscored", "Unscored"]
    assert link_names(contracting["name"]) == ["Elm Logistics", "Fir Studio", "Dune Labs", "Granite Bank"]
    assert contracting["health_tier"].tolist()[1] == "inactive"


def test_april_is_negative_churn(movement_db, app_on):
    at = _open(app_on, movement_db)
    at.selectbox(key="hg_month").set_value("2026-04").run()
    _assert_clean(at)
    tiles = _tiles(at)
    assert tiles["Net MRR churn rate"] == "-1.6%"  # (30 - 100) / 4410
    assert tiles["Quick ratio"] == "10.0x"  # (200 new + 100 cross-sell) / 30
    assert tiles["NRR"] == "101.6%" and tiles["GRR"] == "99.3%"
    assert "Negative churn in Apr 2026" in at.success[0].value
    assert {m.label: m.delta for m in at.metric}["Net MRR churn rate"] == "-2.5 pp"


def test_quarter_nrr_and_grr_are_true_period_retention(movement_db, app_on):
    """Apr-Jun: the base is the five accounts paying in March (4410; m5 comes back in May and
    m6 starts in April: not in the base); in June they pay 4280, capped 4180."""
    at = _open(app_on, movement_db)
    at.selectbox(key="negative_churn_months").set_value(3).run()
    _assert_clean(at)
    tiles = _tiles(at)
    assert tiles["NRR over the period"] == "97.1%"  # 4280 / 4410
    assert tiles["GRR over the period"] == "94.8%"  # 4180 / 4410
    assert tiles["Base accounts"] == "5"
    assert tiles["NRR"] == "97.8%"  # the month's tile is still June's
    groups = _frames(at)[0].value.set_index("group_value")
    assert groups.loc["Enterprise", "nrr"] == pytest.approx(3100 / 3200)  # m1 1200 + m7 1900 over 1200 + 2000
    assert groups.loc["SMB", "grr"] == pytest.approx(180 / 210)  # m3 alone paid in March
    # Mar-May, the month May: m5 is in the base (paying in Feb) and counts with its 250 back
    at.selectbox(key="hg_month").set_value("2026-05").run()
    _assert_clean(at)
    tiles = _tiles(at)
    assert tiles["NRR over the period"] == "104.0%"  # 4630 / 4450
    assert tiles["GRR over the period"] == "96.6%"  # 4300 / 4450
    assert tiles["Base accounts"] == "6"


def test_may_nrr_leaves_the_reactivation_out(movement_db, app_on):
    at = _open(app_on, movement_db, month="2026-05")
    tiles = _tiles(at)
    assert tiles["NRR"] == "93.6%"  # (4680 - 100 - 200) / 4680, without the 250 back
    assert tiles["Net MRR churn rate"] == "1.1%"  # (300 - 250) / 4680


def test_segment_filter_changes_the_numbers(movement_db, app_on):
    at = _open(app_on, movement_db)
    at.multiselect(key="hg_filter_segment").set_value(["enterprise"]).run()
    _assert_clean(at)
    tiles = _tiles(at)
    assert tiles["NRR"] == "96.9%"  # 3100 / 3200
    assert tiles["Net MRR churn rate"] == "3.1%"
    assert at.query_params["segment"] == "enterprise"


def test_bridge_scope_and_cohort_grain_and_breakdown(movement_db, app_on):
    at = _open(app_on, movement_db)
    at.radio(key="negative_churn_scope").set_value("period").run()
    _assert_clean(at)
    assert any(t.startswith("MRR bridge, Feb 2026 to Jun 2026") for t in _chart_titles(at))
    at.radio(key="negative_churn_cohort_grain").set_value("quarter").run()
    _assert_clean(at)
    at.selectbox(key="negative_churn_by").set_value("industry").run()
    _assert_clean(at)
    groups = _frames(at)[0].value
    assert set(groups["group_value"]) == {"Manufacturing", "Retail", "Software", "Finance"}
    at.selectbox(key="negative_churn_months").set_value(24).run()
    _assert_clean(at)
    assert _tiles(at)["NRR"] == "97.8%"


def test_empty_selection_shows_info(movement_db, app_on):
    at = _open(app_on, movement_db, segment="smb", region="apac")  # only m8, non-target
    assert not at.metric
    assert "No accounts match" in at.info[0].value


@pytest.mark.slow
def test_small_demo_renders(small_demo_db, app_on):
    at = _open(app_on, small_demo_db)
    assert at.title[0].value == "Negative churn · Oct 2026"
    tiles = _tiles(at)
    assert tiles["NRR"].endswith("%") and tiles["NRR (12 months)"].endswith("%")
    assert len(at.get("vega_lite_chart")) == 9
    at.selectbox(key="negative_churn_months").set_value(36).run(timeout=TIMEOUT)  # clipped to 15
    _assert_clean(at)
    at.multiselect(key="hg_filter_lifecycle_stage").set_value(["established"]).run(timeout=TIMEOUT)
    _assert_clean(at)


@pytest.mark.parametrize("month,params", [("2026-06", {}), ("2026-04", {}), ("2026-05", {"segment": "smb"})])
def test_the_tiles_are_what_report_revenue_prints(movement_db, app_on, month, params):
    """The month's eight tiles are that month's row of `report revenue`'s `rates` table, and
    the period row (NRR and GRR over the period, base accounts, average monthly net churn) is
    its `period` table, for the page's default period (the 12 months ending with the month,
    clipped to the data's second month: here from 2026-02)."""
    from cslib.charts import revenue as charts
    from cslib.filters import Filters
    from cslib.cli.reports import ReportArgs, render_report

    at = _open(app_on, movement_db, month=month, **params)
    payload = json.loads(render_report("revenue", movement_db, ReportArgs(
        month=month, filters=Filters.from_mapping(params), month_from="2026-02", month_to=month), "json"))
    rates = next(r for r in payload["rates"] if r["month"] == month)
    moves = next(r for r in payload["movements"] if r["month"] == month)
    rates["expansion_mrr"] = moves["upsell_mrr"] + moves["cross_sell_mrr"] + moves["usage_expansion_mrr"]
    period = payload["period"][0]
    shown = _tiles(at)
    labels = {
        "Net MRR churn rate": ("net_mrr_churn_rate", "percent"), "Gross MRR churn rate": ("gross_mrr_churn_rate", "percent"),
        "Quick ratio": ("quick_ratio", "ratio"), "Expansion MRR": ("expansion_mrr", "money"),
        "NRR": ("nrr", "percent"), "GRR": ("grr", "percent"),
        "NRR (12 months)": ("nrr_t12m", "percent"), "GRR (12 months)": ("grr_t12m", "percent"),
    }
    for label, (name, fmt) in labels.items():
        assert shown[label] == charts.format_tile(rates[name], fmt), label
    assert shown["NRR over the period"] == charts.format_tile(period["nrr"], "percent")
    assert shown["GRR over the period"] == charts.format_tile(period["grr"], "percent")
    assert shown["Base accounts"] == f"{period['base_accounts']:,}"
    assert shown["Average monthly net MRR churn"] == charts.format_tile(period["avg_monthly_net_mrr_churn_rate"], "percent")
