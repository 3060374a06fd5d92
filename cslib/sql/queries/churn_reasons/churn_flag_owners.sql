-- churn_flag_owners: the period's red-light flags per routing owner (open / resolved).
-- A parametrised query (not a model) with the parameters and definitions of
-- churn_flags.sql ($as_of and $first_day; the filter_predicate marker takes the slice):
-- resolved when resolved_on <= the as-of date; age_days counts to the as-of date.
with params as (
    select cast($as_of as date) as as_of
),

flags as (
    select * from churn_risk_flags
    where raised_on >= cast($first_day as date)
        and raised_on <= cast($as_of as date)
        and (/* filter_predicate */ true)
),

statused as (
    select
        f.owner_department,
        coalesce(f.resolved_on <= p.as_of, false) as is_resolved,
        date_diff('day', f.raised_on, p.as_of) as age_days
    from flags as f
    cross join params as p
),

final as (
    select
        owner_department,
        cast(count(*) filter (where not is_resolved) as integer) as open,
        cast(count(*) filter (where is_resolved) as integer) as resolved,
        cast(count(*) as integer) as total,
        median(age_days) filter (where not is_resolved) as median_open_age_days
    from statused
    group by owner_department
)

select * from final
order by open desc, total desc, owner_department
