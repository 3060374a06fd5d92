"""Weekly change alerts: the rules on crafted weekly series (boundaries included), the
rule config, statuses in the app store, and the recovery test."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cslib.views import alerts
from cslib.rules import alert_rules
from cslib.store.appstore import AppStore
from cslib.store.db import sql_file
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.store.pipeline import create_raw_tables
from cslib.rules.scorecard import load_scorecard, tier_of
from cslib.settings import CONFIG_DIR
from tests_support.sql import HEALTH_WEEKLY_DDL

W = [dt.date(2026, 1, 5) + dt.timedelta(days=7 * i) for i in range(8)]  # Mondays
SCORECARD = load_scorecard()
#: the demo scorecard's indicators (cfg_indicators rows: indicator, label, ordinal, max_points)
INDICATORS = [
    ("modules", "Modules", 0, 30.0),
    ("instance_ratio", "Instance ratio", 1, 15.0),
    ("activation_rate", "Activation rate", 2, 20.0),
    ("login_rate", "Login rate", 3, 20.0),
    ("bi_rate", "BI usage rate", 4, 15.0),
]
INDICATOR_DDL = """
create or replace table cfg_indicators (indicator varchar, label varchar, ordinal integer, max_points double);
create or replace table health_indicator_weekly (
    account_id varchar, week_start date, indicator varchar, value double, window_points double
);
"""

#: account -> scores per week (None = unscored, '-' = no row that week)
SERIES = {
    "drop15": [80.0, 65.0],
    "drop149": [80.0, 65.1],
    "dropfloat": [45.3, 30.3],  # 14.999999999999996 in floating point: rounds to 15.0
    "at70": [70.0, 69.9, 70.0],  # fall then rise across 70 (70 is healthy)
    "above70": [71.0, 70.0],  # 70 is still healthy: no fall
    "at30": [30.0, 29.9, 30.0],  # 30 is at risk
    "gap": [80.0, "-", 50.0],  # no previous calendar week: no comparison
    "unscored": [80.0, None],
}
#: drop15's indicator points (sum = score): modules, instance, activation, login, bi
DROP15_POINTS = [(30.0, 15.0, 20.0, 10.0, 5.0), (25.0, 15.0, 15.0, 5.0, 5.0)]
#: account -> users_logged_in per week ('-' = no usage row)
LOGINS = {
    "silent3": [0, 0, 0, 5, 0, 0, 0, 0],  # runs of 3 and 4: fires in weeks 3 and 7
    "silent2": [0, 0, 5, 0, 0, 4],
    "silentgap": [0, 0, "-", 0, 0],
}
EVENTS = [
    # account_id, occurred_on, kind, score, role
    ("nps6", "2026-01-07", "nps", 6.0, "key_user"),
    ("nps7", "2026-01-07", "nps", 7.0, "key_user"),
    ("npsuser", "2026-01-07", "nps", 2.0, "user"),
    ("npsadmin", "2026-01-11", "nps", 0.0, "admin"),  # a Sunday: week of 2026-01-05
    ("npsadmin", "2026-01-06", "nps", 3.0, "dept_head"),  # same week: one alert, lowest 0
    ("people", "2026-01-14", "admin_changed", None, "admin"),
    ("people", "2026-01-13", "dept_head_changed", None, "dept_head"),
    ("people", "2026-01-15", "dept_head_changed", None, "dept_head"),
    ("people", "2026-01-14", "complaint", None, "admin"),  # not a rule
]


def _health(conn, series: dict, points_of, indicators: list[tuple]) -> None:
    """health_weekly rows (score, tier) of ``series`` and their health_indicator_weekly
    rows: points_of(account, week index, score) -> window points per indicator."""
    conn.execute(HEALTH_WEEKLY_DDL)
    conn.execute(INDICATOR_DDL)
    conn.executemany("insert into cfg_indicators values (?, ?, ?, ?)", indicators)
    rows, long = [], []
    for account, scores in series.items():
        for i, score in enumerate(scores):
            if score == "-":
                continue
            rows.append((account, W[i], 8, score, tier_of(score, SCORECARD)))
            points = points_of(account, i, score)
            long += [(account, W[i], ind[0], None, p) for ind, p in zip(indicators, points)]
    conn.executemany(
        "insert into health_weekly (account_id, week_start, weeks_in_window, score, tier) values (?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany("insert into health_indicator_weekly values (?, ?, ?, ?, ?)", long)


def _build(rules: alert_rules.AlertRules | None = None) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    create_raw_tables(conn)

    def points_of(account, i, score):
        return DROP15_POINTS[i] if account == "drop15" else (score or 0.0, 0.0, 0.0, 0.0, 0.0)

    _health(conn, SERIES, points_of, INDICATORS)
    usage = [
        (account, W[i], 10, 10, n, 0, 5)
        for account, logins in LOGINS.items()
        for i, n in enumerate(logins)
        if n != "-"
    ]
    conn.executemany("insert into raw_usage_weekly values (?, ?, ?, ?, ?, ?, ?)", usage)
    conn.executemany("insert into raw_events values (?, ?, ?, ?, ?, null)", EVENTS)
    alert_rules.write_alert_rule_tables(conn, rules or alert_rules.load_alert_rules())
    conn.execute(sql_file("health_alerts"))
    return conn


def _fired(conn) -> set[tuple[str, dt.date, str]]:
    rows = conn.execute("select account_id, week_start, rule from health_alerts").fetchall()
    return {(a, w, r) for a, w, r in rows}


@pytest.fixture(scope="module")
def built():
    conn = _build()
    yield conn
    conn.close()


def test_score_drop_boundary(built):
    fired = _fired(built)
    assert ("drop15", W[1], "score_drop") in fired  # exactly 15 points
    assert ("drop149", W[1], "score_drop") not in fired  # 14.9
    assert ("dropfloat", W[1], "score_drop") in fired  # 15.0 after rounding
    assert ("gap", W[2], "score_drop") not in fired  # the week before is missing
    assert not {a for a, _, r in fired if r == "score_drop"} - {"drop15", "dropfloat"}


def test_tier_boundaries(built):
    fired = _fired(built)
    assert ("at70", W[1], "tier_fall") in fired  # 70.0 -> 69.9
    assert ("at70", W[2], "tier_rise") in fired  # 69.9 -> 70.0
    assert not any(a == "above70" for a, _, _ in fired)  # 71 -> 70 stays healthy
    assert ("at30", W[1], "tier_fall") in fired  # 30.0 (at risk) -> 29.9
    assert ("at30", W[2], "tier_rise") in fired
    assert ("drop15", W[1], "tier_fall") in fired and ("drop149", W[1], "tier_fall") in fired
    assert not any(a in ("unscored", "gap", "dropfloat") and r.startswith("tier") for a, _, r in fired)


def test_no_login_needs_three_consecutive_weeks(built):
    fired = {(a, w) for a, w, r in _fired(built) if r == "no_login"}
    assert fired == {("silent3", W[2]), ("silent3", W[6])}


def test_events_and_nps(built):
    fired = _fired(built)
    assert ("nps6", W[0], "nps_detractor") in fired  # 6 is a detractor
    assert not any(a in ("nps7", "npsuser") for a, _, _ in fired)  # 7; a plain user
    assert ("npsadmin", W[0], "nps_detractor") in fired
    assert ("people", W[1], "admin_changed") in fired
    assert ("people", W[1], "dept_head_changed") in fired
    assert len([1 for a, _, r in fired if a == "people"]) == 2  # two dept-head events: one alert
    detail = built.execute(
        "select detail from health_alerts where account_id = 'npsadmin'"
    ).fetchone()[0]
    assert detail == "lowest NPS 0"


def test_alert_columns_and_indicator_changes(built):
    df = built.execute("select * from health_alerts where alert_id = 'drop15|2026-01-12|score_drop'").df()
    assert len(df) == 1
    row = df.iloc[0]
    assert (row["nature"], row["severity"], row["month"]) == ("malignant", "high", "2026-01")
    assert (row["prev_score"], row["score"], row["score_change"]) == (80.0, 65.0, -15.0)
    changes = [(c["indicator"], c["label"], c["change"]) for c in row["indicator_changes"]]
    assert changes == [("modules", "Modules", -5.0), ("instance_ratio", "Instance ratio", 0.0),
                       ("activation_rate", "Activation rate", -5.0), ("login_rate", "Login rate", -5.0),
                       ("bi_rate", "BI usage rate", 0.0)]
    assert sum(c for _, _, c in changes) == row["score_change"]
    # three indicators lost 5 points each: the first in scorecard order drives the drop
    assert (row["driver_indicator"], row["driver_label"], row["driver_change"]) == ("modules", "Modules", -5.0)
    ids = built.execute("select alert_id from health_alerts").df()["alert_id"]
    assert ids.is_unique
    rise = built.execute("select nature, severity from health_alerts where rule = 'tier_rise' limit 1").fetchone()
    assert rise == ("benign", "low")


#: a scorecard with its own indicators: modules and one ratio, weekly_active_share
CUSTOM_INDICATORS = [("modules", "Modules", 0, 30.0), ("weekly_active_share", "Weekly active share", 1, 70.0)]
#: account -> (modules, weekly_active_share) window points per week; the score is their sum
CUSTOM_POINTS = {
    "share_drop": [(30.0, 60.0), (28.0, 40.0)],  # 90 -> 68: share -20, modules -2
    "tie": [(30.0, 50.0), (20.0, 40.0)],  # 80 -> 60: both -10: modules (first) drives
    "share_rise": [(10.0, 10.0), (10.0, 45.0)],  # 20 -> 55: share +35 (tier rise)
    "mixed": [(10.0, 40.0), (30.0, 15.0)],  # 50 -> 45: modules +20, share -25: the loss drives
    "flat": [(20.0, 30.0), (20.0, 30.0)],
    "gap": [(30.0, 60.0), "-", (5.0, 10.0)],  # no previous calendar week
}


@pytest.fixture(scope="module")
def custom():
    conn = duckdb.connect()
    create_raw_tables(conn)
    series = {a: [p if p == "-" else sum(p) for p in weeks] for a, weeks in CUSTOM_POINTS.items()}
    _health(conn, series, lambda a, i, score: CUSTOM_POINTS[a][i], CUSTOM_INDICATORS)
    conn.execute("insert into raw_events values ('flat', '2026-01-13', 'admin_changed', null, 'admin', null)")
    conn.execute("insert into raw_events values ('gap', '2026-01-20', 'admin_changed', null, 'admin', null)")
    alert_rules.write_alert_rule_tables(conn, alert_rules.load_alert_rules())
    conn.execute(sql_file("health_alerts"))
    yield conn
    conn.close()


def test_any_indicator_set_explains_the_alerts(custom):
    """A scorecard of modules + weekly_active_share: the changes and the driver name the
    scorecard's own indicators, with their labels, whatever they are."""
    df = custom.execute(
        "select account_id, rule, score_change, driver_indicator, driver_label, driver_change, indicator_changes "
        "from health_alerts order by account_id, rule"
    ).df()
    got = {(r.account_id, r.rule): r for r in df.itertuples()}
    assert set(got) == {("share_drop", "score_drop"), ("share_drop", "tier_fall"), ("tie", "score_drop"),
                        ("tie", "tier_fall"), ("share_rise", "tier_rise"), ("flat", "admin_changed"),
                        ("gap", "admin_changed")}  # gap: 90 -> 15, but no week before to compare
    drop = got[("share_drop", "score_drop")]
    assert drop.score_change == -22.0
    assert (drop.driver_indicator, drop.driver_label, drop.driver_change) == (
        "weekly_active_share", "Weekly active share", -20.0)
    assert [(c["indicator"], c["label"], c["change"]) for c in drop.indicator_changes] == [
        ("modules", "Modules", -2.0), ("weekly_active_share", "Weekly active share", -20.0)]
    assert got[("share_drop", "tier_fall")].driver_indicator == "weekly_active_share"  # per week, every rule
    assert (got[("tie", "score_drop")].driver_indicator, got[("tie", "score_drop")].driver_change) == ("modules", -10.0)
    rise = got[("share_rise", "tier_rise")]
    assert (rise.driver_label, rise.driver_change) == ("Weekly active share", 35.0)  # a rise: the largest gain
    flat = got[("flat", "admin_changed")]
    assert pd.isna(flat.driver_indicator) and [c["change"] for c in flat.indicator_changes] == [0.0, 0.0]
    gap = got[("gap", "admin_changed")]
    assert pd.isna(gap.driver_indicator) and [c["change"] for c in gap.indicator_changes] == [None, None]


def test_custom_indicator_changes_reach_the_alert_list(custom):
    custom.execute("create or replace table account_month (account_id varchar, month varchar, "
                   "name varchar, csm varchar, csm_team varchar, is_target boolean)")
    custom.executemany("insert into account_month values (?, '2026-01', ?, 'cs', 'team', true)",
                       [(a, a.title()) for a in CUSTOM_POINTS])
    listed = alerts.month_alerts(custom, Filters(), "2026-01").set_index("alert_id")
    row = listed.loc[f"mixed|{W[1]}|score_drop"] if f"mixed|{W[1]}|score_drop" in listed.index else None
    assert row is None  # 50 -> 45 is no score drop (5 points) and stays at risk: no alert
    row = listed.loc[f"share_drop|{W[1]}|score_drop"]
    assert row["driver_label"] == "Weekly active share"
    assert alerts.indicator_changes(row)[["label", "change"]].values.tolist() == [
        ["Modules", -2.0], ["Weekly active share", -20.0]]


def test_a_loss_drives_a_fall_even_when_another_indicator_gained(custom):
    """mixed: modules +20 and share -25 (total -5): the driver is the loss. No rule fires
    for it, so the rule here is checked on a rebuilt table with a 5-point drop threshold."""
    rules = alert_rules.load_alert_rules()
    lower = dataclasses.replace(rules, rules=tuple(
        dataclasses.replace(r, params=(("min_drop_points", 5.0),)) if r.rule == "score_drop" else r
        for r in rules.rules))
    alert_rules.write_alert_rule_tables(custom, lower)
    custom.execute(sql_file("health_alerts"))
    try:
        row = custom.execute(
            "select driver_indicator, driver_change, score_change from health_alerts "
            "where account_id = 'mixed' and rule = 'score_drop'"
        ).fetchone()
        assert row == ("weekly_active_share", -25.0, -5.0)
    finally:
        alert_rules.write_alert_rule_tables(custom, rules)
        custom.execute(sql_file("health_alerts"))


def test_rule_parameters_come_from_the_config():
    base = alert_rules.load_alert_rules()
    stricter = dataclasses.replace(
        base,
        rules=tuple(
            dataclasses.replace(r, params=(("min_drop_points", 14.9),)) if r.rule == "score_drop"
            else dataclasses.replace(r, params=(("weeks", 2.0),)) if r.rule == "no_login"
            else dataclasses.replace(r, enabled=False) if r.rule == "tier_rise"
            else dataclasses.replace(r, params=(("max_score", 7.0),)) if r.rule == "nps_detractor"
            else r
            for r in base.rules
        ),
    )
    fired = _fired(_build(stricter))
    assert ("drop149", W[1], "score_drop") in fired
    assert ("silent2", W[1], "no_login") in fired and ("silent2", W[4], "no_login") in fired
    assert ("silentgap", W[1], "no_login") in fired and ("silentgap", W[4], "no_login") in fired
    assert not any(r == "tier_rise" for _, _, r in fired)
    assert ("nps7", W[0], "nps_detractor") in fired


def test_shipped_rules_file():
    rules = alert_rules.load_alert_rules(CONFIG_DIR / "alert_rules.toml")
    assert [r.rule for r in rules.rules] == list(alert_rules.RULES)
    assert rules.rule("score_drop").param("min_drop_points") == 15
    assert rules.rule("no_login").param("weeks") == 3
    assert rules.rule("nps_detractor").param("max_score") == 6
    assert rules.rule("nps_detractor").roles == ("dept_head", "admin", "key_user")
    assert rules.rule("tier_rise").nature == "benign"
    assert (rules.recovery_weeks, rules.recovery_points) == (2, 10.0)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("[rules.tier_rise]", "[rules.tier_rize]"), "rules.tier_rize: unknown rule"),
        (lambda t: t.replace('severity = "low"', 'severity = "urgent"'), "rules.tier_rise.severity: must be one of"),
        (lambda t: t.replace("min_drop_points = 15", "min_drop_points = -1"), "rules.score_drop.min_drop_points"),
        (lambda t: t.replace("weeks = 3", "weeks = 0"), "rules.no_login.weeks: must be a whole number"),
        (lambda t: t.replace('roles = ["dept_head", "admin", "key_user"]', "roles = []"), "rules.nps_detractor.roles"),
        (lambda t: t.replace("min_drop_points = 15\n", "min_drop_points = 15\nmax_drop = 3\n"),
         "rules.score_drop.max_drop: unknown key"),
        (lambda t: t.replace("weeks = 2\n", ""), "missing key recovery.weeks"),
        (lambda t: t + "\n[extra]\n", "extra: unknown key"),
        (lambda t: t.replace("[rules.tier_fall]", "[rules.tier_fall\n"), "invalid TOML"),
    ],
)
def test_bad_rules_file_is_one_line_error(tmp_path, edit, message):
    text = (CONFIG_DIR / "alert_rules.toml").read_text(encoding="utf-8")
    path = tmp_path / "rules.toml"
    path.write_text(edit(text), encoding="utf-8")
    with pytest.raises(UserError) as err:
        alert_rules.load_alert_rules(path)
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_rules_file(tmp_path):
    with pytest.raises(UserError, match="alert rules not found"):
        alert_rules.load_alert_rules(tmp_path / "nope.toml")


# --------------------------------------------------------------------------- statuses
def _alert_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "alert_id": ["a|2026-01-12|score_drop", "b|2026-01-12|tier_rise"],
            "account_id": ["a", "b"],
            "week_start": [W[1], W[1]],
            "nature": ["malignant", "benign"],
            "prev_score": [80.0, 40.0],
            "score": [60.0, 72.0],
        }
    )


def test_status_persists_across_store_instances(tmp_path: Path):
    path = tmp_path / "app.sqlite"
    store = AppStore(path)
    assert alerts.set_status(store, ["a|2026-01-12|score_drop"], "acknowledged", "ana") == 1
    listed = alerts.with_status(_alert_frame(), AppStore(path).alert_statuses())  # a new instance
    assert listed["status"].tolist() == ["acknowledged", "open"]
    acknowledged_on = listed["acknowledged_on"].iloc[0]
    assert isinstance(acknowledged_on, dt.date) and listed["acknowledged_on"].iloc[1] is None
    alerts.set_status(AppStore(path), ["a|2026-01-12|score_drop"], "closed", "ben")
    listed = alerts.with_status(_alert_frame(), AppStore(path).alert_statuses())
    assert listed["status"].tolist() == ["closed", "open"]
    assert listed["acknowledged_on"].iloc[0] == acknowledged_on  # the first acknowledgement is kept
    assert listed["updated_by"].iloc[0] == "ben"
    with pytest.raises(UserError):
        alerts.set_status(store, ["a|2026-01-12|score_drop"], "done", "ana")
    with pytest.raises(UserError):
        alerts.set_status(store, [], "closed", "ana")


def test_recovery_refs_use_the_acknowledgement_date():
    frame = _alert_frame()
    frame["acknowledged_on"] = [dt.date(2026, 1, 28), None]
    refs = alerts.recovery_refs(frame)
    assert refs == (("a|2026-01-12|score_drop", "a", "2026-01-28", 80.0, 60.0),)  # benign ones are left out
    frame["acknowledged_on"] = [None, None]
    assert alerts.recovery_refs(frame)[0][2] == "2026-01-12"


# --------------------------------------------------------------------------- recovery
RECOVERY_SCORES = {
    "r_back": [80, 60, 65, 81, 81, 81],  # back to 80+ in week 4: recovered
    "r_slow": [80, 60, 62, 64, 72, 66],  # target min(80, 60 + 10) = 70: only in week 5
    "r_plus": [80, 60, 70],  # +10 exactly
    "r_late": [80, 80, 80, 80, 80, 60],  # alert in the last week: pending
}


@pytest.fixture(scope="module")
def recovery_conn():
    conn = duckdb.connect()
    conn.execute(HEALTH_WEEKLY_DDL)
    conn.executemany(
        "insert into health_weekly (account_id, week_start, score, tier) values (?, ?, ?, 'at_risk')",
        [(a, W[i], float(s)) for a, scores in RECOVERY_SCORES.items() for i, s in enumerate(scores)],
    )
    alert_rules.write_alert_rule_tables(conn, alert_rules.load_alert_rules())
    yield conn
    conn.close()


def test_recovery_within_two_weeks(recovery_conn):
    refs = (
        ("back", "r_back", W[1].isoformat(), 80.0, 60.0),
        ("slow", "r_slow", W[1].isoformat(), 80.0, 60.0),
        ("plus", "r_plus", W[1].isoformat(), 80.0, 60.0),
        ("late", "r_late", W[5].isoformat(), 80.0, 60.0),
        ("noscore", "r_back", W[1].isoformat(), None, None),
    )
    out = alerts.alert_recovery(recovery_conn, refs).set_index("alert_id")
    assert out["recovery"].to_dict() == {
        "back": "recovered", "slow": "not_recovered", "plus": "recovered", "late": "pending", "noscore": "n/a",
    }
    assert out.loc["slow", "target_score"] == 70.0 and out.loc["slow", "best_score"] == 64.0
    assert alerts.recovery_rate(out.reset_index()) == (2 / 3, 2, 3)


def test_recovery_counts_from_the_acknowledgement(recovery_conn):
    acked_wednesday = (W[3] + dt.timedelta(days=2)).isoformat()
    out = alerts.alert_recovery(recovery_conn, (("slow", "r_slow", acked_wednesday, 80.0, 60.0),))
    assert out["recovery"].tolist() == ["recovered"]  # week 5 scores 72 >= 70
    assert out["window_end"].tolist() == [W[3] + dt.timedelta(days=16)]
    assert alerts.recovery_rate(pd.DataFrame({"recovery": ["pending"]})) == (None, 0, 0)


def test_acknowledged_recovery_overrides_the_cached_baseline(recovery_conn):
    base = alerts.alert_recovery(recovery_conn, (("slow", "r_slow", W[1].isoformat(), 80.0, 60.0),
                                                 ("back", "r_back", W[1].isoformat(), 80.0, 60.0)))
    acked = alerts.alert_recovery(
        recovery_conn, (("slow", "r_slow", (W[3] + dt.timedelta(days=2)).isoformat(), 80.0, 60.0),)
    )
    merged = alerts.override_recovery(base, acked).set_index("alert_id")["recovery"].to_dict()
    assert merged == {"slow": "recovered", "back": "recovered"}
    assert base.set_index("alert_id").loc["slow", "recovery"] == "not_recovered"


def test_alert_labels_for_the_picker():
    frame = _alert_frame()
    frame["name"] = ["Acme", "Birch"]
    frame["rule"] = ["score_drop", "no_such_rule"]
    assert alerts.alert_labels(frame) == {
        "a|2026-01-12|score_drop": "12 Jan · Acme · Score drop",
        "b|2026-01-12|tier_rise": "12 Jan · Birch · no_such_rule",  # unknown rules keep their code
    }


def test_month_panel_recovery_equals_alert_recovery_from_the_alert_week(recovery_conn):
    """month_panel's vectorised recovery gives alert_recovery's hand-checked statuses."""
    recovery_conn.execute("create or replace table account_month (account_id varchar, month varchar, "
                          "name varchar, csm varchar, csm_team varchar, is_target boolean)")
    changes = ("[{'indicator': 'modules', 'label': 'Modules', 'change': 0.0}, "
               "{'indicator': 'login_rate', 'label': 'Login rate', 'change': -20.0}]")
    recovery_conn.execute("create or replace table health_alerts as select * from (values "
                          "('back|w1', 'r_back', ?::date, '2026-01', 'score_drop', 'malignant', 'high', null, "
                          f"60.0, 80.0, -20.0, 'at_risk', 'healthy', 'login_rate', 'Login rate', -20.0, {changes}), "
                          "('slow|w1', 'r_slow', ?::date, '2026-01', 'score_drop', 'malignant', 'high', null, "
                          f"60.0, 80.0, -20.0, 'at_risk', 'healthy', 'login_rate', 'Login rate', -20.0, {changes}), "
                          "('plus|w1', 'r_plus', ?::date, '2026-01', 'tier_rise', 'benign', 'low', null, "
                          "60.0, 80.0, -20.0, 'at_risk', 'healthy', null, null, null, null)) "
                          "as t (alert_id, account_id, week_start, month, rule, nature, severity, detail, score, "
                          "prev_score, score_change, tier, prev_tier, driver_indicator, driver_label, driver_change, "
                          "indicator_changes)", [W[1], W[1], W[1]])
    recovery_conn.executemany("insert into account_month values (?, '2026-01', ?, 'cs', 'team', true)",
                              [("r_back", "Back"), ("r_slow", "Slow"), ("r_plus", "Plus")])
    assert W[1].strftime("%Y-%m") == "2026-01"
    panel = alerts.month_panel(recovery_conn, Filters(), "2026-01")
    assert panel["alerts"]["alert_id"].tolist() == ["back|w1", "slow|w1", "plus|w1"]  # high severity first
    recovery = panel["recovery"].set_index("alert_id")
    assert recovery["recovery"].to_dict() == {"back|w1": "recovered", "slow|w1": "not_recovered"}  # benign left out
    assert recovery.loc["slow|w1", "target_score"] == 70.0 and recovery.loc["slow|w1", "best_score"] == 64.0
    assert recovery.loc["slow|w1", "window_end"] == W[3]
    assert panel["summary"].set_index("rule")["alerts"].to_dict() == {"score_drop": 2, "tier_rise": 1}
    assert alerts.alert_labels(panel["alerts"])["slow|w1"] == f"{W[1]:%d %b} · Slow · Score drop"
    one = alerts.month_alerts(recovery_conn, Filters(), "2026-01", alert_id="slow|w1")
    assert one["alert_id"].tolist() == ["slow|w1"]
    # the changes come as a hashable tuple (the page caches charts on the alert's row)
    assert one["indicator_changes"].iloc[0] == (("modules", "Modules", 0.0), ("login_rate", "Login rate", -20.0))
    assert alerts.indicator_changes(one.iloc[0]).to_dict("records") == [
        {"indicator": "modules", "label": "Modules", "change": 0.0},
        {"indicator": "login_rate", "label": "Login rate", "change": -20.0},
    ]
    plus = panel["alerts"].set_index("alert_id").loc["plus|w1"]
    assert plus["indicator_changes"] == () and plus["driver_label"] is None
    assert alerts.indicator_changes(plus).empty


def test_with_recovery_labels_tracked_alerts_and_leaves_the_rest_blank():
    listed = pd.DataFrame({"alert_id": ["a", "b", "c"], "nature": ["malignant", "malignant", "benign"]})
    recovery = pd.DataFrame({"alert_id": ["b", "a"], "recovery": ["pending", "recovered"], "best_score": [1.0, 2.0]})
    out = alerts.with_recovery(listed, recovery)
    assert out["recovery"].tolist() == ["recovered", "pending", ""]
    assert list(out.columns) == ["alert_id", "nature", "recovery"]
