"""Account (everyone): one customer as it stood at the end of the sidebar's month.

Reached from every account name in the app's tables (``account?id=...&month=...``) or by
the search at the top. The header says who the customer is and where it stands (ARR,
nine-box cell, score, next renewal and its probability with the model's drivers); then
the weekly score with each indicator's points and what moved it, the path through the
nine-box, MRR by product, renewals, alerts with their status history, red-light flags,
one timeline of CSM logs, customer events and the app's own notes, and the cell's
playbook. A CSM adds a note or a touchpoint here; it is stored in the app store with the
signed-in author, so it survives re-imports.

Only the sidebar's month applies here (the filters select books, not one account); an
account outside the viewer's book is not shown. Text from the data is shown with
st.text / st.dataframe only, never as Markdown or HTML.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from cslib import labels
from cslib.views import account
from cslib.store import appstore
from cslib.charts import common as charts, account as charts_account
from cslib.views import ninebox
from cslib.rules.alert_rules import RULE_LABELS
from cslib.errors import UserError
from cslib.filters import Filters
from ui import auth, data, problems, sidebar, tables

ID_PARAM = "id"
SEARCH_KEY = "account_search"
PICK_KEY = "account_pick"
FLASH_KEY = "account_note_flash"
NOTE_KINDS = {"note": "Note", "call": "Call", "meeting": "Meeting", "email": "E-mail"}
STATUS_LABELS = {"open": "Open", "acknowledged": "Acknowledged", "closed": "Closed"}
RENEWAL_STATUS = {"renewed": "Renewed", "lapsed": "Lapsed (no renewal, revenue stopped)",
                  "overdue": "Overdue (no renewal order yet)", "upcoming": "Upcoming"}
EVENT_KINDS = {"nps": "NPS", "satisfaction": "Satisfaction survey", "complaint": "Complaint",
               "dept_head_changed": "Department head changed", "admin_changed": "Admin changed"}
SOURCES = {"app_note": "Note in Healthgrid", "csm_log": "CSM log", "event": "Customer event"}
MOVEMENTS = {"new": "New", "reactivation": "Reactivation", "upsell": "Upsell", "cross_sell": "Cross-sell",
             "usage_expansion": "Usage expansion", "contraction": "Contraction", "churn": "Churn"}
SEVERITY = {"high": "High", "medium": "Medium", "low": "Low"}
MONEY = st.column_config.NumberColumn(format="dollar", step=1)


def _store() -> appstore.AppStore:
    return appstore.AppStore(appstore.default_path(data.db_path()))


def _scope(grant=None) -> Filters:
    """What the viewer may see (the role's book), whatever the sidebar filters say; ``grant``
    defaults to this run's."""
    from cslib.rules.access import scope

    return scope(Filters(include_non_target=True), grant or auth.current_grant() or auth.OPEN)


def _label(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return labels.label(str(value))


def _text(value) -> str:
    """A cell of text from the data, empty when missing (never 'None')."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _pick() -> None:
    picked = st.session_state.get(PICK_KEY)
    if picked:
        st.query_params[ID_PARAM] = picked
    st.session_state[PICK_KEY] = None


def _search_box(selection, scope: Filters, expanded: bool) -> None:
    with st.expander("Find an account", expanded=expanded, icon=":material/search:"):
        text = st.text_input("Name, account id or CSM", key=SEARCH_KEY, placeholder="Type part of a name")
        if not text.strip():
            return
        found = data.cached(account.search, selection.version, text, selection.month, scope)
        if found.empty:
            st.caption(f"No account in your book matches “{text.strip()}” in {sidebar.month_label(selection.month)}.")
            return
        names = {r.account_id: f"{r.name} · {_label(r.segment)} · {charts.format_money(r.arr)} ARR"
                 + ("" if r.is_active else " · not a customer this month")
                 for r in found.itertuples()}
        st.selectbox("Open", options=list(names), index=None, format_func=names.get, key=PICK_KEY,
                     placeholder=f"{len(found)} match{'es' if len(found) != 1 else ''}: choose one",
                     on_change=_pick)


def _header(head: account.Header, renewal: pd.Series | None, month_label: str) -> None:
    st.title(head.name, anchor=False)
    st.text(" · ".join(part for part in (
        head.account_id, _label(head.segment), _label(head.industry), _label(head.region),
        f"CSM {head.csm}" if head.csm else None, _label(head.csm_team) if head.csm_team else None,
        _label(head.lifecycle_stage) if head.lifecycle_stage else None,  # an export may not have it
    ) if part))
    top, bottom = st.columns(2), st.columns(2)  # two by two: every tile keeps its value whole at 1024 px
    columns = [top[0], top[1], bottom[0], bottom[1]]
    if not head.is_active:
        columns[0].metric(f"ARR · {month_label}", "$0", border=True,
                          help="Not a customer this month: no revenue (before the first month, or after a churn).")
    else:
        columns[0].metric(f"ARR · {month_label}", charts.format_money(head.arr), border=True,
                          help=f"${head.arr:,.2f} a year (monthly revenue x 12) at the month end.")
    if head.is_active and head.health_tier == "unscored":
        columns[1].metric("Health score", "Unscored", border=True,
                          help="Too few weeks of usage data for a score yet.")
    elif head.is_active and head.health_tier:
        tier = ninebox.HEALTH_LABELS.get(head.health_tier, _label(head.health_tier))
        help_text = "Month-end health score (0-100): healthy from 70, unhealthy below 30."
        if head.is_overdue:
            help_text += (" Overdue at the month end (a renewal fell due with no renewal order), so "
                          "the account counts as unhealthy whatever its score.")
        score = "–" if head.health_score is None else f"{head.health_score:.0f}"
        columns[1].metric(f"Health · {tier}", score, border=True, help=help_text)
    else:
        columns[1].metric("Health score", "–", border=True)
    value = ninebox.VALUE_LABELS.get(head.value_tier or "", "–") if head.is_active else "–"
    columns[2].metric("Value tier", value.replace(" value", ""), border=True,
                      help="High, mid or low by ARR at the month end; with the health tier it places the "
                           "account in its nine-box cell.")
    if renewal is None:
        columns[3].metric("Next renewal", "None due", border=True,
                          help="No open renewal as of the month end.")
    else:
        p = renewal["p_renewal"]
        when = f"{renewal['due_on']:%d %b %Y}"
        label = f"Renewal {when}" if renewal["status"] == "upcoming" else f"Overdue since {when}"
        columns[3].metric(
            label, "n/a" if pd.isna(p) else f"{p:.0%}", border=True,
            help=f"Probability of renewal from the renewal model (Renewal model page); "
                 f"{charts.format_money(renewal['due_arr'])} ARR due. n/a when the book was too small to fit a model.",
        )
        drivers = [str(renewal[d]) for d in ("driver_1", "driver_2", "driver_3")
                   if isinstance(renewal.get(d), str) and renewal[d].strip()]
        if drivers:
            st.text("What drives the renewal probability most: " + "; ".join(drivers))


def _score_section(selection, head: account.Header) -> None:
    st.subheader("Health score", anchor=False)
    long = data.cached(account.scores, selection.version, head.account_id, selection.month)
    if long.empty or long["score"].isna().all():
        st.info("No health score up to this month: the account has too little usage data.")
        return
    st.vega_lite_chart(data.chart_spec(charts_account.score_history, long), width="stretch")
    now, before = account.score_change(long)
    changes = account.score_changes(long)
    if changes.empty:
        return
    if now is not None and before is not None:
        latest = max(long["week_start"])
        st.text(f"Score {before:.0f} → {now:.0f} in the {account.CHANGE_WEEKS} weeks to the week of "
                f"{latest:%d %b %Y} ({now - before:+.0f} points). Points by indicator:")
    shown = changes.rename(columns={"indicator_label": "Indicator"})
    tables.dataframe(
        shown, hide_index=True, width="stretch",
        column_order=("Indicator", "points_before", "points_now", "change_points", "max_points"),
        column_config={
            "points_before": st.column_config.NumberColumn(f"{account.CHANGE_WEEKS} weeks ago", format="%.1f"),
            "points_now": st.column_config.NumberColumn("Now", format="%.1f"),
            "change_points": st.column_config.NumberColumn("Change", format="%+.1f"),
            "max_points": st.column_config.NumberColumn("Of", format="%.0f", help="The indicator's maximum points"),
        },
        key="account_score_changes",
    )


def _path_section(selection, head: account.Header) -> None:
    rows = data.cached(account.month_rows, selection.version, head.account_id, selection.month)
    if rows.empty:
        return
    st.vega_lite_chart(data.chart_spec(charts_account.ninebox_path, rows.tail(24)), width="stretch")


def _revenue_section(selection, head: account.Header) -> None:
    st.subheader("Revenue by product (MRR)", anchor=False)
    rev = data.cached(account.revenue, selection.version, head.account_id, selection.month)
    if rev.empty:
        st.caption("No revenue recorded up to this month.")
        return
    shown = rev.assign(
        month=[sidebar.month_label(m) for m in rev["month"]],
        product=[_label(p) for p in rev["product"]],
        movement=[MOVEMENTS.get(m, _label(m)) for m in rev["movement"]],
    )
    st.caption("Monthly recurring revenue: each month a product's MRR changed, newest first.")
    tables.dataframe(
        shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 320),
        column_order=("month", "product", "movement", "prev_mrr", "mrr", "change_mrr"),
        column_config={"month": "Month", "product": "Product", "movement": "Movement",
                       "prev_mrr": st.column_config.NumberColumn("MRR before", format="dollar"),
                       "mrr": st.column_config.NumberColumn("MRR after", format="dollar"),
                       "change_mrr": st.column_config.NumberColumn("Change", format="dollar")},
        key="account_revenue",
    )


def _renewals_section(rows: pd.DataFrame) -> None:
    st.subheader("Renewals", anchor=False)
    if rows.empty:
        st.caption("No renewals on record.")
        return
    shown = rows.assign(
        status=[RENEWAL_STATUS.get(s, _label(s)) for s in rows["status"]],
        # the model's probability is for renewals still open at the month end
        renewed_on=["" if pd.isna(d) else f"{d:%d %b %Y}" for d in rows["renewed_on"]],
        renewed_arr=["" if pd.isna(v) else f"${v:,.2f}" for v in rows["renewed_arr"]],
        # the model's probability is for renewals still open at the month end
        p_renewal=[f"{p:.0%}" if s in ("upcoming", "overdue") and not pd.isna(p) else ""
                   for p, s in zip(rows["p_renewal"], rows["status"])],
    )
    tables.dataframe(
        shown, hide_index=True, width="stretch",
        column_order=("due_on", "due_arr", "status", "renewed_on", "renewed_arr", "p_renewal"),
        column_config={"due_on": st.column_config.DateColumn("Due", format="D MMM YYYY"),
                       "due_arr": st.column_config.NumberColumn("ARR due", format="dollar"),
                       "status": "Status at the month end",
                       "renewed_on": "Renewed on",
                       "renewed_arr": st.column_config.TextColumn("ARR renewed"),
                       "p_renewal": st.column_config.TextColumn("Probability", help="Renewal model, for open renewals")},
        key="account_renewals",
    )


def _alerts_section(selection, head: account.Header, store: appstore.AppStore | None) -> None:
    st.subheader("Alerts", anchor=False)
    rows = data.cached(account.alert_rows, selection.version, head.account_id, selection.month)
    try:
        alerts, history = account.with_statuses(rows, store)
    except appstore.StoreUnavailable as err:
        problems.store_unavailable(err, "Alert statuses cannot be shown: every alert is listed as open.")
        alerts, history = account.with_statuses(rows, None)
    if alerts.empty:
        st.caption("No health alerts up to this month.")
        _work_history(alerts, store, head)
        return
    shown = alerts.assign(
        rule=[RULE_LABELS.get(r, _label(r)) for r in alerts["rule"]],
        severity=[SEVERITY.get(s, _label(s)) for s in alerts["severity"]],
        status=[STATUS_LABELS.get(s, _label(s)) for s in alerts["status"]],
        detail=[labels.label(d) if isinstance(d, str) else "" for d in alerts["detail"]],
    )
    open_count = int((alerts["status"] != "closed").sum())
    st.caption(f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} up to this month, "
               f"{open_count} not closed. Statuses are changed on the Health flows page.")
    tables.dataframe(
        shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 320),
        column_order=("week_start", "rule", "severity", "detail", "score", "status"),
        column_config={"week_start": st.column_config.DateColumn("Week of", format="D MMM YYYY"),
                       "rule": "Alert", "severity": "Severity", "detail": "Detail",
                       "score": st.column_config.NumberColumn("Score", format="%.0f"),
                       "status": "Status"},
        key="account_alerts",
    )
    _work_history(alerts, store, head)
    if not history.empty:
        alert_names = dict(zip(alerts["alert_id"], shown["week_start"].map(lambda w: f"{w:%d %b %Y}") + " · " + shown["rule"]))
        changes = history.assign(alert=history["alert_id"].map(alert_names).fillna(history["alert_id"]),
                                 status=[STATUS_LABELS.get(s, _label(s)) for s in history["status"]])
        with st.expander(f"Status history ({len(changes)} change{'s' if len(changes) != 1 else ''})",
                         icon=":material/history:"):
            tables.dataframe(changes, hide_index=True, width="stretch",
                         column_order=("updated_at", "alert", "status", "updated_by"),
                         column_config={"updated_at": "When (UTC)", "alert": "Alert", "status": "Status",
                                        "updated_by": "Who"},
                         key="account_alert_history")


def _work_history(alerts: pd.DataFrame, store: appstore.AppStore | None, head: account.Header) -> None:
    """Worklist changes on the account's alerts and flags (owner, due date, status, comment)."""
    if store is None:
        return
    try:
        changes = store.work_history(head.account_id)
    except appstore.StoreUnavailable:
        return
    if changes.empty:
        return
    names = dict(zip(alerts["alert_id"], [f"{w:%d %b %Y} · {RULE_LABELS.get(r, _label(r))}"
                                          for w, r in zip(alerts["week_start"], alerts["rule"])]))
    shown = pd.DataFrame({
        "updated_at": changes["updated_at"],
        "item": [names.get(i, "Red-light flag" if k == "flag" else "Alert") for k, i in
                 zip(changes["item_kind"], changes["item_id"])],
        "change": [" · ".join(p for p in (
            STATUS_LABELS.get(s, "Resolved" if s == "resolved" else "") if isinstance(s, str) else "",
            f"owner {o}" if isinstance(o, str) and o else "",
            f"due {d}" if isinstance(d, str) and d else "") if p)
            for s, o, d in zip(changes["status"], changes["owner"], changes["due_on"])],
        "comment": [_text(c) for c in changes["comment"]],
        "updated_by": changes["updated_by"],
    })
    with st.expander(f"Worklist changes ({len(shown)})", icon=":material/checklist:"):
        tables.dataframe(shown, hide_index=True, width="stretch",
                     column_config={"updated_at": "When (UTC)", "item": "Item", "change": "Change",
                                    "comment": "Comment", "updated_by": "Who"},
                     key="account_work_history")


def _flags_section(selection, head: account.Header) -> None:
    rows = data.cached(account.flags, selection.version, head.account_id, selection.month)
    if rows.empty:
        return
    open_rows = rows[rows["resolved_on"].isna()]
    st.subheader("Red-light flags", anchor=False)
    st.caption(f"{len(open_rows)} open at the month end, {len(rows) - len(open_rows)} resolved.")
    shown = rows.assign(state=["Open" if pd.isna(r) else f"Resolved {r:%d %b %Y}" for r in rows["resolved_on"]],
                        note=[_text(v) for v in rows["note"]],
                        owner_department=[_text(v) for v in rows["owner_department"]])
    tables.dataframe(
        shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 250),
        column_order=("raised_on", "flag_label", "state", "owner_department", "note"),
        column_config={"raised_on": st.column_config.DateColumn("Raised", format="D MMM YYYY", width=95),
                       "flag_label": st.column_config.TextColumn("Flag", width=140),
                       "state": st.column_config.TextColumn("State", width=140),
                       "owner_department": st.column_config.TextColumn("Owner", width=90),
                       "note": st.column_config.TextColumn("Note", width=90)},
        key="account_flags",
    )


def _save_note(store_path: str, account_id: str, month: str) -> None:
    """Form callback: store the note with the signed-in author; leave a message for this run."""
    author = auth.author()
    grant = auth.resolve_grant()
    try:
        version = data.version()
        if version is None:
            st.session_state[FLASH_KEY] = ("error", "Not saved: the database is not available.")
            return
        head = account.header(data.connection(version), account_id, month, _scope(grant))
        if head is None or not appstore.may_add_note(grant, head.csm, head.csm_team):
            st.session_state[FLASH_KEY] = ("error", "Not saved: notes are added by the account's CSM, "
                                                    "its team's director or an executive.")
            return
        if author is None:
            st.session_state[FLASH_KEY] = ("error", "Not saved: the app does not know who you are.")
            return
        account.add_note(appstore.AppStore(store_path), head, st.session_state.get("account_note_kind", "note"),
                         st.session_state.get("account_note_on"), st.session_state.get("account_note_body", ""),
                         author)
    except UserError as err:
        st.session_state[FLASH_KEY] = ("error", f"Not saved: {err}")
        return
    st.session_state["account_note_body"] = ""
    st.session_state[FLASH_KEY] = ("success", "Note saved.")


def _timeline_section(selection, head: account.Header, store: appstore.AppStore | None) -> None:
    st.subheader("Timeline", anchor=False)
    logged = data.cached(account.timeline_rows, selection.version, head.account_id, selection.month)
    try:
        rows = account.with_notes(logged, store, head.account_id, selection.month)
    except appstore.StoreUnavailable as err:
        problems.store_unavailable(err, "Notes added in the app cannot be shown or saved.")
        rows, store = account.with_notes(logged, None, head.account_id, selection.month), None
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash is not None:
        (st.success if flash[0] == "success" else st.error)(flash[1])
    if store is not None:
        _note_form(selection, head, store)
    if rows.empty:
        st.caption("No CSM logs, customer events or notes up to this month.")
        return
    what = [
        f"{NOTE_KINDS.get(k, _label(k))} · added here" if src == "app_note" else EVENT_KINDS.get(k, _label(k))
        for k, src in zip(rows["kind"], rows["source"])
    ]
    notes = []
    for text, reason, score in zip(rows["text"], rows["reason"], rows["score"]):
        parts = [f"Score {score:.0f}" if not pd.isna(score) else "", f"Reason: {_text(reason)}" if _text(reason) else "",
                 _text(text)]
        notes.append(" · ".join(p for p in parts if p))
    shown = pd.DataFrame({
        "happened_on": rows["happened_on"],
        "what": what,
        "who": [_text(w) if src != "event" else _label(w) for w, src in zip(rows["who"], rows["source"])],
        "note": notes,
    })
    st.caption("CSM logs and customer events from the imported data, and notes added here, newest first. "
               "Who: the CSM who logged it, or the customer's contact (role) for an event.")
    tables.dataframe(
        shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 420),
        column_config={"happened_on": st.column_config.DateColumn("Date", format="D MMM YYYY", width=95),
                       "what": st.column_config.TextColumn("What", width=150),
                       "who": st.column_config.TextColumn("Who", width=120),
                       "note": st.column_config.TextColumn("Note", width=190)},
        key="account_timeline",
    )


def _note_form(selection, head: account.Header, store: appstore.AppStore) -> None:
    grant = auth.current_grant()
    if not appstore.may_add_note(grant, head.csm, head.csm_team):
        st.caption("Notes on this account are added by its CSM, its team's director or an executive.")
        return
    author = auth.author()
    with st.expander("Add a note or touchpoint", icon=":material/edit_note:"):
        if author is None:
            auth.ask_name("account_note")
            return
        end = account.month_end(selection.month)
        default_day = min(dt.date.today(), end)
        with st.form("account_note_form", border=False, clear_on_submit=False):
            left, right = st.columns(2)
            left.selectbox("Kind", options=list(NOTE_KINDS), format_func=NOTE_KINDS.get, key="account_note_kind")
            right.date_input("Date", value=default_day, key="account_note_on", format="YYYY-MM-DD")
            st.text_area("Note (plain text)", key="account_note_body", max_chars=appstore.MAX_TEXT_CHARS, height=110)
            st.text(f"Saved as {author.label}")
            st.form_submit_button("Save note", type="primary", on_click=_save_note,
                                  args=(str(store.path), head.account_id, selection.month))


def _playbook_section(head: account.Header, store: appstore.AppStore | None) -> None:
    cell = head.cell_id
    if cell is None:
        return
    st.subheader(f"Playbook · {ninebox.cell_label(cell)}", anchor=False)
    try:
        book = ninebox.playbooks(store).set_index("cell_id").loc[cell] if store is not None else None
    except appstore.StoreUnavailable:
        book = None
    if book is None:
        book = ninebox.default_playbooks().set_index("cell_id").loc[cell]
    st.markdown(f"**{book['title']}**")  # shipped title from the playbook file, not user text
    st.text(book["body"])


def render() -> None:
    selection = sidebar.current()
    scope = _scope()
    month_label = sidebar.month_label(selection.month)
    account_id = (st.query_params.get(ID_PARAM) or "").strip()
    if "name" in st.query_params:  # the link's display name; the id is what counts
        del st.query_params["name"]
    if not account_id:
        st.title("Account", anchor=False)
        st.caption("One customer as it stood at the end of the month chosen in the sidebar. "
                   "Open an account from any table in the app, or find it here.")
        _search_box(selection, scope, expanded=True)
        return
    head = data.cached(account.header, selection.version, account_id, selection.month, scope)
    if head is None:
        st.title("Account", anchor=False)
        st.warning("No account with this id in your book. Find it by name below.")
        _search_box(selection, scope, expanded=True)
        return
    try:
        store: appstore.AppStore | None = _store()
    except appstore.StoreUnavailable:
        store = None
    renewal_rows = data.cached(account.renewals, selection.version, head.account_id, selection.month)
    _header(head, account.next_renewal(renewal_rows), month_label)
    st.caption(f"As known at the end of {month_label} (change the month in the sidebar). "
               "The sidebar's filters do not apply to this page.")
    _search_box(selection, scope, expanded=False)
    _path_section(selection, head)
    _score_section(selection, head)
    _renewals_section(renewal_rows)
    _revenue_section(selection, head)
    _alerts_section(selection, head, store)
    _flags_section(selection, head)
    _timeline_section(selection, head, store)
    _playbook_section(head, store)


render()
