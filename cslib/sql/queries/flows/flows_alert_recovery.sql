-- flows_alert_recovery: the best score after each alert's start date, for the recovery test.
-- A parametrised query run by cslib.views.alerts.alert_recovery with named parameters:
--   $alert_ids (list), $account_ids (list, same order), $start_dates (list of DATE:
--   acknowledgement date, or the alert's week when never acknowledged), $window_days
--   (window length in days). The window is the weeks with start_on < week_start <= start_on + days.
-- last_week is the last week_start in health_weekly (the window is complete when
-- last_week >= window_end).
with refs as (
    select
        unnest($alert_ids::varchar[]) as alert_id,
        unnest($account_ids::varchar[]) as account_id,
        unnest($start_dates::date[]) as start_on,
        $window_days::integer as window_days
),

data_end as (
    select max(week_start) as last_week from health_weekly
),

windows as (
    select
        alert_id,
        account_id,
        start_on,
        cast(start_on + window_days as date) as window_end
    from refs
),

best as (
    select w.alert_id, max(h.score) as best_score
    from windows as w
    inner join health_weekly as h
        on h.account_id = w.account_id
        and h.week_start > w.start_on
        and h.week_start <= w.window_end
    group by w.alert_id
),

final as (
    select w.alert_id, b.best_score, w.window_end, d.last_week
    from windows as w
    left join best as b on b.alert_id = w.alert_id
    cross join data_end as d
)

select * from final
