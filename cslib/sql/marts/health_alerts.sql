-- health_alerts: weekly change alerts, one row per account x week x rule that fired.
--
-- Rules and their parameters come from the cfg_alert_* tables written by
-- cslib.rules.alert_rules.write_alert_rule_tables (cslib/config/alert_rules.toml documents them):
--   score_drop        previous calendar week's score - this week's >= min_drop_points
--                     (the drop rounded to 0.1 like the score, so 80 -> 65 fires, 80 -> 65.1 not)
--   tier_fall         tier rank lower than the previous calendar week's (both scored)
--   tier_rise         tier rank higher than the previous calendar week's (both scored)
--   admin_changed     an events row of that kind in the week
--   dept_head_changed an events row of that kind in the week
--   no_login          users_logged_in = 0 in `weeks` consecutive calendar weeks; fires in the
--                     week the run reaches `weeks` (once per run; a missing week ends a run)
--   nps_detractor     an nps event with score <= max_score from a role in cfg_alert_roles
-- A week without a health_weekly row of the previous calendar week has no score
-- comparison; unscored weeks never raise tier or score alerts.
-- Per-indicator changes, for any scorecard (health_indicator_weekly, labels and order
-- from cfg_indicators): each indicator's window points this week minus the previous
-- calendar week's (NULL without that week), the explanation of score_change (they add up
-- to it except for the 0.1 rounding and the cap at 100), as the list indicator_changes
-- [{indicator, label, change}] in cfg_indicators order; NULL when the alert week has no
-- health row. The driver is the indicator that moved most in the direction of the total
-- change (the largest loss when the points fell in sum, the largest gain when they rose;
-- ties to the first in cfg_indicators order; NULL when nothing moved or no previous week).
-- They are computed for the fired alerts' weeks only, in one grouped pass over the long
-- table (no window over it, no self-join).
-- Event weeks use the Monday of the event's date.
-- alert_id = account_id || '|' || week_start (YYYY-MM-DD) || '|' || rule: stable across
-- rebuilds, so statuses kept in the app store find their alert again.
create or replace table health_alerts as
with health as (
    select
        account_id,
        week_start,
        score,
        tier
    from health_weekly
),

usage as (
    select account_id, week_start, users_logged_in
    from stg_usage_weekly_rows
),

events as (
    select account_id, occurred_on, kind, score, role
    from stg_events
),

rules as (
    select rule, nature, severity
    from cfg_alert_rules
    where is_enabled
),

params as (
    select rule, param, value
    from cfg_alert_params
),

roles as (
    select rule, role
    from cfg_alert_roles
),

indicators as (
    select indicator, label, ordinal
    from cfg_indicators
),

tier_ranks as (
    select * from (values ('unhealthy', 0), ('at_risk', 1), ('healthy', 2)) as t (tier, tier_rank)
),

with_previous as (
    select
        *,
        lag(week_start) over w as prev_week_start,
        lag(score) over w as lag_score,
        lag(tier) over w as lag_tier
    from health
    window w as (partition by account_id order by week_start)
),

-- only the previous calendar week counts as "the previous week"
compared as (
    select
        account_id,
        week_start,
        score,
        tier,
        case when prev_week_start = week_start - 7 then lag_score end as prev_score,
        case when prev_week_start = week_start - 7 then lag_tier end as prev_tier
    from with_previous
),

ranked as (
    select
        c.*,
        r_now.tier_rank,
        r_prev.tier_rank as prev_tier_rank
    from compared as c
    left join tier_ranks as r_now on r_now.tier = c.tier
    left join tier_ranks as r_prev on r_prev.tier = c.prev_tier
),

score_drops as (
    select r.account_id, r.week_start, 'score_drop' as rule, null::varchar as detail
    from ranked as r
    inner join params as p on p.rule = 'score_drop' and p.param = 'min_drop_points'
    where r.score is not null
        and r.prev_score is not null
        and round(r.prev_score - r.score, 1) >= p.value
),

tier_moves as (
    select
        account_id,
        week_start,
        case when tier_rank < prev_tier_rank then 'tier_fall' else 'tier_rise' end as rule,
        prev_tier || ' -> ' || tier as detail
    from ranked
    where tier_rank is not null
        and prev_tier_rank is not null
        and tier_rank <> prev_tier_rank
),

people_changes as (
    select
        account_id,
        cast(date_trunc('week', occurred_on) as date) as week_start,
        kind as rule,
        cast(count(*) as varchar) || ' event(s)' as detail
    from events
    where kind in ('admin_changed', 'dept_head_changed')
    group by account_id, cast(date_trunc('week', occurred_on) as date), kind
),

detractors as (
    select
        e.account_id,
        cast(date_trunc('week', e.occurred_on) as date) as week_start,
        'nps_detractor' as rule,
        'lowest NPS ' || cast(cast(min(e.score) as integer) as varchar) as detail
    from events as e
    inner join roles as ro on ro.rule = 'nps_detractor' and ro.role = e.role
    inner join params as p on p.rule = 'nps_detractor' and p.param = 'max_score'
    where e.kind = 'nps'
        and e.score is not null
        and e.score <= p.value
    group by e.account_id, cast(date_trunc('week', e.occurred_on) as date)
),

-- gaps and islands: consecutive calendar weeks with no login share one island
silent_weeks as (
    select
        account_id,
        week_start,
        date_diff('day', date '2000-01-03', week_start) // 7
            - row_number() over (partition by account_id order by week_start) as island
    from usage
    where users_logged_in = 0
),

silent_runs as (
    select
        account_id,
        week_start,
        row_number() over (partition by account_id, island order by week_start) as run_weeks
    from silent_weeks
),

no_logins as (
    select
        s.account_id,
        s.week_start,
        'no_login' as rule,
        cast(s.run_weeks as varchar) || ' weeks without login' as detail
    from silent_runs as s
    inner join params as p on p.rule = 'no_login' and p.param = 'weeks'
    where s.run_weeks = p.value
),

-- materialized: read twice (the list below and the indicator changes of its weeks)
fired as materialized (
    select * from score_drops
    union all
    select * from tier_moves
    union all
    select * from people_changes
    union all
    select * from detractors
    union all
    select * from no_logins
),

fired_weeks as (
    select distinct account_id, week_start
    from fired
),

-- each fired week and the calendar week before it, tagged with the fired week
needed_weeks as (
    select account_id, week_start, week_start as alert_week from fired_weeks
    union all
    select account_id, week_start - 7 as week_start, week_start as alert_week from fired_weeks
),

-- one pass over the long table: per fired week and indicator, this week's window points
-- minus the previous calendar week's (NULL without that week)
changes as (
    select
        n.account_id,
        n.alert_week as week_start,
        h.indicator,
        max(h.window_points) filter (where n.week_start = n.alert_week)
            - max(h.window_points) filter (where n.week_start < n.alert_week) as change
    from health_indicator_weekly as h
    inner join needed_weeks as n
        on n.account_id = h.account_id
        and n.week_start = h.week_start
    group by n.account_id, n.alert_week, h.indicator
    having count(*) filter (where n.week_start = n.alert_week) > 0
),

labelled as (
    select
        c.account_id,
        c.week_start,
        c.indicator,
        k.label,
        k.ordinal,
        c.change,
        round(c.change, 9) as rounded_change  -- float noise does not break ties
    from changes as c
    inner join indicators as k on k.indicator = c.indicator
),

change_lists as (
    select
        account_id,
        week_start,
        list(struct_pack(indicator := indicator, label := label, change := change) order by ordinal)
            as indicator_changes,
        round(sum(change), 9) as total_change,
        arg_min(struct_pack(indicator := indicator, label := label, change := change), (rounded_change, ordinal))
            filter (where rounded_change < 0) as largest_loss,
        arg_min(struct_pack(indicator := indicator, label := label, change := change), (-rounded_change, ordinal))
            filter (where rounded_change > 0) as largest_gain
    from labelled
    group by account_id, week_start
),

drivers as (
    select
        account_id,
        week_start,
        indicator_changes,
        case
            when total_change < 0 then largest_loss
            when total_change > 0 then largest_gain
        end as driver
    from change_lists
),

final as (
    select
        f.account_id || '|' || strftime(f.week_start, '%Y-%m-%d') || '|' || f.rule as alert_id,
        f.account_id,
        f.week_start,
        strftime(f.week_start, '%Y-%m') as month,
        f.rule,
        ru.nature,
        ru.severity,
        f.detail,
        c.score,
        c.prev_score,
        round(c.score - c.prev_score, 1) as score_change,
        c.tier,
        c.prev_tier,
        d.driver.indicator as driver_indicator,
        d.driver.label as driver_label,
        d.driver.change as driver_change,
        d.indicator_changes
    from fired as f
    inner join rules as ru on ru.rule = f.rule
    left join compared as c
        on c.account_id = f.account_id
        and c.week_start = f.week_start
    left join drivers as d
        on d.account_id = f.account_id
        and d.week_start = f.week_start
)

select * from final
-- stored in week order: readers take one month's (or four weeks') alerts, and DuckDB's
-- row-group min/max then skips the other weeks' rows
order by week_start, account_id, rule
