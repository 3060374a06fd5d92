-- flows_matrix: the month-over-month transition matrix of a month, for a filtered slice.
-- A parametrised query run by cslib.flows.transition_matrix: 1. month ('YYYY-MM'), then
-- the filter's parameters (the filter_predicate marker comment with the "true" after it
-- is replaced by cslib.filters.Filters.where('f')). The slice is this month's row.
-- ARR of a flow: this month's ARR, except churned flows: last month's ARR.
with rows as (
    select * from flows_account_month as f
    where f.month = ?
        and (/* filter_predicate */ true)
),

final as (
    select
        from_state,
        state as to_state,
        count(*) as accounts,
        sum(case when state = 'churned' then prev_arr else arr end) as arr
    from rows
    group by from_state, state
)

select * from final
