-- kpi_usage_in_month: how many of a slice's active accounts have any health_weekly row
-- (scored or not) in a week starting in the month. A parametrised query (not a model), run
-- by cslib.views.metrics.health_data_status only when nothing in the slice is scored, to tell
-- "no usage this month" from "too few weeks of usage". Named parameter: $month
-- ('YYYY-MM'); the filter_predicate marker takes the slice (cslib.store.queries.render, alias 'a').
with slice as (
    select a.account_id, a.month_start
    from account_month as a
    where a.month = $month
        and a.is_active
        and (/* filter_predicate */ true)
),

final as (
    select count(*) as usage_accounts
    from slice as s
    where exists (
        select 1
        from health_weekly as h
        where h.account_id = s.account_id
            and h.week_start >= s.month_start
            and h.week_start < cast(s.month_start + interval 1 month as date)
    )
)

select * from final
