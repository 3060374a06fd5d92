-- flows_bridge: the healthy-ARR and unhealthy-ARR bridges of a month, for a filtered slice.
-- A parametrised query run by cslib.flows.bridges: 1. month ('YYYY-MM'), then the filter's
-- parameters (marker replaced by cslib.filters.Filters.where('f')). Steps are defined in
-- flows_account_month.sql; 'start' is last month's ARR of the accounts whose last-month
-- state was in the group, 'end' this month's ARR of those in the group now (deferred
-- counts in the unhealthy group). start + sum(steps) = end.
with rows as (
    select * from flows_account_month as f
    where f.month = ?
        and (/* filter_predicate */ true)
),

healthy_ends as (
    select
        'healthy' as bridge,
        'start' as step,
        coalesce(sum(prev_arr) filter (where from_state = 'healthy'), 0) as arr,
        count(*) filter (where from_state = 'healthy') as accounts
    from rows
    union all
    select
        'healthy' as bridge,
        'end' as step,
        coalesce(sum(arr) filter (where state = 'healthy'), 0) as arr,
        count(*) filter (where state = 'healthy') as accounts
    from rows
),

healthy_steps as (
    select 'healthy' as bridge, healthy_step as step, sum(healthy_step_arr) as arr, count(*) as accounts
    from rows
    where healthy_step is not null
    group by healthy_step
),

unhealthy_ends as (
    select
        'unhealthy' as bridge,
        'start' as step,
        coalesce(sum(prev_arr) filter (where from_state in ('unhealthy', 'deferred')), 0) as arr,
        count(*) filter (where from_state in ('unhealthy', 'deferred')) as accounts
    from rows
    union all
    select
        'unhealthy' as bridge,
        'end' as step,
        coalesce(sum(arr) filter (where state in ('unhealthy', 'deferred')), 0) as arr,
        count(*) filter (where state in ('unhealthy', 'deferred')) as accounts
    from rows
),

unhealthy_steps as (
    select 'unhealthy' as bridge, unhealthy_step as step, sum(unhealthy_step_arr) as arr, count(*) as accounts
    from rows
    where unhealthy_step is not null
    group by unhealthy_step
),

final as (
    select * from healthy_ends
    union all
    select * from healthy_steps
    union all
    select * from unhealthy_ends
    union all
    select * from unhealthy_steps
)

select * from final
