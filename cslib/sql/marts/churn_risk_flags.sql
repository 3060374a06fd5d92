-- churn_risk_flags: red-light flags (method section 6) with routing owner and resolution.
--
-- Grain: one row per flag. Sources:
-- * csm_log: a csm_logs row of kind 'risk_flag' (code = its normalised reason_code;
--   'unclassified' when the code is not in the taxonomy or empty);
-- * nps: an events row of kind 'nps' with score <= 6 (a detractor) given by a key user:
--   role admin, dept_head or key_user (case-insensitive) -> code 'nps_detractor';
-- * complaint: an events row of kind 'complaint' -> code 'complaint'.
-- owner_department comes from the taxonomy row of the code ('unassigned' when missing).
-- resolved_on: the earliest of (a) a touchpoint or note log of the account dated after
-- raised_on, (b) renewed_on of a renewal with outcome 'renewed' dated after raised_on;
-- NULL while neither exists. A flag is resolved as of a date d when resolved_on <= d.
-- Filter columns: the account's attributes and the lifecycle_stage of its account_month
-- row in the month the flag was raised (NULL before its first revenue).
-- Stored in raised_on order so period scans skip row groups (zone maps).
create or replace table churn_risk_flags as
with logs as (
    select * from churn_logs
),

events as (
    select file_row as event_row, * exclude (file_row) from stg_events
),

taxonomy as (
    select * from churn_taxonomy
),

accounts as (
    select * from stg_accounts
),

account_months as (
    select account_id, month, lifecycle_stage from account_month
),

log_flags as (
    select
        log_id as flag_id,
        account_id,
        logged_on as raised_on,
        'csm_log' as source,
        case when is_classified then reason_code else 'unclassified' end as flag_code,
        reason_code_as_logged as code_as_logged,
        author as raised_by,
        cast(null as double) as score,
        note
    from logs
    where kind = 'risk_flag'
),

event_flags as (
    select
        'event-' || cast(event_row + 1 as varchar) as flag_id,
        account_id,
        occurred_on as raised_on,
        kind as source,
        case when kind = 'nps' then 'nps_detractor' else 'complaint' end as flag_code,
        cast(null as varchar) as code_as_logged,
        nullif(trim(role), '') as raised_by,
        score,
        note
    from events
    where kind = 'complaint'
        or (
            kind = 'nps'
            and score <= 6
            and lower(trim(role)) in ('admin', 'dept_head', 'key_user')
        )
),

flags as (
    select * from log_flags
    union all
    select * from event_flags
),

follow_ups as (
    select account_id, logged_on as followed_up_on
    from logs
    where kind in ('touchpoint', 'note')
),

renewed as (
    select account_id, renewed_on
    from stg_renewals
    where outcome = 'renewed' and renewed_on is not null
),

with_follow_up as (
    select f.*, u.followed_up_on
    from flags as f
    asof left join follow_ups as u
        on u.account_id = f.account_id and u.followed_up_on > f.raised_on
),

with_renewal as (
    select f.*, r.renewed_on
    from with_follow_up as f
    asof left join renewed as r
        on r.account_id = f.account_id and r.renewed_on > f.raised_on
),

final as (
    select
        f.flag_id,
        f.account_id,
        a.name,
        f.raised_on,
        strftime(f.raised_on, '%Y-%m') as month,
        f.source,
        f.flag_code,
        f.code_as_logged,
        coalesce(t.label, 'Unclassified (code not in the taxonomy)') as flag_label,
        coalesce(t.owner_department, 'unassigned') as owner_department,
        f.raised_by,
        f.score,
        f.note,
        least(f.followed_up_on, f.renewed_on) as resolved_on,
        case
            when f.followed_up_on is null and f.renewed_on is null then null
            when f.renewed_on is null or f.followed_up_on <= f.renewed_on then 'follow_up'
            else 'renewal'
        end as resolved_by,
        a.industry,
        a.region,
        a.segment,
        a.source_channel,
        a.csm,
        a.csm_team,
        coalesce(a.is_target, false) as is_target,
        m.lifecycle_stage
    from with_renewal as f
    left join taxonomy as t on t.reason_code = f.flag_code
    left join accounts as a on a.account_id = f.account_id
    left join account_months as m
        on m.account_id = f.account_id and m.month = strftime(f.raised_on, '%Y-%m')
)

select * from final
order by raised_on, flag_id
