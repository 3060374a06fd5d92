"""Worklist (CSMs and directors): health alerts and red-light flags to work through.

The list follows the sidebar (month, filters) and the viewer's book: a CSM sees their own
accounts' items, a director their teams', an executive everything. Narrow it by kind,
status, severity, owner and age; tick rows (or all shown) and change them in one action:
a status, an owner and a due date, a comment (required to close or resolve). Changes go to
the app store with the signed-in author and time (cslib.views.worklist, cslib.store.appstore), survive
re-imports, and show on each account's page. Text from the data is shown in tables only.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import streamlit as st

from cslib import labels
from cslib.store import appstore
from cslib.charts import common as charts
from cslib.views import worklist
from cslib.errors import UserError
from ui import auth, data, links, problems, sidebar

FLASH_KEY = "worklist_flash"
KIND_LABELS = {"alert": "Alert", "flag": "Red-light flag"}
STATUS_LABELS = {"open": "Open", "acknowledged": "Acknowledged", "closed": "Closed", "resolved": "Resolved"}
SEVERITY_LABELS = {"high": "High", "medium": "Medium", "low": "Low"}
AGE_CHOICES = {7: "Last 7 days", 30: "Last 30 days", 90: "Last 90 days"}
ACTIONS = {"": "No change", "acknowledged": "Acknowledge", "closed": "Close / resolve", "open": "Reopen"}
NO_CHANGE, UNASSIGN = "(no change)", "(nobody: back to the account's CSM)"


def _store() -> appstore.AppStore:
    return appstore.AppStore(appstore.default_path(data.db_path()))


def _book_caption(grant) -> str:
    if grant is None or grant.role == "executive":
        return "Every account of the selected slice."
    if grant.role == "director":
        return f"The accounts of your teams ({', '.join(labels.label(t) for t in grant.teams)})."
    return "Your accounts."


def _apply(store_path: str, month: str, selected_key: str) -> None:
    """Form callback: apply the action to the ticked rows; leave a message for this run."""
    chosen = st.session_state.get(selected_key)
    if chosen is None or chosen.empty:
        st.session_state[FLASH_KEY] = ("error", "Nothing changed: tick the rows to change first.")
        return
    author = auth.author()
    if author is None:
        st.session_state[FLASH_KEY] = ("error", "Nothing changed: the app does not know who you are.")
        return
    action = st.session_state.get("worklist_action", "")
    owner = st.session_state.get("worklist_owner", NO_CHANGE)
    due = st.session_state.get("worklist_due") if st.session_state.get("worklist_set_due") else None
    try:
        n = worklist.apply(
            appstore.AppStore(store_path), chosen, auth.resolve_grant(), author,
            status=action or None,
            owner=None if owner == NO_CHANGE else ("" if owner == UNASSIGN else owner),
            due_on=due.isoformat() if isinstance(due, dt.date) else None,
            comment=st.session_state.get("worklist_comment") or None,
        )
    except UserError as err:
        st.session_state[FLASH_KEY] = ("error", f"Nothing changed: {err}.")
        return
    st.session_state["worklist_comment"] = ""
    st.session_state[FLASH_KEY] = ("success", f"Changed {n} item{'s' if n != 1 else ''}.")


def render() -> None:
    selection = sidebar.current()
    grant = auth.current_grant()
    st.title(f"Worklist · {sidebar.month_label(selection.month)}", anchor=False)
    st.caption(f"{_book_caption(grant)} Alerts and red-light flags raised in the {worklist.WINDOW_DAYS} days "
               f"to the end of {sidebar.month_label(selection.month)} (flags while still open then).")
    raw = data.cached(worklist.items, selection.version, selection.filters, selection.month)
    store = _store()
    try:
        frame = worklist.with_state(raw, store)
    except appstore.StoreUnavailable as err:
        problems.store_unavailable(err, "Statuses, owners and due dates cannot be shown or changed.")
        frame, store = worklist.with_state(raw, None), None
    if frame.empty:
        st.info("No alerts or red-light flags in this period for the selected accounts.")
        return

    c1, c2, c3 = st.columns(3)  # two rows: every choice readable at 1024 px
    c4, c5 = st.columns([2, 1])
    kinds = c1.multiselect("Kind", list(KIND_LABELS), format_func=KIND_LABELS.get, key="worklist_kinds", bind="query-params",
                           placeholder="Both")
    statuses = c2.multiselect("Status", list(STATUS_LABELS), default=["open", "acknowledged"],
                              format_func=STATUS_LABELS.get, key="worklist_statuses", bind="query-params", placeholder="Any")
    severities = c3.multiselect("Severity", list(SEVERITY_LABELS), format_func=SEVERITY_LABELS.get,
                                key="worklist_severities", bind="query-params", placeholder="Any", help="Alerts only; flags have none")
    owners_all = sorted(frame["owner"].dropna().unique().tolist())
    owners = c4.multiselect("Owner", owners_all, key="worklist_owners", bind="query-params", placeholder="Anyone",
                            help="Who was given the item, else the account's CSM")
    age = c5.selectbox("Raised", list(AGE_CHOICES), index=2, format_func=AGE_CHOICES.get, key="worklist_age",
                       bind="query-params")
    shown = worklist.choose(frame, worklist.Choice(owners=tuple(owners), statuses=tuple(statuses),
                                                   severities=tuple(severities), kinds=tuple(kinds),
                                                   max_age_days=age))
    counts = worklist.summary(shown)
    t1, t2, t3, t4 = st.columns(4)
    t1.metric("Shown", charts.format_count(counts["items"]), border=True, help="Items that match the choices above")
    t2.metric("Not done", charts.format_count(counts["open"]), border=True, help="Open or acknowledged")
    t3.metric("Unassigned", charts.format_count(counts["unassigned"]), border=True,
              help="Not done and given to nobody (the account's CSM owns it)")
    t4.metric("Past due", charts.format_count(counts["overdue"]), border=True,
              help="Not done and due before today")
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash is not None:
        (st.success if flash[0] == "success" else st.error)(flash[1])
    if shown.empty:
        st.info("Nothing matches these choices. Widen them above.")
        return

    table = links.account_links(shown, selection.month).assign(
        kind=shown["item_kind"].map(KIND_LABELS),
        status=shown["status"].map(STATUS_LABELS),
        what=[f"{lbl} · {SEVERITY_LABELS[s]}" if isinstance(s, str) and s in SEVERITY_LABELS else f"{lbl} (flag)"
              for lbl, s in zip(shown["label"], shown["severity"])],
        detail=[labels.label(d) if isinstance(d, str) else "" for d in shown["detail"]],
    )
    select_all = st.checkbox(f"Tick all {len(table)} shown", key="worklist_all")
    table.insert(0, "tick", bool(select_all))
    # a new editor (and its ticks) whenever the rows shown change
    digest = hashlib.sha1("|".join(table["item_id"]).encode() + bytes([select_all])).hexdigest()[:10]
    edited = st.data_editor(
        table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 460),
        # the columns a person works by; the detail is on the account's page
        column_order=("tick", "name", "what", "age_days", "status", "owner", "due_on", "detail"),
        column_config={
            "tick": st.column_config.CheckboxColumn("Pick", width=40),
            "name": links.account_column(width=135),
            "what": st.column_config.TextColumn("What", width=125),
            "age_days": st.column_config.NumberColumn("Age", format="%d d", width=45,
                                                      help="Days from the week raised to the month's end"),
            "status": st.column_config.TextColumn("Status", width=85),
            "owner": st.column_config.TextColumn("Owner", width=80),
            "due_on": st.column_config.DateColumn("Due", format="D MMM", width=50),
            "detail": "Detail",
        },
        disabled=[c for c in table.columns if c != "tick"],
        placeholder="–",
        key=f"worklist_editor_{digest}",
    )
    chosen = shown[edited["tick"].to_numpy(dtype=bool)]
    selected_key = "worklist_selected"
    st.session_state[selected_key] = chosen
    if store is None:
        return
    if not any(appstore.may_set_alert(grant, c, t) for c, t in zip(shown["csm"], shown["csm_team"])):
        st.caption("Items are changed by the account's CSM, its team's director or an executive.")
        return
    author = auth.author()
    st.subheader(f"Change the {len(chosen)} ticked item{'s' if len(chosen) != 1 else ''}", anchor=False)
    if author is None:
        auth.ask_name("worklist")
        return
    book_owners = sorted(set(owners_all) | set(frame["csm"].dropna()))
    with st.form("worklist_form", border=True):
        a, b, c = st.columns([1, 1.4, 1])
        a.selectbox("Status", list(ACTIONS), format_func=ACTIONS.get, key="worklist_action",
                    help="Close / resolve closes alerts and resolves flags; it needs a comment")
        b.selectbox("Owner", [NO_CHANGE, UNASSIGN, *book_owners], key="worklist_owner")
        with c:
            st.checkbox("Set a due date", key="worklist_set_due")
            st.date_input("Due", value=dt.date.today() + dt.timedelta(days=7), key="worklist_due",
                          format="YYYY-MM-DD", label_visibility="collapsed")
        st.text_area("Comment (plain text)", key="worklist_comment", height=80, max_chars=appstore.MAX_TEXT_CHARS)
        st.text(f"Saved as {author.label}")
        st.form_submit_button("Apply to the ticked items", type="primary", on_click=_apply,
                              args=(str(store.path), selection.month, selected_key))


render()
