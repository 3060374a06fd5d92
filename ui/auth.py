"""Login, scoping and identity in the app (optional: without an ``[auth]`` secrets section
the app runs open, as on the demo data).

With ``[auth]`` configured (Streamlit's built-in OIDC, ``st.login``), a visitor must log
in, and their e-mail must be in the role map (``HEALTHGRID_ROLES``); anyone else is
denied. The grant then narrows the sidebar filters for every page (cslib.rules.access.scope)
and decides who may edit what (cslib.store.appstore.may_edit_playbooks / may_set_alert).

Who made a change is never typed in when login is configured: it is the signed-in user
(``author()``: the login's e-mail and name). Without login, the app asks for a name once
per session (``ask_name``) and records it as "NAME (unverified)".

Messages on the page name no server paths: a broken role map says "Access is not set
up" and what to do; the details (with the path) go to the server log.
"""

from __future__ import annotations

import logging

import streamlit as st

from cslib import settings
from cslib.rules import access
from cslib.store.appstore import Author
from cslib.errors import UserError

OPEN = access.Grant("executive")
GRANT_KEY = "hg_grant"
NAME_KEY = "hg_unverified_name"
_log = logging.getLogger("healthgrid.auth")


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _logged_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:  # no auth configured, or an older runtime
        return False


def resolve_grant() -> access.Grant | None:
    """The visitor's grant now, without drawing anything: OPEN without login configured,
    None when not logged in, not in the role map, or the role map is broken."""
    if not auth_configured():
        return OPEN
    if not _logged_in():
        return None
    try:
        role_map = access.load_role_map(settings.get("HEALTHGRID_ROLES"))
    except UserError:
        return None
    return access.grant_for(role_map, st.user.get("email"))


def gate() -> access.Grant:
    """The visitor's grant; stops the run with a login button or an access-denied message."""
    if not auth_configured():
        st.session_state[GRANT_KEY] = OPEN
        return OPEN
    st.session_state.pop(GRANT_KEY, None)
    if not _logged_in():
        st.title("Healthgrid")
        st.write("Log in to see your customer book.")
        st.button("Log in", on_click=st.login, type="primary")
        st.stop()
    email = st.user.get("email")
    try:
        role_map = access.load_role_map(settings.get("HEALTHGRID_ROLES"))
    except UserError as err:
        _log.error("access is not set up: %s", err)  # the path is for the server log only
        st.error(
            "Access is not set up: the role map that gives each user their part of the book "
            "is missing or invalid. Ask your administrator to fix it (the server log says what "
            "is wrong)."
        )
        st.button("Log out", on_click=st.logout)
        st.stop()
    grant = access.grant_for(role_map, email)
    if grant is None:
        st.error(f"No access for {email or 'this account'}: ask an administrator to add you to the role map.")
        st.button("Log out", on_click=st.logout)
        st.stop()
    st.session_state[GRANT_KEY] = grant
    return grant


def current_grant() -> access.Grant | None:
    """The grant app.py found in this run (None outside an admitted run)."""
    return st.session_state.get(GRANT_KEY)


def author() -> Author | None:
    """Who is making a change now: the signed-in user (verified), or without login the
    name given in this session (unverified); None when no name has been given yet, or the
    login gave no e-mail."""
    if auth_configured():
        if not _logged_in():
            return None
        try:
            return Author.from_login(st.user.get("email"), st.user.get("name"))
        except UserError:
            return None
    name = st.session_state.get(NAME_KEY)
    if not name:
        return None
    try:
        return Author.unverified(name)
    except UserError:
        return None


def _take_name(key: str) -> None:
    try:
        Author.unverified(st.session_state.get(key, ""))
    except UserError:
        st.session_state[f"{key}_problem"] = True  # an empty name: the form stays, and says so
        return
    st.session_state[NAME_KEY] = st.session_state.get(key, "")


def ask_name(key: str) -> None:
    """Without login: ask once per session for the name to record with changes."""
    st.caption(
        "Login is not configured on this server, so the app cannot know who you are. "
        "Give your name once for this session; your changes are recorded with it, "
        "marked (unverified)."
    )
    with st.form(f"{key}_name_form", border=False):
        st.text_input("Your name (for this session)", key=f"{key}_name", max_chars=80)
        st.form_submit_button("Continue", on_click=_take_name, args=(f"{key}_name",))
    if st.session_state.pop(f"{key}_name_problem", False):
        st.error("Enter your name to continue.")


def sidebar_identity(grant: access.Grant) -> None:
    """Who is signed in (and a Log out button), or the session's unverified name."""
    with st.sidebar:
        if auth_configured() and _logged_in():
            who = author()
            role = {"executive": "executive", "director": "director", "csm": "CSM"}.get(grant.role, grant.role)
            st.text(f"Signed in as {who.label if who else 'unknown'} · {role}")  # text, not Markdown
            st.button("Log out", on_click=st.logout, key="hg_logout")
        elif st.session_state.get(NAME_KEY):
            who = author()
            if who is not None:
                st.text(f"Changes are recorded as {who.label}")
