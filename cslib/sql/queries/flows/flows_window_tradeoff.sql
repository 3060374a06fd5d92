-- flows_window_tradeoff: alert counts and lag per scorecard window, on a private copy.
-- Run by cslib.views.alerts.window_tradeoff in its own in-memory DuckDB over scored_windows
-- (window_weeks, min_weeks, account_id, week_start, score, tier: the slice's recent weeks
-- scored once per window length). Named parameters: $min_drop (score-drop rule),
-- $first_week and $last_week (the period counted), $base_window (the shortest window).
-- Rules as in health_alerts.sql: a score drop or tier fall compares with the previous
-- calendar week; unscored weeks never count.
-- Lag of a tier fall at window w (week tw, into tier B): tw minus the first week at which
-- the base window showed a fall of the same account into B or lower, counting only base
-- falls after the window-w series last changed tier before tw (so the signal belongs to
-- this episode) and at most 13 weeks before tw; unmatched falls have no lag. Base falls
-- before the period count, so the first weeks are not cut short. For the base window
-- itself the lag is 0 by construction.
with scored as (
    select * from scored_windows
),

tier_ranks as (
    select * from (values ('unhealthy', 0), ('at_risk', 1), ('healthy', 2)) as t (tier, tier_rank)
),

compared as (
    select
        s.window_weeks,
        s.min_weeks,
        s.account_id,
        s.week_start,
        s.score,
        r.tier_rank,
        lag(s.week_start) over w = s.week_start - 7 as has_prev,
        lag(s.score) over w as prev_score,
        lag(r.tier_rank) over w as prev_rank
    from scored as s
    left join tier_ranks as r on r.tier = s.tier
    window w as (partition by s.window_weeks, s.account_id order by s.week_start)
),

flagged as (
    select
        window_weeks,
        min_weeks,
        account_id,
        week_start,
        tier_rank,
        week_start between $first_week and $last_week as in_period,
        coalesce(has_prev and round(prev_score - score, 1) >= $min_drop, false) as is_drop,
        coalesce(has_prev and tier_rank < prev_rank, false) as is_fall,
        coalesce(has_prev and tier_rank <> prev_rank, false) as is_change,
        score is not null as is_scored
    from compared
),

base_falls as (
    select account_id, week_start, tier_rank
    from flagged
    where is_fall and window_weeks = $base_window
),

changes as (
    select
        window_weeks,
        account_id,
        week_start,
        tier_rank,
        is_fall,
        in_period,
        lag(week_start) over (partition by window_weeks, account_id order by week_start) as prev_change
    from flagged
    where is_change
),

matched as (
    select
        f.window_weeks,
        f.account_id,
        f.week_start,
        max(date_diff('day', b.week_start, f.week_start) // 7) as lag_weeks
    from changes as f
    inner join base_falls as b
        on b.account_id = f.account_id
        and b.week_start <= f.week_start
        and b.week_start >= f.week_start - 91
        and (f.prev_change is null or b.week_start > f.prev_change)
        and b.tier_rank <= f.tier_rank
    where f.is_fall and f.in_period
    group by f.window_weeks, f.account_id, f.week_start
),

counts as (
    select
        window_weeks,
        min_weeks,
        count(*) filter (where is_scored) as account_weeks,
        count(*) filter (where is_drop) as score_drop_alerts,
        count(*) filter (where is_fall) as tier_fall_alerts,
        count(*) filter (where is_change) as tier_changes
    from flagged
    where in_period
    group by window_weeks, min_weeks
),

lags as (
    select window_weeks, count(*) as matched_falls, median(lag_weeks) as median_lag_weeks
    from matched
    group by window_weeks
),

final as (
    select
        c.window_weeks,
        c.min_weeks,
        c.account_weeks,
        c.score_drop_alerts,
        c.tier_fall_alerts,
        c.tier_changes,
        coalesce(l.matched_falls, 0) as matched_falls,
        l.median_lag_weeks
    from counts as c
    left join lags as l on l.window_weeks = c.window_weeks
)

select * from final
order by window_weeks
