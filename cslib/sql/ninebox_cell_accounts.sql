-- ninebox_cell_accounts: the accounts of one nine-box cell in one month, with what a
-- CSM needs to act on them.
-- A parametrised query (not a model), run by cslib.ninebox with bound parameters, in
-- this order: 1. search text (lower case; '' = everything), 2. month ('YYYY-MM'),
-- 3. health tier, 4. value tier, then the filter's parameters (the filter_predicate
-- marker comment and the "true" after it are replaced by Filters.where('a'); the mart
-- marker as in ninebox_cells.sql), then 5. the most accounts to return (largest ARR
-- first), 6. the first and 7. the last day whose week can matter (month start - 21
-- days, month end). Months and tiers are compared with constants so the scans can
-- skip row groups.
-- Grain: one row per active account of the slice in the cell.
-- * score_trend: the scores of the four calendar weeks ending with the account's
--   month-end week (the last week starting inside the month), oldest first; a week
--   without a score (no usage row, or unscored) is left out. score_change_4w = the
--   month-end week's score - the score three weeks before (NULL if either is missing).
-- * weakest_indicator: the indicator with the largest gap between its maximum possible
--   points (cfg tables: module points capped at modules_cap_points, the best band of
--   each ratio) and its window points in the month-end week; ties go to the first in
--   the order modules, instance_ratio, activation_rate, login_rate, bi_rate.
-- * next renewal: the earliest renewal that is due on or after the month's first day,
--   or deferred (open and overdue) whatever its due date; outcome as of the data's end.
with params as (
    select ?::varchar as search
),

renewals as (
    select account_id, due_on, due_arr, outcome from raw_renewals
),

members as (
    select
        a.account_id,
        a.name,
        a.csm,
        a.csm_team,
        a.segment,
        a.arr,
        a.health_score,
        a.month_start
    from ninebox_account_month as a
    cross join params as p
    where a.month = ?
        and a.is_active
        and a.health_tier = ?
        and a.value_tier = ?
        and (
            p.search = ''
            or contains(lower(a.name), p.search)
            or contains(lower(a.csm), p.search)
            or contains(lower(a.account_id), p.search)
        )
        and (/* filter_predicate */ true)
    order by a.arr desc, a.name, a.account_id
    limit ?
),

recent_health as materialized (
    select
        h.account_id,
        h.week_start,
        h.score,
        h.modules_points,
        h.instance_points,
        h.activation_points,
        h.login_points,
        h.bi_points,
        m.month_start
    from health_weekly as h
    inner join members as m on m.account_id = h.account_id
    where h.week_start between ? and ?
),

anchors as (
    select account_id, max(week_start) as anchor_week
    from recent_health
    where week_start >= month_start
    group by account_id
),

trends as (
    select
        h.account_id,
        list(h.score order by h.week_start) filter (where h.score is not null) as score_trend,
        round(
            max(h.score) filter (where h.week_start = a.anchor_week)
            - max(h.score) filter (where h.week_start = a.anchor_week - 21),
            1
        ) as score_change_4w
    from recent_health as h
    inner join anchors as a
        on a.account_id = h.account_id
        and h.week_start >= a.anchor_week - 21
    group by h.account_id
),

indicator_max as (
    select
        least(
            (select max(modules_cap_points) from cfg_score_params),
            (select coalesce(sum(points), 0) from cfg_module_points)
        ) as modules_max,
        (select max(points) from cfg_ratio_bands where indicator = 'instance_ratio') as instance_max,
        (select max(points) from cfg_ratio_bands where indicator = 'activation_rate') as activation_max,
        (select max(points) from cfg_ratio_bands where indicator = 'login_rate') as login_max,
        (select max(points) from cfg_ratio_bands where indicator = 'bi_rate') as bi_max
),

gaps as (
    -- rounded so that float noise does not break ties
    select
        h.account_id,
        round(x.modules_max - h.modules_points, 6) as modules_gap,
        round(x.instance_max - h.instance_points, 6) as instance_gap,
        round(x.activation_max - h.activation_points, 6) as activation_gap,
        round(x.login_max - h.login_points, 6) as login_gap,
        round(x.bi_max - h.bi_points, 6) as bi_gap
    from recent_health as h
    inner join anchors as a
        on a.account_id = h.account_id
        and a.anchor_week = h.week_start
    cross join indicator_max as x
),

weakest as (
    select
        account_id,
        greatest(modules_gap, instance_gap, activation_gap, login_gap, bi_gap) as max_gap,
        case greatest(modules_gap, instance_gap, activation_gap, login_gap, bi_gap)
            when modules_gap then 'modules'
            when instance_gap then 'instance_ratio'
            when activation_gap then 'activation_rate'
            when login_gap then 'login_rate'
            else 'bi_rate'
        end as weakest_indicator
    from gaps
),

next_renewals as (
    select
        r.account_id,
        min(r.due_on) as next_renewal_on,
        arg_min(r.due_arr, r.due_on) as next_renewal_arr,
        arg_min(r.outcome, r.due_on) as next_renewal_outcome
    from renewals as r
    inner join members as m on m.account_id = r.account_id
    where r.due_on >= m.month_start or r.outcome = 'deferred'
    group by r.account_id
),

final as (
    select
        m.account_id,
        m.name,
        m.csm,
        m.csm_team,
        m.segment,
        m.arr,
        m.health_score,
        t.score_trend,
        t.score_change_4w,
        w.weakest_indicator,
        round(w.max_gap, 2) as weakest_gap_points,
        n.next_renewal_on,
        n.next_renewal_arr,
        n.next_renewal_outcome
    from members as m
    left join trends as t on t.account_id = m.account_id
    left join weakest as w on w.account_id = m.account_id
    left join next_renewals as n on n.account_id = m.account_id
)

select * from final
order by arr desc, name, account_id
