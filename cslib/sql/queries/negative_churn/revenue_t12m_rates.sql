-- revenue_t12m_rates: trailing-12-month NRR / GRR inputs per month for a filtered slice
-- (cslib.views.revenue.rates; a parametrised query over the revenue_t12m model).
-- Parameters: $month_from, $month_to (the first and last month, 'YYYY-MM'); the
-- filter_predicate marker below is replaced as in revenue_movements.sql.
-- Grain: one row per month M with a non-empty cohort (accounts active in M-12).
with windows as (
    select * from revenue_t12m
    where month >= $month_from
        and month <= $month_to
        and (/* filter_predicate */ true)
),

final as (
    select
        month,
        sum(start_mrr) as t12m_start_mrr,
        sum(retained_mrr) as t12m_retained_mrr,
        sum(gross_retained_mrr) as t12m_gross_retained_mrr,
        sum(window_reactivation_mrr) as t12m_reactivation_mrr,
        count(*) as t12m_accounts
    from windows
    group by month
)

select * from final
order by month
