-- kpi_monthly: the components of every KPI in cslib.views.metrics, per month.
-- A parametrised query (not a model), run by cslib.views.metrics with named parameters:
--   $first_month and $last_month ('YYYY-MM', inclusive). The filter_predicate marker
-- below takes the slice (cslib.store.queries.render, no alias).
-- Grain: one row per month that has rows in the filtered slice. Money per month (MRR)
-- or per year (ARR); movements signed (contraction and churn <= 0). scored_accounts counts
-- the active accounts with a month-end health score (cslib.views.metrics: none -> health n/a).
with account_months as (
    select * from account_month
    where month >= $first_month
        and month <= $last_month
        and (/* filter_predicate */ true)
),

final as (
    select
        month,
        count(*) filter (where is_active) as active_accounts,
        -- active accounts with a month-end score: 0 makes every health metric n/a
        count(*) filter (where is_active and health_tier <> 'unscored') as scored_accounts,
        sum(mrr) as mrr,
        sum(arr) as arr,
        coalesce(sum(arr) filter (where is_active and health_tier = 'healthy' and not is_overdue), 0) as healthy_arr,
        sum(prev_mrr) as start_mrr,
        sum(new_mrr) as new_mrr,
        sum(reactivation_mrr) as reactivation_mrr,
        sum(upsell_mrr) as upsell_mrr,
        sum(cross_sell_mrr) as cross_sell_mrr,
        sum(usage_expansion_mrr) as usage_expansion_mrr,
        sum(upsell_mrr + cross_sell_mrr + usage_expansion_mrr) as expansion_mrr,
        sum(contraction_mrr) as contraction_mrr,
        sum(churn_mrr) as churn_mrr,
        cast(sum(renewals_due) as bigint) as renewals_due,
        cast(sum(renewals_decided) as bigint) as renewals_decided,
        cast(sum(renewals_renewed) as bigint) as renewals_renewed,
        sum(renewal_due_arr) as renewal_due_arr,
        sum(renewal_decided_arr) as renewal_decided_arr,
        sum(renewal_kept_arr) as renewal_kept_arr
    from account_months
    group by month
)

select * from final
order by month
