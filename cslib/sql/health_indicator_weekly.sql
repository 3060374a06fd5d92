-- health_indicator_weekly: the score explained, one row per health_weekly row and scorecard
-- indicator (cfg_indicators, 'modules' included): the week's value of the indicator and the
-- window points it contributes to the score (score = round(least(100, sum of window_points), 1)).
--   indicator      name from the scorecard ('modules' for module points)
--   value          the week's ratio / metric value (NULL when its denominator is 0);
--                  for 'modules' the number of modules used that week
--   window_points  the weighted window average of the indicator's weekly points
-- Readers that need "which indicator" (alerts, renewal-model features, nine-box drivers)
-- read this table with cfg_indicators (label, ordinal, max_points), never fixed columns.
create or replace table health_indicator_weekly as
with weekly as (
    select * from health_weekly
),

long as (
    select account_id, week_start, 'modules' as indicator,
        modules_used::double as value, modules_points as window_points
    from weekly
    union all
    select account_id, week_start, 'instance_ratio', instance_ratio, instance_points from weekly
    union all
    select account_id, week_start, 'activation_rate', activation_rate, activation_points from weekly
    union all
    select account_id, week_start, 'login_rate', login_rate, login_points from weekly
    union all
    select account_id, week_start, 'bi_rate', bi_rate, bi_points from weekly
)

select l.account_id, l.week_start, l.indicator, l.value, l.window_points
from long as l
inner join cfg_indicators as i on i.indicator = l.indicator
order by l.account_id, l.week_start, i.ordinal
