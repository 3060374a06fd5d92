"""Account attributes in the sidebar (AppTest): one filter per attribute in the data,
labelled for people, narrowing every tile, carried in the URL as attr.<name>.

Expected numbers: tests_support/attribute_book.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests_support.attribute_book import build_attribute_book
from ui.sidebar import widget_key
from tests_support.apptest import assert_clean as _assert_clean

STANDARD = ["Segment", "Industry", "Region", "Lead channel", "CSM team", "CSM", "Lifecycle stage"]


@pytest.fixture(scope="module")
def attr_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("attr_app") / "attr.duckdb"
    build_attribute_book(path)
    return path


def _tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_sidebar_has_a_filter_per_attribute_that_narrows_the_overview(attr_db, app_on):
    at = app_on(attr_db).run()
    _assert_clean(at)
    assert [m.label for m in at.sidebar.multiselect] == [*STANDARD, "Country", "Plan tier"]
    plan = at.multiselect(key=widget_key("attr.plan_tier"))
    assert plan.options == ["Gold", "Silver"]
    assert _tiles(at)["ARR"] == "$216K"

    plan.set_value(["gold"]).run()
    _assert_clean(at)
    tiles = _tiles(at)
    assert tiles["ARR"] == "$132K"  # a1 10,000 + a3 1,000, x 12
    assert tiles["Health rate"] == "90.9%"  # 120,000 / 132,000
    assert tiles["Active accounts"] == "2"
    assert at.query_params["attr.plan_tier"] == "gold"

    at.multiselect(key=widget_key("attr.country")).set_value(["Germany"]).run()
    assert _tiles(at)["ARR"] == "$120K"
    assert at.query_params["attr.country"] == "Germany"

    next(b for b in at.button if b.label == "Reset filters").click().run()
    assert _tiles(at)["ARR"] == "$216K"
    assert "attr.plan_tier" not in at.query_params
    assert "attr.country" not in at.query_params


def test_url_round_trip_and_unknown_attributes_dropped(attr_db, app_on):
    at = app_on(attr_db, **{"attr.plan_tier": "gold,silver", "attr.tier": "gold",
                            "attr.country": "Atlantis", "month": "2026-03"}).run()
    _assert_clean(at)
    assert at.multiselect(key=widget_key("attr.plan_tier")).value == ["gold", "silver"]
    assert at.multiselect(key=widget_key("attr.country")).value == []  # not a value in the data
    assert _tiles(at)["ARR"] == "$180K"  # a5 has no plan tier
    assert at.query_params["attr.plan_tier"] == "gold,silver"
    assert "attr.tier" not in at.query_params  # no such attribute
    assert "attr.country" not in at.query_params


def test_no_attribute_filters_without_attributes(tiny_db, app_on):
    at = app_on(tiny_db, **{"attr.plan_tier": "gold"}).run()
    _assert_clean(at)
    assert [m.label for m in at.sidebar.multiselect] == STANDARD
    assert _tiles(at)["ARR"] == "$216K"
    assert "attr.plan_tier" not in at.query_params


def test_negative_churn_page_breaks_down_by_an_attribute(attr_db, app_on):
    at = app_on(attr_db).run()
    at.switch_page("pages/negative_churn.py").run()
    _assert_clean(at)
    by = at.selectbox(key="negative_churn_by")
    assert by.options[-2:] == ["Country", "Plan tier"]
    by.set_value("attr.plan_tier").run()
    _assert_clean(at)
    table = next(d.value for d in at.dataframe if "group_value" in d.value.columns)  # the breakdown table
    # March (the latest month, one-month period): gold = a1 + a3, silver = a2, (none) = a5
    assert dict(zip(table["group_value"], table["active_accounts"])) == {"Gold": 2, "Silver": 1, "(none)": 1}
    assert dict(zip(table["group_value"], table["contraction_mrr"])) == {"Gold": 0.0, "Silver": -1000.0,
                                                                         "(none)": 0.0}


def test_churn_reasons_page_breaks_down_by_an_attribute(app_on, tmp_path, monkeypatch):
    from tests_support.attribute_book import build_churn_attribute_book

    path = tmp_path / "churn.duckdb"
    build_churn_attribute_book(path)
    monkeypatch.setenv("HEALTHGRID_APP_DB", str(tmp_path / "store.sqlite"))
    at = app_on(path)
    at.switch_page("pages/churn_reasons.py")
    at.run()
    _assert_clean(at)
    by = at.selectbox(key="churn_reasons_by")
    assert by.options[-1] == "Plan tier"
    by.set_value("attr.plan_tier").run()
    _assert_clean(at)
    table = next(df.value for df in at.dataframe if "Gold" in list(df.value.get("label", [])))
    # trailing 12 months to Jun 2026, target accounts: the six churns of 2026-03..05
    assert dict(zip(table["label"], zip(table["churned_accounts"], table["churned_arr"]))) == {
        "Gold": (2, 144_000.0), "Silver": (2, 96_000.0), "Unknown": (2, 18_000.0)}

    at.multiselect(key=widget_key("attr.plan_tier")).set_value(["silver"]).run()
    _assert_clean(at)
    assert _tiles(at)["Churned ARR"] == "$96.0K"  # c4 60,000 + c5 36,000
