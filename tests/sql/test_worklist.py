"""cslib.views.worklist and the app store's work items: what the list holds, who may change it,
and that one action changes many items at once with every change kept."""

from __future__ import annotations

import datetime as dt
import sqlite3

import duckdb
import pandas as pd
import pytest

from cslib.views import account, worklist
from cslib.rules.access import Grant
from cslib.store.appstore import AppStore, Author
from cslib.errors import UserError
from cslib.filters import Filters
from tests_support.book import build_tiny_book

BEN = Author.from_login("ben@example.com", "Ben Okafor")


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("worklist") / "tiny.duckdb"
    build_tiny_book(path)
    c = duckdb.connect(str(path), read_only=True)
    yield c
    c.close()


def test_items_are_the_slices_alerts_in_the_window(conn):
    # the tiny book has one alert: a3 (no login since it started) in the week of 12 Jan 2026
    items = worklist.items(conn, Filters(), "2026-03")
    assert items[["item_kind", "item_id", "name", "label", "severity", "age_days"]].values.tolist() == [
        ["alert", "a3|2026-01-12|no_login", "Cedar Foods", "No login", "high", 78]]  # 12 Jan -> 31 Mar
    assert worklist.items(conn, Filters(), "2026-03", window_days=30).empty  # older than 30 days
    assert worklist.items(conn, Filters(csm_team=("Enterprise",)), "2026-03").empty
    assert worklist.items(conn, Filters(deny_all=True), "2026-03").empty


def _frame(n: int, csm: str = "Ben Okafor", team: str = "Growth") -> pd.DataFrame:
    return pd.DataFrame({
        "item_kind": ["alert"] * n, "item_id": [f"acc{i % 7}|2026-03-02|rule{i}" for i in range(n)],
        "account_id": [f"acc{i % 7}" for i in range(n)], "name": [f"Account {i % 7}" for i in range(n)],
        "csm": csm, "csm_team": team, "arr": 1000.0, "code": "tier_fall", "label": "Tier fall",
        "severity": ["high", "medium", "low"] * (n // 3) + ["high"] * (n % 3), "detail": "",
        "raised_on": dt.date(2026, 3, 2), "age_days": 29,
    })


def test_fifty_alerts_change_in_one_action_and_every_change_is_kept(tmp_path):
    store = AppStore(tmp_path / "app.sqlite")
    chosen = _frame(50)
    assert worklist.apply(store, chosen, Grant("csm", csm="Ben Okafor"), BEN, status="acknowledged",
                          owner="Ana Lima", due_on="2026-04-15") == 50
    state = worklist.with_state(chosen, store)
    assert set(state["status"]) == {"acknowledged"} and set(state["owner"]) == {"Ana Lima"}
    assert set(state["due_on"]) == {dt.date(2026, 4, 15)} and state["assigned"].all()
    assert len(store.alert_statuses()) == 50  # the status every page reads
    # closing needs a comment; then owner and due date stay as they were
    with pytest.raises(UserError, match="comment"):
        worklist.apply(store, chosen, Grant("executive"), BEN, status="closed")
    worklist.apply(store, chosen.head(10), Grant("executive"), BEN, status="closed", comment="Trained the team")
    state = worklist.with_state(chosen, store)
    assert (state["status"] == "closed").sum() == 10 and set(state["owner"]) == {"Ana Lima"}
    history = store.work_history("acc0")  # acc0 holds items 0, 7, 14, ... (8 of 50; 2 of the first 10)
    assert len(history) == 8 + 2
    assert history.iloc[0][["status", "comment", "updated_by"]].tolist() == ["closed", "Trained the team",
                                                                              "Ben Okafor <ben@example.com>"]
    # '' clears an owner and a due date: the account's CSM owns the item again
    worklist.apply(store, chosen.head(1), Grant("executive"), BEN, owner="", due_on="")
    first = worklist.with_state(chosen.head(1), store).iloc[0]
    assert (first["owner"], first["assigned"], first["due_on"], first["status"]) == ("Ben Okafor", False, None, "closed")


def test_an_action_is_all_or_nothing(tmp_path):
    store = AppStore(tmp_path / "app.sqlite")
    mixed = pd.concat([_frame(3), _frame(2, csm="Ana Lima", team="Enterprise")], ignore_index=True)
    with pytest.raises(UserError, match="may not change the items of Account 0"):
        worklist.apply(store, mixed, Grant("csm", csm="Ben Okafor"), BEN, status="acknowledged")
    assert store.alert_statuses().empty and store.work_items().empty
    with pytest.raises(UserError, match="due date"):
        worklist.apply(store, _frame(3), Grant("executive"), BEN, due_on="next week")
    with pytest.raises(UserError, match="nothing to change"):
        worklist.apply(store, _frame(3), Grant("executive"), BEN)
    with pytest.raises(UserError, match="status"):
        store.update_work_items([("alert", "x", "a")], BEN, status="resolved-ish")
    assert store.work_items().empty


def test_flags_resolve_and_alerts_close_in_one_mixed_action(tmp_path):
    store = AppStore(tmp_path / "app.sqlite")
    items = [("alert", "a1|2026-03-02|tier_fall", "a1"), ("flag", "L9", "a1")]
    store.update_work_items(items, BEN, status="closed", comment="Fixed with the customer")
    work = store.work_items().set_index("item_id")
    assert work.loc["L9", "status"] == "resolved" and work.loc["a1|2026-03-02|tier_fall", "status"] == "closed"
    assert store.alert_statuses()["status"].tolist() == ["closed"]
    with sqlite3.connect(tmp_path / "app.sqlite") as raw:
        assert raw.execute("select count(*) from work_item_history").fetchone() == (2,)


def test_choose_and_summary():
    frame = worklist.with_state(_frame(6), None)
    frame.loc[0, "status"] = "closed"
    frame.loc[5, "item_kind"] = "flag"
    assert len(worklist.choose(frame, worklist.Choice())) == 5  # open and acknowledged by default
    assert worklist.choose(frame, worklist.Choice(severities=("low",)))["item_id"].tolist() == [
        "acc2|2026-03-02|rule2", "acc5|2026-03-02|rule5"]  # the low alert, and the flag (no severity)
    assert len(worklist.choose(frame, worklist.Choice(statuses=(), max_age_days=28))) == 0
    assert worklist.summary(frame) == {"items": 6, "open": 5, "unassigned": 5, "overdue": 0}


def test_the_account_page_history_holds_worklist_changes(conn, tmp_path):
    store = AppStore(tmp_path / "app.sqlite")
    items = worklist.items(conn, Filters(), "2026-03")
    worklist.apply(store, items, Grant("executive"), BEN, owner="Ana Lima", comment="Call the admin")
    rows, history = account.with_statuses(account.alert_rows(conn, "a3", "2026-03"), store)
    assert store.work_history("a3")[["owner", "comment"]].values.tolist() == [["Ana Lima", "Call the admin"]]
    assert rows["status"].tolist() == ["open"] and history.empty  # no status was changed
