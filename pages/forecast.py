"""Renewal forecast: the renewals due in the next four calendar quarters, what the renewal
model expects of them (with a range from its calibration), the CSMs' calls and their
scenarios, where the calls and the model disagree, and how good past forecasts were.

Every number comes from cslib.views.forecast (the same functions as ``report forecast``); the
calls go to the app store with the signed-in author and time (cslib.store.appstore), survive
re-imports, and are made by the account's CSM, its team's director or an executive.
Text from the data is shown in tables and plain text only.
"""

from __future__ import annotations

import streamlit as st

from cslib.store import appstore
from cslib.charts import common as charts
from cslib.views import forecast
from cslib.errors import UserError
from ui import auth, data, links, problems, sidebar, tables, tiles as ui_tiles

PREFIX = "forecast"
FLASH_KEY = f"{PREFIX}_flash"
BACKTEST_KEY = f"{PREFIX}_backtest_run"
BY_CHOICES = {"total": "Quarter only", "team": "Team", "csm": "CSM", "segment": "Segment"}
MONEY = st.column_config.NumberColumn(format="dollar", step=1)
PERCENT = st.column_config.NumberColumn(format="percent")


def _store() -> appstore.AppStore:
    return appstore.AppStore(appstore.default_path(data.db_path()))


def _money_columns(frame) -> dict:
    names = {
        "due_arr": "ARR due", "expected_arr": "Expected renewed ARR", "expected_low_arr": "Range low",
        "expected_high_arr": "Range high", "commit_arr": "Commit", "probable_arr": "Probable",
        "at_risk_arr": "At risk", "lost_arr": "Lost", "no_call_arr": "No call",
        "commit_probable_arr": "Commit + probable", "forecast_arr": "Forecast", "actual_kept_arr": "Actual kept ARR",
        "error_arr": "Error", "abs_error_arr": "Absolute error", "team_mae_arr": "Team MAE",
    }
    return {c: st.column_config.NumberColumn(label, format="dollar", step=1) for c, label in names.items() if c in frame}


def _save_call(store_path: str, options: dict) -> None:
    """Form callback: store the call on the chosen renewal; leave a message for this run."""
    author = auth.author()
    if author is None:
        st.session_state[FLASH_KEY] = ("error", "Nothing saved: the app does not know who you are.")
        return
    key = st.session_state.get(f"{PREFIX}_renewal")
    if key not in options:
        st.session_state[FLASH_KEY] = ("error", "Nothing saved: choose a renewal first.")
        return
    account_id, due_on, csm, team = options[key]
    if not appstore.may_set_alert(auth.resolve_grant(), csm, team):
        st.session_state[FLASH_KEY] = ("error", "Nothing saved: only the account's CSM, its team's director or an "
                                                "executive makes this call.")
        return
    try:
        appstore.AppStore(store_path).set_renewal_call(
            account_id, due_on, st.session_state.get(f"{PREFIX}_call", "commit"),
            st.session_state.get(f"{PREFIX}_note") or None, author)
    except UserError as err:
        st.session_state[FLASH_KEY] = ("error", f"Nothing saved: {err}.")
        return
    st.session_state[f"{PREFIX}_note"] = ""
    st.session_state[FLASH_KEY] = ("success", "Call saved.")


def _tiles(frame, month: str) -> None:
    now = forecast.next_quarter(frame, month)
    q = now["quarter"]
    cols = ui_tiles.grid(5, f"{PREFIX}_tiles")
    cols[0].metric(f"ARR due · {q}", charts.format_money(now["due_arr"]), border=True,
                   help=f"{now['renewals']:,} renewals due in {q} after the month's end")
    cols[1].metric("Expected renewed ARR", charts.format_money(now["expected_arr"]), border=True,
                   help="Sum of the model's probability x ARR due")
    cols[2].metric("Expected range",
                   f"{charts.format_money(now['expected_low_arr'])}–{charts.format_money(now['expected_high_arr'])}",
                   border=True, help="Each renewal's probability bin: the 95% interval of its observed renewal rate "
                                     "on the model's test set, times ARR due, summed")
    cols[3].metric("Commit", charts.format_money(now["commit_arr"]), border=True,
                   help="ARR due of renewals the CSMs called commit")
    cols[4].metric("Commit + probable", charts.format_money(now["commit_probable_arr"]), border=True)


def _calls_section(frame, month: str, store, grant) -> None:
    st.subheader("Renewals and calls", anchor=False)
    shown = links.account_links(frame, month)
    tables.dataframe(
        shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 400), key=f"{PREFIX}_renewals",
        keep=("note", "updated_by"),
        column_order=("name", "due_on", "due_arr", "p_renewal", "call_label", "note", "csm"),
        column_config={
            "name": links.account_column(width=140),
            "due_on": st.column_config.DateColumn("Due on", format="D MMM YYYY", width=90),
            "due_arr": st.column_config.NumberColumn("ARR due", format="dollar", step=1, width=90),
            "p_renewal": st.column_config.NumberColumn("P(renew)", format="percent", width=70),
            "call_label": st.column_config.TextColumn("Call", width=80),
            "note": st.column_config.TextColumn("Note", width=160),
            "csm": st.column_config.TextColumn("CSM", width=90),
        },
    )
    if store is None:
        return
    mine = frame[[appstore.may_set_alert(grant, c, t) for c, t in zip(frame["csm"], frame["csm_team"])]]
    if mine.empty:
        st.caption("Calls are made by the account's CSM, its team's director or an executive.")
        return
    author = auth.author()
    if author is None:
        auth.ask_name(PREFIX)
        return
    options = {
        f"{a}|{d.isoformat()}": (str(a), d.isoformat(), c, t)
        for a, d, c, t in zip(mine["account_id"], mine["due_on"], mine["csm"], mine["csm_team"])
    }
    names = {f"{a}|{d.isoformat()}": f"{n} · due {d.isoformat()} · {charts.format_money(v)}"
             for a, d, n, v in zip(mine["account_id"], mine["due_on"], mine["name"], mine["due_arr"])}
    with st.form(f"{PREFIX}_call_form", border=True):
        a, b = st.columns([2, 1])
        a.selectbox("Renewal", list(options), format_func=names.get, key=f"{PREFIX}_renewal")
        b.selectbox("Call", list(forecast.CALLS), format_func=forecast.CALL_LABELS.get, key=f"{PREFIX}_call")
        st.text_area("Note (plain text)", key=f"{PREFIX}_note", height=68, max_chars=appstore.MAX_TEXT_CHARS)
        st.text(f"Saved as {author.label}")
        st.form_submit_button("Save the call", type="primary", on_click=_save_call, args=(str(store.path), options))


def _backtest_section(selection) -> None:
    st.subheader("Past quarters: forecast vs actual", anchor=False)
    st.caption(
        f"For each of the last {forecast.BACKTEST_QUARTERS} quarters that ended by the month's end: the model refitted "
        f"on the renewals decided before the quarter's start (at least {forecast.BACKTEST_MIN_TRAIN}), forecasting "
        f"the renewals due in it (at least {forecast.BACKTEST_MIN_DUE}), against the ARR kept by the month's end."
    )
    if not st.session_state.get(BACKTEST_KEY):
        st.button("Run the backtest", key=f"{PREFIX}_backtest_button",
                  on_click=lambda: st.session_state.__setitem__(BACKTEST_KEY, True))
        return
    with st.spinner("Refitting the model for each past quarter..."):
        result = data.cached(forecast.backtest, selection.version, selection.filters, selection.month)
    mae = result["mae"].iloc[0]
    cols = ui_tiles.grid(2, f"{PREFIX}_mae")
    cols[0].metric("Mean absolute error", charts.format_money(mae["mae_arr"]), border=True,
                   help=f"Mean over {int(mae['quarters'])} quarters of |forecast - actual kept ARR|")
    cols[1].metric("Mean absolute error per team", charts.format_money(mae["team_mae_arr"]), border=True)
    quarters = result["quarters"]
    tables.dataframe(
        quarters, hide_index=True, width="stretch", key=f"{PREFIX}_backtest_quarters", keep=("status",),
        column_order=("quarter", "n_train", "renewals", "forecast_arr", "actual_kept_arr", "error_arr",
                      "abs_error_arr", "status"),
        column_config={**_money_columns(quarters), "quarter": "Quarter",
                       "n_train": st.column_config.NumberColumn("Trained on", format="localized"),
                       "renewals": st.column_config.NumberColumn("Renewals", format="localized"),
                       "status": "Status"},
    )
    teams = result["teams"]
    if len(teams):
        tables.dataframe(
            teams, hide_index=True, width="stretch", key=f"{PREFIX}_backtest_teams", keep=("team",),
            column_order=("quarter", "team", "renewals", "forecast_arr", "actual_kept_arr", "error_arr"),
            column_config={**_money_columns(teams), "quarter": "Quarter", "team": "Team",
                           "renewals": st.column_config.NumberColumn("Renewals", format="localized")},
        )


def render() -> None:
    selection = sidebar.current()
    month = selection.month
    grant = auth.current_grant()
    st.title(f"Renewal forecast · {sidebar.month_label(month)}", anchor=False)
    quarters = forecast.forecast_quarters(month)
    st.caption(
        f"Renewals due after {sidebar.month_label(month)} in {quarters['quarter'].iloc[0]} to "
        f"{quarters['quarter'].iloc[-1]} (calendar quarters of the due date). Expected renewed ARR is the sum of the "
        "renewal model's probability x ARR due; its range comes from the model's calibration."
    )
    raw = data.cached(forecast.renewals, selection.version, selection.filters, month)
    store = _store()
    try:
        calls = store.renewal_calls()
    except appstore.StoreUnavailable as err:
        problems.store_unavailable(err, "Calls cannot be shown or changed.")
        calls, store = None, None
    frame = forecast.with_calls(raw, calls)
    if frame["p_renewal"].isna().all() and len(frame):
        st.info("The renewal model needs more history: expected renewed ARR is not available.")
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash is not None:
        (st.success if flash[0] == "success" else st.error)(flash[1])
    _tiles(frame, month)

    st.subheader("By quarter", anchor=False)
    by = st.selectbox("Break down by", list(BY_CHOICES), format_func=BY_CHOICES.get, key=f"{PREFIX}_by",
                      bind="query-params")
    table = forecast.quarter_table(frame, month, None if by == "total" else by)
    tables.dataframe(
        table, hide_index=True, width="stretch", key=f"{PREFIX}_quarters", keep=("group",),
        column_order=("quarter", *(("group",) if "group" in table else ()), "renewals", "due_arr", "expected_arr",
                      "expected_low_arr", "expected_high_arr", "commit_arr", "commit_probable_arr"),
        column_config={**_money_columns(table), "quarter": "Quarter", "group": BY_CHOICES.get(by, "Group"),
                       "renewals": st.column_config.NumberColumn("Renewals", format="localized")},
    )
    if frame.empty:
        st.info("No renewals due in these quarters for the selected accounts.")
    else:
        _calls_section(frame, month, store, grant)
        st.subheader("Where the calls and the model disagree", anchor=False)
        gaps = forecast.gap(frame)
        st.caption(f"Called commit while the model gives under {forecast.GAP_COMMIT_BELOW:.0%}, or called at risk or "
                   f"lost while it gives over {forecast.GAP_LOSS_ABOVE:.0%}; largest ARR due first.")
        if gaps.empty:
            st.text("No disagreement between the calls and the model.")
        else:
            tables.dataframe(
                links.account_links(gaps, month), hide_index=True, width="stretch", key=f"{PREFIX}_gap",
                keep=("why", "note"),
                column_order=("name", "due_on", "due_arr", "p_renewal", "call_label", "why"),
                column_config={"name": links.account_column(width=140),
                               "due_on": st.column_config.DateColumn("Due on", format="D MMM YYYY"),
                               "due_arr": st.column_config.NumberColumn("ARR due", format="dollar", step=1),
                               "p_renewal": st.column_config.NumberColumn("P(renew)", format="percent"),
                               "call_label": "Call", "why": "Why"},
            )
    _backtest_section(selection)


render()
