"""Colours that carry meaning (issue 16, point 3): cslib.deltas and the declarations of
whether up is good, per measure type: a good change is green, a bad one red, zero neutral."""

from __future__ import annotations

import pytest

from cslib import deltas
from cslib.charts import common as charts, ninebox as charts_ninebox
from cslib.views import flows, renewal_model, revenue
from cslib.charts.revenue import format_tile_delta
from cslib.views.metrics import METRICS
from cslib.views.ninebox import CELL_IDS

GREEN, RED = "normal", "inverse"  # what st.metric draws for a rise with these delta_colors


def _shown(change: deltas.TileDelta) -> str:
    """The colour a viewer sees: 'green', 'red' or 'grey' (Streamlit's rule for a string
    delta: a leading '-' is down; 'normal' colours up green, 'inverse' up red)."""
    if change.text is None:
        return "none"
    if change.color == "off":
        return "grey"
    down = change.text.startswith("-")
    good = (change.color == "normal") != down
    return "green" if good else "red"


# --------------------------------------------------------------------------- declarations
def test_every_registry_metric_declares_a_direction():
    assert {name: m.up_is_good for name, m in METRICS.items()} == {
        "arr": True, "healthy_arr": True, "health_rate": True, "health_rate_mom": True,
        "renewal_rate_arr": True, "renewal_rate_count": True, "nrr": True, "grr": True,
        "net_mrr_churn_rate": False, "active_accounts": True,
    }
    assert revenue.REVENUE_METRICS["gross_mrr_churn_rate"].up_is_good is False
    assert revenue.REVENUE_METRICS["quick_ratio"].up_is_good is True
    assert revenue.REVENUE_METRICS["upsell_share"].up_is_good is None


def test_page_tiles_declare_a_direction():
    assert set(flows.TILE_UP_IS_GOOD) == {spec[0] for spec in flows.TILE_SPECS}
    assert flows.TILE_UP_IS_GOOD["unhealthy_arr"] is False
    assert renewal_model.TILE_UP_IS_GOOD["brier"] is False
    assert renewal_model.TILE_UP_IS_GOOD["auc"] is True


# --------------------------------------------------------------------------- tiles, per measure type
@pytest.mark.parametrize("fmt, up, down", [
    ("money", 12_000.0, -12_000.0),
    ("percent", 0.026, -0.026),
    ("count", 3, -3),
])
def test_up_is_good_measure(fmt, up, down):  # e.g. ARR, health rate, active accounts
    assert _shown(deltas.tile_delta(up, fmt, METRICS["arr"].up_is_good)) == "green"
    assert _shown(deltas.tile_delta(down, fmt, METRICS["arr"].up_is_good)) == "red"


@pytest.mark.parametrize("fmt, up, down", [("money", 6_000.0, -6_000.0), ("percent", 0.05, -0.05)])
def test_up_is_bad_measure(fmt, up, down):  # e.g. unhealthy ARR, churn rates
    assert _shown(deltas.tile_delta(up, fmt, False)) == "red"
    assert _shown(deltas.tile_delta(down, fmt, False)) == "green"
    churn = METRICS["net_mrr_churn_rate"].up_is_good
    assert _shown(deltas.tile_delta(-0.16, "percent", churn, format_tile_delta)) == "green"
    assert _shown(deltas.tile_delta(0.16, "percent", churn, format_tile_delta)) == "red"


def test_neutral_measure_is_grey_both_ways():
    assert _shown(deltas.tile_delta(0.1, "percent", None)) == "grey"
    assert _shown(deltas.tile_delta(-0.1, "percent", None)) == "grey"


@pytest.mark.parametrize("up_is_good", [True, False, None])
@pytest.mark.parametrize("delta, fmt, formatter, shown", [
    (0.0, "percent", None, "0.0 pp"),
    (-0.0, "percent", None, "0.0 pp"),
    (-0.0001, "percent", None, "0.0 pp"),      # -0.01 pp rounds to zero
    (-0.0004, "percent", format_tile_delta, "0.0 pp"),  # '-0.0 pp' before
    (0.0004, "percent", format_tile_delta, "0.0 pp"),
    (0.0, "money", None, "$0"),
    (-0.3, "money", None, "$0"),
    (0, "count", None, "0"),
    (0.0, "ratio", format_tile_delta, "0.0x"),
])
def test_zero_is_neutral(up_is_good, delta, fmt, formatter, shown):
    change = deltas.tile_delta(delta, fmt, up_is_good, formatter)
    assert change == deltas.TileDelta(shown, "off", "off")  # no sign, grey, no arrow


def test_missing_delta_is_no_delta():
    assert deltas.tile_delta(None, "money", True).text is None
    assert deltas.tile_delta(float("nan"), "percent", False).text is None
    assert deltas.styled("+nan", True).text is None


def test_formatted_deltas_keep_their_text():
    assert deltas.tile_delta(12_000.0, "money", True).text == charts.format_delta(12_000.0, "money") == "+$12.0K"
    assert deltas.styled("-0.012", False) == deltas.TileDelta("-0.012", RED, "auto")


# --------------------------------------------------------------------------- nine-box movement
def test_cell_direction_follows_the_health_tier():
    assert {c: deltas.cell_up_is_good(c) for c in CELL_IDS} == {
        c: {"healthy": True, "at_risk": None, "unhealthy": False}[c.split("|")[1]] for c in CELL_IDS
    }


def test_entering_a_good_cell_is_green_entering_high_value_unhealthy_red():
    assert _shown(deltas.entered_delta(60_000, 1, deltas.cell_up_is_good("high|healthy"))) == "green"
    assert _shown(deltas.entered_delta(60_000, 1, deltas.cell_up_is_good("high|unhealthy"))) == "red"
    assert _shown(deltas.entered_delta(60_000, 1, deltas.cell_up_is_good("high|at_risk"))) == "grey"


def test_leaving_a_bad_cell_is_green_leaving_a_good_cell_red():
    assert _shown(deltas.left_delta(6_000, 1, deltas.cell_up_is_good("low|unhealthy"))) == "green"
    assert _shown(deltas.left_delta(72_000, 1, deltas.cell_up_is_good("high|healthy"))) == "red"


def test_no_movement_is_no_delta_and_zero_arr_is_neutral():
    assert deltas.entered_delta(0, 0, True) == deltas.NO_DELTA
    assert deltas.left_delta(0, 0, False) == deltas.NO_DELTA
    assert deltas.entered_delta(0.0, 2, False) == deltas.TileDelta("$0", "off", "off")


# --------------------------------------------------------------------------- compare-books bars
def test_share_bars_use_the_tier_colour_of_their_column():
    assert {c: charts_ninebox.share_color(c) for c in (*CELL_IDS, "unscored")} == {
        **{c: charts.TIER_COLORS[c.split("|")[1]] for c in CELL_IDS},
        "unscored": charts.TIER_COLORS["unscored"],
    }
    assert charts_ninebox.share_color("high|healthy") != charts_ninebox.share_color("high|unhealthy")
