-- flows_month: a month's transition matrix and both ARR bridges, for a filtered slice, in
-- one scan of flows_account_month (cslib.views.flows.transition_matrix and cslib.views.flows.bridges
-- read their part; the page's panel gets both from one query).
-- A parametrised query: named parameter $month ('YYYY-MM'); the filter_predicate marker
-- takes the slice (cslib.store.queries.render, alias 'f'). The slice is this month's row.
-- part 'matrix': key_a = from_state, key_b = to_state; arr is this month's ARR, except
--   churned flows: last month's ARR.
-- part 'bridge': key_a = bridge ('healthy' | 'unhealthy'), key_b = step. Steps are defined
--   in flows_account_month.sql; 'start' is last month's ARR of the accounts whose
--   last-month state was in the group, 'end' this month's ARR of those in the group now
--   (deferred counts in the unhealthy group). start + sum(steps) = end.
-- The rows are first summed per (from_state, state, step, step) combination (a few dozen
-- rows), so every output row reads that small table rather than the month's accounts.
with rows as (
    select * from flows_account_month as f
    where f.month = $month
        and (/* filter_predicate */ true)
),

combos as materialized (
    select
        from_state,
        state,
        healthy_step,
        unhealthy_step,
        count(*) as accounts,
        sum(arr) as arr,
        sum(prev_arr) as prev_arr,
        sum(case when state = 'churned' then prev_arr else arr end) as flow_arr,
        sum(healthy_step_arr) as healthy_step_arr,
        sum(unhealthy_step_arr) as unhealthy_step_arr
    from rows
    group by all
),

matrix as (
    select
        'matrix' as part,
        from_state as key_a,
        state as key_b,
        sum(accounts) as accounts,
        sum(flow_arr) as arr
    from combos
    group by from_state, state
),

bridge_ends as (
    select
        'bridge' as part,
        'healthy' as key_a,
        'start' as key_b,
        coalesce(sum(accounts) filter (where from_state = 'healthy'), 0) as accounts,
        coalesce(sum(prev_arr) filter (where from_state = 'healthy'), 0) as arr
    from combos
    union all
    select
        'bridge' as part,
        'healthy' as key_a,
        'end' as key_b,
        coalesce(sum(accounts) filter (where state = 'healthy'), 0) as accounts,
        coalesce(sum(arr) filter (where state = 'healthy'), 0) as arr
    from combos
    union all
    select
        'bridge' as part,
        'unhealthy' as key_a,
        'start' as key_b,
        coalesce(sum(accounts) filter (where from_state in ('unhealthy', 'deferred')), 0) as accounts,
        coalesce(sum(prev_arr) filter (where from_state in ('unhealthy', 'deferred')), 0) as arr
    from combos
    union all
    select
        'bridge' as part,
        'unhealthy' as key_a,
        'end' as key_b,
        coalesce(sum(accounts) filter (where state in ('unhealthy', 'deferred')), 0) as accounts,
        coalesce(sum(arr) filter (where state in ('unhealthy', 'deferred')), 0) as arr
    from combos
),

bridge_steps as (
    select
        'bridge' as part,
        'healthy' as key_a,
        healthy_step as key_b,
        sum(accounts) as accounts,
        sum(healthy_step_arr) as arr
    from combos
    where healthy_step is not null
    group by healthy_step
    union all
    select
        'bridge' as part,
        'unhealthy' as key_a,
        unhealthy_step as key_b,
        sum(accounts) as accounts,
        sum(unhealthy_step_arr) as arr
    from combos
    where unhealthy_step is not null
    group by unhealthy_step
),

final as (
    select * from matrix
    union all
    select * from bridge_ends
    union all
    select * from bridge_steps
)

select * from final
