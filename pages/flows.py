"""Health flows: tier migrations tied to ARR, the healthy / unhealthy ARR bridges, the
health-rate trend by team and CSM, and the weekly change alerts (method section 3).

A thin shell: numbers from cslib.views.flows and cslib.views.alerts through the cache (ui.data),
charts from cslib.charts.flows, alert statuses in the app store (cslib.store.appstore).
Who may change an alert's status: an executive any, a director their teams' accounts',
a CSM their own accounts' (cslib.store.appstore.may_set_alert); the author is the signed-in
user (ui.auth.author), or without login the session's name marked "(unverified)".
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cslib import deltas, labels
from cslib.views import alerts
from cslib.rules import alert_rules
from cslib.store import appstore
from cslib.charts import common as charts, flows as charts_flows
from cslib.views import flows, metrics
from cslib.errors import UserError
from ui import auth, data, links, na, problems, sidebar, tables, tiles as ui_tiles

TREND_LEVEL_LABELS = {"overall": "All accounts", "csm_team": "CSM team", "csm": "CSM"}
ALL_CSMS = "All CSMs"


def _store() -> appstore.AppStore:
    return appstore.AppStore(appstore.default_path(data.db_path()))


def _chart(chart, width: str = "stretch") -> None:
    st.vega_lite_chart(chart if isinstance(chart, dict) else charts.to_spec(chart), width=width)


def _money_table(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.map(charts.format_money)


def _percent_or_na(value) -> str:
    """A health rate for the team table: 'n/a' (never '0.0%') when it is undefined."""
    return na.NA if pd.isna(value) else charts.format_percent(value)


def _delta_args(change: deltas.TileDelta) -> dict:
    return {"delta": change.text, "delta_color": change.color, "delta_arrow": change.arrow}


def _tiles(trend: pd.DataFrame, month: str, health: metrics.DataStatus) -> None:
    tiles = flows.month_tiles(trend, month, health.ok)
    for column, tile in zip(ui_tiles.grid(len(tiles), "flows_tiles"), tiles.itertuples()):
        help_text = tile.help if health.ok else f"n/a: {health.reason}. {tile.help}"
        column.metric(
            tile.label,
            na.NA if tile.value is None or pd.isna(tile.value) else charts.format_value(tile.value, tile.format),
            **_delta_args(deltas.tile_delta(None if tile.delta is None or pd.isna(tile.delta) else tile.delta,
                                            tile.format, tile.up_is_good)),
            help=help_text,
            border=True,
        )


def _matrix_panel(version, filters, month: str) -> None:
    st.subheader("Transition matrix, last month → this month")
    value = st.radio(
        "Measure", ["arr", "accounts"], key="flows_matrix_value", bind="query-params", horizontal=True,
        format_func=lambda v: "ARR" if v == "arr" else "Accounts",
    )
    matrix, _bridges = data.cached(flows.month_flows, version, filters, month)
    table = flows.matrix_table(matrix, value)
    left, right = st.columns([1.3, 1])
    with left:
        tables.dataframe(_money_table(table) if value == "arr" else table, width="stretch")
        st.caption(
            "Rows: last month's state (or new / won back this month); columns: this month's state. "
            "ARR is this month's, except churned: last month's. **Deferred**: a renewal was due by "
            "the month's end with no renewal order yet (it overrides the tier and counts as unhealthy). "
            "**Unscored**: active but without enough weeks of usage data for a score."
        )
    with right:
        _chart(data.chart_spec(charts_flows.flow_bars, matrix, value=value))


def _bridge_panel(version, filters, month: str, health: metrics.DataStatus) -> None:
    st.subheader("Healthy and unhealthy ARR bridges")
    if na.show_health(health, sidebar.month_label(month),
                      "The healthy and unhealthy ARR bridges are n/a: they need month-end health tiers."):
        return
    _matrix, both = data.cached(flows.month_flows, version, filters, month)
    columns = st.columns(2)
    for column, bridge in zip(columns, flows.BRIDGES):
        with column:
            _chart(data.chart_spec(charts_flows.bridge_waterfall, both, bridge=bridge))
    st.caption(
        "Start = last month's ARR of the accounts in the group then; end = this month's. "
        "Expansion / contraction: accounts in the group both months, ARR up / down. Upgraded to "
        "healthy (downgraded to unhealthy): active accounts that entered the group, at this month's "
        "ARR (an account that moved and grew counts fully here). Downgraded from healthy (upgraded "
        "out of unhealthy): accounts that left the group but stayed active, at last month's ARR. "
        "Churned at last month's ARR. Deferred leaves healthy at last month's ARR and enters "
        "unhealthy at this month's. Start + steps = end, exactly."
    )


def _trend_panel(version, filters, month: str, overall: pd.DataFrame) -> None:
    st.subheader("Health rate, last 12 months")
    left, right = st.columns([1, 1])
    level = left.selectbox(
        "Lines for", list(TREND_LEVEL_LABELS), key="flows_trend_level", bind="query-params", format_func=TREND_LEVEL_LABELS.get
    )
    metric = right.radio(
        "Metric", ["health_rate_mom", "health_rate"], key="flows_trend_metric", bind="query-params", horizontal=True,
        format_func=lambda m: "Health-rate MoM" if m == "health_rate_mom" else "Health rate",
    )
    # the tiles' overall trend and the team table's trend serve the chart when they match
    lines = overall if level == "overall" else data.cached(flows.health_rate_trend, version, filters, month, level)
    _chart(data.chart_spec(charts_flows.health_rate_lines, lines, metric=metric))
    if level == "csm":
        st.caption("The chart draws the 10 CSM books with the most ARR; the table below lists every team.")
    by_team = lines if level == "csm_team" else data.cached(
        flows.health_rate_trend, version, filters, month, "csm_team"
    )
    teams = flows.team_table(by_team, month)
    shown = teams.rename(columns={"group": "CSM team", "active_accounts": "Accounts"})
    for col, label in (("arr", "ARR"), ("healthy_arr", "Healthy ARR"), ("unhealthy_arr", "Unhealthy ARR")):
        shown[label] = shown.pop(col).map(lambda v: na.NA if pd.isna(v) else charts.format_money(v))
    shown["Health rate"] = shown.pop("health_rate").map(_percent_or_na)
    shown["Health-rate MoM"] = shown.pop("health_rate_mom").map(_percent_or_na)
    tables.dataframe(shown, hide_index=True, width="stretch")


def _alerts_panel(version, filters, month: str) -> None:
    st.subheader("Weekly change alerts")
    # one query gives the list, the recovery from each alert's week and the summary;
    # only acknowledged alerts (few) are recomputed from their acknowledgement date
    panel = data.cached(alerts.month_panel, version, filters, month)
    store = _store()
    try:
        statuses = store.alert_statuses()
        writable = True
    except appstore.StoreUnavailable as err:  # every alert open, nothing can be set
        problems.store_unavailable(err, "Alert statuses cannot be shown or changed: every alert shows as open.")
        statuses = appstore.AppStore.empty_alert_statuses()
        writable = False
    listed = alerts.with_status(panel["alerts"], statuses)
    recovery = panel["recovery"]
    acked = alerts.recovery_refs(listed[listed["acknowledged_on"].notna()])
    if acked:
        recovery = alerts.override_recovery(recovery, data.cached(alerts.alert_recovery, version, acked))
    listed = alerts.with_recovery(listed, recovery)
    rate, recovered, decided = alerts.recovery_rate(recovery)

    counts = ui_tiles.grid(4, "flows_alert_counts")
    counts[0].metric("Alerts this month", charts.format_count(len(listed)), border=True)
    counts[1].metric("Malignant", charts.format_count(int((listed["nature"] == "malignant").sum())), border=True)
    counts[2].metric("Open", charts.format_count(int((listed["status"] == "open").sum())), border=True)
    counts[3].metric(
        "Recovery rate", charts.format_percent(rate), border=True,
        help="Malignant alerts whose score came back (to last week's score, or +points from the rules) "
        f"within the recovery window after acknowledgement: {recovered} of {decided} decided; "
        "alerts whose window is not over yet are left out.",
    )
    if listed.empty:
        st.info("No alerts in the weeks starting this month for the selected accounts.")
        return

    summary = panel["summary"]
    with st.expander("Alerts by rule, and the rules", expanded=False):
        tables.dataframe(summary.drop(columns="rule"), hide_index=True, width="stretch")
        tables.dataframe(data.cached(alerts.rules_table, version).drop(columns="rule"), hide_index=True, width="stretch")

    csms = sorted(listed["csm"].dropna().unique().tolist())
    grant = auth.current_grant()
    own = grant.csm if grant is not None and grant.role == "csm" and grant.csm in csms else None
    # a CSM starts on their own alerts, everyone else on all of them (never on whoever sorts first)
    options = [own, ALL_CSMS, *[c for c in csms if c != own]] if own else [ALL_CSMS, *csms]
    csm = st.selectbox(
        "CSM", options, key="flows_alert_csm",
        help="Each CSM works the alerts of their own accounts; 'All CSMs' lists every alert of the slice. "
             "The Worklist page changes many at once.",
    )
    mine = listed if csm == ALL_CSMS else listed[listed["csm"] == csm]
    # the columns a CSM works by (the alert's nature is in its name and severity; the account page has the rest)
    table = mine[["account_id", "name", "week_start", "csm", "rule", "severity", "detail", "score", "score_change",
                  "driver_label", "status", "recovery"]].copy()
    table["rule"] = table["rule"].map(alert_rules.RULE_LABELS)
    table["detail"] = [labels.label(d) if isinstance(d, str) else d for d in table["detail"]]  # 'at_risk -> healthy'
    tables.dataframe(
        links.account_links(table, month).drop(columns="account_id"),
        key="flows_alerts_table",
        hide_index=True,
        width="stretch",
        column_config={
            "week_start": st.column_config.DateColumn("Week", format="D MMM"),
            "name": links.account_column(),
            "csm": "CSM",
            "rule": "Alert",
            "score": st.column_config.NumberColumn("Score", format="%.1f"),
            "score_change": st.column_config.NumberColumn("Change", format="%+.1f"),
            "driver_label": st.column_config.TextColumn(
                "Main driver", help="The indicator whose points moved most with the score since the week before"
            ),
        },
    )

    options = mine["alert_id"].tolist()
    pick_labels = alerts.alert_labels(mine)
    left, right = st.columns([1.2, 1])
    with left:
        chosen = st.selectbox("Alert", options, key="flows_alert_pick", format_func=pick_labels.get)
        current = listed.set_index("alert_id").loc[chosen, "status"] if chosen else "open"
        row = listed.set_index("alert_id").loc[chosen] if chosen else None
        allowed = writable and row is not None and appstore.may_set_alert(
            auth.current_grant(), row["csm"], row["csm_team"])
        author = auth.author()
        if row is not None and isinstance(row.get("updated_by"), str) and row["updated_by"]:
            st.text(f"Status {labels.label(current)}, set by {row['updated_by']}")  # text, not Markdown
        status = st.selectbox(
            "Status", list(appstore.ALERT_STATUSES), key=f"flows_status_{chosen}", format_func=labels.label,
            index=list(appstore.ALERT_STATUSES).index(current), disabled=not allowed,
        )
        if not writable:
            pass  # said above
        elif not allowed:
            st.caption("Only the account's CSM, their director or an executive changes this alert's status.")
        elif author is None:
            auth.ask_name("flows_alert")
        else:
            st.text(f"Saved as {author.label}")
            if st.button("Update status", key="flows_update_status", type="primary"):
                # decided again from the login at the click, not from what the page showed
                if not appstore.may_set_alert(auth.resolve_grant(), row["csm"], row["csm_team"]):
                    st.error("Not saved: this alert is outside your book.")
                else:
                    try:
                        alerts.set_status(store, [chosen], status, author)
                    except appstore.StoreUnavailable as err:
                        st.error(f"Not saved: the app's store cannot be written ({err.reason}). "
                                 "Ask your administrator to check it.")
                    except UserError as err:
                        st.error(str(err))
                    else:
                        st.toast(f"Alert set to {labels.label(status)}")
                        st.rerun()
    with right:
        # the chosen alert's row is already here: its chart needs no query
        alert = mine[mine["alert_id"] == chosen]
        if chosen and charts_flows.has_score_change(alert):
            _chart(data.chart_spec(charts_flows.alert_waterfall, alert))
        else:
            st.caption("This alert's week has no score to compare with the week before.")


def _tradeoff_panel(version, filters, month: str) -> None:
    st.subheader("Window trade-off: 1 vs 4 vs 13 weeks")
    if not st.toggle("Compare scorecard windows (re-scores the last 26 weeks of this slice)", key="flows_tradeoff"):
        st.caption("Re-scoring takes a second or two; the result is cached per slice and month.")
        return
    result = data.cached(alerts.window_tradeoff, version, filters, month)
    if result.empty:
        st.info("No usage data for the selected accounts.")
        return
    left, right = st.columns([1, 1])
    with left:
        _chart(charts_flows.tradeoff_chart(result), width="stretch")
    with right:
        shown = result.rename(columns={
            "window_weeks": "Window (weeks)", "min_weeks": "Min weeks", "score_drop_alerts": "Score drops",
            "tier_fall_alerts": "Tier falls", "tier_changes": "Tier changes",
            "median_lag_weeks": "Median lag (weeks)", "matched_falls": "Falls matched",
        })[["Window (weeks)", "Min weeks", "Score drops", "Tier falls", "Tier changes", "Falls matched",
            "Median lag (weeks)"]]
        tables.dataframe(shown, hide_index=True, width="stretch")
        sampled = int(result["accounts"].iloc[0])
        total = int(result["sampled_from"].iloc[0])
        st.caption(
            f"{sampled:,} accounts" + (f" (a fixed sample of {total:,})" if total > sampled else "")
            + ", last 26 weeks. Lag: weeks from the first 1-week-window fall of an account to the same "
            "or a lower tier until the longer window falls too (median). Short windows alert early and "
            "often; long ones are steady but late."
        )


def render() -> None:
    selection = sidebar.current()
    month, filters, version = selection.month, selection.filters, selection.version
    st.title(f"Health flows · {sidebar.month_label(month)}")
    trend = data.cached(flows.health_rate_trend, version, filters, month, "overall")
    if trend.empty or int(trend.loc[trend["month"] == month, "active_accounts"].sum()) == 0:
        st.info(
            f"No active accounts match the selected filters in {sidebar.month_label(month)}. "
            "Widen the filters in the sidebar (or use Reset filters)."
        )
        return
    health = data.cached(metrics.health_data_status, version, filters, month)
    na.show_health(
        health, sidebar.month_label(month),
        "Healthy ARR, unhealthy ARR, health rate and health-rate MoM are n/a, not 0: every active "
        "account of the slice is unscored (the transition matrix shows them in the Unscored column).",
    )
    _tiles(trend, month, health)
    _matrix_panel(version, filters, month)
    _bridge_panel(version, filters, month, health)
    _trend_panel(version, filters, month, trend)
    _alerts_panel(version, filters, month)
    _tradeoff_panel(version, filters, month)


render()
