-- account_month: the account-month mart every page reads.
--
-- Grain: one row per account per month, dense, from the account's first month with
-- revenue to the last month in the data (months after churn have mrr 0).
-- * prev_mrr is the account's MRR of the previous month (0 in its first month), so
--   mrr - prev_mrr equals the sum of the month's movements.
-- * tenure_months: 1 = first revenue month; lifecycle_stage from tenure: onboarding 1-3,
--   adoption 4-12, established 13+.
-- * Health is month-end: the health_weekly row with the latest week_start inside the
--   month. health_score is that row's score (NULL when none or unscored);
--   health_tier is its tier, 'unscored' when the month has no scored row, NULL when the
--   account is not active.
-- * value_tier (active rows only) from cfg_value_tiers: 'fixed' compares ARR with the
--   cut-offs (inclusive); 'quantile' ranks each month's active target accounts by ARR
--   (ties share the better tier): an account is high when the share of target accounts
--   with strictly higher ARR is below high_share, mid when below high_share + mid_share.
--   Non-target accounts are placed against the target accounts' ranking, so they do not
--   shift anybody's tier. A month with no active target account ranks all active ones.
-- * is_overdue (active rows only; the one overdue definition every page uses): at the
--   month's last day, the account's latest renewal due on or before that day has no
--   renewal order dated on or before it (renewed_on NULL or later), and the account has
--   had revenue every month since that renewal's due month. Point in time: the renewal's
--   later outcome plays no part.
-- * Renewals are counted in the month of due_on; renewals due outside the account's
--   rows (before its first revenue or after the data) are not in the mart.
create or replace table account_month as
with revenue as (
    select * from stg_revenue
),

movements as (
    select * from mrr_movements
),

accounts as (
    select * from stg_accounts
),

health as (
    select account_id, week_start, score, tier from health_weekly
),

renewals as (
    select * from stg_renewals
),

value_tier_rule as (
    select * from cfg_value_tiers limit 1
),

data_end as (
    select max(month_start) as last_month_start from revenue
),

account_revenue as (
    select
        account_id,
        month_start,
        sum(subscription_mrr) as subscription_mrr,
        sum(usage_mrr) as usage_mrr,
        sum(mrr) as mrr
    from revenue
    group by account_id, month_start
),

first_months as (
    select account_id, min(month_start) as first_month_start
    from account_revenue
    where mrr > 0
    group by account_id
),

spine as (
    select
        f.account_id,
        f.first_month_start,
        cast(unnest(generate_series(f.first_month_start, d.last_month_start, interval 1 month)) as date)
            as month_start
    from first_months as f
    cross join data_end as d
),

monthly_revenue as (
    select
        s.account_id,
        s.month_start,
        cast(date_diff('month', s.first_month_start, s.month_start) + 1 as integer) as tenure_months,
        coalesce(r.subscription_mrr, 0) as subscription_mrr,
        coalesce(r.usage_mrr, 0) as usage_mrr,
        coalesce(r.mrr, 0) as mrr
    from spine as s
    left join account_revenue as r
        on r.account_id = s.account_id and r.month_start = s.month_start
),

with_prev as (
    select
        *,
        mrr * 12 as arr,
        coalesce(lag(mrr) over (partition by account_id order by month_start), 0) as prev_mrr,
        mrr > 0 as is_active,
        case
            when tenure_months <= 3 then 'onboarding'
            when tenure_months <= 12 then 'adoption'
            else 'established'
        end as lifecycle_stage
    from monthly_revenue
),

-- the account's attributes (name, segment, csm, ...) join once, at the end: the joins
-- and windows in between carry narrow rows
with_target as (
    select
        w.*,
        coalesce(a.is_target, false) as is_target
    from with_prev as w
    left join accounts as a on a.account_id = w.account_id
),

month_end_health as (
    select
        account_id,
        date_trunc('month', week_start)::date as month_start,
        arg_max_null({'score': score, 'tier': tier}, week_start) as latest
    from health
    group by account_id, date_trunc('month', week_start)::date
),

monthly_movements as (
    select
        account_id,
        month_start,
        sum(new_mrr) as new_mrr,
        sum(reactivation_mrr) as reactivation_mrr,
        sum(upsell_mrr) as upsell_mrr,
        sum(cross_sell_mrr) as cross_sell_mrr,
        sum(usage_expansion_mrr) as usage_expansion_mrr,
        sum(contraction_mrr) as contraction_mrr,
        sum(churn_mrr) as churn_mrr
    from movements
    group by account_id, month_start
),

monthly_renewals as (
    select
        account_id,
        date_trunc('month', due_on)::date as month_start,
        count(*) as renewals_due,
        count(*) filter (where outcome <> 'pending') as renewals_decided,
        count(*) filter (where outcome = 'renewed') as renewals_renewed,
        sum(due_arr) as renewal_due_arr,
        coalesce(sum(due_arr) filter (where outcome <> 'pending'), 0) as renewal_decided_arr,
        coalesce(
            sum(least(coalesce(renewed_arr, 0), due_arr)) filter (where outcome = 'renewed'), 0
        ) as renewal_kept_arr
    from renewals
    group by account_id, date_trunc('month', due_on)::date
),

renewal_dues as (
    -- one row per account and due date; last_order_on is NULL when a renewal due that day
    -- has no renewal order at all, else the latest order date among them
    select
        account_id,
        due_on,
        case when bool_or(renewed_on is null) then null else max(renewed_on) end as last_order_on
    from renewals
    group by account_id, due_on
),

active_spells as (
    -- the latest month up to this one without revenue (NULL: active since the first month)
    select
        account_id,
        month_start,
        (month_start + interval 1 month - interval 1 day)::date as month_end_on,
        max(case when not is_active then month_start end) over (
            partition by account_id order by month_start rows between unbounded preceding and current row
        ) as last_inactive_month_start
    from with_target
),

overdue_months as (
    -- method section 3, point in time: at a month end an account is overdue when its latest
    -- renewal due on or before that day has no renewal order dated on or before it, and it
    -- is still active (revenue every month from the due month through this one: a churn
    -- closes the renewal, an account won back starts afresh). Only what was known at the
    -- month end counts; the renewal's later outcome (churned, renewed late, deferred) does not.
    select s.account_id, s.month_start
    from active_spells as s
    asof inner join renewal_dues as r
        on r.account_id = s.account_id
        and r.due_on <= s.month_end_on
    where s.last_inactive_month_start is distinct from s.month_start
        and (r.last_order_on is null or r.last_order_on > s.month_end_on)
        and (s.last_inactive_month_start is null or s.last_inactive_month_start < date_trunc('month', r.due_on))
),

active_ranked as (
    -- share of the month's active target accounts with strictly higher ARR
    select
        account_id,
        month_start,
        sum(is_target::int) over (partition by month_start) as n_target,
        count(*) over (partition by month_start) as n_active,
        sum(is_target::int) over (partition by month_start order by arr desc)
            - sum(is_target::int) over (partition by month_start, arr) as target_above,
        rank() over (partition by month_start order by arr desc) - 1 as active_above
    from with_target
    where is_active
),

active_positions as (
    select
        account_id,
        month_start,
        case
            when n_target > 0 then target_above / n_target
            else active_above / n_active
        end as arr_position
    from active_ranked
),

joined as (
    select
        w.*,
        h.latest.score as health_score,
        h.latest.tier as week_tier,
        p.arr_position,
        o.account_id is not null as is_overdue,
        coalesce(m.new_mrr, 0) as new_mrr,
        coalesce(m.reactivation_mrr, 0) as reactivation_mrr,
        coalesce(m.upsell_mrr, 0) as upsell_mrr,
        coalesce(m.cross_sell_mrr, 0) as cross_sell_mrr,
        coalesce(m.usage_expansion_mrr, 0) as usage_expansion_mrr,
        coalesce(m.contraction_mrr, 0) as contraction_mrr,
        coalesce(m.churn_mrr, 0) as churn_mrr,
        cast(coalesce(rn.renewals_due, 0) as integer) as renewals_due,
        cast(coalesce(rn.renewals_decided, 0) as integer) as renewals_decided,
        cast(coalesce(rn.renewals_renewed, 0) as integer) as renewals_renewed,
        coalesce(rn.renewal_due_arr, 0) as renewal_due_arr,
        coalesce(rn.renewal_decided_arr, 0) as renewal_decided_arr,
        coalesce(rn.renewal_kept_arr, 0) as renewal_kept_arr
    from with_target as w
    left join month_end_health as h
        on h.account_id = w.account_id and h.month_start = w.month_start
    left join active_positions as p
        on p.account_id = w.account_id and p.month_start = w.month_start
    left join monthly_movements as m
        on m.account_id = w.account_id and m.month_start = w.month_start
    left join monthly_renewals as rn
        on rn.account_id = w.account_id and rn.month_start = w.month_start
    left join overdue_months as o
        on o.account_id = w.account_id and o.month_start = w.month_start
),

tiered as (
    select
        j.*,
        case
            when not j.is_active then null
            else coalesce(j.week_tier, 'unscored')
        end as health_tier,
        case
            when not j.is_active then null
            when v.method = 'fixed' then
                case
                    when j.arr >= v.high_min_arr then 'high'
                    when j.arr >= v.mid_min_arr then 'mid'
                    else 'low'
                end
            -- the epsilon keeps 2/10 from landing above a share written as 0.2
            when j.arr_position < v.high_share - 1e-9 then 'high'
            when j.arr_position < v.high_share + v.mid_share - 1e-9 then 'mid'
            else 'low'
        end as value_tier
    from joined as j
    left join value_tier_rule as v on true
),

final as (
    select
        t.account_id,
        strftime(t.month_start, '%Y-%m') as month,
        t.month_start,
        a.name,
        a.industry,
        a.region,
        a.segment,
        a.source_channel,
        a.csm,
        a.csm_team,
        t.is_target,
        t.tenure_months,
        t.lifecycle_stage,
        t.subscription_mrr,
        t.usage_mrr,
        t.mrr,
        t.arr,
        t.prev_mrr,
        t.is_active,
        t.health_score,
        t.health_tier,
        t.is_overdue,
        t.value_tier,
        t.new_mrr,
        t.reactivation_mrr,
        t.upsell_mrr,
        t.cross_sell_mrr,
        t.usage_expansion_mrr,
        t.contraction_mrr,
        t.churn_mrr,
        t.renewals_due,
        t.renewals_decided,
        t.renewals_renewed,
        t.renewal_due_arr,
        t.renewal_decided_arr,
        t.renewal_kept_arr
    from tiered as t
    left join accounts as a on a.account_id = t.account_id
    -- stored in month order: a page's query for one month or a 13-month range reads only
    -- those months' row groups (DuckDB zone maps skip the rest)
    order by t.month_start, t.account_id
)

select * from final
