-- churn_trend: churned accounts and ARR per churn month and reason category.
-- A parametrised query (not a model) with named parameters $month_from and $month_to; the
-- filter_predicate marker takes the slice as in churn_breakdown.sql.
-- Grain: one row per (month, category) with at least one churn.
with churns as (
    select * from churn_events
    where churn_month >= $month_from
        and churn_month <= $month_to
        and (/* filter_predicate */ true)
),

final as (
    select
        churn_month as month,
        category,
        count(*) as churned_accounts,
        sum(churned_arr) as churned_arr
    from churns
    group by churn_month, category
)

select * from final
order by month, category
