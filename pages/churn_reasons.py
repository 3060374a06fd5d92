"""Churn reasons (method sections 4 and 6): why accounts left, held against the score.

A thin shell: the selection comes from the sidebar (ui.sidebar), the period from this
page's control, numbers from cslib.views.churn through the cache (ui.data), charts from
cslib.charts.churn. CSM notes and other data text are shown with st.dataframe only
(plain text), never as Markdown or HTML.
"""

from __future__ import annotations

import streamlit as st

from cslib.charts import common as charts, churn as charts_churn
from cslib.views import churn
from cslib.store import renewals
from cslib.labels import label as human_label
from ui import data, links, sidebar, tables, tiles as ui_tiles

PERIOD_KEY = "churn_reasons_period"
BREAKDOWN_KEY = "churn_reasons_by"
TREND_MEASURE_KEY = "churn_reasons_trend_measure"
SEARCH_KEY = "churn_reasons_search"
DEFAULT_PERIOD = "t12m"
#: dimensions offered in the "break down by" box (reason and category have their own charts)
DIMENSIONS = ("segment", "industry", "region", "source_channel", "lifecycle_stage", "contract_stage", "csm_team")
TREND_MEASURES = {"churned_arr": "Churned ARR", "churned_accounts": "Churned accounts"}
NOTES_LIMIT = 200
FLAGS_LIMIT = 500


def _breakdown_table(df, label: str) -> None:
    tables.dataframe(
        df[["label", "churned_accounts", "churned_arr", "account_share", "arr_share"]],
        hide_index=True,
        width="stretch",
        column_config={
            "label": st.column_config.TextColumn(label),
            "churned_accounts": st.column_config.NumberColumn("Accounts", format="localized",
                                                              help="Churned accounts"),
            "churned_arr": st.column_config.NumberColumn("ARR", format="dollar", step=1, help="Churned ARR (before churn)"),
            "account_share": st.column_config.NumberColumn(
                "% accounts", format="percent", help="Share of the period's churned accounts"),
            "arr_share": st.column_config.ProgressColumn(
                "% ARR", format="percent", min_value=0.0, max_value=1.0, width="small",
                help="Share of the period's churned ARR"),
        },
    )


def _tiles(summary: dict, match: dict) -> None:
    n = summary["churned_accounts"]
    window = match["window_days"]
    cols = ui_tiles.grid(8, "churn_summary", min_tile="13rem")
    cols[0].metric("Churned accounts", charts.format_count(n), border=True,
                   help="Accounts whose MRR went to zero in the period (an account that churns twice counts twice).")
    cols[1].metric("Churned ARR", charts.format_money(summary["churned_arr"]), border=True,
                   help="ARR before churn: the last paid month's MRR x 12.")
    cols[2].metric("Reason match rate", charts.format_percent(match["match_rate"]), border=True,
                   help=f"Churns with a churn-reason log or churn event within {window} days of the churn month "
                   f"/ all churns ({charts.format_count(match['matched_accounts'])} of {charts.format_count(n)}).")
    cols[3].metric("Reason match rate (ARR)", charts.format_percent(match["arr_match_rate"]), border=True,
                   help="Churned ARR of the churns with a matched reason / all churned ARR "
                   f"({charts.format_money(match['matched_arr'])} of {charts.format_money(match['churned_arr'])}).")
    cols[4].metric("Avoidable share of ARR", charts.format_percent(summary["avoidable_arr_share"]), border=True,
                   help="Churned ARR whose reason the taxonomy marks avoidable / all churned ARR.")
    cols[5].metric("Churned in onboarding", charts.format_count(summary["onboarding_accounts"]), border=True,
                   help="Churns whose last paid month was in months 1-3 of tenure.")
    cols[6].metric("No reason logged", charts.format_count(summary["no_reason_accounts"]), border=True,
                   help=f"Churns without a churn reason logged by the CSM (or a churn event) within {window} days of the churn month.")
    cols[7].metric("Unclassified reason", charts.format_count(summary["unclassified_accounts"]), border=True,
                   help="Churns whose logged reason code is not in the taxonomy (or is empty).")


def render() -> None:
    selection = sidebar.current()
    version, filters = selection.version, selection.filters
    title = st.empty()
    period = st.radio(
        "Period",
        options=list(churn.PERIODS),
        format_func=churn.PERIODS.get,
        index=list(churn.PERIODS).index(DEFAULT_PERIOD),
        key=PERIOD_KEY,
        bind="query-params",
        horizontal=True,
        help="Anchored on the month picked in the sidebar: that month, its calendar quarter, "
        "or the 12 months ending with it (clipped to the data).",
    )
    month_from, month_to = churn.period_bounds(period, selection.month, selection.months)
    title.title(f"Churn reasons · {churn.period_label(month_from, month_to)}")

    summary = data.cached(churn.churn_summary, version, filters, month_from, month_to)
    match = data.cached(churn.reason_match_rate, version, filters, month_from, month_to)
    _tiles(summary, match)
    renewals_source = data.cached(renewals.renewals_source, version)
    st.caption(
        f"A churn is a month whose MRR is 0 after a paid month; its reason is the churn reason the CSM "
        f"logged (or the churn event) nearest to the churn month, within {match['window_days']} days of it "
        f"(a company setting). Non-target accounts are "
        + ("included." if filters.include_non_target else "excluded (see the sidebar).")
        + ("" if renewals_source == "file"
           else " " + data.cached(renewals.renewals_source_text, version))
    )

    if summary["churned_accounts"] == 0:
        st.info("No churn in this period for the selected filters. Pick a longer period or widen the filters.")
    else:
        _churn_panels(version, filters, month_from, month_to, selection)
    if match["unused_reason_entries"]:
        _unmatched_panel(version, filters, month_from, month_to, match)
    _risk_flag_panel(version, filters, month_from, month_to)
    _notes_panel(version, filters, month_from, month_to)
    _taxonomy_panel(version)


def _unmatched_panel(version, filters, month_from: str, month_to: str, match: dict) -> None:
    unmatched = data.cached(churn.unmatched_reasons, version, filters, month_from, month_to)
    window = match["window_days"]
    near = unmatched["days_from_nearest_churn"]
    beaten = int((near <= window).sum())
    farther = int((near > window).sum())
    never = int(near.isna().sum())
    with st.expander(f"Churn reasons that matched no churn · {len(unmatched)}"):
        st.caption(
            f"Churn-reason logs and churn events logged in the period that are the reason of no churn: "
            f"{farther} more than {window} days from the account's nearest churn (a wider window, a company "
            f"setting, would match them), {beaten} within the window but beaten by a nearer "
            f"entry, {never} for accounts that never churned. Notes are shown as plain text."
        )
        tables.dataframe(
            links.account_links(unmatched, month_to)[["name", "logged_on", "source", "reason_code",
                                                      "nearest_churn_month", "days_from_nearest_churn", "note"]],
            hide_index=True,
            width="stretch",
            column_config={
                "logged_on": st.column_config.DateColumn("Logged"),
                "name": links.account_column(),
                "source": st.column_config.TextColumn("Source"),
                "reason_code": st.column_config.TextColumn("Reason code"),
                "nearest_churn_month": st.column_config.TextColumn("Nearest churn"),
                "days_from_nearest_churn": st.column_config.NumberColumn("Days from it", format="localized"),
                "note": st.column_config.TextColumn("Note", width="large"),
            },
        )


def _churn_panels(version, filters, month_from: str, month_to: str, selection) -> None:
    st.subheader("By reason and category")
    reasons = data.cached(churn.churn_breakdown, version, filters, month_from, month_to, "reason")
    left, right = st.columns([2, 3])
    with left:
        st.altair_chart(charts_churn.share_bars(reasons, "Churn by reason"), width="stretch")
    with right:
        _breakdown_table(reasons, "Reason")
    left, right = st.columns(2)
    with left:
        categories = data.cached(churn.churn_breakdown, version, filters, month_from, month_to, "category")
        _breakdown_table(categories, "Category")
        avoidable = data.cached(churn.churn_breakdown, version, filters, month_from, month_to, "avoidable")
        _breakdown_table(avoidable, "Avoidable")
    with right:
        from cslib.filters import ATTRIBUTE_PREFIX, attribute_label

        labels = {**{d: churn.BREAKDOWN_LABELS[d] for d in DIMENSIONS},  # then the data's own attributes
                  **{k: attribute_label(k[len(ATTRIBUTE_PREFIX):])
                     for k in data.filter_options(version) if k.startswith(ATTRIBUTE_PREFIX)}}
        by = st.selectbox(
            "Break down by",
            options=list(labels),
            format_func=labels.get,
            key=BREAKDOWN_KEY,
            bind="query-params",
            help="Lifecycle stage is that of the last paid month (onboarding = months 1-3). Contract stage: "
            "'at or before first renewal' when the account had never renewed, else 'after a renewal'.",
        )
        by_dimension = data.cached(churn.churn_breakdown, version, filters, month_from, month_to, by)
        _breakdown_table(by_dimension, labels[by])

    trend_from, trend_to = churn.period_bounds("t12m", month_to, selection.months)
    st.subheader("Trend by month")
    measure = st.radio(
        "Measure", options=list(TREND_MEASURES), format_func=TREND_MEASURES.get, key=TREND_MEASURE_KEY,
        bind="query-params", horizontal=True, label_visibility="collapsed",
    )
    trend = data.cached(churn.churn_trend, version, filters, trend_from, trend_to)
    st.altair_chart(
        charts_churn.trend_bars(trend, measure, f"{TREND_MEASURES[measure]} by category"), width="stretch"
    )
    st.caption(f"The 12 months ending {sidebar.month_label(month_to)}, whatever the period above.")

    st.subheader("What the health score said before the churn")
    health = data.cached(churn.reason_vs_health, version, filters, month_from, month_to)
    st.altair_chart(charts_churn.health_before_churn(health), width="stretch")
    tables.dataframe(
        health[["reason_label", "signal_check", "churned_accounts", "scored_accounts", "mean_score",
                "healthy_week_share", "at_risk_week_share", "unhealthy_week_share", "healthy_at_churn_share"]],
        hide_index=True,
        width="stretch",
        column_config={
            "reason_label": st.column_config.TextColumn("Reason"),
            "churned_accounts": st.column_config.NumberColumn("Churns", format="localized", width=65),
            "scored_accounts": st.column_config.NumberColumn("Scored", format="localized", width=65,
                                                             help="Churns with a scored week before the churn"),
            "mean_score": st.column_config.NumberColumn("Mean score", format="%.1f", width=80),
            "healthy_week_share": st.column_config.NumberColumn("Healthy", format="percent", width=75,
                                                                help="Share of scored weeks that were healthy"),
            "at_risk_week_share": st.column_config.NumberColumn("At risk", format="percent", width=75,
                                                                help="Share of scored weeks that were at risk"),
            "unhealthy_week_share": st.column_config.NumberColumn("Unhealthy", format="percent", width=80,
                                                                  help="Share of scored weeks that were unhealthy"),
            "healthy_at_churn_share": st.column_config.NumberColumn("Healthy at churn", format="percent", width=110),
            "signal_check": st.column_config.TextColumn("Check against usage"),
        },
    )
    st.caption(
        f"Weeks: the {churn.HEALTH_WEEKS_BEFORE_CHURN} weeks before the churn month (scored weeks only). "
        f"**Contradicts usage**: a reason that means low usage ({', '.join(human_label(r) for r in churn.REASONS_EXPECTING_LOW_USAGE)}) "
        f"with at least {churn.MOSTLY_HEALTHY_SHARE:.0%} healthy weeks. **Invisible to usage**: any other reason "
        f"with at least {churn.INVISIBLE_HEALTHY_SHARE:.0%} healthy weeks (the score did not see it coming). "
        f"Judged from {churn.MIN_SCORED_CHURNS} scored churns up."
    )


def _risk_flag_panel(version, filters, month_from: str, month_to: str) -> None:
    st.subheader("Red-light flags")
    owners = data.cached(churn.risk_flag_owners, version, filters, month_from, month_to)
    if owners.empty:
        st.info("No red-light flag was raised in this period for the selected filters.")
        return
    flags = data.cached(churn.risk_flags, version, filters, month_from, month_to, FLAGS_LIMIT)
    left, right = ui_tiles.panels("churn_flags", "18rem", "36rem")
    with left:
        a, b = ui_tiles.grid(2, "churn_flag_counts", group=1, min_tile="9rem")
        a.metric("Open flags", charts.format_count(owners["open"].sum()), border=True)
        b.metric("Resolved flags", charts.format_count(owners["resolved"].sum()), border=True)
        st.altair_chart(charts_churn.flags_by_owner(owners), width="stretch")
    with right:
        tables.dataframe(
            # key columns only: the note, source and resolution date are on the Account page
            links.account_links(flags, month_to)[["name", "status", "age_days", "flag_label", "owner_department"]],
            hide_index=True,
            width="stretch",
            height=420,
            column_config={
                "raised_on": st.column_config.DateColumn("Raised"),
                "name": links.account_column(width=150),
                "flag_label": st.column_config.TextColumn("Flag", width=140),
                "source": st.column_config.TextColumn("Source"),
                "owner_department": st.column_config.TextColumn("Routed to", width=130),
                "status": st.column_config.TextColumn("Status", width=75),
                "age_days": st.column_config.NumberColumn("Age (days)", format="localized", width=70),
                "resolved_on": st.column_config.DateColumn("Resolved"),
                "note": st.column_config.TextColumn("Note", width="large"),
            },
        )
    st.caption(
        "Flags raised in the period: risk flags logged by CSMs, NPS detractors (score <= 6) among key users "
        "(admin, department head, key user) and complaints; routed by the taxonomy's owner. Resolved when a "
        "later touchpoint or note was logged for the account, or it renewed after the flag, by the period's "
        f"last day (ages count to that day). Open flags first, oldest first; at most {FLAGS_LIMIT} rows."
    )


def _notes_panel(version, filters, month_from: str, month_to: str) -> None:
    st.subheader("CSM notes")
    text = st.text_input(
        "Search notes",
        key=SEARCH_KEY,
        placeholder="Words in the note, e.g. discount (case-insensitive; empty = latest notes)",
        max_chars=200,
    )
    notes = data.cached(churn.search_notes, version, filters, month_from, month_to, text or "", NOTES_LIMIT)
    tables.dataframe(
        links.account_links(notes, month_to)[["name", "logged_on", "author", "kind", "reason_code", "note"]],
        key="churn_notes_table",
        hide_index=True,
        width="stretch",
        column_config={
            "logged_on": st.column_config.DateColumn("Logged"),
            "name": links.account_column(),
            "author": st.column_config.TextColumn("Author"),
            "kind": st.column_config.TextColumn("Kind"),
            "reason_code": st.column_config.TextColumn("Reason code"),
            "note": st.column_config.TextColumn("Note", width="large"),
        },
    )
    shown = len(notes)
    st.caption(
        f"{shown} note{'s' if shown != 1 else ''} of the filtered accounts logged in the period"
        + (f" (the newest {NOTES_LIMIT})" if shown == NOTES_LIMIT else "")
        + "; notes are shown as plain text."
    )


def _taxonomy_panel(version) -> None:
    unclassified = data.cached(churn.unclassified_logs, version)
    label = "Reason taxonomy" + (f" · {int(unclassified['n_logs'].sum())} unclassified logs" if len(unclassified) else "")
    with st.expander(label):
        tables.dataframe(
            data.cached(churn.taxonomy, version),
            hide_index=True,
            width="stretch",
            column_config={
                "reason_code": st.column_config.TextColumn("Code"),
                "label": st.column_config.TextColumn("Label"),
                "category": st.column_config.TextColumn("Category"),
                "is_avoidable": st.column_config.CheckboxColumn("Avoidable"),
                "owner_department": st.column_config.TextColumn("Routed to"),
            },
        )
        if len(unclassified):
            st.caption("Logs whose reason code is not in the taxonomy (kept as 'unclassified', all months):")
            tables.dataframe(
                unclassified,
                hide_index=True,
                column_config={
                    "code_as_logged": st.column_config.TextColumn("Code as logged"),
                    "kind": st.column_config.TextColumn("Kind"),
                    "n_logs": st.column_config.NumberColumn("Logs", format="localized"),
                },
            )


render()
