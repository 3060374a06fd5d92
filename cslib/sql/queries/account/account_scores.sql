-- account_scores: one account's weekly health score and each indicator's points, for the
-- Account page. A parametrised query (not a model), run by cslib.views.account with named
-- parameters: $account_id, $first_week_on and $last_week_on (the first and last week start
-- to return).
-- Grain: one row per week with a health row x scorecard indicator (cfg_indicators order).
-- window_points are the indicator's points in the week's score (the weighted window);
-- max_points its maximum. A week without usage data has no row; an unscored week (too
-- little history) has a NULL score.
with params as (
    select $account_id::varchar as account_id, $first_week_on::date as first_week_on, $last_week_on::date as last_week_on
),

weeks as (
    select h.account_id, h.week_start, h.score, h.tier, h.weeks_in_window
    from health_weekly as h
    cross join params as p
    where h.account_id = p.account_id
        and h.week_start between p.first_week_on and p.last_week_on
),

indicators as (
    select i.account_id, i.week_start, i.indicator, i.value, i.window_points
    from health_indicator_weekly as i
    cross join params as p
    where i.account_id = p.account_id
        and i.week_start between p.first_week_on and p.last_week_on
),

final as (
    select
        w.week_start,
        w.score,
        w.tier,
        c.indicator,
        c.label as indicator_label,
        c.ordinal,
        c.max_points,
        i.value,
        i.window_points
    from weeks as w
    cross join cfg_indicators as c
    left join indicators as i
        on i.week_start = w.week_start
        and i.indicator = c.indicator
    order by w.week_start, c.ordinal
)

select * from final
