-- churn_flags: the red-light board of a period: flags raised in it, status as of its end.
-- A parametrised query (not a model) with named parameters: $as_of (last day of the
-- period), $first_day (of the period) and $limit (rows); the filter_predicate marker takes
-- the slice as in churn_breakdown.sql.
-- status: 'resolved' when resolved_on <= as-of date, else 'open'; age_days = as-of date
-- minus raised_on; days_to_resolve = resolved_on - raised_on for resolved flags.
-- Open flags first, oldest first. The board is chosen on narrow columns, then the wide
-- ones (names, notes) are fetched for those rows only.
with params as (
    select cast($as_of as date) as as_of
),

flags as (
    select flag_id, raised_on, resolved_on
    from churn_risk_flags
    where raised_on >= cast($first_day as date)
        and raised_on <= cast($as_of as date)
        and (/* filter_predicate */ true)
),

board as (
    select
        f.flag_id,
        f.raised_on,
        coalesce(f.resolved_on <= p.as_of, false) as is_resolved,
        p.as_of
    from flags as f
    cross join params as p
    order by is_resolved, f.raised_on, f.flag_id
    limit $limit
),

final as (
    select
        f.flag_id,
        f.raised_on,
        f.account_id,
        f.name,
        f.source,
        f.flag_code,
        f.flag_label,
        f.owner_department,
        case when b.is_resolved then 'resolved' else 'open' end as status,
        cast(date_diff('day', f.raised_on, b.as_of) as integer) as age_days,
        case when b.is_resolved then f.resolved_on end as resolved_on,
        case when b.is_resolved then cast(date_diff('day', f.raised_on, f.resolved_on) as integer) end
            as days_to_resolve,
        case when b.is_resolved then f.resolved_by end as resolved_by,
        f.raised_by,
        f.score,
        f.note,
        f.csm,
        b.is_resolved
    from board as b
    inner join churn_risk_flags as f on f.raised_on = b.raised_on and f.flag_id = b.flag_id
)

select * exclude (is_resolved) from final
order by is_resolved, raised_on, flag_id
