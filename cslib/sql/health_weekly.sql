-- health_weekly: one row per raw_usage_weekly row (account x week) with the weekly
-- health score, its tier, and the window points of each indicator that explain it:
--   score = round(least(100, modules_points + instance_points + activation_points
--                            + login_points + bi_points), 1)
-- NULL (tier 'unscored') when fewer than min_weeks weeks of the window have data.
-- Every setting comes from the cfg_* tables written by cslib.scorecard.write_config_tables;
-- cslib.scorecard.score_usage_pandas is the reference implementation of the same rules.
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
    select * from cfg_score_params
),

module_points as (
    select module, points, is_core from cfg_module_points
),

ratio_bands as (
    select indicator, min_value, points from cfg_ratio_bands
),

window_weights as (
    select lag, weight from cfg_window_weights
),

-- ratios of the week; NULL when the denominator is 0 (scores 0 points below)
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

-- long format: one row per account, week and ratio (NULL ratios are dropped)
ratios_long as (
    unpivot weekly_ratios
    on instance_ratio, activation_rate, login_rate, bi_rate
    into name indicator value ratio_value
),

-- the points of the highest band whose min_value <= value (no row below the first band)
band_points as (
    select
        r.account_id,
        r.week_start,
        r.indicator,
        b.points
    from ratios_long as r
    asof join ratio_bands as b
        on r.indicator = b.indicator
        and r.ratio_value >= b.min_value
),

weekly_band_points as (
    select
        account_id,
        week_start,
        sum(points) filter (where indicator = 'instance_ratio') as instance_points,
        sum(points) filter (where indicator = 'activation_rate') as activation_points,
        sum(points) filter (where indicator = 'login_rate') as login_points,
        sum(points) filter (where indicator = 'bi_rate') as bi_points
    from band_points
    group by account_id, week_start
),

-- modules used in the week (records >= min_records); unknown modules score 0
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

weekly_points as (
    select
        u.account_id,
        u.week_start,
        least(coalesce(wm.module_points_uncapped, 0), s.modules_cap_points) as modules_points,
        coalesce(bp.instance_points, 0) as instance_points,
        coalesce(bp.activation_points, 0) as activation_points,
        coalesce(bp.login_points, 0) as login_points,
        coalesce(bp.bi_points, 0) as bi_points,
        coalesce(wm.modules_used, 0)::integer as modules_used,
        coalesce(wm.core_modules_used, 0)::integer as core_modules_used
    from usage as u
    cross join score_params as s
    left join weekly_band_points as bp
        on bp.account_id = u.account_id and bp.week_start = u.week_start
    left join weekly_modules as wm
        on wm.account_id = u.account_id and wm.week_start = u.week_start
),

-- calendar window: the week at week_start - 7 * lag, for each lag, if it has a row
window_points as (
    select
        t.account_id,
        t.week_start,
        count(*)::integer as weeks_in_window,
        sum(w.weight * s.modules_points) / sum(w.weight) as modules_points,
        sum(w.weight * s.instance_points) / sum(w.weight) as instance_points,
        sum(w.weight * s.activation_points) / sum(w.weight) as activation_points,
        sum(w.weight * s.login_points) / sum(w.weight) as login_points,
        sum(w.weight * s.bi_points) / sum(w.weight) as bi_points
    from usage as t
    cross join window_weights as w
    inner join weekly_points as s
        on s.account_id = t.account_id
        and s.week_start = t.week_start - w.lag * 7
    group by t.account_id, t.week_start
),

scored as (
    select
        wp.*,
        case
            when wp.weeks_in_window >= s.min_weeks
                then round(least(100, wp.modules_points + wp.instance_points
                    + wp.activation_points + wp.login_points + wp.bi_points), 1)
        end as score,
        s.healthy_min,
        s.unhealthy_below
    from window_points as wp
    cross join score_params as s
),

final as (
    select
        sc.account_id,
        sc.week_start,
        sc.weeks_in_window,
        sc.score,
        case
            when sc.score is null then 'unscored'
            when sc.score >= sc.healthy_min then 'healthy'
            when sc.score < sc.unhealthy_below then 'unhealthy'
            else 'at_risk'
        end as tier,
        sc.modules_points,
        sc.instance_points,
        sc.activation_points,
        sc.login_points,
        sc.bi_points,
        wk.modules_used,
        wk.core_modules_used,
        r.instance_ratio,
        r.activation_rate,
        r.login_rate,
        r.bi_rate
    from scored as sc
    inner join weekly_points as wk
        on wk.account_id = sc.account_id and wk.week_start = sc.week_start
    inner join weekly_ratios as r
        on r.account_id = sc.account_id and r.week_start = sc.week_start
)

select * from final
