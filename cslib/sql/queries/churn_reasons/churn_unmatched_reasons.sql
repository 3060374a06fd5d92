-- churn_unmatched_reasons: churn-reason entries (CSM churn_reason logs and churn events) of
-- the filtered accounts logged in a period that are the reason of no churn, with the churn
-- of the same account nearest to them (any distance) to tell whether a wider matching
-- window would help.
-- A parametrised query (not a model) with named parameters $month_from and $month_to (of
-- logged_on); the filter_predicate marker takes the slice as in churn_breakdown.sql.
-- days_from_nearest_churn: 0 inside the churn month, else days to the nearer edge of the
-- month (the distance churn_events uses); NULL when the account has no churn. An entry can
-- be within the window and still unmatched when another entry was nearer to that churn.
with entries as (
    select log_id, source, account_id, name, logged_on, reason_code_as_logged, note
    from churn_logs
    where kind = 'churn_reason'
        and month >= $month_from
        and month <= $month_to
        and (/* filter_predicate */ true)
),

used as (
    select distinct reason_log_id as log_id
    from churn_events
    where reason_log_id is not null
),

churns as (
    select
        account_id,
        churn_month,
        churn_month_start,
        cast(churn_month_start + interval 1 month - interval 1 day as date) as churn_month_end
    from churn_events
),

unmatched as (
    select e.*
    from entries as e
    where not exists (select 1 from used as u where u.log_id = e.log_id)
),

nearest as (
    select
        u.log_id,
        c.churn_month,
        case
            when u.logged_on < c.churn_month_start then date_diff('day', u.logged_on, c.churn_month_start)
            when u.logged_on > c.churn_month_end then date_diff('day', c.churn_month_end, u.logged_on)
            else 0
        end as days
    from unmatched as u
    inner join churns as c on c.account_id = u.account_id
    qualify row_number() over (partition by u.log_id order by days, c.churn_month) = 1
),

final as (
    select
        u.logged_on,
        u.account_id,
        u.name,
        u.source,
        u.reason_code_as_logged as reason_code,
        n.churn_month as nearest_churn_month,
        cast(n.days as integer) as days_from_nearest_churn,
        u.note,
        u.log_id
    from unmatched as u
    left join nearest as n on n.log_id = u.log_id
)

select * from final
order by logged_on, log_id
