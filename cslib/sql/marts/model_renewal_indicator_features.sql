-- model_renewal_indicator_features: the renewal model's per-indicator features, one row per
-- renewal (model_renewal_features row with at least one health week in its window) and
-- scorecard indicator (cfg_indicators, 'modules' included), whatever the indicators are.
-- Over the renewal's 13-week feature window (first_week_on .. last_week_on of
-- model_renewal_features: every week strictly before the due month):
--   points_mean / points_last / points_slope  the indicator's window points
--       (health_indicator_weekly.window_points): mean, latest week's, least-squares slope
--       in points per week (NULL with fewer than 2 weeks)
--   value_mean  mean of the indicator's weekly value (ratios: NULL weeks left out), for
--       the indicator-band analysis
--   ordinal     cfg_indicators.ordinal (0 = modules, then scorecard order): the feature order
-- One grouped pass over the long table (no per-indicator self-joins). Rounded to 9
-- decimals, as the score's features in model_renewal_features: a reproducible fit.
create or replace table model_renewal_indicator_features as
with renewals as (
    select account_id, due_on, first_week_on, last_week_on
    from model_renewal_features
),

indicator_weeks as (
    select account_id, week_start, indicator, value, window_points
    from health_indicator_weekly
),

indicators as (
    select indicator, ordinal
    from cfg_indicators
),

window_weeks as (
    select
        r.account_id,
        r.due_on,
        h.indicator,
        h.week_start,
        date_diff('day', r.first_week_on, h.week_start) / 7 as week_index,
        h.value,
        h.window_points
    from renewals as r
    inner join indicator_weeks as h
        on h.account_id = r.account_id
        and h.week_start between r.first_week_on and r.last_week_on
),

features as (
    select
        account_id,
        due_on,
        indicator,
        round(avg(window_points), 9) as points_mean,
        round(arg_max(window_points, week_start), 9) as points_last,
        round(regr_slope(window_points, week_index), 9) as points_slope,
        round(avg(value), 9) as value_mean
    from window_weeks
    group by account_id, due_on, indicator
),

final as (
    select
        f.account_id,
        f.due_on,
        f.indicator,
        i.ordinal,
        f.points_mean,
        f.points_last,
        f.points_slope,
        f.value_mean
    from features as f
    inner join indicators as i on i.indicator = f.indicator
)

select * from final
order by account_id, due_on, ordinal
