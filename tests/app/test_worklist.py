"""Worklist page through AppTest on the small demo: narrow the list, tick every shown
alert, change them in one action, and find the change on an account's page."""

from __future__ import annotations

import pytest

from cslib.store import appstore

PAGE = "pages/worklist.py"


@pytest.fixture
def open_worklist(small_demo_db, app_on, monkeypatch, tmp_path):
    store = tmp_path / "app.sqlite"

    def make(page=PAGE, **params):
        monkeypatch.setenv("HEALTHGRID_APP_DB", str(store))
        at = app_on(small_demo_db, month="2026-10", **params)
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    make.store = store
    return make


def _tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_bulk_change_of_every_shown_alert_in_one_action(open_worklist):
    at = open_worklist()
    assert at.title[0].value == "Worklist · Oct 2026"
    assert _tiles(at) == {"Shown": "160", "Not done": "160", "Unassigned": "160", "Past due": "0"}
    at.multiselect(key="worklist_kinds").set_value(["alert"]).run()
    assert _tiles(at)["Shown"] == "128"  # the 32 red-light flags left out
    at.checkbox(key="worklist_all").check().run()
    assert "Change the 128 ticked items" in [s.value for s in at.subheader]
    at.text_input(key="worklist_name").input("Kim")
    at.button[[b.label for b in at.button].index("Continue")].click().run()
    at.selectbox(key="worklist_action").set_value("acknowledged")
    at.selectbox(key="worklist_owner").set_value("Ava Johnson")
    at.text_area(key="worklist_comment").set_value("Weekly review: calls booked")
    at.button[[b.label for b in at.button].index("Apply to the ticked items")].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == ["Changed 128 items."]
    assert _tiles(at)["Unassigned"] == "0"  # every shown alert now has an owner

    store = appstore.AppStore(open_worklist.store)
    statuses = store.alert_statuses()
    assert len(statuses) == 128 and set(statuses["status"]) == {"acknowledged"}
    assert set(statuses["updated_by"]) == {"Kim (unverified)"}
    account_id = store.work_items()["account_id"].iloc[0]
    page = open_worklist("pages/account.py", id=account_id)
    history = next(df.value for df in page.dataframe if "comment" in df.value.columns)
    assert set(history["comment"]) == {"Weekly review: calls booked"}
    assert all("Acknowledged" in c and "owner Ava Johnson" in c for c in history["change"])


def test_closing_without_a_comment_changes_nothing(open_worklist):
    at = open_worklist()
    at.checkbox(key="worklist_all").check().run()
    at.text_input(key="worklist_name").input("Kim")
    at.button[[b.label for b in at.button].index("Continue")].click().run()
    at.selectbox(key="worklist_action").set_value("closed")
    at.button[[b.label for b in at.button].index("Apply to the ticked items")].click().run()
    assert [e.value for e in at.error] == ["Nothing changed: say in a comment why the items are closed or resolved."]
    assert appstore.AppStore(open_worklist.store).alert_statuses().empty
