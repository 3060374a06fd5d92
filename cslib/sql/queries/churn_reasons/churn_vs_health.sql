-- churn_vs_health: per logged reason, what the health score said in the weeks before churn.
-- A parametrised query (not a model) with named parameters $month_from and $month_to; the
-- filter_predicate marker takes the slice as in churn_breakdown.sql.
-- Week shares pool every scored week of the reason's churns (weeks_* / weeks_scored);
-- mean_score is the mean of those weekly scores; healthy_at_churn_share is the share of
-- scored churns whose last scored week before churn was healthy.
with churns as (
    select * from churn_events
    where churn_month >= $month_from
        and churn_month <= $month_to
        and (/* filter_predicate */ true)
),

grouped as (
    select
        reason_code,
        any_value(reason_label) as reason_label,
        any_value(category) as category,
        count(*) as churned_accounts,
        sum(churned_arr) as churned_arr,
        count(*) filter (where weeks_scored > 0) as scored_accounts,
        sum(weeks_scored) as weeks_scored,
        sum(weeks_healthy) as weeks_healthy,
        sum(weeks_at_risk) as weeks_at_risk,
        sum(weeks_unhealthy) as weeks_unhealthy,
        sum(score_sum) as score_sum,
        count(*) filter (where last_tier = 'healthy') as healthy_at_churn
    from churns
    group by reason_code
),

final as (
    select
        reason_code,
        reason_label,
        category,
        churned_accounts,
        churned_arr,
        scored_accounts,
        weeks_scored,
        score_sum / nullif(weeks_scored, 0) as mean_score,
        weeks_healthy / nullif(weeks_scored, 0) as healthy_week_share,
        weeks_at_risk / nullif(weeks_scored, 0) as at_risk_week_share,
        weeks_unhealthy / nullif(weeks_scored, 0) as unhealthy_week_share,
        healthy_at_churn / nullif(scored_accounts, 0) as healthy_at_churn_share
    from grouped
)

select * from final
order by churned_accounts desc, reason_code
