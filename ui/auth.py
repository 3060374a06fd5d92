"""Login and scoping in the app (optional: without an ``[auth]`` secrets section the app
runs open, as on the demo data).

With ``[auth]`` configured (Streamlit's built-in OIDC, ``st.login``), a visitor must log
in, and their e-mail must be in the role map (``HEALTHGRID_ROLES``); anyone else is
denied. The grant then narrows the sidebar filters for every page (cslib.access.scope).
"""

from __future__ import annotations

import streamlit as st

from cslib import access, settings
from cslib.errors import UserError

OPEN = access.Grant("executive")


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def gate() -> access.Grant:
    """The visitor's grant; stops the run with a login button or an access-denied message."""
    if not auth_configured():
        return OPEN
    if not st.user.is_logged_in:
        st.title("Healthgrid")
        st.write("Log in to see your customer book.")
        st.button("Log in", on_click=st.login, type="primary")
        st.stop()
    email = st.user.get("email")
    try:
        role_map = access.load_role_map(settings.get("HEALTHGRID_ROLES"))
    except UserError as err:
        st.error(f"Access is not set up: {err}")
        st.stop()
    grant = access.grant_for(role_map, email)
    if grant is None:
        st.error(f"No access for {email or 'this account'}: ask an administrator to add you to the role map.")
        st.button("Log out", on_click=st.logout)
        st.stop()
    return grant
