-- churn_breakdown: churned accounts and churned ARR of a period, grouped by one dimension.
-- A parametrised query (not a model), run by cslib.views.churn.churn_breakdown: named
--   parameters $month_from and $month_to ('YYYY-MM', churn month inclusive). The
--   group_column marker (with the column after it) is replaced by a column from
--   cslib.views.churn.BREAKDOWNS (a whitelist) or an account attribute's value (its name
--   bound as $attribute); the filter_predicate marker takes the slice
--   (cslib.store.queries.render, no alias). Shares are of the period's total, so they add to 1.
-- Grain: one row per value of the dimension with at least one churn.
with churns as (
    select * from churn_events
    where churn_month >= $month_from
        and churn_month <= $month_to
        and (/* filter_predicate */ true)
),

grouped as (
    select
        /* group_column */ reason_code as value,
        count(*) as churned_accounts,
        sum(churned_arr) as churned_arr,
        any_value(reason_label) as reason_label,
        any_value(category) as category,
        any_value(avoidability) as avoidability,
        any_value(owner_department) as owner_department
    from churns
    group by 1
),

final as (
    select
        value,
        churned_accounts,
        churned_arr,
        churned_accounts / sum(churned_accounts) over () as account_share,
        churned_arr / nullif(sum(churned_arr) over (), 0) as arr_share,
        reason_label,
        category,
        avoidability,
        owner_department
    from grouped
)

select * from final
order by churned_arr desc, churned_accounts desc, value
