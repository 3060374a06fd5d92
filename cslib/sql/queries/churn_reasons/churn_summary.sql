-- churn_summary: the period's churn totals (one row), for the page's tiles.
-- A parametrised query (not a model) with named parameters $month_from and $month_to; the
-- filter_predicate marker takes the slice as in churn_breakdown.sql.
with churns as (
    select * from churn_events
    where churn_month >= $month_from
        and churn_month <= $month_to
        and (/* filter_predicate */ true)
),

final as (
    select
        count(*) as churned_accounts,
        coalesce(sum(churned_arr), 0) as churned_arr,
        count(*) filter (where avoidability = 'avoidable') as avoidable_accounts,
        coalesce(sum(churned_arr) filter (where avoidability = 'avoidable'), 0) as avoidable_arr,
        count(*) filter (where reason_code = 'no_reason_logged') as no_reason_accounts,
        coalesce(sum(churned_arr) filter (where reason_code = 'no_reason_logged'), 0) as no_reason_arr,
        count(*) filter (where reason_code = 'unclassified') as unclassified_accounts,
        count(*) filter (where lifecycle_stage = 'onboarding') as onboarding_accounts,
        count(*) filter (where weeks_scored > 0) as scored_accounts,
        count(*) filter (where last_tier = 'healthy') as healthy_at_churn_accounts
    from churns
)

select * from final
