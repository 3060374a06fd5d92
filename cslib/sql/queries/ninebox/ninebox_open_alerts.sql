-- ninebox_open_alerts: alerts per account raised in the four weeks before a month's
-- end, from the health_alerts table (run only when that table exists).
-- A parametrised query (not a model), run by cslib.views.ninebox with named parameters:
--   $month ('YYYY-MM'), $account_ids (the accounts to count for, a list of account ids),
--   $closed_alert_ids (alert ids closed in the app store, a list of strings).
-- An alert is open unless the app store says it is closed (acknowledged still counts).
-- Grain: one row per account with at least one open alert.
with params as (
    select
        last_day(strptime($month::varchar || '-01', '%Y-%m-%d')::date) as month_end,
        $account_ids::varchar[] as account_ids,
        $closed_alert_ids::varchar[] as closed_alert_ids
),

alerts as (
    select alert_id, account_id, week_start from health_alerts
),

final as (
    select a.account_id, count(*) as open_alerts
    from alerts as a
    cross join params as p
    where a.week_start > p.month_end - 28
        and a.week_start <= p.month_end
        and list_contains(p.account_ids, a.account_id)
        and not list_contains(p.closed_alert_ids, cast(a.alert_id as varchar))
    group by a.account_id
)

select * from final
