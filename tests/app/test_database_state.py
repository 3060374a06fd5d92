"""No silent demo: a configured database that is missing or disappears is an error on
the page that says what to do and names no server path; the demo says "Demo data" on
every page (issue 14, item 6)."""

from __future__ import annotations

import shutil

import pytest

from tests_support.book import build_tiny_book

AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                 "client_id": "id", "client_secret": "secret",
                 "server_metadata_url": "https://id.example.com/.well-known/openid-configuration"}}
PAGES = ["pages/overview.py", "pages/ninebox.py", "pages/flows.py", "pages/churn_reasons.py",
         "pages/negative_churn.py", "pages/renewal_model.py", "pages/forecast.py", "pages/outlook.py",
         "pages/worklist.py", "pages/account.py"]


@pytest.fixture(autouse=True)
def _demo_setting(monkeypatch):
    monkeypatch.delenv("HEALTHGRID_DEMO", raising=False)  # the default: auto


def _everything_shown(at) -> str:
    """Every text the page shows, main area and sidebar, expanders included."""
    parts = [e.value for kind in ("error", "warning", "info", "success", "markdown", "caption", "text", "title")
             for e in getattr(at, kind)]
    parts += [e.label for e in at.expander]
    return "\n".join(str(p) for p in parts)


def _admin_text(at) -> str:
    boxes = [e for e in at.expander if e.label == "For the administrator"]
    return "\n".join(t.value for box in boxes for t in box.text)


def test_a_configured_database_that_does_not_exist_is_an_error_not_a_demo(tmp_path, app_on):
    path = tmp_path / "company" / "healthgrid.duckdb"
    at = app_on(path).run()
    assert not at.exception
    assert not path.exists() and not path.parent.exists()  # nothing was built
    assert len(at.error) == 1
    message = at.error[0].value
    assert "Ask your administrator to import the data." in message
    assert str(tmp_path) not in message and "python -m" not in message  # no path, no shell command
    assert not at.metric  # no numbers
    # without login, whoever runs the app is its administrator: the details are in an expander
    details = _admin_text(at)
    assert str(path) in details and f"python -m cslib import DIR --db {path}" in details


def test_with_login_the_missing_database_page_names_no_path(tmp_path, app_on, monkeypatch):
    roles = tmp_path / "roles.toml"
    roles.write_text('[users."ceo@example.com"]\nrole = "executive"\n', encoding="utf-8")
    monkeypatch.setenv("HEALTHGRID_ROLES", str(roles))
    path = tmp_path / "company" / "healthgrid.duckdb"
    at = app_on(path)
    at.secrets.update(AUTH)
    at.user = {"is_logged_in": True, "email": "ceo@example.com"}
    at.run()
    assert not at.exception
    assert "Ask your administrator to import the data." in at.error[0].value
    assert not [e for e in at.expander if e.label == "For the administrator"]
    shown = _everything_shown(at)
    assert str(tmp_path) not in shown and "python -m" not in shown and "duckdb" not in shown


@pytest.mark.parametrize("demo_setting", ["auto", "1"])
def test_a_database_that_disappears_while_the_app_runs_is_an_error(tmp_path, app_on, monkeypatch, demo_setting):
    # even on a demo server (HEALTHGRID_DEMO=1), a company's file that vanished is never
    # replaced by the demo
    monkeypatch.setenv("HEALTHGRID_DEMO", demo_setting)
    path = tmp_path / "company.duckdb"
    build_tiny_book(path)
    at = app_on(path).run()
    assert not at.exception and not at.error
    assert [m.value for m in at.metric if m.label == "ARR"] == ["$216K"]
    path.unlink()
    at.run()
    assert not at.exception
    assert not path.exists()  # no demo was built in its place
    assert "has disappeared since the app last read it" in at.error[0].value
    assert str(tmp_path) not in at.error[0].value
    assert not at.metric
    fresh = app_on(path).run()  # a new session: still an error, still no demo
    assert "has disappeared" in fresh.error[0].value and not path.exists()


def test_an_unreadable_database_names_no_path_in_the_message(tmp_path, app_on):
    path = tmp_path / "broken.duckdb"
    path.write_bytes(b"this is not a duckdb file" * 100)
    at = app_on(path).run()
    assert not at.exception
    assert "Could not read the database" in at.error[0].value
    assert str(tmp_path) not in at.error[0].value
    assert str(path) in _admin_text(at)


def test_company_data_does_not_say_demo(tiny_db, app_on):
    at = app_on(tiny_db).run()
    assert not at.exception
    assert "Demo data" not in _everything_shown(at)


@pytest.mark.slow
def test_the_demo_says_demo_data_on_every_page(small_demo_db, app_on):
    import duckdb

    from cslib.store import dataset

    conn = duckdb.connect(str(small_demo_db), read_only=True)
    try:
        assert dataset.is_demo(conn)  # the demo build recorded it (import_meta)
    finally:
        conn.close()
    at = app_on(small_demo_db).run(timeout=120)
    for page in PAGES:
        at.switch_page(page).run(timeout=120)
        assert not at.exception, (page, [e.value for e in at.exception])
        assert any("Demo data" in m.value for m in at.markdown), page  # the badge
        assert "Demo data: a generated company" in " ".join(c.value for c in at.sidebar.caption), page


def test_a_rescored_demo_is_still_the_demo_and_an_import_is_not(tmp_path, small_demo_db):
    import duckdb

    from cslib.store import dataset, pipeline
    from cslib.store.importer import import_dir

    demo = tmp_path / "demo.duckdb"
    shutil.copy(small_demo_db, demo)
    pipeline.rescore(demo)
    with duckdb.connect(str(demo), read_only=True) as conn:
        assert dataset.is_demo(conn)
    from pathlib import Path

    imported = tmp_path / "imported.duckdb"
    import_dir(Path(__file__).resolve().parents[1] / "fixtures" / "import_ok", imported)
    with duckdb.connect(str(imported), read_only=True) as conn:
        assert not dataset.is_demo(conn)


@pytest.mark.parametrize("configured,setting,allowed", [
    (False, None, True),    # first start: no database configured -> the demo
    (True, None, False),    # a configured path that is missing -> an error
    (True, "auto", False),
    (True, "1", True),      # a demo server
    (False, "0", False),    # never
])
def test_when_the_app_may_build_the_demo(monkeypatch, tmp_path, configured, setting, allowed):
    from ui import data

    if configured:
        monkeypatch.setenv("HEALTHGRID_DB", str(tmp_path / "missing.duckdb"))
    else:
        monkeypatch.delenv("HEALTHGRID_DB", raising=False)
    if setting is not None:
        monkeypatch.setenv("HEALTHGRID_DEMO", setting)
    assert data.demo_allowed() is allowed


@pytest.mark.slow
def test_a_vanished_demo_is_rebuilt_on_a_demo_server(tmp_path, app_on, monkeypatch, small_demo_db):
    monkeypatch.setenv("HEALTHGRID_DEMO", "1")
    monkeypatch.setenv("HEALTHGRID_DEMO_ACCOUNTS", "25")
    path = tmp_path / "demo.duckdb"
    shutil.copy(small_demo_db, path)
    at = app_on(path).run(timeout=120)
    assert not at.exception and not at.error
    path.unlink()
    at.run(timeout=180)
    assert not at.exception and not at.error
    assert path.exists()  # it was the demo: rebuilt, and still says so
    assert any("Demo data" in m.value for m in at.markdown)


# --------------------------------------------------------------------------- the app store
@pytest.fixture(scope="module")
def ninebox_db(tmp_path_factory):
    from tests_support.ninebox_book import build_ninebox_book

    path = tmp_path_factory.mktemp("state_ninebox") / "book.duckdb"
    build_ninebox_book(path)
    return path


def test_an_app_store_that_cannot_be_opened_leaves_the_nine_box_readable(ninebox_db, app_on, monkeypatch, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the store's folder should be")
    monkeypatch.setenv("HEALTHGRID_APP_DB", str(blocker / "app.sqlite"))
    at = app_on(ninebox_db)
    at.switch_page("pages/ninebox.py").run()
    at.selectbox(key="ninebox_cell").set_value("high|unhealthy").run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    assert any("Edited playbooks cannot be shown or saved" in w and "Ask your administrator" in w for w in warnings)
    assert not any(str(tmp_path) in w for w in warnings)  # the path only for the administrator
    assert any("sponsor call" in m.value for m in at.markdown)  # the shipped playbook is still shown
    assert "Save playbook" not in [b.label for b in at.button]
    assert any(str(blocker) in t.value for t in at.text)  # in the administrator's expander (no login)


def test_an_app_store_that_cannot_be_opened_leaves_the_alerts_readable(app_on, monkeypatch, tmp_path_factory):
    from tests_support.flows_book import build_flows_book

    root = tmp_path_factory.mktemp("state_flows")
    db_path = root / "flows.duckdb"
    build_flows_book(db_path)
    (root / "store").mkdir()
    monkeypatch.setenv("HEALTHGRID_APP_DB", str(root / "store"))  # a folder, not a file
    at = app_on(db_path)
    at.switch_page("pages/flows.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Alert statuses cannot be shown or changed" in w.value for w in at.warning)
    chosen = at.selectbox(key="flows_alert_pick").value
    assert at.selectbox(key=f"flows_status_{chosen}").disabled  # read-only
    assert "Update status" not in [b.label for b in at.button]
    assert not [t for t in at.text_input if "name" in str(t.key)]  # nothing to save, no name asked


def test_an_older_database_that_then_disappears_is_still_not_replaced(tmp_path, app_on, monkeypatch):
    import duckdb

    monkeypatch.setenv("HEALTHGRID_DEMO", "1")  # even where a demo may be built
    path = tmp_path / "old.duckdb"
    build_tiny_book(path)
    with duckdb.connect(str(path)) as conn:
        conn.execute("drop table mrr_movements")
    at = app_on(path).run()
    assert "older version of Healthgrid" in at.error[0].value and "mrr_movements" in at.error[0].value
    assert "python -m" not in at.error[0].value and str(tmp_path) not in at.error[0].value
    assert f"python -m cslib score --db {path}" in _admin_text(at)
    path.unlink()
    at.run()
    assert "has disappeared" in at.error[0].value and not path.exists()
