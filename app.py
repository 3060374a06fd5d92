"""Healthgrid: ``streamlit run app.py``.

The entry script: page config, first-start demo build, the global sidebar filters
(ui.sidebar, rendered once here so they persist across pages and live in the URL), and
``st.navigation`` over pages/. Adding a page is one line in PAGES.

The demo company is built only when no database is configured (ui.data.demo_allowed); a
configured database that is missing or unreadable is an error on the page that says what
to do and names no server path: the path and the commands are in a "For the
administrator" expander when login is not configured (whoever runs the app is its
administrator), and only in the server log when it is. A file holding the demo says
"Demo data" on every page.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import streamlit as st

from cslib.errors import UserError
from ui import auth, data, problems, sidebar, views

#: the page icon is served by the app itself (an icon name would make the browser fetch it
#: from a font CDN on every page load)
PAGE_ICON = Path(__file__).resolve().parent / "ui" / "static" / "healthgrid.png"
st.set_page_config(page_title="Healthgrid", page_icon=str(PAGE_ICON), layout="wide")

_PAGE_SPECS = [  # (file, title, icon); the first is the default page
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/ninebox.py", "Nine-box", ":material/grid_view:"),
    ("pages/flows.py", "Health flows", ":material/swap_vert:"),
    ("pages/churn_reasons.py", "Churn reasons", ":material/report:"),
    ("pages/negative_churn.py", "Negative churn", ":material/trending_up:"),
    ("pages/renewal_model.py", "Renewal model", ":material/model_training:"),
    ("pages/forecast.py", "Renewal forecast", ":material/event_upcoming:"),
    ("pages/outlook.py", "ARR outlook", ":material/timeline:"),
    ("pages/worklist.py", "Worklist", ":material/checklist:"),
    ("pages/account.py", "Account", ":material/person:"),
]
#: the default page is served at "/" and answers to no other path, so it is registered as
#: "home" and a hidden page takes its file name's path: a bookmarked /overview?... link
#: lands on "/" with its query string instead of Streamlit's "Page not found" dialog
DEFAULT_PAGE_ALIAS = Path(_PAGE_SPECS[0][0]).stem
PAGES = [
    st.Page(path, title=title, icon=icon, default=(i == 0), url_path="home" if i == 0 else None)
    for i, (path, title, icon) in enumerate(_PAGE_SPECS)
]
_ALIAS = st.Page(lambda: None, title=_PAGE_SPECS[0][1], url_path=DEFAULT_PAGE_ALIAS, visibility="hidden")


def _database_problem(message: str, details: str) -> None:
    """An error for everyone (no path, no command), details for the administrator (ui.problems)."""
    problems.show(message, details)


def _open_database() -> data.Version | None:
    """The database version to read, building the demo first when that is allowed."""
    if data.version() is None and data.demo_allowed():
        bar = st.progress(0.0, text="First start: building the demo database…")

        def progress(message: str, fraction: float) -> None:
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"Building the demo database: {message}")

        try:
            data.ensure_database(progress)
        except (UserError, ValueError, OSError, duckdb.Error) as err:
            bar.empty()
            _database_problem("Could not build the demo database. Ask your administrator to check the server.",
                              f"Building the demo at {data.db_path()} failed: {err}")
            return None
        bar.empty()
    version = data.version()
    if version is None:
        path = data.db_path()
        if data.was_seen(path):
            headline = ("The customer database has disappeared since the app last read it, so there "
                        "are no numbers to show. Ask your administrator to restore it or import the data again.")
        else:
            headline = ("No customer data yet: the database this app is set up to read does not exist. "
                        "Ask your administrator to import the data.")
        _database_problem(
            headline,
            f"Database path: {path}\n"
            f"Import a folder of CSV files into it:  python -m cslib import DIR --db {path}\n"
            "Or point HEALTHGRID_DB at an existing database and restart the app. To try the app on "
            "the generated demo company instead, set HEALTHGRID_DEMO=1 (or unset HEALTHGRID_DB).",
        )
    return version


grant = auth.gate()  # open unless [auth] is configured; then login + role map
page = st.navigation([*PAGES, _ALIAS])
if page is _ALIAS:
    st.switch_page(PAGES[0], query_params=st.query_params.to_dict())
pending = sidebar.pop_pending_page()
if pending in {path for path, _, _ in _PAGE_SPECS}:  # a deep link before navigation ran
    st.switch_page(pending, query_params=st.query_params.to_dict())
views.open_pending({path for path, _, _ in _PAGE_SPECS}, sidebar.INIT_KEY)  # a saved view picked last run
version = _open_database()
if version is None:
    st.stop()
try:
    missing = data.missing_models(version)  # the first use of this version opens the file
    demo = data.is_demo(version)
    data.note_seen(version, demo)  # from now on, this file vanishing is an error, not a demo
except data.StaleVersion:
    st.rerun()  # replaced by an import a moment ago: start again on the new file
except duckdb.Error as err:
    _database_problem("Could not read the database: it is damaged or not a Healthgrid database. "
                      "Ask your administrator to import the data again.",
                      f"Database path: {data.db_path()}\nDuckDB said: {err}")
    st.stop()
if missing:
    _database_problem(
        f"The database was built by an older version of Healthgrid (missing: {', '.join(missing)}). "
        "Ask your administrator to rebuild it.",
        f"Rebuild the models of the database:  python -m cslib score --db {data.db_path()}",
    )
    st.stop()
try:
    selection = sidebar.render(version, grant)
except duckdb.Error as err:
    _database_problem("Could not read the database: it is damaged or not a Healthgrid database. "
                      "Ask your administrator to import the data again.",
                      f"Database path: {data.db_path()}\nDuckDB said: {err}")
    st.stop()
if selection is None:
    st.stop()
selection = sidebar.restrict(grant)
auth.sidebar_identity(grant)
views.sidebar(next(path for (path, _, _), p in zip(_PAGE_SPECS, PAGES) if p is page))
if demo:
    st.sidebar.caption("Demo data: a generated company, not your customers.")
    st.badge("Demo data", icon=":material/science:", color="orange")
with sidebar.page_scope():
    page.run()
