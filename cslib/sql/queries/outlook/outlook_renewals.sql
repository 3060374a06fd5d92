-- outlook_renewals: the renewals of a slice's active accounts that fall due in the 12 months
-- after a month, with the account's health tier at that month's end (the ARR outlook). A
-- parametrised query (not a model), run by cslib.views.outlook with bound parameters: $month
-- ('YYYY-MM'), $month_end_on (its last day), $horizon_end_on (the last day of the 12th month
-- after it); the filter_predicate marker takes the sidebar's predicate for alias n
-- (cslib.store.queries.render).
-- Grain: one row per renewal (account x due date). Only contract dates known at the month's
-- end are read (due_on, due_arr); no outcome. health_tier is the Nine-box's (overdue =
-- unhealthy; 'unscored' without a score).
with params as (
    select $month::varchar as month, $month_end_on::date as month_end_on, $horizon_end_on::date as horizon_end_on
),

accounts as (
    select n.account_id, n.health_tier
    from ninebox_account_month as n
    cross join params as p
    where n.month = p.month
        and n.is_active
        and (/* filter_predicate */ true)
),

final as (
    select
        r.account_id,
        r.due_on,
        strftime(r.due_on, '%Y-%m') as due_month,
        r.due_arr,
        coalesce(a.health_tier, 'unscored') as health_tier
    from stg_renewals as r
    cross join params as p
    inner join accounts as a
        on a.account_id = r.account_id
    where r.due_on > p.month_end_on
        and r.due_on <= p.horizon_end_on
    order by r.due_on, r.account_id
)

select * from final
