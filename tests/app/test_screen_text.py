"""No raw codes or internals on screen (issue 16, point 4): AppTest over every page of the
small demo, every tab and expander (AppTest renders them all), with a few selections each,
reading every text, option, table header and text cell (tests_support.screen_text)."""

from __future__ import annotations

import pytest

from cslib.rules import alert_rules
from cslib.views import churn, flows, ninebox
from cslib.store.contract import EVENT_KINDS, LOG_KINDS, RENEWAL_OUTCOMES
from sample_data import generator
from tests_support.screen_text import raw_code_problems, screen_texts

PAGES = ("pages/overview.py", "pages/ninebox.py", "pages/flows.py", "pages/churn_reasons.py",
         "pages/negative_churn.py", "pages/renewal_model.py", "pages/forecast.py", "pages/outlook.py",
         "pages/worklist.py", "pages/account.py")
#: pages without many tables of their own (the tile-and-chart pages)
FEW_TABLES = ("pages/overview.py", "pages/outlook.py")


def _largest_account(db) -> str:
    """The account with the most to show: the largest ARR among those with alerts and logs."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(
            "select m.account_id from account_month as m where m.month = (select max(month) from account_month) "
            "and m.account_id in (select account_id from health_alerts) "
            "and m.account_id in (select account_id from raw_csm_logs) order by m.arr desc limit 1"
        ).fetchone()[0]

#: every code of the data's and the app's vocabularies (taxonomy, tiers, statuses, states)
CODES: set[str] = {
    *generator.SEGMENTS, *generator.INDUSTRIES, *generator.REGIONS, *generator.CHANNELS, *generator.CSM_TEAMS,
    "onboarding", "adoption", "established",  # lifecycle stages
    "healthy", "at_risk", "unhealthy", "unscored", "high", "mid", "low", *ninebox.CELL_IDS,
    *flows.FROM_STATES, *flows.TO_STATES, "won_back",
    "open", "acknowledged", "closed", "resolved", "recovered", "not_recovered", "pending", "n/a_",
    *alert_rules.RULES, *alert_rules.NATURES, *alert_rules.SEVERITIES, "medium",
    *RENEWAL_OUTCOMES, *LOG_KINDS, *EVENT_KINDS, "first_renewal", "later_renewal",
    churn.NO_REASON, churn.UNCLASSIFIED, "unassigned", "unknown", "avoidable", "unavoidable",
    *churn.load_taxonomy()["reason_code"],
    "customer", "product", "service", "competition", "price",  # taxonomy categories
    "is_enabled", "is_avoidable", "owner_department", "reason_code",
}


@pytest.fixture
def open_page(small_demo_db, app_on, monkeypatch, tmp_path):
    def make(page: str, **params):
        monkeypatch.setenv("HEALTHGRID_APP_DB", str(tmp_path / "app.sqlite"))
        at = app_on(small_demo_db, **params)
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return make


def _check(at, seen: list[str]) -> None:
    assert not at.exception, [e.value for e in at.exception]
    texts = screen_texts(at)
    kinds = {kind for _where, _text, kind in texts}
    assert {"text", "option"} <= kinds, kinds  # the scan reads the page, not nothing
    seen.extend(raw_code_problems(texts, CODES))


def _selections(page: str, at, seen: list[str]) -> None:
    """A few selections per page, each checked."""
    if page == "pages/ninebox.py":
        for cell in ("high|unhealthy", "low|healthy", "mid|at_risk"):
            at.selectbox(key="ninebox_cell").set_value(cell).run()
            _check(at, seen)
    elif page == "pages/flows.py":
        at.radio(key="flows_matrix_value").set_value("accounts").run()
        _check(at, seen)
        for level in ("csm_team", "csm"):
            at.selectbox(key="flows_trend_level").set_value(level).run()
            _check(at, seen)
    elif page == "pages/churn_reasons.py":
        at.radio(key="churn_reasons_period").set_value("quarter").run()
        _check(at, seen)
        shown = at.selectbox(key="churn_reasons_by").options
        for value in [v for v, label in churn.BREAKDOWN_LABELS.items() if label in shown]:
            at.selectbox(key="churn_reasons_by").set_value(value).run()
            _check(at, seen)
    elif page == "pages/negative_churn.py":
        for by in ("segment", "source_channel", "csm_team", "region", "industry"):
            at.selectbox(key="negative_churn_by").set_value(by).run()
            _check(at, seen)
    elif page == "pages/renewal_model.py":
        submit = [b for b in at.button if b.label == "Re-score the book"]
        submit[0].click().run()
        _check(at, seen)


@pytest.mark.parametrize("page", PAGES)
def test_no_raw_codes_on_screen(open_page, page, small_demo_db):
    seen: list[str] = []
    params = {"id": _largest_account(small_demo_db)} if page == "pages/account.py" else {}
    at = open_page(page, **params)
    _check(at, seen)
    texts = screen_texts(at)
    if page not in FEW_TABLES:  # every other page has tables
        assert sum(kind == "header" for *_, kind in texts) >= 5
        assert sum(kind == "cell" for *_, kind in texts) >= 5
    _selections(page, at, seen)
    at2 = open_page(page, segment="mid_market,smb", region="emea,anz", **params)
    _check(at2, seen)
    problems = sorted(set(seen))
    assert not problems, "\n".join(problems)


def test_the_check_finds_what_it_looks_for():
    """The checker itself: each kind of raw text is caught, words are not."""
    texts = [("dataframe", "high|at_risk", "cell"), ("markdown", "Went from healthy -> at_risk", "text"),
             ("dataframe", "smb", "cell"), ("dataframe", "arr", "header"), ("caption", "value None", "text"),
             ("caption", "see cslib/config/value_tiers.toml", "text"), ("caption", "read docs/method.md", "text"),
             ("caption", "set HEALTHGRID_REASON_WINDOW_DAYS", "text"), ("caption", "run python -m cslib score", "text"),
             ("dataframe", "nan", "cell"), ("caption", "status not_recovered", "text"),
             ("multiselect", "Anz", "option"), ("dataframe", "Mid market", "cell")]
    assert len(raw_code_problems(texts, CODES)) >= len(texts)
    fine = [("caption", "Healthy accounts at risk of churn: none this month", "text"),
            ("dataframe", "Mid-market", "cell"), ("dataframe", "ARR", "header"), ("selectbox", "SMB", "option")]
    assert raw_code_problems(fine, CODES) == []
