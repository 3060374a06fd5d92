-- health_indicator_weekly: the health score explained, one row per health_weekly row and
-- scorecard indicator (cfg_indicators, 'modules' included): the week's value of the
-- indicator, its own points that week and the window points it contributes to the score
-- (health_weekly: score = round(least(100, sum of window_points), 1)).
--   indicator          name from the scorecard ('modules' for the module points)
--   value              the week's ratio (numerator / denominator) or metric value; NULL
--                      when a metric is missing or the denominator is 0; for 'modules'
--                      the number of features used that week
--   window_points      the weighted window average of the indicator's weekly points
--   week_points        the week's own points (weight x band points; capped module points)
--   weeks_in_window    scored weeks in the window (the same on every row of the week)
--   core_modules_used  for 'modules': core features used that week (NULL otherwise)
-- Readers that need "which indicator" (alerts, renewal-model features, nine-box drivers)
-- read this table with cfg_indicators (label, ordinal, max_points), never fixed columns.
-- Unnests health_weekly's per-indicator lists (position = ordinal + 1): no grouping.
create or replace table health_indicator_weekly as
with weekly as (
    select
        account_id,
        week_start,
        weeks_in_window,
        core_modules_used,
        indicator_values,
        indicator_week_points,
        indicator_window_points
    from health_weekly
),

final as (
    select
        w.account_id,
        w.week_start,
        i.indicator,
        w.indicator_values[i.ordinal + 1] as value,
        w.indicator_window_points[i.ordinal + 1] as window_points,
        w.indicator_week_points[i.ordinal + 1] as week_points,
        w.weeks_in_window,
        case when i.indicator = 'modules' then w.core_modules_used end as core_modules_used
    from weekly as w
    cross join cfg_indicators as i
)

select * from final
