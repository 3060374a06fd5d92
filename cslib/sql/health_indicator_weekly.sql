-- health_indicator_weekly: the health score explained, one row per scored account-week and
-- scorecard indicator (cfg_indicators, 'modules' first): the week's value of the indicator,
-- its own points that week and the window points it contributes to the score
-- (health_weekly: score = round(least(100, sum of window_points), 1)).
--   indicator          name from the scorecard ('modules' for the module points)
--   value              the week's ratio (numerator / denominator) or metric value; NULL
--                      when a metric is missing or the denominator is 0; for 'modules'
--                      the number of features used that week
--   window_points      the weighted window average of the indicator's weekly points
--   week_points        the week's own points (weight x band points; capped module points)
--   weeks_in_window    scored weeks in the window (the same on every row of the week)
--   core_modules_used  for 'modules': core features used that week (NULL otherwise)
-- Scored weeks: account-weeks with a value of at least one declared metric in
-- stg_usage_weekly (after its missing-week fill). Readers that need "which indicator"
-- (alerts, renewal-model features, nine-box drivers) read this table with cfg_indicators
-- (label, ordinal, max_points), never fixed columns. cslib.scorecard.score_usage_pandas is
-- the reference implementation of the same rules.
--
-- Shaped for 100k accounts x 3 years: band lookups run on the distinct values only, and
-- the window is one grouped pass (each week sends its weighted points to the weeks whose
-- window contains it) instead of a self-join followed by a grouping.
create or replace table health_indicator_weekly as
with params as (
    select modules_cap_points, module_min_records, module_default_points
    from cfg_score_params
),

indicators as (
    select indicator, numerator, denominator, weight
    from cfg_indicators
    where indicator <> 'modules'
),

window_weights as (
    select lag, weight from cfg_window_weights
),

-- the declared metrics of each scored week as two parallel lists (names, values): an
-- account-week with a value of at least one declared metric is a scored week
scored_weeks as (
    select account_id, week_start, list(metric) as metric_names, list(value) as metric_values
    from stg_usage_weekly
    where not is_feature
    group by account_id, week_start
),

-- every indicator of every scored week (dense: a missing metric gives a NULL value)
indicator_values as (
    select
        w.account_id,
        w.week_start,
        i.indicator,
        i.weight,
        case
            when i.denominator is null then w.metric_values[list_position(w.metric_names, i.numerator)]
            else w.metric_values[list_position(w.metric_names, i.numerator)]
                / nullif(w.metric_values[list_position(w.metric_names, i.denominator)], 0)
        end as value
    from scored_weeks as w
    cross join indicators as i
),

-- one row per distinct (indicator, value): far fewer than the weekly rows
distinct_values as (
    select distinct indicator, value from indicator_values where value is not null
),

-- points of the highest band whose min_value <= value (lower bound inclusive); a value
-- below the first band finds no band and scores 0 below
band_points as (
    select v.indicator, v.value, b.points
    from distinct_values as v
    asof inner join cfg_ratio_bands as b
        on v.indicator = b.indicator
        and v.value >= b.min_value
),

indicator_points as (
    select
        v.account_id,
        v.week_start,
        v.indicator,
        v.value,
        coalesce(v.weight * p.points, 0) as points,
        null::integer as core_used
    from indicator_values as v
    left join band_points as p
        on p.indicator = v.indicator
        and p.value = v.value
),

-- features used in the week (weekly value >= min_records), points capped per week;
-- features not in cfg_module_points score the default points
features_used as (
    select
        f.account_id,
        f.week_start,
        count(*) as used,
        least(sum(coalesce(p.points, s.module_default_points)), any_value(s.modules_cap_points)) as points,
        count(*) filter (where p.is_core) as core_used
    from stg_usage_weekly as f
    cross join params as s
    left join cfg_module_points as p on p.module = f.metric
    where f.is_feature
        and f.value >= s.module_min_records
    group by f.account_id, f.week_start
),

module_points as (
    select
        w.account_id,
        w.week_start,
        'modules' as indicator,
        coalesce(u.used, 0)::double as value,
        coalesce(u.points, 0) as points,
        coalesce(u.core_used, 0)::integer as core_used
    from scored_weeks as w
    left join features_used as u
        on u.account_id = w.account_id
        and u.week_start = w.week_start
),

weekly_points as (
    select account_id, week_start, indicator, value, points, core_used from module_points
    union all
    select account_id, week_start, indicator, value, points, core_used from indicator_points
),

-- calendar window: week t averages the weeks t - 7 * lag (lag in cfg_window_weights) that
-- are scored weeks, weighted. Each week is sent to week_start + 7 * lag and grouped there,
-- which pairs every week with the same weeks as joining t to t - 7 * lag; a missing
-- calendar week is missing, never the previous row. Targets that are not scored weeks
-- themselves (no lag-0 row) are dropped.
final as (
    select
        p.account_id,
        p.week_start + w.lag * 7 as week_start,
        p.indicator,
        max(p.value) filter (where w.lag = 0) as value,
        sum(w.weight * p.points) / sum(w.weight) as window_points,
        max(p.points) filter (where w.lag = 0) as week_points,
        count(*)::integer as weeks_in_window,
        max(p.core_used) filter (where w.lag = 0) as core_modules_used
    from weekly_points as p
    cross join window_weights as w
    group by p.account_id, p.week_start + w.lag * 7, p.indicator
    having bool_or(w.lag = 0)
)

select * from final
