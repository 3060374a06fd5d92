-- model_renewal_features: one row per renewal (raw_renewals row) with the health
-- features the renewal model reads, the outcome, and the filter columns.
--
-- * cutoff_on: the first day of the due month, or the first day after the data when
--   that is earlier (pending renewals): nothing on or after cutoff_on is used.
-- * Feature window: the 13 calendar weeks that END before cutoff_on (week_start + 6 <
--   cutoff_on), i.e. last_week_on = the Monday on or before cutoff_on - 7 days. In the
--   due month a churning account has already stopped (no revenue, no usage), so the
--   window stops before it; every week used lies strictly before the due date.
-- * The score: mean, last (latest week with a score) and slope (least squares, points
--   per week; NULL with < 2 weeks). weeks_unscored = 13 - weeks with a score (missing
--   weeks count as unscored). Means and slopes are rounded to 9 decimals: the sums behind
--   them run in parallel in any order, and their last-bit noise would otherwise make the
--   renewal model's fit differ between two builds of the same data. The same statistics
--   of each scorecard indicator's window points (and the mean of its value) are in
--   model_renewal_indicator_features, one row per renewal and indicator, over the same
--   window (first_week_on .. last_week_on).
-- * month_end_score / month_end_tier / tenure_months / lifecycle_stage: the account_month
--   row of the month before cutoff_on (the month-end score "before the due date").
-- * Outcome: is_decided = outcome <> 'pending'; is_renewed = outcome = 'renewed' (on
--   time or late; deferred counts as not renewed); is_renewed_on_time = renewed_on <= due_on.
create or replace table model_renewal_features as
with renewals as (
    select account_id, due_on, due_arr, renewed_on, renewed_arr, outcome
    from stg_renewals
),

accounts as (
    select
        account_id,
        name,
        industry,
        region,
        segment,
        source_channel,
        csm,
        csm_team,
        is_target
    from stg_accounts
),

health as (
    select
        account_id,
        week_start,
        score
    from health_weekly
),

months as (
    select account_id, month_start, tenure_months, lifecycle_stage, health_score, health_tier
    from account_month
),

data_end as (
    select (max(month_start) + interval 1 month)::date as data_end_on
    from account_month
),

cutoffs as (
    select
        r.*,
        least(date_trunc('month', r.due_on)::date, d.data_end_on) as cutoff_on
    from renewals as r
    cross join data_end as d
),

windows as (
    select
        *,
        date_trunc('week', cutoff_on - 7)::date as last_week_on,
        (date_trunc('week', cutoff_on - 7)::date - 84) as first_week_on
    from cutoffs
),

window_weeks as (
    select
        w.account_id,
        w.due_on,
        date_diff('day', w.first_week_on, h.week_start) / 7 as week_index,
        h.*
    from windows as w
    inner join health as h
        on h.account_id = w.account_id
        and h.week_start between w.first_week_on and w.last_week_on
),

features as (
    select
        account_id,
        due_on,
        count(*) as weeks_with_data,
        max(week_start) as last_feature_week_on,
        13 - count(score) as weeks_unscored,
        round(avg(score), 9) as score_mean,
        arg_max(score, week_start) filter (where score is not null) as score_last,
        round(regr_slope(score, week_index), 9) as score_slope
    from window_weeks
    group by account_id, due_on
),

final as (
    select
        w.account_id,
        w.due_on,
        strftime(w.due_on, '%Y-%m') as due_month,
        w.due_arr,
        w.renewed_on,
        w.renewed_arr,
        w.outcome,
        w.outcome <> 'pending' as is_decided,
        w.outcome = 'renewed' as is_renewed,
        coalesce(w.renewed_on <= w.due_on, false) as is_renewed_on_time,
        w.cutoff_on,
        w.first_week_on,
        w.last_week_on,
        f.last_feature_week_on,
        coalesce(f.weeks_with_data, 0)::integer as weeks_with_data,
        coalesce(f.weeks_unscored, 13)::integer as weeks_unscored,
        f.score_mean,
        f.score_last,
        f.score_slope,
        m.health_score as month_end_score,
        m.health_tier as month_end_tier,
        m.tenure_months,
        m.lifecycle_stage,
        a.name,
        a.industry,
        a.region,
        a.segment,
        a.source_channel,
        a.csm,
        a.csm_team,
        coalesce(a.is_target, false) as is_target
    from windows as w
    left join features as f
        on f.account_id = w.account_id
        and f.due_on = w.due_on
    left join months as m
        on m.account_id = w.account_id
        and m.month_start = (w.cutoff_on - interval 1 month)::date
    left join accounts as a
        on a.account_id = w.account_id
)

select * from final
