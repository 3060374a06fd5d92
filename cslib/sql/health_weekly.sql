-- health_weekly: one row per scored account-week (see health_indicator_weekly: an
-- account-week with a value of at least one declared metric) with the health score, its
-- tier and the module points:
--   score = round(least(100, sum of the indicators' window_points), 1)
-- NULL (tier 'unscored') when fewer than min_weeks weeks of the window have data.
-- The per-indicator explanation is health_indicator_weekly (read it with cfg_indicators).
-- Transition: the demo indicators' window points and weekly values are also given as
-- columns (instance_points ... bi_rate; NULL when the scorecard has no such indicator).
-- All settings come from the cfg_* tables written by cslib.scorecard.write_config_tables;
-- cslib.scorecard.score_usage_pandas is the reference implementation of the same rules.
create or replace table health_weekly as
with params as (
    select min_weeks, healthy_min, unhealthy_below
    from cfg_score_params
),

per_week as (
    select
        account_id,
        week_start,
        any_value(weeks_in_window) as weeks_in_window,
        sum(window_points) as total_points,
        max(window_points) filter (where indicator = 'modules') as modules_points,
        max(value) filter (where indicator = 'modules') as modules_used,
        max(core_modules_used) filter (where indicator = 'modules') as core_modules_used,
        max(window_points) filter (where indicator = 'instance_ratio') as instance_points,
        max(window_points) filter (where indicator = 'activation_rate') as activation_points,
        max(window_points) filter (where indicator = 'login_rate') as login_points,
        max(window_points) filter (where indicator = 'bi_rate') as bi_points,
        max(value) filter (where indicator = 'instance_ratio') as instance_ratio,
        max(value) filter (where indicator = 'activation_rate') as activation_rate,
        max(value) filter (where indicator = 'login_rate') as login_rate,
        max(value) filter (where indicator = 'bi_rate') as bi_rate
    from health_indicator_weekly
    group by account_id, week_start
),

scored as (
    select
        w.*,
        -- round(x, 9) drops floating-point noise (the sums may be added in any order);
        -- the decimal round then takes exact ties half away from zero: 553/20 -> 27.7
        case
            when w.weeks_in_window >= p.min_weeks
                then round(round(least(100, w.total_points), 9)::decimal(18, 9), 1)::double
        end as score,
        p.healthy_min,
        p.unhealthy_below
    from per_week as w
    cross join params as p
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
        modules_used::integer as modules_used,
        core_modules_used,
        instance_points,
        activation_points,
        login_points,
        bi_points,
        instance_ratio,
        activation_rate,
        login_rate,
        bi_rate
    from scored
)

select * from final
