-- revenue_movements: the MRR movements of each month for a filtered slice
-- (cslib.views.revenue.movements; a parametrised query, not a model).
-- Parameters: $month_from, $month_to (the first and last month, 'YYYY-MM').
-- The filter_predicate marker below (the comment and the "true" after it) is replaced by
-- cslib.store.queries.render with the filters' predicate (whitelisted identifiers and
-- $filter_N parameters only).
-- Grain: one row per month with rows in the slice. opening_mrr is the previous month's
-- MRR of the slice's accounts of the month (start MRR), closing_mrr their MRR this
-- month; the seven signed movements sum to closing_mrr - opening_mrr.
with account_months as (
    select * from account_month
    where month >= $month_from
        and month <= $month_to
        and (/* filter_predicate */ true)
),

final as (
    select
        month,
        sum(prev_mrr) as opening_mrr,
        sum(new_mrr) as new_mrr,
        sum(reactivation_mrr) as reactivation_mrr,
        sum(upsell_mrr) as upsell_mrr,
        sum(cross_sell_mrr) as cross_sell_mrr,
        sum(usage_expansion_mrr) as usage_expansion_mrr,
        sum(contraction_mrr) as contraction_mrr,
        sum(churn_mrr) as churn_mrr,
        sum(mrr) as closing_mrr,
        count(*) filter (where is_active) as active_accounts
    from account_months
    group by month
)

select * from final
order by month
