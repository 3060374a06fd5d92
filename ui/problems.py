"""One way to show a problem on a page: a message for everyone, details for the administrator.

The message names no server path and no command ("Ask your administrator to ..."). The
details (paths, commands, the library's own words) go to the server log, and on the page
into a "For the administrator" expander only when login is not configured: then whoever
runs the app is its administrator. With login configured nobody sees them on the page.
"""

from __future__ import annotations

import logging

import streamlit as st

from ui import auth

_log = logging.getLogger("healthgrid.app")


def show(message: str, details: str, level: str = "error") -> None:
    """``message`` as an error (or ``level`` = 'warning'), ``details`` for the administrator."""
    (st.warning if level == "warning" else st.error)(message)
    _log.error("%s %s", message, details)
    if not auth.auth_configured():
        with st.expander("For the administrator", icon=":material/build:"):
            st.text(details)  # paths and commands as text, never Markdown


def admin_note(details: str) -> None:
    """Something only the administrator needs (a command, a path): in the "For the
    administrator" expander when login is not configured, else nowhere on the page."""
    if not auth.auth_configured():
        with st.expander("For the administrator", icon=":material/build:"):
            st.text(details)  # as text, never Markdown


def store_unavailable(err, what: str) -> None:
    """The app store (cslib.store.appstore.StoreUnavailable) cannot be used: say what is missing."""
    show(
        f"{what} The app's own store of playbooks and alert statuses cannot be used right now. "
        "Ask your administrator to check it.",
        f"{err}\nIt is HEALTHGRID_APP_DB, or the database path with the suffix .appstate.sqlite.",
        level="warning",
    )
