-- health_weekly: one row per scored account-week with the health score, its tier and the
-- points of every scorecard indicator that explain it:
--   score = round(least(100, sum of the indicators' window points), 1)
-- NULL (tier 'unscored') when fewer than min_weeks weeks of the window have data.
-- A scored week is an account-week with a value of at least one declared metric in
-- stg_usage_weekly (after its missing-week fill). Per week, in cfg_indicators ordinal order
-- ('modules' first), the lists
--   indicator_values         the week's value (ratio or metric; NULL when a metric is
--                            missing or the denominator is 0; modules: features used)
--   indicator_week_points    the week's own points (weight x band points; module points capped)
--   indicator_window_points  the weighted window average of the week's points
-- are what health_indicator_weekly unnests into one row per indicator (read that table with
-- cfg_indicators, never these lists).
-- All settings come from the cfg_* tables written by cslib.scorecard.write_config_tables;
-- cslib.scorecard.score_usage_pandas is the reference implementation of the same rules.
--
-- Shaped for 100k accounts x 3 years: one row per account-week all the way (the indicators
-- are lists, computed with list functions over the scorecard's definitions, never one row
-- per indicator), and the window is one grouped pass: each week sends its weighted points
-- to the weeks whose window contains it, instead of a self-join followed by a grouping.
create or replace table health_weekly as
with params as (
    select
        min_weeks,
        healthy_min,
        unhealthy_below,
        modules_cap_points,
        module_min_records,
        module_default_points
    from cfg_score_params
),

-- the scorecard's indicators as one row of parallel lists, in ordinal order (modules
-- excluded): their metrics (as cfg_metrics ordinals), weights, and each indicator's band
-- lower bounds and points
definitions as (
    select
        coalesce(list(n.ordinal order by i.ordinal), []) as numerators,
        coalesce(list(d.ordinal order by i.ordinal), []) as denominators,
        coalesce(list(i.weight order by i.ordinal), []) as weights,
        coalesce(list(coalesce(b.mins, []) order by i.ordinal), []) as band_mins,
        coalesce(list(coalesce(b.points, []) order by i.ordinal), []) as band_points
    from cfg_indicators as i
    left join (
        select indicator, list(min_value order by min_value) as mins, list(points order by min_value) as points
        from cfg_ratio_bands
        group by indicator
    ) as b on b.indicator = i.indicator
    left join cfg_metrics as n on n.metric = i.numerator
    left join cfg_metrics as d on d.metric = i.denominator
    where i.indicator <> 'modules'
),

-- the declared metrics of each scored week as two parallel lists (cfg_metrics ordinals,
-- values); integers are cheaper to collect and look up than names
scored_weeks as (
    select u.account_id, u.week_start, list(m.ordinal) as metric_ordinals, list(u.value) as metric_values
    from stg_usage_weekly as u
    inner join cfg_metrics as m on m.metric = u.metric
    where not u.is_feature
    group by u.account_id, u.week_start
),

-- each indicator's value: numerator, or numerator / denominator (NULL when 0)
indicator_values as (
    select
        w.account_id,
        w.week_start,
        list_transform(
            list_zip(d.numerators, d.denominators),
            lambda m: case
                when m[2] is null then w.metric_values[list_position(w.metric_ordinals, m[1])]
                else w.metric_values[list_position(w.metric_ordinals, m[1])]
                    / nullif(w.metric_values[list_position(w.metric_ordinals, m[2])], 0)
            end
        ) as ratio_values
    from scored_weeks as w
    cross join definitions as d
),

-- weight x the points of the highest band whose min_value <= value (lower bound
-- inclusive: the band's position is the number of lower bounds <= value); 0 below the
-- first band or when the value is NULL
indicator_points as (
    select
        v.account_id,
        v.week_start,
        v.ratio_values,
        list_transform(
            list_zip(v.ratio_values, d.band_mins, d.band_points, d.weights),
            lambda z: coalesce(z[4] * z[3][len(list_filter(z[2], lambda lo: lo <= z[1]))], 0.0)
        ) as ratio_points
    from indicator_values as v
    cross join definitions as d
),

-- features used in the week (weekly value >= min_records), points capped per week;
-- features not in cfg_module_points score the default points
features_used as (
    select
        f.account_id,
        f.week_start,
        count(*) as modules_used,
        count(*) filter (where p.is_core) as core_modules_used,
        least(sum(coalesce(p.points, s.module_default_points)), any_value(s.modules_cap_points)) as module_points
    from stg_usage_weekly as f
    cross join params as s
    left join cfg_module_points as p on p.module = f.metric
    where f.is_feature
        and f.value >= s.module_min_records
    group by f.account_id, f.week_start
),

weekly_points as (
    select
        p.account_id,
        p.week_start,
        coalesce(u.modules_used, 0)::integer as modules_used,
        coalesce(u.core_modules_used, 0)::integer as core_modules_used,
        list_prepend(coalesce(u.modules_used, 0)::double, p.ratio_values) as indicator_values,
        list_prepend(coalesce(u.module_points, 0.0), p.ratio_points) as indicator_week_points
    from indicator_points as p
    left join features_used as u
        on u.account_id = p.account_id
        and u.week_start = p.week_start
),

-- calendar window: week t averages the weeks t - 7 * lag (lag in cfg_window_weights) that
-- are scored weeks, weighted. Each week is sent to week_start + 7 * lag and grouped there,
-- which pairs every week with the same weeks as joining t to t - 7 * lag; a missing
-- calendar week is missing, never the previous row. Targets that are not scored weeks
-- themselves (no lag-0 row) are dropped.
windowed as (
    select
        p.account_id,
        p.week_start + w.lag * 7 as week_start,
        count(*)::integer as weeks_in_window,
        sum(w.weight) as weight_sum,
        list(list_transform(p.indicator_week_points, lambda x: x * w.weight)) as weighted_points,
        any_value(p.indicator_values) filter (where w.lag = 0) as indicator_values,
        any_value(p.indicator_week_points) filter (where w.lag = 0) as indicator_week_points,
        any_value(p.modules_used) filter (where w.lag = 0) as modules_used,
        any_value(p.core_modules_used) filter (where w.lag = 0) as core_modules_used
    from weekly_points as p
    cross join cfg_window_weights as w
    group by p.account_id, p.week_start + w.lag * 7
    having min(w.lag) = 0
),

window_points as (
    select
        * exclude (weighted_points, weight_sum),
        list_transform(
            range(1, len(indicator_week_points) + 1),
            lambda k: list_sum(list_transform(weighted_points, lambda q: q[k])) / weight_sum
        ) as indicator_window_points
    from windowed
),

scored as (
    select
        w.*,
        -- round(x, 9) drops floating-point noise (the sums may be added in any order);
        -- the decimal round then takes exact ties half away from zero: 553/20 -> 27.7
        case
            when w.weeks_in_window >= p.min_weeks
                then round(round(least(100, list_sum(w.indicator_window_points)), 9)::decimal(18, 9), 1)::double
        end as score,
        p.healthy_min,
        p.unhealthy_below
    from window_points as w
    cross join params as p
),

final as (
    select
        s.account_id,
        s.week_start,
        s.weeks_in_window,
        s.score,
        case
            when s.score is null then 'unscored'
            when s.score >= s.healthy_min then 'healthy'
            when s.score < s.unhealthy_below then 'unhealthy'
            else 'at_risk'
        end as tier,
        s.indicator_window_points[1] as modules_points,
        s.modules_used,
        s.core_modules_used,
        s.indicator_values,
        s.indicator_week_points,
        s.indicator_window_points
    from scored as s
)

select * from final
