"""The app-owned store: playbooks and alert statuses, with who/when and history."""

import pytest

from cslib.appstore import AppStore, default_path
from cslib.errors import UserError


def test_playbook_edit_is_kept_with_author_and_history(tmp_path):
    store = AppStore(tmp_path / "state.sqlite")
    assert store.playbooks().empty
    store.set_playbook("high|unhealthy", "Executive sponsor call within a week.", "dana")
    store.set_playbook("high|unhealthy", "  <b>Call</b> the sponsor & the admin.\r\n", "lee")
    rows = store.playbooks()
    assert rows["cell_id"].tolist() == ["high|unhealthy"]
    # stored verbatim (escaping is the renderer's job), trimmed, newlines normalised
    assert rows["body"].iloc[0] == "<b>Call</b> the sponsor & the admin."
    assert rows["updated_by"].iloc[0] == "lee"
    history = store.playbook_history("high|unhealthy")
    assert history["updated_by"].tolist() == ["lee", "dana"]
    # a second store object on the same file (another process, an app restart) sees it
    assert AppStore(tmp_path / "state.sqlite").playbooks()["updated_by"].tolist() == ["lee"]


def test_empty_playbook_is_refused(tmp_path):
    store = AppStore(tmp_path / "state.sqlite")
    with pytest.raises(UserError, match="empty"):
        store.set_playbook("low|healthy", "   ", "dana")
    assert store.playbooks().empty


def test_alert_status_keeps_first_acknowledgement(tmp_path):
    store = AppStore(tmp_path / "state.sqlite")
    store.set_alert_status("A1|2026-10-05|score_drop", "acknowledged", "kim")
    first = store.alert_statuses()["acknowledged_at"].iloc[0]
    store.set_alert_status("A1|2026-10-05|score_drop", "closed", "kim")
    row = store.alert_statuses().iloc[0]
    assert row["status"] == "closed" and row["acknowledged_at"] == first
    with pytest.raises(UserError, match="not one of open, acknowledged, closed"):
        store.set_alert_status("A1|2026-10-05|score_drop", "done", "kim")


def test_default_path_sits_beside_the_database(monkeypatch, tmp_path):
    monkeypatch.delenv("HEALTHGRID_APP_DB", raising=False)
    assert default_path(tmp_path / "book.duckdb") == tmp_path / "book.appstate.sqlite"
    monkeypatch.setenv("HEALTHGRID_APP_DB", str(tmp_path / "elsewhere.sqlite"))
    assert default_path(tmp_path / "book.duckdb") == tmp_path / "elsewhere.sqlite"
