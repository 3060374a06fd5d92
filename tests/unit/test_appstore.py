"""The app-owned store: playbooks and alert statuses, with who/when and history."""

import pytest

from cslib.store.appstore import AppStore, default_path
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


# --------------------------------------------------------------------------- who made the change
def test_a_signed_in_author_is_recorded_with_the_time(tmp_path):
    import datetime as dt

    from cslib.store.appstore import Author

    store = AppStore(tmp_path / "state.sqlite")
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    store.set_playbook("high|unhealthy", "Call the sponsor.", Author.from_login("Dana@Example.com ", "Dana Diaz"))
    row = store.playbooks().iloc[0]
    assert (row["updated_by"], row["author_email"], bool(row["verified"])) == (
        "Dana Diaz <dana@example.com>", "dana@example.com", True)
    assert before <= dt.datetime.fromisoformat(row["updated_at"]) <= dt.datetime.now(dt.timezone.utc)
    store.set_alert_status("A1|2026-10-05|score_drop", "acknowledged", Author.from_login("ben@example.com"))
    status = store.alert_statuses().iloc[0]
    assert (status["updated_by"], status["author_email"], bool(status["verified"])) == (
        "ben@example.com", "ben@example.com", True)
    history = store.alert_status_history("A1|2026-10-05|score_drop")
    assert history[["status", "author_email"]].values.tolist() == [["acknowledged", "ben@example.com"]]


def test_an_unverified_author_always_says_so(tmp_path):
    from cslib.store.appstore import Author

    store = AppStore(tmp_path / "state.sqlite")
    store.set_playbook("low|healthy", "Check in quarterly.", Author.unverified("  Kim\x00 \n Park "))
    store.set_playbook("low|healthy", "Check in monthly.", Author.unverified("CEO (unverified)"))
    history = store.playbook_history("low|healthy")
    assert history["updated_by"].tolist() == ["CEO (unverified)", "Kim Park (unverified)"]
    assert not history["verified"].any() and history["author_email"].isna().all()
    with pytest.raises(UserError, match="enter your name"):
        Author.unverified(" \t(unverified) ")
    with pytest.raises(UserError, match="no e-mail"):
        Author.from_login(None, "Dana")


def test_a_store_written_before_authors_gets_the_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        "create table playbook (cell_id text primary key, body text not null, updated_by text not null, "
        "updated_at text not null);"
        "create table alert_status (alert_id text primary key, status text not null, updated_by text not null, "
        "updated_at text not null, acknowledged_at text);"
    )
    conn.execute("insert into playbook values ('mid|healthy', 'Old text', 'CEO', '2026-01-01T00:00:00+00:00')")
    conn.commit()
    conn.close()
    row = AppStore(path).playbooks().iloc[0]
    assert (row["updated_by"], row["author_email"], bool(row["verified"])) == ("CEO", None, False)  # typed: unverified


@pytest.mark.parametrize("role,teams,csm,edits", [
    ("executive", (), None, True), ("director", ("Growth",), None, True), ("csm", (), "Ben Okafor", False),
])
def test_who_edits_playbooks(role, teams, csm, edits):
    from cslib.rules.access import Grant
    from cslib.store.appstore import may_edit_playbooks

    assert may_edit_playbooks(Grant(role, teams, csm)) is edits
    assert may_edit_playbooks(None) is False


@pytest.mark.parametrize("grant,csm,team,allowed", [
    (("executive", (), None), "Ana Lima", "Enterprise", True),
    (("director", ("Growth",), None), "Ben Okafor", "Growth", True),
    (("director", ("Growth",), None), "Ana Lima", "Enterprise", False),
    (("director", ("Growth",), None), "Ben Okafor", None, False),
    (("csm", (), "Ben Okafor"), "Ben Okafor", "Growth", True),
    (("csm", (), "Ben Okafor"), "Chen Wei", "Growth", False),
    (("csm", (), "Ben Okafor"), None, "Growth", False),
])
def test_who_changes_an_alert(grant, csm, team, allowed):
    from cslib.rules.access import Grant
    from cslib.store.appstore import may_set_alert

    assert may_set_alert(Grant(*grant), csm, team) is allowed
    assert may_set_alert(None, csm, team) is False


def test_a_display_name_dressed_as_an_address_is_not_shown(tmp_path):
    from cslib.store.appstore import Author

    # the identity provider's name claim is often set by the user: the e-mail is the identity
    assert Author.from_login("ben@example.com", "ceo@example.com").label == "ben@example.com"
    assert Author.from_login("ben@example.com", "CEO <ceo@example.com>").label == "ben@example.com"
    assert Author.from_login("ben@example.com", "Ben Okafor").label == "Ben Okafor <ben@example.com>"


def _under_a_file(path):
    (path.parent / "blocker").write_text("x")
    return path.parent / "blocker" / "app.sqlite"


def _a_folder(path):
    path.mkdir()
    return path


def _not_sqlite(path):
    path.write_bytes(b"not sqlite at all " * 100)
    return path


@pytest.mark.parametrize("make,reason", [
    (_under_a_file, "a file is in the place of its folder"),
    (_a_folder, "is a directory"),
    (_not_sqlite, "file is not a database"),
])
def test_a_store_that_cannot_be_used_is_one_line(tmp_path, make, reason):
    from cslib.store.appstore import StoreUnavailable

    path = make(tmp_path / "state.sqlite")
    for use in (lambda s: s.playbooks(), lambda s: s.alert_statuses(),
                lambda s: s.set_alert_status("a|2026-01-05|score_drop", "closed", "kim")):
        with pytest.raises(StoreUnavailable) as caught:
            use(AppStore(path))
        assert caught.value.reason == reason
        assert str(caught.value) == f"{path}: the app store (playbooks, alert statuses) cannot be used: {reason}"
        assert isinstance(caught.value, UserError)  # the command line prints it as one line


def test_report_alerts_with_a_store_that_cannot_be_used_is_one_line(tmp_path):
    import os
    from pathlib import Path

    from tests_support.flows_book import build_flows_book

    db_path = tmp_path / "flows.duckdb"
    build_flows_book(db_path)
    (tmp_path / "store").mkdir()
    env = {**os.environ, "HEALTHGRID_APP_DB": str(tmp_path / "store")}
    from tests_support.cli import run_cli  # the CLI in this process: same status and output

    done = run_cli("report", "alerts", "--db", str(db_path), env=env, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'store'}: the app store (playbooks, alert statuses) cannot be used: is a directory"]
