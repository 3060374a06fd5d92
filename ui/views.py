"""Saved views: a named page and slice (its URL: month, filters, page choices) that a user
saves in the sidebar and anyone opens again (or only its owner, when not shared).

A view is the page's file and its query string, kept in the app store with the author from
the login (cslib.store.appstore.AppStore.save_view), so it survives re-imports. Opening one goes
to its page with its query string and lets the sidebar read its selection from the URL
again, exactly as a shared link does.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import streamlit as st

from cslib.store import appstore
from cslib.errors import UserError

from ui import auth, data

PENDING_KEY = "hg_open_view"
PICK_KEY = "hg_view_pick"
FLASH_KEY = "hg_view_flash"


def _store() -> appstore.AppStore:
    return appstore.AppStore(appstore.default_path(data.db_path()))


def current_query() -> str:
    """This page's query string (repeated keys kept)."""
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    return urlencode(params, doseq=True)


def _picked() -> None:
    view_id = st.session_state.get(PICK_KEY)
    if view_id is not None:
        st.session_state[PENDING_KEY] = view_id
    st.session_state[PICK_KEY] = None


def open_pending(pages: set[str], init_key: str) -> None:
    """If a view was picked in the last run, go to its page with its query string (stops the run)."""
    view_id = st.session_state.pop(PENDING_KEY, None)
    if view_id is None:
        return
    try:
        views = _store().saved_views(auth.author()).set_index("view_id")
    except appstore.StoreUnavailable:
        return
    if view_id not in views.index or views.at[view_id, "page"] not in pages:
        return
    st.session_state[init_key] = False  # the sidebar reads the view's selection from the URL
    query = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(views.at[view_id, "query"]).items()}
    st.switch_page(views.at[view_id, "page"], query_params=query)


def _save(page: str, query: str) -> None:
    author = auth.author()
    if author is None:
        st.session_state[FLASH_KEY] = ("error", "Not saved: the app does not know who you are.")
        return
    try:
        _store().save_view(st.session_state.get("hg_view_title", ""), page, query, author,
                           shared=bool(st.session_state.get("hg_view_shared", True)))
    except UserError as err:
        st.session_state[FLASH_KEY] = ("error", f"Not saved: {err}.")
        return
    st.session_state["hg_view_title"] = ""
    st.session_state[FLASH_KEY] = ("success", "View saved.")


def sidebar(page: str) -> None:
    """The "Saved views" expander: open a view, or save this page and slice as one."""
    try:
        views = _store().saved_views(auth.author())
    except appstore.StoreUnavailable:
        return
    with st.sidebar.expander("Saved views", icon=":material/bookmarks:"):
        flash = st.session_state.pop(FLASH_KEY, None)
        if flash is not None:
            (st.success if flash[0] == "success" else st.error)(flash[1])
        if not views.empty:
            names = {int(r.view_id): f"{r.name} · {r.updated_by}{'' if r.is_shared else ' · only you'}"
                     for r in views.itertuples()}
            st.selectbox("Open a view", options=list(names), index=None, format_func=names.get, key=PICK_KEY,
                         placeholder=f"{len(names)} saved", on_change=_picked)
        if auth.author() is None:
            auth.ask_name("hg_views")
            return
        st.text_input("Name this view", key="hg_view_title", max_chars=appstore.MAX_NAME_CHARS,
                      placeholder="e.g. Enterprise renewals, Q4")
        st.checkbox("Share with everyone", value=True, key="hg_view_shared")
        st.button("Save this view", on_click=_save, args=(page, current_query()), width="stretch")
