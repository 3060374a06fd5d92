-- ninebox_cell_accounts: the accounts of one nine-box cell in one month, with what a
-- CSM needs to act on them.
-- A parametrised query (not a model), run by cslib.views.ninebox with named parameters:
-- $search (lower case; '' = everything), $month ('YYYY-MM'), $health_tier, $value_tier,
-- $limit (the most accounts to return, largest ARR first), $first_week_on (the first day
-- whose week can matter: month start - 21 days), $month_start and $month_end (the month's
-- first and last day: the last day whose week can matter, and the month-end week's
-- indicators). The filter_predicate marker takes the slice (cslib.store.queries.render,
-- alias 'a'). Months, tiers and weeks are compared with constants so the scans can skip
-- row groups.
-- Grain: one row per active account of the slice in the cell.
-- * score_trend: the scores of the four calendar weeks ending with the account's
--   month-end week (the last week starting inside the month), oldest first; a week
--   without a score (no usage row, or unscored) is left out. score_change_4w = the
--   month-end week's score - the score three weeks before (NULL if either is missing).
-- * weakest_indicator: the scorecard indicator (any set: health_indicator_weekly with
--   cfg_indicators) with the largest gap between its maximum points (max_points) and its
--   window points in the month-end week; ties go to the first in cfg_indicators order
--   (ordinal: modules, then the scorecard's order). weakest_indicator_label is its label.
-- * next renewal: the earliest renewal that is due on or after the month's first day,
--   or, for an account overdue at the month end (is_overdue, in the unhealthy row), the
--   open renewal that makes it overdue (its latest one due by the month end), whatever its
--   due date; outcome as of the data's end.
with params as (
    select $search::varchar as search
),

renewals as (
    select account_id, due_on, due_arr, outcome from stg_renewals
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
        a.is_overdue,
        a.month_start
    from ninebox_account_month as a
    cross join params as p
    where a.month = $month
        and a.is_active
        and a.health_tier = $health_tier
        and a.value_tier = $value_tier
        and (
            p.search = ''
            or contains(lower(a.name), p.search)
            or contains(lower(a.csm), p.search)
            or contains(lower(a.account_id), p.search)
        )
        and (/* filter_predicate */ true)
    order by a.arr desc, a.name, a.account_id
    limit $limit
),

recent_health as materialized (
    select
        h.account_id,
        h.week_start,
        h.score,
        m.month_start
    from health_weekly as h
    inner join members as m on m.account_id = h.account_id
    where h.week_start between $first_week_on and $month_end
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

indicators as (
    select indicator, label, ordinal, max_points
    from cfg_indicators
),

-- the members' indicator rows of the month's weeks (anchor weeks lie in the month)
month_indicators as (
    select i.account_id, i.week_start, i.indicator, i.window_points
    from health_indicator_weekly as i
    inner join members as m on m.account_id = i.account_id
    where i.week_start between $month_start and $month_end
),

gaps as (
    -- rounded so that float noise does not break ties
    select
        i.account_id,
        i.indicator,
        k.label,
        k.ordinal,
        round(k.max_points - i.window_points, 6) as gap
    from month_indicators as i
    inner join anchors as a
        on a.account_id = i.account_id
        and a.anchor_week = i.week_start
    inner join indicators as k on k.indicator = i.indicator
),

weakest as (
    select
        account_id,
        gap as max_gap,
        indicator as weakest_indicator,
        label as weakest_indicator_label
    from gaps
    qualify row_number() over (partition by account_id order by gap desc, ordinal, indicator) = 1
),

open_renewals as (
    -- the renewal an overdue member is waiting on: its latest one due by the month end
    select m.account_id, max(r.due_on) as open_due_on
    from members as m
    inner join renewals as r
        on r.account_id = m.account_id
        and r.due_on < m.month_start + interval 1 month
    where m.is_overdue
    group by m.account_id
),

next_renewals as (
    select
        r.account_id,
        min(r.due_on) as next_renewal_on,
        arg_min(r.due_arr, r.due_on) as next_renewal_arr,
        arg_min(r.outcome, r.due_on) as next_renewal_outcome
    from renewals as r
    inner join members as m on m.account_id = r.account_id
    left join open_renewals as o on o.account_id = r.account_id
    where r.due_on >= least(m.month_start, coalesce(o.open_due_on, m.month_start))
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
        m.is_overdue,
        t.score_trend,
        t.score_change_4w,
        w.weakest_indicator,
        w.weakest_indicator_label,
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
