"""Overview page through AppTest: hand-computed tiles on the tiny book, filters, URL, demo.

Expected values come from tests_support/book.py (its docstring shows the arithmetic).
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import pytest

from cslib.charts import common as charts
from cslib.store import db
from tests_support.book import TINY_TIERS
from tests_support.apptest import assert_clean as _assert_clean


TIMEOUT = 30
ALL_TILES = (
    "ARR",
    "Health rate",
    "Health rate MoM",
    "Active accounts",
    "Renewal rate (ARR)",
    "Renewal rate (count)",
    "NRR",
    "GRR",
)


def _tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _deltas(at) -> dict[str, str]:
    return {m.label: m.delta for m in at.metric}


# --------------------------------------------------------------------------- the fixture itself
def test_tiny_book_has_the_documented_tiers(tiny_db):
    conn = db.connect(tiny_db)
    try:
        df = db.query(conn, "select account_id, health_tier, arr from account_month where month = ?", ["2026-03"])
    finally:
        conn.close()
    assert dict(zip(df["account_id"], df["health_tier"])) == TINY_TIERS
    assert df["arr"].sum() == 240_000  # 216,000 target + 24,000 non-target


# --------------------------------------------------------------------------- tiny book
def test_overview_shows_hand_computed_tiles(tiny_db, app_on):
    at = app_on(tiny_db).run()
    _assert_clean(at)
    assert "Mar 2026" in at.title[0].value
    assert _tiles(at) == {
        "ARR": "$216K",
        "Health rate": "55.6%",
        "Health rate MoM": "111.1%",
        "Active accounts": "4",
        "Renewal rate (ARR)": "86.7%",
        "Renewal rate (count)": "66.7%",
        "NRR": "105.9%",
        "GRR": "94.1%",
    }
    deltas = _deltas(at)
    assert deltas["ARR"] == "+$12.0K"  # 216,000 - 204,000
    assert deltas["Health rate"] == "+2.6 pp"  # 55.56% - 52.94%
    assert deltas["Active accounts"] == "0"
    assert len(at.get("vega_lite_chart")) == 4
    assert not at.info


def test_segment_filter_changes_the_numbers_and_the_url(tiny_db, app_on):
    at = app_on(tiny_db).run()
    at.multiselect(key="hg_filter_segment").set_value(["enterprise"]).run()
    _assert_clean(at)
    tiles = _tiles(at)
    assert tiles["ARR"] == "$120K"
    assert tiles["Health rate"] == "100.0%"
    assert tiles["Active accounts"] == "1"
    assert at.query_params["segment"] == "enterprise"

    at.multiselect(key="hg_filter_segment").set_value(["mid_market", "smb"]).run()
    assert _tiles(at)["ARR"] == "$96.0K"  # a2 48,000 + a5 36,000 + a3 12,000
    assert at.query_params["segment"] == "mid_market,smb"


def test_non_target_checkbox_adds_the_non_target_account(tiny_db, app_on):
    at = app_on(tiny_db).run()
    at.checkbox(key="hg_include_non_target").check().run()
    _assert_clean(at)
    tiles = _tiles(at)
    assert tiles["ARR"] == "$240K"
    assert tiles["Health rate"] == "60.0%"
    assert tiles["Renewal rate (ARR)"] == "88.2%"
    assert tiles["Renewal rate (count)"] == "75.0%"
    assert at.query_params["include_non_target"] == "1"


def test_month_switch(tiny_db, app_on):
    at = app_on(tiny_db).run()
    month = at.selectbox(key="hg_month")
    assert month.value == "2026-03"
    assert month.options == ["Mar 2026", "Feb 2026", "Jan 2026"]
    month.set_value("2026-02").run()
    _assert_clean(at)
    assert "Feb 2026" in at.title[0].value
    tiles = _tiles(at)
    assert tiles["ARR"] == "$204K"
    assert tiles["Health rate"] == "52.9%"
    assert tiles["Renewal rate (ARR)"] == "n/a"  # nothing due in February, and it says so
    renewal_tile = next(m for m in at.metric if m.label == "Renewal rate (ARR)")
    assert renewal_tile.help.startswith("n/a: no renewals due in this month.")
    assert "**No renewal rate** for Feb 2026: no renewals due in this month." in [c.value for c in at.caption]
    assert _deltas(at)["ARR"] == "+$24.0K"
    assert at.query_params["month"] == "2026-02"

    at.selectbox(key="hg_month").set_value("2026-01").run()
    _assert_clean(at)
    assert _tiles(at)["ARR"] == "$180K"
    assert _deltas(at)["ARR"] == ""  # no month before the data: no delta


def test_filters_survive_reruns(tiny_db, app_on):
    at = app_on(tiny_db).run()
    at.multiselect(key="hg_filter_segment").set_value(["enterprise"]).run()
    at.selectbox(key="hg_month").set_value("2026-02").run()
    at.run()
    assert at.multiselect(key="hg_filter_segment").value == ["enterprise"]
    assert _tiles(at)["ARR"] == "$108K"


def test_url_query_params_preselect_filters(tiny_db, app_on):
    at = app_on(tiny_db, segment="smb", month="2026-03").run()
    _assert_clean(at)
    assert at.multiselect(key="hg_filter_segment").value == ["smb"]
    assert _tiles(at)["ARR"] == "$12.0K"
    assert _tiles(at)["Health rate"] == "0.0%"

    at = app_on(tiny_db, segment="enterprise,mid_market", month="2026-02", include_non_target="1").run()
    _assert_clean(at)
    assert at.selectbox(key="hg_month").value == "2026-02"
    assert at.checkbox(key="hg_include_non_target").value is True
    assert _tiles(at)["ARR"] == "$192K"  # a1 108,000 + a2 60,000 + a5 24,000


@pytest.mark.parametrize(
    "params",
    [
        {"segment": "nope,<b>x</b>", "month": "2099-99", "include_non_target": "maybe"},
        {"month": "", "segment": ",,,", "csm": "%00", "unknown_key": "1"},
        {"month": "2025-12", "region": "emea" * 500},
        {"segment": "smb' or '1'='1", "csm_team": "x'); drop table account_month; --",
         "industry": "<script>alert(1)</script>", "month": "2026-03' --"},
    ],
)
def test_garbage_query_params_are_ignored(tiny_db, app_on, params):
    at = app_on(tiny_db, **params).run()
    _assert_clean(at)
    assert at.selectbox(key="hg_month").value == "2026-03"
    assert at.multiselect(key="hg_filter_segment").value == []
    assert _tiles(at)["ARR"] == "$216K"
    assert "segment" not in at.query_params


def test_selection_matching_no_account_shows_info(tiny_db, app_on):
    # smb + apac is only a4, a non-target account: excluded by default
    at = app_on(tiny_db, segment="smb", region="apac").run()
    _assert_clean(at)
    assert not at.metric
    assert "No active accounts match" in at.info[0].value


def test_reset_filters_button(tiny_db, app_on):
    at = app_on(tiny_db, segment="enterprise", include_non_target="1").run()
    assert _tiles(at)["ARR"] == "$120K"
    at.button[0].click().run()
    _assert_clean(at)
    assert at.multiselect(key="hg_filter_segment").value == []
    assert at.checkbox(key="hg_include_non_target").value is False
    assert _tiles(at)["ARR"] == "$216K"
    assert "segment" not in at.query_params and "include_non_target" not in at.query_params


def test_unreadable_database_is_an_error_message(tmp_path, app_on):
    path = tmp_path / "broken.duckdb"
    path.write_bytes(b"this is not a duckdb file" * 100)
    at = app_on(path).run()
    assert not at.exception
    assert "Could not read the database" in at.error[0].value


# --------------------------------------------------------------------------- small demo
@pytest.mark.slow
def test_small_demo_renders_several_months(small_demo_db, app_on):
    at = app_on(small_demo_db).run()
    _assert_clean(at)
    months = at.selectbox(key="hg_month").options
    assert months[0] == "Oct 2026" and len(months) == 15
    for value in ("2026-10", "2026-03"):
        at.selectbox(key="hg_month").set_value(value).run(timeout=TIMEOUT)
        _assert_clean(at)
        tiles = _tiles(at)
        assert set(tiles) == set(ALL_TILES)
        assert tiles["ARR"].startswith("$") and tiles["ARR"] != "$0"
        assert tiles["Health rate"].endswith("%")
        assert 0 <= float(tiles["Health rate"].rstrip("%")) <= 100
        assert len(at.get("vega_lite_chart")) == 4
    for segment in ("smb", "enterprise"):
        at.multiselect(key="hg_filter_segment").set_value([segment]).run()
        _assert_clean(at)


@pytest.mark.slow
def test_first_start_builds_the_demo(tmp_path, app_on, monkeypatch):
    # HEALTHGRID_DEMO=1: a demo server, the demo at a configured path (without it a
    # configured path that is missing is an error: tests/app/test_database_state.py)
    path = tmp_path / "fresh" / "healthgrid.duckdb"
    monkeypatch.setenv("HEALTHGRID_DEMO_ACCOUNTS", "25")
    monkeypatch.setenv("HEALTHGRID_DEMO", "1")
    at = app_on(path).run(timeout=180)
    _assert_clean(at)
    assert path.exists()
    assert _tiles(at)["ARR"].startswith("$")


# --------------------------------------------------------------------------- formatting and charts
@pytest.mark.parametrize(
    ("value", "expected"),
    [(12_345_678, "$12.3M"), (845_000, "$845K"), (216_000, "$216K"), (12_000, "$12.0K"),
     (950, "$950"), (0, "$0"), (-12_000, "-$12.0K"), (None, "–"), (math.nan, "–")],
)
def test_format_money(value, expected):
    assert charts.format_money(value) == expected


@pytest.mark.parametrize(
    ("delta", "fmt", "expected"),
    [(0.0262, "percent", "+2.6 pp"), (-0.013, "percent", "-1.3 pp"), (0.0004, "percent", "0.0 pp"),
     (12_000, "money", "+$12.0K"), (-1_500_000, "money", "-$1.5M"), (None, "percent", None),
     (math.nan, "money", None), (3, "count", "+3")],
)
def test_format_delta(delta, fmt, expected):
    assert charts.format_delta(delta, fmt) == expected


def test_format_percent():
    assert charts.format_percent(0.71349) == "71.3%"
    assert charts.format_percent(1.1111) == "111.1%"
    assert charts.format_percent(None) == "–"


def test_chart_builders_return_charts_that_serialise():
    series = pd.DataFrame(
        {
            "month": ["2026-01", "2026-02", "2026-03"],
            "arr": [180_000.0, 204_000.0, 216_000.0],
            "healthy_arr": [108_000.0, 108_000.0, 120_000.0],
            "health_rate": [0.6, 0.529, 0.556],
            "renewal_rate_arr": [math.nan, math.nan, 0.867],
            "renewal_rate_count": [math.nan, math.nan, 0.667],
            "nrr": [math.nan, 1.0, 1.059],
            "grr": [math.nan, 1.0, 0.941],
            "health_rate_mom": [math.nan, 1.0, 1.111],
        }
    )
    for build in (charts.arr_trend, charts.health_vs_renewal, charts.retention_trend, charts.health_rate_mom_trend):
        chart = build(series)
        assert isinstance(chart, alt.TopLevelMixin)
        spec = chart.to_dict()
        assert spec["title"]
    mom = charts.health_rate_mom_trend(series).to_dict()
    colours = mom["layer"][0]["encoding"]["color"]["scale"]["range"]
    assert colours == [charts.TIER_COLORS["healthy"], charts.TIER_COLORS["unhealthy"]]
    assert series["month"].tolist() == ["2026-01", "2026-02", "2026-03"]  # input not modified


def test_database_from_an_older_version_asks_for_a_rebuild(tmp_path, app_on):
    """A file that lacks a model the pages need gets a clear message, not a traceback."""
    import duckdb

    from tests_support.book import build_tiny_book

    db = tmp_path / "old.duckdb"
    build_tiny_book(db)
    conn = duckdb.connect(str(db))
    conn.execute("drop table mrr_movements")
    conn.close()
    at = app_on(db)
    at.run()
    assert not at.exception
    assert any("older version of Healthgrid" in e.value and "mrr_movements" in e.value for e in at.error)


# --------------------------------------------------------------------------- n/a, never a false zero
@pytest.fixture(scope="module")
def no_usage_db(tmp_path_factory):
    from tests_support.na_book import build_no_usage_book

    return build_no_usage_book(tmp_path_factory.mktemp("no_usage") / "no_usage.duckdb")


def test_without_usage_the_overview_says_no_health_data_not_zero(no_usage_db, app_on):
    """tests_support/na_book.py: imported without usage_weekly.csv, every account unscored."""
    from tests_support.na_book import FALSE_ZERO, apptest_text

    at = app_on(no_usage_db).run()
    _assert_clean(at)
    assert "Mar 2026" in at.title[0].value
    tiles = _tiles(at)
    assert tiles["Health rate"] == "n/a" and tiles["Health rate MoM"] == "n/a"
    assert _deltas(at)["Health rate"] == "" and _deltas(at)["Health rate MoM"] == ""
    # the rest of the page is unaffected and hand-computed
    assert (tiles["ARR"], tiles["NRR"], tiles["GRR"], tiles["Active accounts"]) == ("$74.4K", "103.3%", "95.0%", "3")
    assert tiles["Renewal rate (ARR)"] == tiles["Renewal rate (count)"] == "n/a"
    infos = [i.value for i in at.info]
    assert len(infos) == 1 and infos[0].startswith("**No health data** for Mar 2026: no usage data was imported.")
    health_tile = next(m for m in at.metric if m.label == "Health rate")
    assert health_tile.help.startswith("n/a: no usage data was imported.")
    assert "**No renewal rate** for Mar 2026: no renewals in the data." in [c.value for c in at.caption]
    assert "No month of the trend has health data" in " ".join(c.value for c in at.caption)
    text = apptest_text(at)
    assert "0.0%" in "it would catch 0.0%" and FALSE_ZERO.search("Health rate 0.0%")  # the check can fail
    assert not FALSE_ZERO.search(text), text
    assert "None" not in text and "nan" not in text.lower().replace("financ", "")


def test_a_scored_slice_with_no_healthy_account_keeps_its_real_zero(tiny_db, app_on):
    """Tiny book, mid_market: a2 is scored (at risk) and a5 unscored. Something is scored,
    so the rate keeps its definition: 0 healthy ARR / 84,000 ARR is a measured 0.0%."""
    at = app_on(tiny_db, segment="mid_market").run()
    _assert_clean(at)
    assert _tiles(at)["Health rate"] == "0.0%"
    assert not at.info


def test_without_usage_commissions_are_n_a_not_zero(no_usage_db, app_on):
    """The incentive calculator (Renewal model page, Incentives tab) on the no-usage book:
    no payout table of zeros, the reason instead."""
    at = app_on(no_usage_db)
    at.switch_page("pages/renewal_model.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    infos = [i.value for i in at.info]
    assert ("**No health data** for Mar 2026: no usage data was imported. Commissions are n/a, not 0: they are "
            "paid on healthy MRR, and no account of the selected books has a health score.") in infos
    assert not [f for f in at.dataframe if "commission" in f.value.columns]


def test_incentive_tables_show_n_a_for_a_missing_number():
    """st.dataframe prints a missing value as "None": the page shows text tables instead."""
    import numpy as np

    from ui.na import text_table

    frame = pd.DataFrame({"csm": ["Ada", "Ben"], "commission": [1100.0, np.nan], "mom": [1.06, np.nan],
                          "coefficient": [1.1, np.nan], "note": [None, "no usage data was imported"]})
    shown = text_table(frame, money=("commission",), percent=("mom",), decimal=("coefficient",), text=("note",))
    assert shown.to_dict("records") == [
        {"csm": "Ada", "commission": "$1,100.00", "mom": "106.0%", "coefficient": "1.10", "note": ""},
        {"csm": "Ben", "commission": "n/a", "mom": "n/a", "coefficient": "n/a", "note": "no usage data was imported"},
    ]


def test_derived_renewals_are_said_on_the_overview(app_on, tmp_path):
    """A company imported without renewals.csv: the renewal tiles rest on renewals derived
    from revenue, and the page says so; with imported renewals it says nothing."""
    from pathlib import Path

    from cslib.store.importer import import_dir

    billing = Path(__file__).resolve().parents[2] / "examples" / "billing_export"
    path = tmp_path / "billing.duckdb"
    import_dir(billing, path, mapping=billing / "mapping.toml")
    at = app_on(path).run()
    _assert_clean(at)
    captions = " ".join(c.value for c in at.caption)
    assert "Renewals are derived from revenue (12-month terms from each account's first revenue month)" in captions


def test_imported_renewals_need_no_note(app_on, tiny_db):
    at = app_on(tiny_db).run()
    _assert_clean(at)
    assert "Renewals are derived" not in " ".join(c.value for c in at.caption)


@pytest.mark.parametrize(
    "month,params",
    [
        ("2026-10", {}),
        ("2026-10", {"segment": "smb"}),
        ("2026-06", {"csm_team": "scale_americas"}),
        ("2026-06", {}),
        ("2025-12", {"lifecycle_stage": "adoption"}),
        ("2025-12", {"segment": "enterprise"}),
    ],
)
def test_the_overview_shows_exactly_what_report_kpis_prints(app_on, small_demo_db, month, params):
    """Every tile on the page, active accounts included, is a row of `report kpis` for the
    same month and slice: same label, same value and delta once formatted (one function,
    cslib.views.metrics.kpi_tiles, serves both)."""
    import json

    from cslib.filters import Filters
    from cslib.cli.reports import ReportArgs, render_report

    at = app_on(small_demo_db, month=month, **params).run()
    _assert_clean(at)
    payload = json.loads(render_report("kpis", small_demo_db, ReportArgs(month=month, filters=Filters.from_mapping(params)), "json"))
    assert payload["month"] == month
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    printed = {  # a value the report gives as null with a reason is "n/a" on the page
        row["label"]: ("n/a" if row["value"] is None and row["reason"] else charts.format_value(row["value"], row["format"]),
                       charts.format_delta(row["delta"], row["format"]))
        for row in payload["rows"]
    }
    assert set(shown) == set(printed) == set(ALL_TILES)
    for label, (value, delta) in printed.items():
        assert shown[label][0] == value, label
        assert (shown[label][1] or None) == (delta or None), label


def test_what_moved_the_month_and_the_renewals_behind_the_rates(tiny_db, app_on):
    # tests_support/book.py, March 2026: ARR +12,000 = cross-sell +12,000, upsell +12,000,
    # contraction -12,000; healthy ARR +12,000 = a1's expansion. Renewals due in March: a1, a2
    # (renewed) and a3 (deferred = decided), all three decided.
    at = app_on(tiny_db).run()
    assert not at.exception
    assert "What moved this month" in [s.value for s in at.subheader]
    markdown = [m.value for m in at.markdown]
    assert "**ARR +\\$12.0K**" in markdown and "**Healthy ARR +\\$12.0K**" in markdown
    captions = [c.value for c in at.caption]
    assert "+\\$12.0K upsell  \n+\\$12.0K cross-sell  \n−\\$12.0K contraction" in captions  # ties: movement order
    assert "+\\$12.0K expansion of healthy (1 account)" in captions
    assert "Renewal rates rest on 3 renewals decided of the 3 due this month (0 still open)." in captions
    links = {link.proto.label: link.proto.page for link in at.get("page_link")}
    assert links["Movements on the Negative churn page"] == "negative_churn"
    assert links["Where it came from on the Health flows page"] == "flows"


def test_the_first_month_has_nothing_to_explain(tiny_db, app_on):
    at = app_on(tiny_db, month="2026-01").run()
    assert not at.exception
    assert "What moved this month" not in [s.value for s in at.subheader]
