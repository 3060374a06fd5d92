-- churn_logs: every CSM log with its normalised reason code and the filter columns.
--
-- Grain: one row per raw_csm_logs row, plus one per raw_churn_feedback row (churn events
-- from an imported churn_feedback.csv): log_id 'churn-event:<account_id>:<churned_on>',
-- logged_on = churned_on, author 'churn event', kind 'churn_reason', note = feedback.
-- raw_csm_logs is never changed. source: 'csm_log' or 'churn_event'.
-- * reason_code: normalised by the staging views (surrounding whitespace removed, lower case, runs of
--   whitespace/hyphens -> '_'; empty -> NULL), as in churn_taxonomy; reason_code_as_logged
--   is the trimmed original.
-- * is_classified (churn_reason and risk_flag logs only; NULL for touchpoints and notes):
--   the code is in the taxonomy. An unclassified log is kept, never dropped.
-- * Filter columns: the account's attributes (raw_accounts) and lifecycle_stage of the
--   account's account_month row in the month of the log (NULL before its first revenue).
-- Stored in logged_on order so period scans skip row groups (zone maps).
create or replace table churn_logs as
with logs as (
    select 'csm_log' as source, log_id, account_id, logged_on, author, kind, reason_code, reason_code_normalised, note
    from stg_csm_logs
    union all
    select
        'churn_event' as source,
        'churn-event:' || account_id || ':' || strftime(churned_on, '%Y-%m-%d') as log_id,
        account_id,
        churned_on as logged_on,
        'churn event' as author,
        'churn_reason' as kind,
        reason_code,
        reason_code_normalised,
        feedback as note
    from stg_churn_feedback
),

taxonomy as (
    select reason_code from churn_taxonomy
),

accounts as (
    select * from stg_accounts
),

account_months as (
    select account_id, month, lifecycle_stage from account_month
),

normalised as (
    select
        source,
        log_id,
        account_id,
        logged_on,
        strftime(logged_on, '%Y-%m') as month,
        author,
        kind,
        nullif(trim(reason_code), '') as reason_code_as_logged,
        reason_code_normalised as reason_code,
        note
    from logs
),

final as (
    select
        n.log_id,
        n.source,
        n.account_id,
        n.logged_on,
        n.month,
        n.author,
        n.kind,
        n.reason_code_as_logged,
        n.reason_code,
        case
            when n.kind in ('churn_reason', 'risk_flag') then t.reason_code is not null
        end as is_classified,
        n.note,
        a.name,
        a.industry,
        a.region,
        a.segment,
        a.source_channel,
        a.csm,
        a.csm_team,
        coalesce(a.is_target, false) as is_target,
        m.lifecycle_stage
    from normalised as n
    left join taxonomy as t on t.reason_code = n.reason_code
    left join accounts as a on a.account_id = n.account_id
    left join account_months as m on m.account_id = n.account_id and m.month = n.month
)

select * from final
order by logged_on, log_id
