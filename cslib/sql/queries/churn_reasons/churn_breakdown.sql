-- churn_breakdown: churned accounts and churned ARR of a period, grouped by one dimension.
-- A parametrised query (not a model), run by cslib.views.churn.churn_breakdown:
--   1. first month, 2. last month ('YYYY-MM', churn month inclusive), then the filter's
--   parameters. The group_column marker (with the column after it) is replaced by a
--   column from cslib.views.churn.BREAKDOWNS (a whitelist); the filter_predicate marker by
--   cslib.filters.Filters.where(). Shares are of the period's total, so they add to 1.
-- Grain: one row per value of the dimension with at least one churn.
with churns as (
    select * from churn_events
    where churn_month >= ?
        and churn_month <= ?
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
