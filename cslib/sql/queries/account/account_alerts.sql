-- account_alerts: one account's health alerts raised up to a month (the Account page). A
-- parametrised query (not a model), run by cslib.views.account with named parameters:
-- $account_id and $month (the last month, 'YYYY-MM').
-- Grain: one row per alert, newest first. Statuses live in the app store and are merged
-- by cslib.views.account.
with params as (
    select $account_id::varchar as account_id, $month::varchar as month
),

final as (
    select
        a.alert_id,
        a.week_start,
        a.month,
        a.rule,
        a.nature,
        a.severity,
        a.detail,
        a.score,
        a.score_change,
        a.tier,
        a.driver_label
    from health_alerts as a
    cross join params as p
    where a.account_id = p.account_id
        and a.month <= p.month
    order by a.week_start desc, a.alert_id
)

select * from final
