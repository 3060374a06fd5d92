"""Healthgrid: ``streamlit run app.py``.

The entry script: page config, first-start demo build, the global sidebar filters
(ui.sidebar, rendered once here so they persist across pages and live in the URL), and
``st.navigation`` over pages/. Adding a page is one line in PAGES.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import streamlit as st

from cslib.errors import UserError
from ui import auth, data, sidebar

st.set_page_config(page_title="Healthgrid", page_icon=":material/monitor_heart:", layout="wide")

_PAGE_SPECS = [  # (file, title, icon); the first is the default page
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/ninebox.py", "Nine-box", ":material/grid_view:"),
    ("pages/flows.py", "Health flows", ":material/swap_vert:"),
    ("pages/churn_reasons.py", "Churn reasons", ":material/report:"),
    ("pages/negative_churn.py", "Negative churn", ":material/trending_up:"),
    ("pages/renewal_model.py", "Renewal model", ":material/model_training:"),
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


def _open_database() -> data.Version | None:
    """The database version to read, building the demo first when the file is missing."""
    if data.version() is None:
        bar = st.progress(0.0, text="First start: building the demo database…")

        def progress(message: str, fraction: float) -> None:
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"Building the demo database: {message}")

        try:
            data.ensure_database(progress)
        except (UserError, ValueError) as err:
            st.error(f"Could not build the demo database: {err}")
            return None
        bar.empty()
    version = data.version()
    if version is None:
        st.error(f"Database not found: {data.db_path()}")
    return version


grant = auth.gate()  # open unless [auth] is configured; then login + role map
page = st.navigation([*PAGES, _ALIAS])
if page is _ALIAS:
    st.switch_page(PAGES[0], query_params=st.query_params.to_dict())
pending = sidebar.pop_pending_page()
if pending in {path for path, _, _ in _PAGE_SPECS}:  # a deep link before navigation ran
    st.switch_page(pending, query_params=st.query_params.to_dict())
version = _open_database()
if version is None:
    st.stop()
try:
    missing = data.missing_models(version)  # the first use of this version opens the file
except data.StaleVersion:
    st.rerun()  # replaced by an import a moment ago: start again on the new file
except duckdb.Error as err:
    st.error(f"Could not read the database {data.db_path()}: {err}")
    st.stop()
if missing:
    st.error(
        f"The database {data.db_path()} was built by an older version of Healthgrid "
        f"(missing: {', '.join(missing)}). Rebuild its models with `python -m cslib score "
        f"--db {data.db_path()}`, or delete the file to rebuild the demo."
    )
    st.stop()
try:
    selection = sidebar.render(version, grant)
except duckdb.Error as err:
    st.error(f"Could not read the database {data.db_path()}: {err}")
    st.stop()
if selection is None:
    st.stop()
selection = sidebar.restrict(grant)
with sidebar.page_scope():
    page.run()
