"""Nine-box (CS directors): health tier x value tier, drill-down, playbook, movement.

A thin shell: the selection comes from the sidebar (ui.sidebar), numbers from
cslib.views.ninebox through the cache (ui.data), charts from cslib.charts.ninebox, playbook
edits go to the app store (cslib.store.appstore). Data text (account names, playbook text,
who edited it) is shown with st.text / st.dataframe only, never as Markdown or HTML.
Playbooks are company-wide: executives and directors edit them (cslib.store.appstore.
may_edit_playbooks), CSMs read them; the author is the signed-in user (ui.auth.author),
never typed in, or without login the session's name marked "(unverified)".

The selected cell lives in ``st.session_state["ninebox_cell"]`` (the fallback select
box). A click in the grid chart sets it when the chart's selection changes; a stale
or malformed chart selection (for example after a filter change) is ignored.
"""

from __future__ import annotations

import streamlit as st

from cslib import deltas
from cslib.store import appstore
from cslib.charts import common as charts, ninebox as charts_ninebox
from cslib.views import metrics, ninebox
from cslib.errors import UserError
from ui import auth, data, links, na, problems, sidebar, tables, ninebox_grid, tiles as ui_tiles

GRID_KEY = "ninebox_grid"
CELL_KEY = "ninebox_cell"
LAST_CHART_CELL_KEY = "ninebox_last_chart_cell"
MEASURE_KEY = "ninebox_measure"
SEARCH_KEY = "ninebox_search"
BOOKS_BY_KEY = "ninebox_books_by"
BOOKS_CHART_KEY = "ninebox_books_chart"
FLASH_KEY = "ninebox_playbook_flash"
NO_CELL = ""
MEASURE_LABELS = {"arr": "ARR", "accounts": "Accounts"}
BOOKS_BY_LABELS = {"csm_team": "CSM team", "csm": "CSM"}
MAX_BOOK_CHARTS = 12
DISPLAY_LIMIT = 1000  # accounts listed in the drill-down (largest ARR first)


def _n_accounts(n) -> str:
    return f"{charts.format_count(n)} account" + ("" if int(n) == 1 else "s")


def _store() -> appstore.AppStore:
    return appstore.AppStore(appstore.default_path(data.db_path()))


def _cell_option_label(cell: str) -> str:
    return "Choose a cell…" if cell == NO_CELL else ninebox.cell_label(cell)


def _sync_selected_cell() -> str | None:
    """Apply a new click in the grid chart to the cell select box; return the cell."""
    state = st.session_state.get(GRID_KEY)
    try:
        selection = state.get("selection") if state is not None else None
    except AttributeError:
        selection = None
    chart_cell = ninebox_grid.selected_cell(selection)
    if chart_cell != st.session_state.get(LAST_CHART_CELL_KEY):
        st.session_state[LAST_CHART_CELL_KEY] = chart_cell
        if chart_cell is not None:
            st.session_state[CELL_KEY] = chart_cell
    if st.session_state.get(CELL_KEY, NO_CELL) not in (NO_CELL, *ninebox.CELL_IDS):
        st.session_state[CELL_KEY] = NO_CELL
    cell = st.session_state.get(CELL_KEY, NO_CELL)
    return cell or None


def _save_playbook(store_path: str, cell: str, body_key: str) -> None:
    """Form callback: store the edited text, leave a message for this run.

    Who may edit and who the author is are decided again here, from the login, not from
    anything the browser sent."""
    if not appstore.may_edit_playbooks(auth.resolve_grant()):
        st.session_state[FLASH_KEY] = ("error", "Not saved: playbooks are edited by executives and directors.")
        return
    author = auth.author()
    if author is None:
        st.session_state[FLASH_KEY] = ("error", "Not saved: the app does not know who you are.")
        return
    try:
        ninebox.save_playbook(appstore.AppStore(store_path), cell, st.session_state.get(body_key, ""), author)
    except appstore.StoreUnavailable as err:
        st.session_state[FLASH_KEY] = ("error", f"Not saved: the app's store cannot be written ({err.reason}). "
                                       "Ask your administrator to check it.")
    except UserError as err:
        st.session_state[FLASH_KEY] = ("error", f"Not saved: {err}")
    else:
        st.session_state[FLASH_KEY] = ("success", "Playbook saved.")


def _grid_panel(summary, measure: str, previous_label: str, cell: str | None) -> None:
    st.vega_lite_chart(
        charts.to_spec(charts_ninebox.grid_chart(summary["grid"], measure, previous_label, cell)),
        on_select="rerun",
        selection_mode=charts_ninebox.SELECTION,
        key=GRID_KEY,
        width="content",
    )
    unscored, total = summary["unscored"].iloc[0], summary["total"].iloc[0]
    st.caption(
        f"Total {_n_accounts(total['accounts'])}, "
        f"{charts.format_money(total['arr'])} ARR = the nine cells + "
        f"{charts.format_count(unscored['accounts'])} unscored "
        f"({charts.format_money(unscored['arr'])}, {charts.format_percent(unscored['arr_share'])} of ARR): "
        "active accounts with too little usage data in the window for a health score are "
        "kept outside the grid. Shares are of the total. Value tiers follow the company's ARR "
        "boundaries; health tiers the health scorecard."
    )


def _delta_args(change: deltas.TileDelta) -> dict:
    return {"delta": change.text, "delta_color": change.color, "delta_arrow": change.arrow}


def _cell_summary(summary, cell: str, previous_label: str) -> None:
    row = summary["grid"].set_index("cell_id").loc[cell]
    good = deltas.cell_up_is_good(cell)
    a, b, c = ui_tiles.grid(3, "ninebox_cell", group=1, min_tile="9rem")
    a.metric("Accounts", charts.format_count(row["accounts"]), help=f"Change vs {previous_label}",
             **_delta_args(deltas.tile_delta(row["delta_accounts"], "count", good)))
    b.metric("ARR", charts.format_money(row["arr"]), help=f"Change vs {previous_label}",
             **_delta_args(deltas.tile_delta(row["delta_arr"], "money", good)))
    c.metric("Share of ARR", charts.format_percent(row["arr_share"]))


def _accounts_panel(selection, cell: str, closed_ids: tuple[str, ...], cell_count: int) -> None:
    value_tier, health_tier = ninebox.split_cell(cell)
    search = st.text_input("Search by account name or CSM", key=SEARCH_KEY, placeholder="e.g. Acme or Ana")
    args = (selection.filters, selection.month, health_tier, value_tier, search.strip(), closed_ids)
    accounts = data.cached(ninebox.cell_accounts, selection.version, *args, limit=DISPLAY_LIMIT + 1)
    label = ninebox.cell_label(cell)
    head, button = st.columns([4, 1])
    matching = " matching the search" if search.strip() else ""
    if len(accounts) > DISPLAY_LIMIT:
        accounts = accounts.head(DISPLAY_LIMIT)
        total = f"more than {DISPLAY_LIMIT:,}" if search.strip() else charts.format_count(cell_count)
        head.markdown(f"**{total} accounts** in {label}{matching}: the {DISPLAY_LIMIT:,} largest by ARR "
                      "are listed (search to narrow; the CSV has them all)")
    else:
        head.markdown(f"**{_n_accounts(len(accounts))}** in {label}{matching}")

    def all_accounts_csv() -> bytes:  # runs only when the button is clicked
        return ninebox.accounts_csv(data.cached(ninebox.cell_accounts, selection.version, *args))

    button.download_button(
        "Download CSV",
        data=all_accounts_csv,
        file_name=f"ninebox_{value_tier}_{health_tier}_{selection.month}.csv",
        mime="text/csv",
        key="ninebox_download",
        on_click="ignore",
        icon=":material/download:",
    )
    tables.dataframe(
        links.account_links(accounts, selection.month),
        hide_index=True,
        width="stretch",
        column_order=(  # the key columns fit at 1440 px; team, points short and id are in the CSV
            "name", "csm", "arr", "health_score", "score_trend", "score_change_4w",
            "weakest_indicator_label", "next_renewal_on", "next_renewal_outcome", "open_alerts",
        ),
        column_config={
            "name": links.account_column(pinned=True),
            "csm": "CSM",
            "csm_team": "Team",
            "arr": st.column_config.NumberColumn("ARR", format="dollar", step=1),
            "health_score": st.column_config.NumberColumn("Score", format="%.1f", width=60,
                                                          help="Month-end health score (0-100)"),
            "score_trend": st.column_config.LineChartColumn(
                "Last 4 weeks", y_min=0, y_max=100, width=90, help="Weekly scores up to the month-end week, oldest first"
            ),
            "score_change_4w": st.column_config.NumberColumn(
                "4-week change", format="%+.1f", width=70,
                help="Month-end week's score minus the score three weeks before"
            ),
            "weakest_indicator_label": st.column_config.TextColumn(
                "Hurts most", help="Indicator with the largest gap between its maximum points and its points"
            ),
            "weakest_gap_points": st.column_config.NumberColumn("Points short", format="%.1f"),
            "next_renewal_on": st.column_config.DateColumn("Next renewal", help="Earliest renewal due from this month on, or an overdue deferred one"),
            "next_renewal_outcome": "Renewal status",
            "open_alerts": st.column_config.NumberColumn("Open alerts", width=60,
                                                         help="Alerts of the last 4 weeks not closed"),
            "account_id": "Id",
        },
        key="ninebox_accounts",
    )


def _playbook_panel(cell: str) -> None:
    store = _store()
    st.subheader("Playbook", anchor=False)
    try:
        book = ninebox.playbooks(store).set_index("cell_id").loc[cell]
    except appstore.StoreUnavailable as err:  # the shipped text, and no editor
        problems.store_unavailable(err, "Edited playbooks cannot be shown or saved: this is the shipped text.")
        book = ninebox.default_playbooks().set_index("cell_id").loc[cell]
        st.markdown(f"**{book['title']}**")
        st.text(book["body"])
        return
    st.markdown(f"**{book['title']}**")  # shipped title from playbooks.toml, not user text
    st.text(book["body"])
    if book["source"] == "edited":
        st.text(f"Edited by {book['updated_by']} · {book['updated_at']}")
        history = store.playbook_history(cell)
        with st.expander(f"History ({len(history)} edit{'s' if len(history) != 1 else ''})", icon=":material/history:"):
            tables.dataframe(  # text cells: names and bodies are shown as typed, never rendered
                history, hide_index=True, width="stretch",
                column_order=("updated_at", "updated_by", "verified", "body"),
                column_config={"updated_at": "When (UTC)", "updated_by": "Who",
                               "verified": st.column_config.CheckboxColumn("From the login"),
                               "body": "Text"},
                key="ninebox_playbook_history",
            )
    else:
        st.caption("Shipped default.")
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash is not None:
        (st.success if flash[0] == "success" else st.error)(flash[1])
    if not appstore.may_edit_playbooks(auth.current_grant()):
        st.caption("Playbooks are shared by the whole company: executives and directors edit them.")
        return
    body_key = f"ninebox_playbook_body_{cell.replace('|', '_')}"
    author = auth.author()
    with st.expander("Edit this playbook", icon=":material/edit:"):
        if author is None:
            auth.ask_name("ninebox_playbook")
            return
        with st.form("ninebox_playbook_form", border=False):
            st.text_area("Strategy for this cell (plain text)", value=book["body"], key=body_key,
                         height=180, max_chars=appstore.MAX_TEXT_CHARS)
            st.text(f"Saved as {author.label}")  # the login (or the session's name), as text
            st.form_submit_button("Save playbook", on_click=_save_playbook,
                                  args=(str(store.path), cell, body_key), type="primary")


def _movement_panel(selection, cell: str, previous_label: str) -> None:
    value_tier, health_tier = ninebox.split_cell(cell)
    moves = data.cached(ninebox.cell_movement, selection.version, selection.filters, selection.month,
                        health_tier, value_tier)
    st.subheader(f"Movement since {previous_label}", anchor=False)
    entered, left, stayed = moves["entered"], moves["left"], moves["stayed"].iloc[0]
    good = deltas.cell_up_is_good(cell)
    a, b, c = ui_tiles.grid(3, "ninebox_movement", group=1, min_tile="10rem")
    a.metric("Accounts entered", charts.format_count(entered["accounts"].sum()),
             **_delta_args(deltas.entered_delta(entered["arr"].sum(), len(entered), good)),
             help="Accounts in this cell now but not last month, and their ARR now")
    b.metric("Accounts left", charts.format_count(left["accounts"].sum()),
             **_delta_args(deltas.left_delta(left["arr"].sum(), len(left), good)),
             help="Accounts in this cell last month but not now, and their ARR last month")
    c.metric("Accounts stayed", charts.format_count(stayed["accounts"]),
             **_delta_args(deltas.tile_delta(stayed["arr_change"] if stayed["accounts"] else None, "money", good)),
             help="Accounts in this cell both months, and the change of their ARR")
    money = st.column_config.NumberColumn("ARR", format="dollar", step=1)
    for title, frame, column in (("Entered from", entered, "From"), ("Left to", left, "To")):
        st.markdown(f"**{title}**")
        if frame.empty:
            st.caption("Nobody.")
        else:
            tables.dataframe(frame, hide_index=True, width="stretch", column_order=("label", "accounts", "arr"),
                         column_config={"label": column, "accounts": "Accounts", "arr": money})
    if not moves["accounts"].empty:
        with st.expander("Accounts that moved"):
            tables.dataframe(
                links.account_links(moves["accounts"], selection.month), hide_index=True, width="stretch",
                column_order=("name", "direction", "prev_state", "this_state", "prev_arr", "arr"),
                column_config={"name": links.account_column(), "direction": "Direction", "prev_state": "Last month",
                               "this_state": "This month",
                               "prev_arr": st.column_config.NumberColumn("ARR last month", format="dollar", step=1),
                               "arr": st.column_config.NumberColumn("ARR", format="dollar", step=1)},
            )
    st.caption(
        "Entered: in this cell now but not last month (from another cell, unscored, a new or "
        "reactivated account, or from outside the filters, e.g. another lifecycle stage). "
        "Left: in this cell last month but not now. Entered ARR is this month's, left ARR last month's."
    )


def _books_panel(selection, measure: str) -> None:
    st.subheader("Compare books", anchor=False)
    st.caption("The grid per owner for the month. Narrow to one book with the sidebar's "
               "CSM team or CSM filter; the whole page follows it.")
    by = st.segmented_control("Compare by", options=list(BOOKS_BY_LABELS), format_func=BOOKS_BY_LABELS.get,
                              key=BOOKS_BY_KEY, default="csm_team", required=True, bind="query-params") or "csm_team"
    long = data.cached(ninebox.books, selection.version, selection.filters, selection.month, by)
    if long.empty:
        st.info("No books in this slice.")
        return
    table = ninebox.books_table(long, measure)
    if st.toggle("Show as small multiples", key=BOOKS_CHART_KEY,
                 help=f"One mini grid per book (up to {MAX_BOOK_CHARTS} books)"):
        if len(table) <= MAX_BOOK_CHARTS:
            st.altair_chart(charts_ninebox.books_chart(long, measure), width="content")
        else:
            st.caption(f"{len(table)} books: too many for small multiples; see the table.")
    share = st.column_config.ProgressColumn
    unit = "ARR" if measure == "arr" else "accounts"
    tables.dataframe(  # narrow share bars: the nine cells and unscored fit at 1440 px
        table, hide_index=True, width="stretch",
        column_order=("owner", "arr", *ninebox.CELL_IDS, "unscored"),
        column_config={
            "owner": st.column_config.TextColumn(BOOKS_BY_LABELS[by], pinned=True, width=130),
            "accounts": "Accounts",
            "arr": st.column_config.NumberColumn("ARR", format="dollar", step=1, width=90),
            **{c: share(ninebox.cell_label(c).replace(" value", "").replace(" · ", " "), min_value=0, max_value=1,
                        format="percent", width=72, help=f"{ninebox.cell_label(c)}: share of the book's {unit}",
                        color=charts_ninebox.share_color(c))
               for c in ninebox.CELL_IDS},
            "unscored": share("Unscored", min_value=0, max_value=1, format="percent", width=72,
                              color=charts_ninebox.share_color("unscored")),
        },
        key="ninebox_books_table",
    )


def render() -> None:
    selection = sidebar.current()
    month, filters = selection.month, selection.filters
    st.title(f"Nine-box · {sidebar.month_label(month)}")
    previous_label = sidebar.month_label(selection.previous_month) if selection.previous_month else "last month"

    summary = data.cached(ninebox.grid_summary, selection.version, filters, month)
    if int(summary["total"]["accounts"].iloc[0]) == 0:
        st.info(
            f"No active accounts match the selected filters in {sidebar.month_label(month)}. "
            "Widen the filters in the sidebar (or use Reset filters)."
        )
        return

    health = data.cached(metrics.health_data_status, selection.version, filters, month)
    if not health.ok:
        total = summary["total"].iloc[0]
        na.show_health(
            health, sidebar.month_label(month),
            f"The nine-box places accounts by their month-end health tier; all {_n_accounts(total['accounts'])} "
            f"({charts.format_money(total['arr'])} ARR) are unscored, so there is no grid and no book to compare.",
        )
        return

    cell = _sync_selected_cell()
    # side by side when both fit, the cell panel under the grid when not (ui.tiles.panels)
    left, right = ui_tiles.panels("ninebox_top", f"{charts_ninebox.GRID_WIDTH}px", "18rem")
    with right:
        measure = st.segmented_control(
            "Show", options=list(MEASURE_LABELS), format_func=MEASURE_LABELS.get, key=MEASURE_KEY,
            default="arr", required=True, bind="query-params",
        ) or "arr"
        st.selectbox("Cell", options=[NO_CELL, *ninebox.CELL_IDS], format_func=_cell_option_label, key=CELL_KEY,
                     bind="query-params", help="Click a cell in the grid, or choose it here.")
        if cell is None:
            st.info("Click a cell of the grid (or choose one above) to see its accounts, playbook and movement.")
        else:
            st.markdown(f"#### {ninebox.cell_label(cell)}")
            _cell_summary(summary, cell, previous_label)
    with left:
        _grid_panel(summary, measure, previous_label, cell)

    if cell is not None:
        st.subheader(f"Accounts · {ninebox.cell_label(cell)}", anchor=False)
        try:
            closed_ids = ninebox.closed_alert_ids(_store())
        except appstore.StoreUnavailable as err:
            problems.store_unavailable(err, "Closed alerts cannot be told apart: every alert counts as open.")
            closed_ids = ()
        cell_count = int(summary["grid"].set_index("cell_id").loc[cell, "accounts"])
        _accounts_panel(selection, cell, closed_ids, cell_count)
        playbook_col, movement_col = ui_tiles.panels("ninebox_detail", "22rem", "22rem")
        with playbook_col:
            _playbook_panel(cell)
        with movement_col:
            _movement_panel(selection, cell, previous_label)

    st.divider()
    _books_panel(selection, measure)


render()
