-- revenue_t12m: trailing-12-month retention inputs per account x month (a page model for
-- the Negative churn page, cslib.views.revenue).
--
-- Grain: one row per account and month M (from account_month) where the account was
-- active (mrr > 0) in month M-12, the start of the window. The window is the twelve
-- months M-11..M; its cohort is every account active in M-12.
-- * start_mrr: MRR in month M-12; end_mrr: MRR in month M (0 when not paying then).
-- * The rates are true retention over the window, as every period rate of the page
--   (revenue_period_retention.sql with the 12 months ending with M; docs/pages.md "Negative
--   churn page"): retained_mrr = end_mrr (an account of the cohort that churned and came back
--   inside the window counts with its MRR at M; accounts not active in M-12 are never in
--   the cohort), and gross_retained_mrr = least(greatest(end_mrr, 0), start_mrr): capped
--   at where it started (expansion ignored) and floored at 0, so no account loses more
--   than 100% of its start MRR.
-- * window_reactivation_mrr: reactivation movements of the account in months M-11..M
--   (shown for information: how much of the cohort's end MRR came back after a churn).
-- * The filter columns (segment ... is_target) are static account attributes, except
--   lifecycle_stage, which is the stage at the start of the window (month M-12), so a
--   lifecycle filter selects the cohort by where it stood when the window opened.
create or replace table revenue_t12m as
with account_months as (
    select * from account_month
),

window_sums as (
    select
        account_id,
        month_start,
        sum(reactivation_mrr) over (
            partition by account_id
            order by month_start
            range between interval 11 month preceding and current row
        ) as window_reactivation_mrr
    from account_months
),

window_start as (
    select
        account_id,
        cast(month_start + interval 12 month as date) as end_month_start,
        mrr as start_mrr,
        lifecycle_stage as start_lifecycle_stage
    from account_months
    where mrr > 0
),

joined as (
    select
        e.account_id,
        e.month,
        e.month_start,
        e.segment,
        e.industry,
        e.region,
        e.source_channel,
        e.csm,
        e.csm_team,
        e.is_target,
        s.start_lifecycle_stage as lifecycle_stage,
        s.start_mrr,
        e.mrr as end_mrr,
        w.window_reactivation_mrr
    from account_months as e
    inner join window_start as s
        on s.account_id = e.account_id and s.end_month_start = e.month_start
    inner join window_sums as w
        on w.account_id = e.account_id and w.month_start = e.month_start
),

final as (
    select
        account_id,
        month,
        month_start,
        segment,
        industry,
        region,
        source_channel,
        csm,
        csm_team,
        is_target,
        lifecycle_stage,
        start_mrr,
        end_mrr,
        window_reactivation_mrr,
        end_mrr as retained_mrr,
        least(greatest(end_mrr, 0), start_mrr) as gross_retained_mrr
    from joined
)

select * from final
