"""Health flows page through AppTest on the hand-made flows book (tests_support/flows_book.py)."""

from __future__ import annotations

import pytest

from cslib.store import appstore
from tests_support.flows_book import build_flows_book
from tests_support.apptest import assert_clean as _clean

PAGE = "pages/flows.py"


@pytest.fixture(scope="module")
def flows_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("flows_app") / "flows.duckdb"
    build_flows_book(path)
    return path


@pytest.fixture
def flows_app(app_on, flows_db, tmp_path, monkeypatch):
    store = tmp_path / "store.sqlite"
    monkeypatch.setenv("HEALTHGRID_APP_DB", str(store))

    def make(**params):
        at = app_on(flows_db, **params)
        at.switch_page(PAGE)
        return at.run()

    make.store = store
    return make


def _tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_shows_hand_computed_numbers(flows_app):
    at = flows_app()
    _clean(at)
    assert at.title[0].value == "Health flows · Feb 2026"
    tiles = _tiles(at)
    assert tiles["Healthy ARR"] == "$200K"  # 200,400
    assert tiles["Unhealthy ARR"] == "$61.2K"
    assert tiles["Health rate"] == "62.5%"  # 200,400 / 320,400
    assert tiles["Health-rate MoM"] == "83.5%"  # 200,400 / 240,000
    matrix = at.dataframe[0].value
    assert matrix.loc["Healthy", "Deferred"] == "$18.0K"
    assert matrix.loc["Deferred", "Healthy"] == "$14.4K"
    assert matrix.loc["Healthy", "Churned"] == "$60.0K"
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 4  # flow bars, two waterfalls, trend, (alert waterfall)
    assert "Start + steps = end" in " ".join(c.value for c in at.caption)


def test_matrix_in_accounts_and_team_level(flows_app):
    at = flows_app()
    at.radio(key="flows_matrix_value").set_value("accounts").run()
    _clean(at)
    matrix = at.dataframe[0].value
    assert matrix.loc["Healthy", "Healthy"] == 3 and matrix.loc["Healthy", "Total"] == 6
    at.selectbox(key="flows_trend_level").set_value("csm_team").run()
    _clean(at)
    teams = at.dataframe[1].value
    assert teams["CSM team"].tolist() == ["North", "South"]
    assert teams["Health-rate MoM"].tolist()[0] == "73.1%"  # 114,000 / 156,000


def test_filter_changes_the_numbers(flows_app):
    at = flows_app(csm_team="North")
    _clean(at)
    assert _tiles(at)["Healthy ARR"] == "$114K"
    assert _tiles(at)["Unhealthy ARR"] == "$18.0K"  # f_deferred


def test_alert_status_is_saved_and_survives_a_new_session(flows_app):
    at = flows_app()
    _clean(at)
    assert _tiles(at)["Alerts this month"] != "0"
    pick = at.selectbox(key="flows_alert_pick")
    chosen = pick.value
    assert chosen.count("|") == 2
    # no login configured: the app asks for a name once per session (no "Your name" field)
    at.text_input(key="flows_alert_name").input("ana")
    at.button[[b.label for b in at.button].index("Continue")].click().run()
    _clean(at)
    at.selectbox(key=f"flows_status_{chosen}").set_value("acknowledged")
    at.button(key="flows_update_status").click().run()
    _clean(at)
    saved = appstore.AppStore(flows_app.store).alert_statuses().set_index("alert_id")
    assert saved.loc[chosen, "status"] == "acknowledged"
    assert saved.loc[chosen, "updated_by"] == "ana (unverified)"
    assert not saved.loc[chosen, "verified"]

    again = flows_app()  # a new session (and a fresh store object)
    _clean(again)
    assert again.selectbox(key=f"flows_status_{chosen}").value == "acknowledged"
    table = again.dataframe[-1].value if again.dataframe else None
    listed = [df.value for df in again.dataframe if "status" in df.value.columns]
    assert listed and "Acknowledged" in listed[0]["status"].tolist()  # the label, not the code
    assert table is not None


def test_window_tradeoff_on_demand(flows_app):
    at = flows_app()
    at.toggle(key="flows_tradeoff").set_value(True).run()
    _clean(at)
    shown = [df.value for df in at.dataframe if "Window (weeks)" in df.value.columns]
    assert shown and shown[0]["Window (weeks)"].tolist() == [1, 4, 13]
    assert shown[0]["Min weeks"].tolist() == [1, 2, 7]


def test_chart_builders_produce_valid_vega_lite(flows_db):
    """The page skips Altair's schema validation for speed; validate every builder here."""
    import altair as alt

    from cslib.views import alerts
    from cslib.charts import flows as charts_flows
    from cslib.store import db
    from cslib.views import flows
    from cslib.charts.common import to_spec
    from cslib.filters import Filters

    conn = db.connect(flows_db)
    try:
        month = "2026-02"
        matrix = flows.transition_matrix(conn, Filters(), month)
        both = flows.bridges(conn, Filters(), month)
        trend = flows.health_rate_trend(conn, Filters(), month, "csm_team")
        month_alerts = alerts.month_alerts(conn, Filters(), month)
        row = month_alerts.dropna(subset=["prev_score"]).iloc[0]
        built = [
            charts_flows.flow_bars(matrix, "arr"),
            charts_flows.flow_bars(matrix, "accounts"),
            charts_flows.waterfall(both[both["bridge"] == "healthy"], "Healthy ARR"),
            charts_flows.health_rate_lines(trend, "health_rate"),
            charts_flows.indicator_waterfall(alerts.indicator_changes(row), row["prev_score"], row["score"], "t"),
            charts_flows.tradeoff_chart(alerts.window_tradeoff(conn, Filters(), month)),
        ]
        for chart in built:
            assert isinstance(chart, alt.TopLevelMixin)
            assert chart.to_dict()["title"]  # validates against the Vega-Lite schema
        spec = to_spec(charts_flows.bridge_waterfall(both, "healthy"))  # what the page draws
        values = next(iter(spec["datasets"].values()))
        assert [v["label"] for v in values][0] == "Last month" and values[-1]["arr"] == 200_400
        unknown = alerts.month_alerts(conn, Filters(), month, "nope|2026-02-02|score_drop")
        assert not charts_flows.has_score_change(unknown)
    finally:
        conn.close()


def test_alert_waterfall_explains_one_comparable_alert():
    """The page draws the chosen alert from its row (no query): 80 -> 60, all from login."""
    import pandas as pd

    from cslib.charts import flows as charts_flows

    changes = (("modules", "Modules", 0.0), ("instance_ratio", "Instance ratio", 0.0),
               ("activation_rate", "Activation rate", 0.0), ("login_rate", "Login rate", -20.0),
               ("bi_rate", "BI usage rate", None))
    row = {"alert_id": "a|2026-02-02|score_drop", "score": 60.0, "prev_score": 80.0, "score_change": -20.0,
           "driver_indicator": "login_rate", "driver_label": "Login rate", "driver_change": -20.0,
           "indicator_changes": changes}
    alert = pd.DataFrame([row])
    assert charts_flows.has_score_change(alert)
    assert not charts_flows.has_score_change(alert.assign(prev_score=None))  # no week before to compare
    assert not charts_flows.has_score_change(pd.concat([alert, alert]))  # one alert only
    spec = charts_flows.alert_waterfall(alert).to_dict()  # validates against the Vega-Lite schema
    assert spec["title"] == "Score change -20.0 points, by indicator"
    bars = {v["label"]: (v["low"], v["high"]) for v in spec["datasets"][spec["data"]["name"]]}
    assert bars == {"Last week": (0.0, 80.0), "Modules": (80.0, 80.0), "Instance ratio": (80.0, 80.0),
                    "Activation rate": (80.0, 80.0), "Login rate": (60.0, 80.0), "BI usage rate": (60.0, 60.0),
                    "This week": (0.0, 60.0)}
    with pytest.raises(ValueError):
        charts_flows.alert_waterfall(alert.assign(score=None))


# --------------------------------------------------------------------------- n/a, never a false zero
@pytest.fixture(scope="module")
def no_usage_db(tmp_path_factory):
    from tests_support.na_book import build_no_usage_book

    return build_no_usage_book(tmp_path_factory.mktemp("flows_no_usage") / "no_usage.duckdb")


def test_without_usage_flows_say_no_health_data(app_on, no_usage_db, tmp_path, monkeypatch):
    """tests_support/na_book.py: three active accounts, none scored. Health tiles n/a, the
    bridges replaced by the reason, the matrix shows everybody unscored."""
    from tests_support.na_book import FALSE_ZERO, apptest_text

    monkeypatch.setenv("HEALTHGRID_APP_DB", str(tmp_path / "store.sqlite"))
    at = app_on(no_usage_db)
    at.switch_page(PAGE)
    at.run()
    _clean(at)
    tiles = _tiles(at)
    assert [tiles[k] for k in ("Healthy ARR", "Unhealthy ARR", "Health rate", "Health-rate MoM")] == ["n/a"] * 4
    infos = [i.value for i in at.info]
    assert infos[0].startswith("**No health data** for Mar 2026: no usage data was imported. Healthy ARR,")
    assert infos[1].startswith("**No health data** for Mar 2026: no usage data was imported. The healthy "
                               "and unhealthy ARR bridges are n/a")
    matrix = at.dataframe[0].value
    assert matrix.loc["Unscored", "Unscored"] == "$74.4K"  # everybody stayed unscored
    teams = at.dataframe[1].value.set_index("CSM team")
    assert teams.loc["North", "Health rate"] == teams.loc["South", "Health rate"] == "n/a"
    assert teams.loc["North", "Healthy ARR"] == "n/a" and teams.loc["North", "ARR"] == "$44.4K"
    assert not FALSE_ZERO.search(apptest_text(at))


@pytest.mark.parametrize("month", ["2026-02", "2026-01"])
def test_the_tiles_are_what_report_flows_prints(flows_app, flows_db, month):
    """The page's four tiles are the `tiles` table of `report flows` for the same month
    (one function, cslib.views.flows.month_tiles, serves both)."""
    import json

    from cslib.charts import common as charts
    from cslib.filters import Filters
    from cslib.cli.reports import ReportArgs, render_report

    at = flows_app(month=month)
    _clean(at)
    payload = json.loads(render_report("flows", flows_db, ReportArgs(month=month, filters=Filters()), "json"))
    shown = {m.label: (m.value, m.delta or None) for m in at.metric}
    for row in payload["tiles"]:
        value = "n/a" if row["value"] is None else charts.format_value(row["value"], row["format"])
        assert shown[row["label"]] == (value, charts.format_delta(row["delta"], row["format"]) or None), row["label"]


def test_the_alert_list_starts_on_every_csm_not_the_first_by_name(flows_app):
    at = flows_app()
    _clean(at)
    picker = at.selectbox(key="flows_alert_csm")
    assert picker.value == "All CSMs" and picker.options[0] == "All CSMs"
