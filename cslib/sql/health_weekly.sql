-- health_weekly: one row per raw_usage_weekly row (account x week) with the health
-- score, its tier, and the window points of each indicator that explain it:
--   score = round(least(100, modules_points + instance_points + activation_points
--                            + login_points + bi_points), 1)
-- NULL (tier 'unscored') when fewer than min_weeks weeks of the window have data.
-- All settings come from the cfg_* tables written by cslib.scorecard.write_config_tables;
-- cslib.scorecard.score_usage_pandas is the reference implementation of the same rules.
--
-- Shaped for 100k accounts x 3 years (15.6M usage rows, 60M module rows): band lookups
-- run on the distinct ratio values only, and the window is one grouped pass (each week
-- sends its weighted points to the weeks whose window contains it) instead of a
-- self-join followed by a grouping.
create or replace table health_weekly as

with usage as (
    select
        account_id,
        week_start,
        seats_purchased,
        seats_activated,
        users_logged_in,
        users_bi,
        records_created
    from raw_usage_weekly
),

module_usage as (
    select account_id, week_start, module, records
    from raw_module_usage_weekly
),

score_params as (
    select
        min_weeks,
        healthy_min,
        unhealthy_below,
        modules_cap_points,
        module_min_records
    from cfg_score_params
),

module_points as (
    select module, points, is_core
    from cfg_module_points
),

ratio_bands as (
    select indicator, min_value, points
    from cfg_ratio_bands
),

window_weights as (
    select lag, weight
    from cfg_window_weights
),

-- the week's ratios; NULL when the denominator is 0 (0 points below)
weekly_ratios as (
    select
        account_id,
        week_start,
        records_created::double / nullif(seats_activated, 0) as instance_ratio,
        seats_activated::double / nullif(seats_purchased, 0) as activation_rate,
        users_logged_in::double / nullif(seats_activated, 0) as login_rate,
        users_bi::double / nullif(seats_activated, 0) as bi_rate
    from usage
),

-- long format of the four ratios, one row per distinct (indicator, value): a few
-- hundred thousand rows instead of 4 x 15.6M (unpivoting every row and then taking
-- the distinct values costs ~10 s more at 100k accounts)
ratios_long as (
    select distinct 'instance_ratio' as indicator, instance_ratio as ratio_value
    from weekly_ratios
    where instance_ratio is not null
    union all
    select distinct 'activation_rate' as indicator, activation_rate as ratio_value
    from weekly_ratios
    where activation_rate is not null
    union all
    select distinct 'login_rate' as indicator, login_rate as ratio_value
    from weekly_ratios
    where login_rate is not null
    union all
    select distinct 'bi_rate' as indicator, bi_rate as ratio_value
    from weekly_ratios
    where bi_rate is not null
),

-- points of the highest band whose min_value <= value (lower bound inclusive);
-- a value below the first band finds no band and scores 0 below
ratio_points as (
    select
        r.indicator,
        r.ratio_value,
        b.points
    from ratios_long as r
    asof inner join ratio_bands as b
        on r.indicator = b.indicator
        and r.ratio_value >= b.min_value
),

-- modules used in the week (records >= module_min_records); unknown modules score 0
weekly_modules as (
    select
        m.account_id,
        m.week_start,
        count(*) as modules_used,
        count(*) filter (where p.is_core) as core_modules_used,
        coalesce(sum(p.points), 0) as module_points_uncapped
    from module_usage as m
    cross join score_params as s
    left join module_points as p on p.module = m.module
    where m.records >= s.module_min_records
    group by m.account_id, m.week_start
),

-- the week's own points per indicator (module points capped per week)
weekly_points as (
    select
        r.account_id,
        r.week_start,
        least(coalesce(wm.module_points_uncapped, 0), s.modules_cap_points) as modules_points,
        coalesce(p_instance.points, 0) as instance_points,
        coalesce(p_activation.points, 0) as activation_points,
        coalesce(p_login.points, 0) as login_points,
        coalesce(p_bi.points, 0) as bi_points,
        coalesce(wm.modules_used, 0)::integer as modules_used,
        coalesce(wm.core_modules_used, 0)::integer as core_modules_used,
        r.instance_ratio,
        r.activation_rate,
        r.login_rate,
        r.bi_rate
    from weekly_ratios as r
    cross join score_params as s
    left join weekly_modules as wm
        on wm.account_id = r.account_id
        and wm.week_start = r.week_start
    left join ratio_points as p_instance
        on p_instance.indicator = 'instance_ratio'
        and p_instance.ratio_value = r.instance_ratio
    left join ratio_points as p_activation
        on p_activation.indicator = 'activation_rate'
        and p_activation.ratio_value = r.activation_rate
    left join ratio_points as p_login
        on p_login.indicator = 'login_rate'
        and p_login.ratio_value = r.login_rate
    left join ratio_points as p_bi
        on p_bi.indicator = 'bi_rate'
        and p_bi.ratio_value = r.bi_rate
),

-- calendar window: week t averages the weeks t - 7 * lag (lag in cfg_window_weights)
-- that have a usage row, weighted. Each week is sent to week_start + 7 * lag and
-- grouped there, which pairs every week with the same weeks as joining t to
-- t - 7 * lag; a missing calendar week is missing, never the previous row.
-- Targets without a usage row of their own are dropped by the inner join in final.
window_points as (
    select
        s.account_id,
        s.week_start + w.lag * 7 as week_start,
        count(*)::integer as weeks_in_window,
        sum(w.weight * s.modules_points) / sum(w.weight) as modules_points,
        sum(w.weight * s.instance_points) / sum(w.weight) as instance_points,
        sum(w.weight * s.activation_points) / sum(w.weight) as activation_points,
        sum(w.weight * s.login_points) / sum(w.weight) as login_points,
        sum(w.weight * s.bi_points) / sum(w.weight) as bi_points
    from weekly_points as s
    cross join window_weights as w
    group by s.account_id, s.week_start + w.lag * 7
),

scored as (
    select
        wk.account_id,
        wk.week_start,
        wp.weeks_in_window,
        -- round(x, 9) drops floating-point noise (the sums may be added in any order);
        -- the decimal round then takes exact ties half away from zero: 553/20 -> 27.7
        case
            when wp.weeks_in_window >= s.min_weeks
                then round(
                    round(
                        least(
                            100,
                            wp.modules_points + wp.instance_points + wp.activation_points
                            + wp.login_points + wp.bi_points
                        ),
                        9
                    )::decimal(18, 9),
                    1
                )::double
        end as score,
        s.healthy_min,
        s.unhealthy_below,
        wp.modules_points,
        wp.instance_points,
        wp.activation_points,
        wp.login_points,
        wp.bi_points,
        wk.modules_used,
        wk.core_modules_used,
        wk.instance_ratio,
        wk.activation_rate,
        wk.login_rate,
        wk.bi_rate
    from weekly_points as wk
    inner join window_points as wp
        on wp.account_id = wk.account_id
        and wp.week_start = wk.week_start
    cross join score_params as s
),

final as (
    select
        account_id,
        week_start,
        weeks_in_window,
        score,
        case
            when score is null then 'unscored'
            when score >= healthy_min then 'healthy'
            when score < unhealthy_below then 'unhealthy'
            else 'at_risk'
        end as tier,
        modules_points,
        instance_points,
        activation_points,
        login_points,
        bi_points,
        modules_used,
        core_modules_used,
        instance_ratio,
        activation_rate,
        login_rate,
        bi_rate
    from scored
)

select * from final
