-- revenue_breakdown: a period's MRR movements per group of one dimension
-- (cslib.views.revenue.breakdown; a parametrised query, not a model).
-- Parameters: $month_from, $month_to (the first and last month, 'YYYY-MM'); $attribute
-- when the group is an account attribute.
-- Markers replaced by cslib.views.revenue: the group_column marker (the comment and the
-- column after it; a column from cslib.views.revenue.BREAKDOWN_DIMENSIONS only) and the
-- filter_predicate marker (as in revenue_movements.sql).
-- Grain: one row per group value. start_mrr is the sum over the period's months of each
-- month's start MRR, and the movements are summed over the same months, so a rate
-- computed from them is the MRR-weighted average monthly rate of the period (labelled so);
-- the group's period NRR and GRR come from revenue_period_retention.sql.
with account_months as (
    select
        /* group_column */ segment as group_value,
        *
    from account_month
    where month >= $month_from
        and month <= $month_to
        and (/* filter_predicate */ true)
),

final as (
    select
        coalesce(cast(group_value as varchar), '(none)') as group_value,
        count(distinct account_id) filter (where is_active) as active_accounts,
        sum(prev_mrr) as start_mrr,
        sum(new_mrr) as new_mrr,
        sum(reactivation_mrr) as reactivation_mrr,
        sum(upsell_mrr) as upsell_mrr,
        sum(cross_sell_mrr) as cross_sell_mrr,
        sum(usage_expansion_mrr) as usage_expansion_mrr,
        sum(upsell_mrr + cross_sell_mrr + usage_expansion_mrr) as expansion_mrr,
        sum(contraction_mrr) as contraction_mrr,
        sum(churn_mrr) as churn_mrr
    from account_months
    group by 1
)

select * from final
order by group_value
