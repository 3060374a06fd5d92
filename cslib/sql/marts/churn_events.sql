-- churn_events: one row per account churn, with its logged reason and its health before.
--
-- A churn is an account-month of account_month whose MRR is 0 while the previous month's
-- was > 0 (the mrr_movements churn: the account's total MRR goes to zero). churn_month is
-- that first month without revenue; churned_arr is the ARR before churn (previous month's
-- MRR x 12). Parameters come from cfg_churn (written by cslib.views.churn.prepare_churn_tables).
-- * Attributes (segment ... csm_team, is_target) are the account's; lifecycle_stage and
--   tenure_months are those of the last paid month (so a churn after months 1-3 is an
--   'onboarding' churn), and the sidebar's lifecycle filter applies to them.
-- * contract_stage: 'first_renewal' when the account had no renewed renewal (outcome
--   'renewed', due on or after the start of its current revenue run and renewed before the
--   churn month) -- it left at or before its first renewal; otherwise 'later_renewal'.
--   The current run starts at the account's latest new or reactivation month.
-- * Reason: the churn_reason log of the account nearest to the churn month: distance 0
--   inside the churn month, else days to the nearer edge of the month; only logs within
--   reason_window_days of the month count; ties go to the later log (then the larger
--   log_id). No such log -> 'no_reason_logged'; a log whose code is not in the taxonomy
--   (or empty) -> 'unclassified'. Both have avoidability 'unknown'.
-- * Health before churn: health_weekly rows of the health_weeks weeks that start before
--   the churn month's first day (week_start in [churn start - 7 x health_weeks days,
--   churn start)). weeks_scored counts weeks with a score; tier shares use weeks_scored.
-- Stored in churn_month order so period scans skip row groups (zone maps).
create or replace table churn_events as
with account_months as (
    select * from account_month
),

logs as (
    select log_id, account_id, logged_on, reason_code, reason_code_as_logged, note
    from churn_logs
    where kind = 'churn_reason'
),

taxonomy as (
    select * from churn_taxonomy
),

health as (
    select account_id, week_start, score, tier from health_weekly
),

renewed as (
    select account_id, due_on, renewed_on
    from stg_renewals
    where outcome = 'renewed' and renewed_on is not null
),

params as (
    select * from cfg_churn limit 1
),

with_history as (
    select
        *,
        lag(lifecycle_stage) over (partition by account_id order by month_start) as prev_lifecycle_stage,
        lag(tenure_months) over (partition by account_id order by month_start) as prev_tenure_months,
        max(case when new_mrr > 0 or reactivation_mrr > 0 then month_start end)
            over (partition by account_id order by month_start) as run_start
    from account_months
),

churns as (
    select
        account_id,
        name,
        month as churn_month,
        month_start as churn_month_start,
        cast(month_start + interval 1 month - interval 1 day as date) as churn_month_end,
        strftime(month_start - interval 1 month, '%Y-%m') as last_paid_month,
        prev_mrr * 12 as churned_arr,
        segment,
        industry,
        region,
        source_channel,
        csm,
        csm_team,
        is_target,
        prev_lifecycle_stage as lifecycle_stage,
        prev_tenure_months as tenure_months,
        run_start
    from with_history
    where mrr = 0 and prev_mrr > 0
),

renewals_before as (
    select
        c.account_id,
        c.churn_month,
        count(*) as renewals_before
    from churns as c
    inner join renewed as r
        on r.account_id = c.account_id
        and r.due_on >= c.run_start
        and r.renewed_on < c.churn_month_start
    group by c.account_id, c.churn_month
),

candidates as (
    select
        c.account_id,
        c.churn_month,
        l.log_id,
        l.logged_on,
        l.reason_code,
        l.reason_code_as_logged,
        l.note,
        case
            when l.logged_on < c.churn_month_start then date_diff('day', l.logged_on, c.churn_month_start)
            when l.logged_on > c.churn_month_end then date_diff('day', c.churn_month_end, l.logged_on)
            else 0
        end as days_from_churn_month
    from churns as c
    inner join logs as l on l.account_id = c.account_id
    cross join params as p
    where l.logged_on >= c.churn_month_start - p.reason_window_days
        and l.logged_on <= c.churn_month_end + p.reason_window_days
),

matched as (
    select *
    from candidates
    qualify row_number() over (
        partition by account_id, churn_month
        order by days_from_churn_month, logged_on desc, log_id desc
    ) = 1
),

pre_churn_health as (
    select
        c.account_id,
        c.churn_month,
        count(*) as weeks_observed,
        count(h.score) as weeks_scored,
        count(*) filter (where h.tier = 'healthy') as weeks_healthy,
        count(*) filter (where h.tier = 'at_risk') as weeks_at_risk,
        count(*) filter (where h.tier = 'unhealthy') as weeks_unhealthy,
        sum(h.score) as score_sum,
        arg_max(h.score, h.week_start) filter (where h.score is not null) as last_score,
        arg_max(h.tier, h.week_start) filter (where h.score is not null) as last_tier
    from churns as c
    cross join params as p
    inner join health as h
        on h.account_id = c.account_id
        and h.week_start >= c.churn_month_start - 7 * p.health_weeks
        and h.week_start < c.churn_month_start
    group by c.account_id, c.churn_month
),

final as (
    select
        c.account_id,
        c.name,
        c.churn_month,
        c.churn_month_start,
        c.last_paid_month,
        c.churned_arr,
        c.segment,
        c.industry,
        c.region,
        c.source_channel,
        c.csm,
        c.csm_team,
        c.is_target,
        c.lifecycle_stage,
        c.tenure_months,
        case when rb.renewals_before is null then 'first_renewal' else 'later_renewal' end as contract_stage,
        cast(coalesce(rb.renewals_before, 0) as integer) as renewals_before,
        m.log_id as reason_log_id,
        m.logged_on as reason_logged_on,
        cast(m.days_from_churn_month as integer) as days_from_churn_month,
        m.reason_code_as_logged,
        m.note as reason_note,
        case
            when m.log_id is null then 'no_reason_logged'
            when t.reason_code is null then 'unclassified'
            else t.reason_code
        end as reason_code,
        case
            when m.log_id is null then 'No reason logged'
            when t.reason_code is null then 'Unclassified (code not in the taxonomy)'
            else t.label
        end as reason_label,
        case
            when m.log_id is null then 'no_reason_logged'
            when t.reason_code is null then 'unclassified'
            else t.category
        end as category,
        case
            when t.reason_code is null then 'unknown'
            when t.is_avoidable then 'avoidable'
            else 'unavoidable'
        end as avoidability,
        coalesce(t.owner_department, 'unassigned') as owner_department,
        cast(coalesce(h.weeks_observed, 0) as integer) as weeks_observed,
        cast(coalesce(h.weeks_scored, 0) as integer) as weeks_scored,
        cast(coalesce(h.weeks_healthy, 0) as integer) as weeks_healthy,
        cast(coalesce(h.weeks_at_risk, 0) as integer) as weeks_at_risk,
        cast(coalesce(h.weeks_unhealthy, 0) as integer) as weeks_unhealthy,
        coalesce(h.score_sum, 0) as score_sum,
        h.score_sum / nullif(h.weeks_scored, 0) as mean_score,
        h.last_score,
        h.last_tier
    from churns as c
    left join renewals_before as rb
        on rb.account_id = c.account_id and rb.churn_month = c.churn_month
    left join matched as m
        on m.account_id = c.account_id and m.churn_month = c.churn_month
    left join taxonomy as t on t.reason_code = m.reason_code
    left join pre_churn_health as h
        on h.account_id = c.account_id and h.churn_month = c.churn_month
)

select * from final
order by churn_month, account_id
