"""A vs B on the Overview and Negative churn pages (tiny book, tests_support/book.py, March
2026, target accounts): segment enterprise (a1: $120K ARR, healthy) against everything else
(a2 $48K at risk, a3 $12K unhealthy and overdue, a5 $36K unscored: $96K, health rate 0%)."""

from __future__ import annotations

from cslib.views import compare


def _table(at):
    return next(df for df in at.dataframe if "Measure" in df.value.columns)


def _compare(at, by: str, a: str, b: str, offset: int = 0):
    prefix = "overview" if at.title[0].value.startswith("Overview") else "revenue"
    at.selectbox(key=f"{prefix}_compare_by").set_value(by).run()
    at.selectbox(key=f"{prefix}_compare_a").set_value(a).run()
    at.selectbox(key=f"{prefix}_compare_b").set_value(b).run()
    at.selectbox(key=f"{prefix}_compare_month").set_value(offset).run()
    assert not at.exception, [e.value for e in at.exception]
    return _table(at)


def test_overview_a_segment_against_everything_else(tiny_db, app_on):
    at = app_on(tiny_db).run()
    table = _compare(at, "segment", "enterprise", compare.OTHERS)
    rows = {r["Measure"]: r for r in table.value.to_dict("records")}
    assert list(table.value.columns) == ["Measure", "A: Enterprise", "B: Everything else", "A − B"]
    assert (rows["ARR"]["A: Enterprise"], rows["ARR"]["B: Everything else"], rows["ARR"]["A − B"]) == (
        "$120K", "$96.0K", "+$24.0K")
    assert (rows["Health rate"]["A: Enterprise"], rows["Health rate"]["B: Everything else"],
            rows["Health rate"]["A − B"]) == ("100.0%", "0.0%", "+100.0 pp")
    assert rows["Active accounts"]["A − B"] == "-2"  # 1 against 3
    # colours by meaning: more ARR and a higher health rate are good; fewer accounts bad
    css = _table(at).proto.arrow_data.styler.styles  # the styled table travels with its CSS
    green = next(rule for rule in css.splitlines() if "#1a7f37" in rule)
    red = next(rule for rule in css.splitlines() if "#cf222e" in rule)
    assert "row0_col3" in green and "row1_col3" in green  # ARR, health rate
    assert "row7_col3" in red and "row7_col3" not in green  # active accounts, the last row


def test_b_months_before_the_data_are_n_a(tiny_db, app_on):
    at = app_on(tiny_db).run()
    table = _compare(at, "segment", "enterprise", "mid_market", offset=3).value  # Dec 2025: no data
    assert list(table.columns)[2] == "B: Mid-market · 3 months earlier"
    assert set(table["B: Mid-market · 3 months earlier"]) == {"n/a"} and set(table["A − B"]) == {"n/a"}


def test_negative_churn_compares_its_own_tiles(tiny_db, app_on):
    at = app_on(tiny_db).run()
    at.switch_page("pages/negative_churn.py").run()
    table = _compare(at, "csm_team", "Enterprise", "Growth")
    rows = {r["Measure"]: r for r in table.value.to_dict("records")}
    # March: Enterprise (a1) 9,000 -> 10,000 MRR: +1,000 cross-sell, NRR 111.1%; Growth's target
    # accounts a2 5,000 -> 4,000 and a3 1,000 (a5 upsell 2,000 -> 3,000): 8,000 -> 8,000, NRR 100.0%
    assert (rows["NRR"]["A: Enterprise"], rows["NRR"]["B: Growth"], rows["NRR"]["A − B"]) == (
        "111.1%", "100.0%", "+11.1 pp")
    assert rows["Expansion MRR"]["A: Enterprise"] == "$1.0K"
