"""cslib.views.account on the tiny hand-made book (tests_support/book.py): every section of the
Account page, point in time, with numbers computed by hand from the book's table."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest

from cslib.views import account
from cslib.rules.access import Grant, scope
from cslib.store.appstore import AppStore, Author, may_add_note
from cslib.errors import UserError
from cslib.filters import Filters
from tests_support.book import build_tiny_book

EVERYONE = Filters(include_non_target=True)


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("account") / "tiny.duckdb"
    build_tiny_book(path)
    copy = path.with_name("tiny_logs.duckdb")
    shutil.copy(path, copy)
    with duckdb.connect(str(copy)) as rw:  # logs and events are read raw by the timeline
        rw.executemany("insert into raw_csm_logs values (?, ?, ?, ?, ?, ?, ?)", [
            ("L1", "a3", "2026-02-03", "Ben Okafor", "touchpoint", None, "Kick-off call"),
            ("L2", "a3", "2026-03-12", "Ben Okafor", "risk_flag", None, "Admin left"),
            ("L3", "a3", "2026-04-02", "Ben Okafor", "note", None, "After the month: never shown for March"),
            ("L4", "a1", "2026-03-12", "Ana Lima", "touchpoint", None, "Another account"),
        ])
        rw.executemany("insert into raw_events values (?, ?, ?, ?, ?, ?)", [
            ("a3", "2026-03-12", "nps", 3.0, "admin", None),
            ("a3", "2026-01-20", "complaint", None, "user", "Slow invoices page"),
        ])
    c = duckdb.connect(str(copy), read_only=True)
    yield c
    c.close()


def test_header_is_the_month_end_row_with_the_nine_box_tiers(conn):
    a1 = account.header(conn, "a1", "2026-03", EVERYONE)
    assert (a1.name, a1.arr, a1.health_score, a1.health_tier, a1.value_tier) == (
        "Acme Works", 120_000.0, 96.0, "healthy", "high")  # (9000 + 1000) x 12
    assert a1.cell_id == "high|healthy"
    jan = account.header(conn, "a1", "2026-01", EVERYONE)
    assert jan.arr == 108_000.0  # 9000 x 12, before the cross-sell
    # a3's renewal fell due on 31 Mar with no order: overdue at the March end -> unhealthy
    a3 = account.header(conn, "a3", "2026-03", EVERYONE)
    assert (a3.is_overdue, a3.health_tier, a3.score_tier, a3.arr, a3.value_tier) == (
        True, "unhealthy", "unhealthy", 12_000.0, "low")
    a5 = account.header(conn, "a5", "2026-03", EVERYONE)  # no usage rows
    assert (a5.health_tier, a5.health_score, a5.cell_id, a5.arr) == ("unscored", None, None, 36_000.0)
    a5_jan = account.header(conn, "a5", "2026-01", EVERYONE)  # before its first revenue month
    assert (a5_jan.is_active, a5_jan.arr, a5_jan.cell_id) == (False, None, None)


def test_header_respects_the_viewers_scope(conn):
    director = scope(EVERYONE, Grant("director", teams=("Enterprise",)))
    assert account.header(conn, "a1", "2026-03", director).account_id == "a1"
    assert account.header(conn, "a2", "2026-03", director) is None
    csm = scope(EVERYONE, Grant("csm", csm="Chen Wei"))
    assert account.header(conn, "a4", "2026-03", csm).is_target is False  # non-target: still its CSM's
    assert account.header(conn, "a1", "2026-03", csm) is None
    assert account.header(conn, "no-such-id", "2026-03", EVERYONE) is None
    assert account.header(conn, "x' or 1=1 --", "2026-03", EVERYONE) is None
    with pytest.raises(UserError, match="YYYY-MM"):
        account.header(conn, "a1", "March", EVERYONE)


def test_search_by_name_id_or_csm_within_scope(conn):
    found = account.search(conn, "  BEN ", "2026-03", EVERYONE)
    assert found["account_id"].tolist() == ["a2", "a3"]  # Ben Okafor's, largest ARR first
    assert found["arr"].tolist() == [48_000.0, 12_000.0]
    assert account.search(conn, "acme", "2026-03", EVERYONE)["account_id"].tolist() == ["a1"]
    assert account.search(conn, "a5", "2026-03", EVERYONE)["account_id"].tolist() == ["a5"]
    growth = scope(EVERYONE, Grant("director", teams=("Growth",)))
    assert account.search(conn, "acme", "2026-03", growth).empty
    assert account.search(conn, "", "2026-03", EVERYONE).empty
    assert account.search(conn, "%", "2026-03", EVERYONE).empty  # a literal, not a pattern


def test_scores_and_what_moved_them(conn):
    long = account.scores(conn, "a1", "2026-03")
    last = long[long["week_start"] == dt.date(2026, 3, 30)]  # the March month-end week
    points = dict(zip(last["indicator"], last["window_points"]))
    assert points == {"modules": 26.0, "instance_ratio": 15.0, "activation_rate": 20.0,
                      "login_rate": 20.0, "bi_rate": 15.0}
    assert set(last["score"]) == {96.0} and sum(points.values()) == 96.0
    assert long["week_start"].min() == dt.date(2025, 12, 29)  # the first usage week
    feb = account.scores(conn, "a1", "2026-02")
    assert feb["week_start"].max() == dt.date(2026, 2, 23)  # no week after February's
    changes = account.score_changes(long)
    assert changes["change_points"].tolist() == [0.0] * 5  # the same usage every week
    assert account.score_change(long) == (96.0, 96.0)
    assert account.scores(conn, "a5", "2026-03").empty


def test_score_changes_rank_the_largest_fall_first():
    weeks = [dt.date(2026, 3, 2), dt.date(2026, 3, 30)]
    rows = []
    for week, pts in zip(weeks, [{"a": 20.0, "b": 10.0, "c": 5.0}, {"a": 12.0, "b": 14.0, "c": 5.0}]):
        for i, (ind, p) in enumerate(pts.items()):
            rows.append({"week_start": week, "score": sum(pts.values()), "tier": "at_risk", "indicator": ind,
                         "indicator_label": ind.upper(), "ordinal": i, "max_points": 20.0, "value": None,
                         "window_points": p})
    changes = account.score_changes(pd.DataFrame(rows))
    assert changes["indicator"].tolist() == ["a", "c", "b"]
    assert changes["change_points"].tolist() == [-8.0, 0.0, 4.0]
    assert account.score_change(pd.DataFrame(rows)) == (31.0, 35.0)


def test_revenue_and_month_path(conn):
    rev = account.revenue(conn, "a1", "2026-03")
    assert rev[["month", "product", "movement", "change_mrr"]].values.tolist() == [
        ["2026-03", "analytics", "cross_sell", 1000.0],
        ["2026-01", "core_suite", "new", 9000.0],
    ]
    path = account.month_rows(conn, "a2", "2026-03")
    assert path["month"].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert path["arr"].tolist() == [60_000.0, 60_000.0, 48_000.0]
    assert path["contraction_mrr"].tolist() == [0.0, 0.0, -1000.0]
    assert account.month_rows(conn, "a2", "2026-02")["month"].tolist() == ["2026-01", "2026-02"]


def test_renewals_point_in_time(conn):
    feb = account.renewals(conn, "a2", "2026-02")  # renewed on 25 Mar: not known in February
    assert feb[["status", "due_arr"]].values.tolist() == [["upcoming", 60_000.0]]
    assert pd.isna(feb["renewed_on"].iloc[0]) and pd.isna(feb["renewed_arr"].iloc[0])
    mar = account.renewals(conn, "a2", "2026-03")
    assert mar[["status", "renewed_on", "renewed_arr"]].values.tolist() == [["renewed", dt.date(2026, 3, 25), 48_000.0]]
    a3 = account.renewals(conn, "a3", "2026-03")
    assert a3["status"].tolist() == ["overdue"]
    nxt = account.next_renewal(a3)
    assert (nxt["due_on"], nxt["status"]) == (dt.date(2026, 3, 31), "overdue")
    assert account.next_renewal(mar) is None
    assert account.next_renewal(feb)["due_on"] == dt.date(2026, 3, 20)


def test_renewal_that_lapsed_is_not_overdue():
    rows = pd.DataFrame({"due_on": [dt.date(2026, 1, 5), dt.date(2026, 6, 5)], "status": ["lapsed", "upcoming"]})
    assert account.next_renewal(rows)["due_on"] == dt.date(2026, 6, 5)


def test_alerts_with_statuses_and_history(conn, tmp_path):
    rows = account.alert_rows(conn, "a3", "2026-03")
    assert rows["alert_id"].tolist() == ["a3|2026-01-12|no_login"]
    assert account.alert_rows(conn, "a1", "2026-03").empty
    store = AppStore(tmp_path / "app.sqlite")
    listed, history = account.with_statuses(rows, store)
    assert listed["status"].tolist() == ["open"] and history.empty
    store.set_alert_status("a3|2026-01-12|no_login", "acknowledged", Author.from_login("ben@example.com", "Ben"))
    store.set_alert_status("a3|2026-01-12|no_login", "closed", Author.from_login("ben@example.com", "Ben"))
    store.set_alert_status("other|2026-01-12|no_login", "closed", "someone")
    listed, history = account.with_statuses(rows, store)
    assert listed[["status", "updated_by"]].values.tolist() == [["closed", "Ben <ben@example.com>"]]
    assert history["status"].tolist() == ["closed", "acknowledged"]  # newest first, this account's only
    assert set(history["alert_id"]) == {"a3|2026-01-12|no_login"}


def test_timeline_merges_logs_events_and_app_notes_up_to_the_month_end(conn, tmp_path):
    store = AppStore(tmp_path / "app.sqlite")
    ben = Author.from_login("ben@example.com", "Ben Okafor")
    store.add_account_note("a3", "call", "2026-03-12", "Called the new admin", ben)
    store.add_account_note("a3", "note", "2026-04-10", "April: not in March's view", ben)
    store.add_account_note("a1", "note", "2026-03-01", "Another account", ben)
    logged = account.timeline_rows(conn, "a3", "2026-03")
    rows = account.with_notes(logged, store, "a3", "2026-03")
    assert rows[["happened_on", "source", "kind"]].values.tolist() == [
        [dt.date(2026, 3, 12), "app_note", "call"],  # one day: notes, then logs, then events
        [dt.date(2026, 3, 12), "csm_log", "risk_flag"],
        [dt.date(2026, 3, 12), "event", "nps"],
        [dt.date(2026, 2, 3), "csm_log", "touchpoint"],
        [dt.date(2026, 1, 20), "event", "complaint"],
    ]
    assert rows.loc[0, "who"] == "Ben Okafor <ben@example.com>"
    assert rows.loc[2, "score"] == 3.0
    april = account.with_notes(account.timeline_rows(conn, "a3", "2026-04"), store, "a3", "2026-04")
    assert "After the month: never shown for March" in april["text"].tolist()
    assert account.with_notes(account.timeline_rows(conn, "a2", "2026-03"), store, "a2", "2026-03").empty


def test_notes_are_checked_and_only_the_accounts_people_may_add_them(tmp_path):
    store = AppStore(tmp_path / "app.sqlite")
    with pytest.raises(UserError, match="kind"):
        store.add_account_note("a1", "gossip", "2026-03-01", "x", "Kim")
    with pytest.raises(UserError, match="date"):
        store.add_account_note("a1", "note", "31/03/2026", "x", "Kim")
    with pytest.raises(UserError, match="empty"):
        store.add_account_note("a1", "note", "2026-03-01", "   ", "Kim")
    with pytest.raises(UserError, match="no such account"):
        account.add_note(store, None, "note", "2026-03-01", "x", "Kim")
    assert store.account_notes("a1").empty
    assert may_add_note(Grant("executive"), "Ana Lima", "Enterprise")
    assert may_add_note(Grant("director", teams=("Enterprise",)), "Ana Lima", "Enterprise")
    assert not may_add_note(Grant("director", teams=("Growth",)), "Ana Lima", "Enterprise")
    assert may_add_note(Grant("csm", csm="Ana Lima"), "Ana Lima", "Enterprise")
    assert not may_add_note(Grant("csm", csm="Ben Okafor"), "Ana Lima", "Enterprise")
    assert not may_add_note(None, "Ana Lima", "Enterprise")


def test_account_links_carry_id_month_and_a_readable_name():
    url = account.account_url("a 1&x", "2026-03", "Acme & Co")
    assert url == "account?id=a+1%26x&month=2026-03&name=Acme+%26+Co"
    import re

    assert re.search(account.LINK_TEXT_RE, url).group(1) == "Acme+%26+Co"  # the browser decodes it
    frame = account.with_links(pd.DataFrame({"account_id": ["a1"], "name": ["Acme Works"]}), "2026-03")
    assert frame["account_link"].tolist() == ["account?id=a1&month=2026-03&name=Acme+Works"]


def test_account_report_is_what_the_page_shows(conn):
    from cslib.cli.reports import ReportArgs

    month, tables = account.account_report(conn, ReportArgs(month="2026-03", filters=Filters(), account_id="a4"))
    assert month == "2026-03"
    head = tables["header"].iloc[0]  # a non-target account: the report includes it, as the page does
    assert (head["name"], head["arr"], head["health_tier"], head["cell_id"]) == ("Dune Labs", 24_000.0, "healthy", "mid|healthy")
    assert tables["renewals"][["due_on", "status", "renewed_on"]].values.tolist() == [["2026-03-05", "renewed", "2026-03-05"]]
    assert list(tables) == ["header", "score_changes", "months", "revenue", "renewals", "alerts", "timeline"]
    with pytest.raises(UserError, match="--id"):
        account.account_report(conn, ReportArgs(month="2026-03", filters=Filters()))
    with pytest.raises(UserError, match="no account 'a1'"):
        account.account_report(conn, ReportArgs(month="2026-03", filters=Filters(csm_team=("Growth",)), account_id="a1"))
