-- account_flags: one account's red-light flags raised up to a day, as known that day (the
-- Account page). A parametrised query (not a model), run by cslib.views.account with named
-- parameters: $account_id and $last_on (the last day: the month's last day).
-- Grain: one row per flag, newest first. A flag resolved after the day is still open on it
-- (resolved_on and resolved_by are NULL then).
with params as (
    select $account_id::varchar as account_id, $last_on::date as last_on
),

final as (
    select
        f.flag_id,
        f.raised_on::date as raised_on,
        f.flag_label,
        f.owner_department,
        f.raised_by,
        f.note,
        case when f.resolved_on::date <= p.last_on then f.resolved_on::date end as resolved_on,
        case when f.resolved_on::date <= p.last_on then f.resolved_by end as resolved_by
    from churn_risk_flags as f
    cross join params as p
    where f.account_id = p.account_id
        and f.raised_on::date <= p.last_on
    order by f.raised_on desc, f.flag_id
)

select * from final
