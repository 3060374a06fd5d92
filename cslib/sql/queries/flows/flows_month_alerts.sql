-- flows_month_alerts: the alerts of the weeks starting in a month, for a filtered slice.
-- A parametrised query (not a model), run by cslib.views.alerts.month_alerts with named
-- parameters: $month ('YYYY-MM') of the alerts and of the slice, and $alert_id when the
-- alert_predicate marker comment with the "true" after it is replaced by
-- "a.alert_id = $alert_id" to fetch one alert. The filter_predicate marker takes the slice
-- (cslib.store.queries.render, alias 'am').
-- The slice is the account's account_month row of the alert's month.
with alerts as (
    select * from health_alerts as a
    where a.month = $month
        and (/* alert_predicate */ true)
),

account_months as (
    select account_id, name, csm, csm_team
    from account_month as am
    where am.month = $month
        and (/* filter_predicate */ true)
),

final as (
    select
        a.alert_id,
        a.account_id,
        am.name,
        am.csm,
        am.csm_team,
        a.week_start,
        a.month,
        a.rule,
        a.nature,
        a.severity,
        a.detail,
        a.score,
        a.prev_score,
        a.score_change,
        a.tier,
        a.prev_tier,
        a.driver_indicator,
        a.driver_label,
        a.driver_change,
        a.indicator_changes
    from alerts as a
    inner join account_months as am on am.account_id = a.account_id
)

select * from final
