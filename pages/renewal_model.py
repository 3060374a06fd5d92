"""Renewal model & what-if: does the health score predict renewal, and what would another
scorecard or incentive plan do? (method sections 1 and 7)

A thin shell: the models are fitted when the database is built and stored in it
(cslib.views.renewal_model.write_model_tables), so this page only reads; every panel is one
cslib call through ui.data.cached; charts come from cslib.charts.model.
"""

from __future__ import annotations

import streamlit as st

from cslib import deltas
from cslib.charts import common as charts, model as charts_model
from cslib.views import incentives
from cslib.rules import incentive_plan
from cslib.views import metrics, renewal_model
from cslib.store import renewals
from cslib.views import whatif
from cslib.errors import UserError
from ui import data, links, na, problems, sidebar, tables, tiles as ui_tiles


def _renewals_source_note(version) -> str:
    """' Renewals are derived from revenue (...)' when they were not imported, else ''."""
    if data.cached(renewals.renewals_source, version) == "file":
        return ""
    return " " + data.cached(renewals.renewals_source_text, version)


PREFIX = "renewal_model"
WHATIF_KEY = f"{PREFIX}_whatif_scorecard"
PERCENT = st.column_config.NumberColumn(format="percent")
MONEY = st.column_config.NumberColumn(format="dollar")


def _model_section(selection, bundle) -> None:
    st.subheader("Renewal-probability model")
    if isinstance(bundle, str):
        st.info(f"The renewal model needs more history: {bundle}.")
        return
    m = bundle.metrics.set_index("model")
    split = renewal_model.split_summary(bundle)
    cols = ui_tiles.grid(5, "model_metrics")
    auc_vs_baseline = deltas.styled(f"{m.loc['boosted', 'auc'] - m.loc['logistic', 'auc']:+.3f}",
                                    renewal_model.TILE_UP_IS_GOOD["auc"])
    brier_vs_constant = deltas.styled(f"{m.loc['boosted', 'brier'] - m.loc['boosted', 'brier_constant']:+.3f}",
                                      renewal_model.TILE_UP_IS_GOOD["brier"])
    cols[0].metric("Held-out ROC AUC", f"{m.loc['boosted', 'auc']:.3f}", border=True,
                   delta=auc_vs_baseline.text, delta_color=auc_vs_baseline.color, delta_arrow=auc_vs_baseline.arrow,
                   delta_description="vs baseline",
                   help="Gradient boosting on renewals due on or after the split date (never seen in training).")
    cols[1].metric("Baseline AUC (logistic)", f"{m.loc['logistic', 'auc']:.3f}", border=True)
    cols[2].metric("Brier score", f"{m.loc['boosted', 'brier']:.3f}", border=True,
                   delta=brier_vs_constant.text, delta_color=brier_vs_constant.color,
                   delta_arrow=brier_vs_constant.arrow, delta_description="vs constant",
                   help=f"Mean squared error of the probability; predicting the training renewal rate for "
                        f"everyone scores {m.loc['boosted', 'brier_constant']:.3f}. Lower is better.")
    cols[3].metric("Accuracy at 0.5", charts.format_percent(m.loc["boosted", "accuracy"]), border=True)
    cols[4].metric("Test renewal rate", charts.format_percent(m.loc["boosted", "test_renewal_rate"]), border=True)
    if split["n_test"] < 100:
        st.warning(f"Only {split['n_test']} renewals in the test set: these metrics are noisy.")
    comparison = renewal_model.comparison_text(bundle.comparison)
    verdict_box = st.success if bundle.verdict == "beats" else st.info
    verdict_box(f"**Verdict: {bundle.verdict}.** {comparison}")
    st.caption(
        f"Trained on {split['n_train']:,} decided renewals due before {split['split_on']} (last "
        f"{split['train_last_due_on']}), tested on {split['n_test']:,} due from {split['test_first_due_on']}. "
        f"Features: the 13 weeks of health before each due month, segment and tenure; target accounts of the "
        f"whole book, fitted when the data was loaded (the sidebar filters do not refit it). "
        "The verdict is computed at fit time: \"beats\" only when both AUC and Brier are better beyond the "
        "interval."
        + _renewals_source_note(selection.version)
    )
    left, right = st.columns(2)
    with left:
        st.vega_lite_chart(data.chart_spec(charts_model.calibration_chart, bundle.calibration), width="stretch")
    with right:
        st.vega_lite_chart(data.chart_spec(charts_model.importance_chart, bundle.importance), width="stretch")

    month = selection.month
    upcoming = data.cached(renewal_model.upcoming_renewals, selection.version, selection.filters, month)
    summary = renewal_model.upcoming_summary(upcoming)
    st.markdown(f"**Renewals due in the {renewal_model.UPCOMING_DAYS} days after {sidebar.month_label(month)}**")
    cols = ui_tiles.grid(4, "model_upcoming")
    cols[0].metric("Renewals due", charts.format_count(summary["renewals"]), border=True)
    cols[1].metric("ARR due", charts.format_money(summary["due_arr"]), border=True)
    cols[2].metric("Expected ARR renewed", charts.format_money(summary["expected_arr"]), border=True,
                   help="Sum of probability x ARR due.")
    cols[3].metric("ARR at risk (p < 50%)", charts.format_money(summary["at_risk_arr"]), border=True)
    tables.dataframe(
        links.account_links(upcoming, month),
        hide_index=True,
        width="stretch",
        height=320,
        # the account first (it opens the Account page); the file's outcome of a renewal due after
        # the month is not shown (it was not known at the month end), nor the secondary columns
        column_order=("name", "csm", "due_on", "due_arr", "month_end_tier", "p_renewal", "driver_1"),
        key="model_upcoming",
        column_config={
            "account_id": "Id",
            "name": links.account_column(),
            "segment": "Segment",
            "csm": "CSM",
            "due_on": st.column_config.DateColumn("Due on"),
            "due_arr": st.column_config.NumberColumn("ARR due", format="dollar"),
            "outcome": "Outcome",
            "month_end_tier": "Tier before",
            "p_renewal": st.column_config.ProgressColumn("P(renew)", min_value=0.0, max_value=1.0, format="percent",
                                                         width=90),
            "p_baseline": st.column_config.NumberColumn("P (baseline)", format="percent"),
            "driver_1": "Top driver",
            "driver_2": "2nd driver",
            "driver_3": "3rd driver",
        },
    )
    st.caption(
        "Riskiest first. A driver is the change in probability (percentage points) against the same "
        "account with that feature at its typical (training median) value; + raises the odds of renewal."
    )


def _indicators_section(selection, bundle) -> None:
    st.subheader("Which indicators relate to renewal")
    bands, effects = data.cached(renewal_model.indicator_tables, selection.version, selection.filters)
    if bands.empty:
        st.info("No decided renewals in this slice.")
        return
    effects = renewal_model.with_importance(effects, None if isinstance(bundle, str) else bundle.importance)
    st.vega_lite_chart(data.chart_spec(charts_model.effect_chart, effects), width="stretch")
    st.caption(
        "Each indicator's mean over the 13 weeks before the due month, banded with the scorecard's bands "
        "(an indicator without value bands, such as modules: its points at 0, 1/3 and 2/3 of its maximum). "
        "Difference = renewal rate of the band with the most points minus the band with the fewest, with a "
        "95% normal-approximation interval; an interval clear of 0 is significant. Permutation importance: "
        "drop in the model's test AUC when the indicator's features are shuffled (whole book)."
    )
    tables.dataframe(
        # key columns (fit at 1440 px): the band sizes are in the expander below
        effects[["label", "segment_label", "top_band", "top_rate", "bottom_band", "bottom_rate",
                 "difference", "ci_low", "ci_high", "permutation_importance"]],
        hide_index=True,
        width="stretch",
        column_config={
            "label": "Indicator", "segment_label": "Segment", "top_band": "Top band", "top_rate": st.column_config.NumberColumn("Top rate", format="percent"),
            "top_n": "Renewals (top)", "bottom_band": "Bottom band", "bottom_rate": st.column_config.NumberColumn("Bottom rate", format="percent"),
            "bottom_n": "Renewals (bottom)", "difference": st.column_config.NumberColumn("Difference", format="percent"),
            "ci_low": st.column_config.NumberColumn("95% CI low", format="percent"),
            "ci_high": st.column_config.NumberColumn("95% CI high", format="percent"),
            "permutation_importance": st.column_config.NumberColumn("AUC drop", format="%.4f"),
        },
    )
    with st.expander("Renewal rate by band, every indicator and segment"):
        tables.dataframe(
            bands[["label", "segment_label", "band_label", "points", "renewals", "renewed", "renewal_rate", "ci_low", "ci_high"]],
            hide_index=True,
            width="stretch",
            column_config={
                "label": "Indicator", "segment_label": "Segment", "band_label": "Band", "points": "Points",
                "renewal_rate": st.column_config.NumberColumn("Renewal rate", format="percent"),
                "ci_low": st.column_config.NumberColumn("95% CI low", format="percent"),
                "ci_high": st.column_config.NumberColumn("95% CI high", format="percent"),
            },
        )


def _calibration_section(selection) -> None:
    st.subheader("Calibration of the health score")
    series = data.kpi_series(selection.version, selection.filters, selection.month, 12)
    bands = data.cached(renewal_model.score_band_table, selection.version, selection.filters)
    left, right = st.columns(2)
    with left:
        st.vega_lite_chart(data.chart_spec(charts.health_vs_renewal, series), width="stretch")
        st.caption("The practitioners' goal: health rate ≈ renewal rate, month by month.")
    with right:
        if bands.empty:
            st.info("No decided renewals in this slice.")
        else:
            st.vega_lite_chart(
                data.chart_spec(charts_model.rate_band_chart, bands, title="Renewal rate by score band"),
                width="stretch",
            )
            st.caption(
                "Decided renewals by the month-end score of the month before the due month (bands of 10 "
                "points, lower bound inclusive; bars = renewal rate, lines = 95% Wilson intervals)."
            )


def _scorecard_form(base) -> None:
    with st.form(f"{PREFIX}_form"):
        st.markdown("**Edit the scorecard** (starts from the one this database was scored with)")
        c = st.columns(6)
        healthy_min = c[0].number_input("Healthy from", 1.0, 100.0, base.healthy_min, 1.0, key=f"{PREFIX}_healthy_min")
        unhealthy_below = c[1].number_input("Unhealthy below", 1.0, 99.0, base.unhealthy_below, 1.0, key=f"{PREFIX}_unhealthy_below")
        weeks = c[2].number_input("Window (weeks)", 1, 26, base.window_weeks, 1, key=f"{PREFIX}_weeks")
        min_weeks = c[3].number_input("Min weeks", 1, 26, base.min_weeks, 1, key=f"{PREFIX}_min_weeks")
        weighting = c[4].selectbox("Weighting", ["linear", "equal"], index=["linear", "equal"].index(base.weighting), key=f"{PREFIX}_weighting")
        cap = c[5].number_input("Module cap (points)", 0.0, 100.0, base.modules_cap_points, 1.0, key=f"{PREFIX}_cap")
        left, right = st.columns([1, 2])
        module_frame = whatif.modules_frame(base)[["module", "points"]]
        modules = left.data_editor(module_frame, hide_index=True, num_rows="dynamic", key=f"{PREFIX}_modules",
                                   width="stretch", column_config=tables.editor_config(module_frame))
        default_points = left.number_input("Points of an unlisted feature", 0.0, 100.0, base.module_default_points, 0.5,
                                           key=f"{PREFIX}_default_points")
        band_frame, weight_frame = whatif.bands_frame(base), whatif.weights_frame(base)
        bands = right.data_editor(band_frame, hide_index=True, num_rows="dynamic", key=f"{PREFIX}_bands",
                                  width="stretch", column_config=tables.editor_config(band_frame))
        weights = right.data_editor(weight_frame, hide_index=True, key=f"{PREFIX}_weights",
                                    disabled=["indicator", "label", "reads"], width="stretch",
                                    column_config=tables.editor_config(weight_frame))
        if st.form_submit_button("Re-score the book", type="primary"):
            try:
                st.session_state[WHATIF_KEY] = whatif.scorecard_with(
                    base, healthy_min=healthy_min, unhealthy_below=unhealthy_below, window_weeks=int(weeks),
                    min_weeks=int(min_weeks), weighting=weighting, modules_cap_points=cap,
                    module_points=modules, ratio_bands=bands, weights=whatif.weights_of(weights),
                    module_default_points=default_points,
                )
            except UserError as err:
                st.error(str(err))


def _whatif_section(selection) -> None:
    st.subheader("Scorecard what-if")
    base = data.cached(whatif.current_scorecard, selection.version)
    _scorecard_form(base)
    edited = st.session_state.get(WHATIF_KEY)
    if edited is None:
        st.caption("Change settings and press *Re-score the book*: the slice is re-scored in memory (the "
                   "database is never written) and shown next to the current scores, backtested on real renewals.")
        return
    with st.spinner("Re-scoring the book with the edited scorecard…"):
        result = data.cached(whatif.run_whatif, selection.version, edited, selection.filters, selection.month)
    rates = result["rates"].iloc[0]
    bt = result["backtest"].set_index(["version", "tier"])
    cols = ui_tiles.grid(4, "model_whatif")
    cols[0].metric("Health rate (current)", charts.format_percent(rates["health_rate_before"]), border=True)
    rate_change = deltas.tile_delta(rates["health_rate_after"] - rates["health_rate_before"], "percent",
                                    renewal_model.TILE_UP_IS_GOOD["whatif_health_rate"])
    auc_change = deltas.styled(f"{bt.loc[('after', 'all'), 'auc'] - bt.loc[('before', 'all'), 'auc']:+.3f}",
                               renewal_model.TILE_UP_IS_GOOD["whatif_auc"])
    cols[1].metric("Health rate (what-if)", charts.format_percent(rates["health_rate_after"]), border=True,
                   delta=rate_change.text, delta_color=rate_change.color, delta_arrow=rate_change.arrow)
    cols[2].metric("Score AUC (current)", f"{bt.loc[('before', 'all'), 'auc']:.3f}", border=True,
                   help="How well the month-end score before the due month separates renewed from not renewed.")
    cols[3].metric("Score AUC (what-if)", f"{bt.loc[('after', 'all'), 'auc']:.3f}", border=True,
                   delta=auc_change.text, delta_color=auc_change.color, delta_arrow=auc_change.arrow)
    left, right = st.columns(2)
    with left:
        st.vega_lite_chart(data.chart_spec(charts_model.tier_compare_chart, result["tiers"]), width="stretch")
    with right:
        st.vega_lite_chart(data.chart_spec(charts_model.backtest_chart, result["backtest"]), width="stretch")
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Nine-box shift in {sidebar.month_label(selection.month)}** (accounts)")
        tables.dataframe(result["ninebox"], hide_index=True, width="stretch")
    with right:
        st.markdown("**Tier before (rows) → tier after (columns)**")
        tables.dataframe(result["transitions"], width="stretch")
    st.download_button("Download the edited scorecard (TOML)", edited.to_toml(), file_name="scorecard.toml",
                       mime="application/toml", key=f"{PREFIX}_download")
    st.caption("Your administrator can apply it to the whole book: the scores on every page then change.")
    problems.admin_note("Apply the downloaded scorecard with: python -m cslib score --scorecard scorecard.toml")


def _incentive_section(selection) -> None:
    st.subheader("CSM incentive calculator")
    plan = incentive_plan.load_incentive_plan()
    left, right = st.columns([1, 2])
    rate_pct = left.number_input("Rate (% of healthy MRR)", 0.0, 100.0, plan.rate * 100, 0.1, key=f"{PREFIX}_rate")
    left.caption("Commission = healthy MRR x rate x coefficient of the book's health-rate MoM. Example: 1.2M ARR "
                 "all healthy, 1%, MoM 106% → 100,000 x 1% x 1.1 = 1,100 a month.")
    table = left.data_editor(incentive_plan.band_table(plan)[["from_mom", "coefficient"]], hide_index=True,
                             num_rows="dynamic", key=f"{PREFIX}_bands_incentive", width="stretch",
                             column_config={"from_mom": st.column_config.NumberColumn("MoM from (inclusive)", format="%.2f"),
                                            "coefficient": st.column_config.NumberColumn("Coefficient", format="%.2f")})
    try:
        edited = incentive_plan.plan_from_table(table, rate_pct / 100, plan)
    except UserError as err:
        right.error(str(err))
        return
    per_csm, teams = data.cached(incentives.payout_tables, selection.version, selection.month, selection.filters, edited)
    health = data.cached(metrics.health_data_status, selection.version, selection.filters, selection.month)
    if not health.ok:  # nothing scored in the slice: every commission is n/a, not 0.00
        with right:
            na.show_health(health, sidebar.month_label(selection.month),
                           "Commissions are n/a, not 0: they are paid on healthy MRR, and no account "
                           "of the selected books has a health score.")
        return
    money_columns = ("mrr", "healthy_mrr", "prev_mrr", "prev_healthy_mrr", "commission")
    labels = {"mrr": "MRR", "healthy_mrr": "Healthy MRR", "prev_mrr": "MRR last month",
              "prev_healthy_mrr": "Healthy MRR last month", "commission": "Commission", "csm": "CSM",
              "csm_team": "Team", "csms": "CSMs", "accounts": "Accounts", "overdue_accounts": "Overdue",
              "coefficient": "Coefficient", "mom": "MoM", "health_rate": "Health rate",
              "scored_accounts": "Scored accounts", "note": "Why n/a"}

    def shown(frame):  # numbers as text so that a missing one reads "n/a", not "None"
        return na.text_table(frame, money=money_columns, percent=("mom", "health_rate"),
                             decimal=("coefficient",), text=("note",))

    with right:
        st.markdown(f"**Payouts for {sidebar.month_label(selection.month)}**, per team")
        # key columns first and only (commission visible at every width); the CLI report has them all
        tables.dataframe(shown(teams), hide_index=True, width="stretch", column_config=labels,
                         column_order=("csm_team", "commission", "healthy_mrr", "mom", "csms"))
        st.markdown("Per CSM")
        tables.dataframe(shown(per_csm), hide_index=True, width="stretch", height=300, column_config=labels,
                         column_order=("csm", "commission", "healthy_mrr", "mom", "coefficient", "note"))
        without = per_csm[per_csm["commission"].isna()]
        if len(without):
            st.caption(f"Commission n/a for {len(without)} CSM{'s' if len(without) > 1 else ''} "
                       "whose book has no scored account this month (the reason is in the last column); "
                       "their team's commission adds only the CSMs with health data.")
    st.caption("Deferred renewals count as unhealthy: an account whose latest renewal due by the month end has no "
               "renewal order yet is not healthy MRR. MoM n/a (no healthy MRR last month) pays the neutral coefficient.")


def render() -> None:
    selection = sidebar.current()
    st.title(f"Renewal model & what-if · {sidebar.month_label(selection.month)}")
    bundle = data.cached(renewal_model.stored_bundle, selection.version)  # fitted at build time
    tabs = st.tabs(["Model", "Indicators", "Score calibration", "Scorecard what-if", "Incentives"],
                   key="model_tab", bind="query-params")
    with tabs[0]:
        _model_section(selection, bundle)
    with tabs[1]:
        _indicators_section(selection, bundle)
    with tabs[2]:
        _calibration_section(selection)
    with tabs[3]:
        _whatif_section(selection)
    with tabs[4]:
        _incentive_section(selection)


render()
